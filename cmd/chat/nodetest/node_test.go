// Package nodetest drives the chat's Socket.IO events with the official
// Node.js client (chat.js). It needs Node.js and this directory's npm
// packages (npm ci; scripts/test.sh does it).
package nodetest

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/switchboard-go/socketio/cmd/chat/internal/auth"
	"github.com/switchboard-go/socketio/cmd/chat/internal/server"
	"github.com/switchboard-go/socketio/cmd/chat/internal/store"
	"github.com/switchboard-go/socketio/socketiotest"
)

func TestNodeClient(t *testing.T) {
	if _, err := os.Stat("node_modules/socket.io-client"); err != nil {
		t.Fatal("cmd/chat/nodetest has no node_modules: run 'npm ci' in it (scripts/test.sh does)")
	}
	for _, mode := range []string{"polling", "websocket", "upgrade"} {
		t.Run(mode, func(t *testing.T) {
			st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "chat.db"))
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			logger := socketiotest.Logger()
			chat := server.New(server.Config{Store: st, Auth: auth.New(st, auth.Options{Logger: logger, OnSignup: server.JoinGeneralOnSignup(st, logger)}), Logger: logger})
			hs := httptest.NewServer(chat.Handler())
			defer hs.Close()
			defer func() {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				_ = chat.Shutdown(ctx)
			}()
			alice, bob := apiToken(t, hs.URL, "alice"), apiToken(t, hs.URL, "bob")

			ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
			defer cancel()
			out, err := exec.CommandContext(ctx, "node", "chat.js", hs.URL, mode, alice, bob).CombinedOutput()
			t.Logf("chat.js:\n%s", out)
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

// apiToken signs name up and returns an API token of it.
func apiToken(t *testing.T, base, name string) string {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Timeout: 20 * time.Second}
	csrf := ""
	call := func(method, path string, body any, out any) int {
		var b []byte
		if body != nil {
			b, _ = json.Marshal(body)
		}
		req, _ := http.NewRequest(method, base+path, bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-CSRF-Token", csrf)
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		_ = json.NewDecoder(resp.Body).Decode(out)
		return resp.StatusCode
	}
	var s struct {
		CSRF  string `json:"csrfToken"`
		Token string `json:"token"`
		Error string `json:"error"`
	}
	call("GET", "/api/session", nil, &s)
	csrf = s.CSRF
	if code := call("POST", "/api/signup", map[string]string{"username": name, "password": "password-" + name}, &s); code != http.StatusCreated {
		t.Fatalf("signup: %d %s", code, s.Error)
	}
	if s.CSRF != "" {
		csrf = s.CSRF
	}
	if code := call("POST", "/api/tokens", map[string]string{"label": "node"}, &s); code != http.StatusCreated || s.Token == "" {
		t.Fatalf("token: %d %s", code, s.Error)
	}
	return s.Token
}
