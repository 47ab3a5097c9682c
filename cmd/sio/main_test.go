package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-go/socketio"
)

// TestCLI builds sio and drives it against a Go server: events typed on
// stdin reach the server (with acks), server events print as JSON lines,
// and a server-side disconnect ends the program.
func TestCLI(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "sio")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	srv := socketio.NewServer(nil)
	ts := httptest.NewServer(srv)
	defer ts.Close()
	defer srv.Close()
	got := make(chan string, 4)
	srv.Of("/chat").OnConnection(func(s *socketio.Socket) {
		var auth map[string]string
		_ = json.Unmarshal(s.Handshake().Auth, &auth)
		_ = s.Emit("welcome", auth["name"], []byte{1, 2})
		s.On("add", func(e *socketio.Event) {
			var a, b int
			_ = e.Decode(0, &a)
			_ = e.Decode(1, &b)
			_ = e.Ack(a + b)
		})
		s.On("say", func(e *socketio.Event) {
			var text string
			_ = e.Decode(0, &text)
			got <- text
			s.Disconnect(false)
		})
	})

	for _, mode := range []string{"polling", "websocket", "upgrade"} {
		t.Run(mode, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, bin, "-ns", "/chat", "-transport", mode, "-auth", `{"name":"ann"}`, "-ack", "5s", ts.URL)
			stdin, _ := cmd.StdinPipe()
			stdout, _ := cmd.StdoutPipe()
			cmd.Stderr = os.Stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			lines := bufio.NewScanner(stdout)
			next := func() map[string]any {
				t.Helper()
				if !lines.Scan() {
					t.Fatalf("output ended: %v", lines.Err())
				}
				var m map[string]any
				if err := json.Unmarshal(lines.Bytes(), &m); err != nil {
					t.Fatalf("not a JSON line: %q", lines.Text())
				}
				return m
			}
			if m := next(); m["event"] != "connect" {
				t.Fatalf("first line %v", m)
			}
			if m := next(); m["event"] != "welcome" || !strings.Contains(mustJSON(m["args"]), `"ann",{"$binary":"AQI="}`) {
				t.Fatalf("welcome line %v", m)
			}
			_, _ = io.WriteString(stdin, "add [2, 40]\n")
			if m := next(); m["ack"] != "add" || mustJSON(m["args"]) != "[42]" {
				t.Fatalf("ack line %v", m)
			}
			_, _ = io.WriteString(stdin, "say hello there\n")
			if text := <-got; text != "hello there" {
				t.Fatalf("server got %q", text)
			}
			for {
				m := next()
				if m["event"] == "disconnect" {
					if m["reason"] != "io server disconnect" {
						t.Fatalf("reason %v", m["reason"])
					}
					break
				}
			}
			if err := cmd.Wait(); err != nil {
				t.Fatalf("sio exited with %v", err)
			}
		})
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
