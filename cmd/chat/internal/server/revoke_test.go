package server

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// waitDropped waits until the server disconnects c (the reason a client
// does not reconnect on by itself: its credential is gone).
func waitDropped(t *testing.T, c *client) {
	t.Helper()
	select {
	case reason := <-c.life.Disconnected:
		if reason != "io server disconnect" {
			t.Fatalf("%s: disconnected with %q, want io server disconnect", c.u.name, reason)
		}
	case <-time.After(wait):
		t.Fatalf("%s: socket not disconnected", c.u.name)
	}
}

// TestRevokeToken: a revoked API token stops working at once for the REST
// API, new Socket.IO connections and /ws, and the Socket.IO connections
// it opened are closed; the user's other credentials keep theirs.
func TestRevokeToken(t *testing.T) {
	e := newEnv(t, nil, Config{})
	alice, bob := e.signup("alice"), e.signup("bob")
	tok := e.apiToken(alice)
	var tokens struct {
		Tokens []struct {
			ID int64 `json:"id"`
		} `json:"tokens"`
	}
	if code := e.do(alice, "GET", "/api/tokens", nil, &tokens); code != 200 || len(tokens.Tokens) != 1 {
		t.Fatalf("GET /api/tokens: %d %+v", code, tokens)
	}
	id := tokens.Tokens[0].ID
	other := e.apiToken(alice)

	byToken := func(tok string) func() (any, error) {
		return func() (any, error) { return map[string]any{"token": tok}, nil }
	}
	sockTok := e.connect(alice, nil, byToken(tok))
	sockOther := e.connect(alice, nil, byToken(other))
	sockCookie := e.connect(alice, nil, nil)
	sockBob := e.connect(bob, nil, nil)

	post := func(tok string) int {
		req, _ := http.NewRequest("POST", e.url+"/api/rooms/general/messages", strings.NewReader(`{"text":"hi"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	wsURL := "ws" + strings.TrimPrefix(e.url, "http") + "/ws?room=general&token=" + queryEscape(tok)
	if code := post(tok); code != http.StatusCreated {
		t.Fatalf("post before revoking: %d", code)
	}
	if c, _, err := websocket.DefaultDialer.Dial(wsURL, nil); err != nil {
		t.Fatalf("/ws before revoking: %v", err)
	} else {
		c.Close()
	}

	// Bob cannot revoke it.
	if code := e.do(bob, "DELETE", fmt.Sprintf("/api/tokens/%d", id), nil, nil); code != http.StatusNotFound {
		t.Fatalf("bob revoking alice's token: %d, want 404", code)
	}
	if code := e.do(alice, "DELETE", fmt.Sprintf("/api/tokens/%d", id), nil, nil); code != http.StatusOK {
		t.Fatalf("revoke: %d", code)
	}
	waitDropped(t, sockTok)
	if code := post(tok); code != http.StatusUnauthorized {
		t.Fatalf("post with a revoked token: %d, want 401", code)
	}
	if _, resp, err := websocket.DefaultDialer.Dial(wsURL, nil); err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("/ws with a revoked token: %v", err)
	}
	c := e.newClient(alice, nil, byToken(tok))
	c.s.Connect()
	select {
	case err := <-c.life.ConnectErrors:
		if !strings.Contains(string(err.Data), "unauthenticated") {
			t.Fatalf("new socket with a revoked token refused with %v %s", err, err.Data)
		}
	case <-c.life.Connected:
		t.Fatal("a new socket connected with a revoked token")
	case <-time.After(wait):
		t.Fatal("no answer to a socket with a revoked token")
	}

	// The other sockets live on: a message reaches each of them.
	if code := post(other); code != http.StatusCreated {
		t.Fatalf("post with the other token: %d", code)
	}
	for _, s := range []*client{sockOther, sockCookie, sockBob} {
		s.waitFor("both messages", func() bool {
			n := 0
			for _, m := range s.msgs {
				if m.Text == "hi" {
					n++
				}
			}
			return n == 2
		})
	}

	// Logout ends the sockets of that session (and only those).
	if code := e.do(alice, "POST", "/api/logout", nil, nil); code != http.StatusOK {
		t.Fatalf("logout: %d", code)
	}
	waitDropped(t, sockCookie)
	sockBob.send("general", "still here")
	sockOther.waitMsg("still here")
}

// TestMultiNodeRevoke: revoking a token or logging out on one node
// disconnects the sockets of that credential on another.
func TestMultiNodeRevoke(t *testing.T) {
	dsn := postgresSchema(t)
	rdb, key := testRedis(t)
	a := newNode(t, dsn, rdb, key)
	b := newNode(t, dsn, rdb, key)
	alice := a.signup("alice")
	tok := a.apiToken(alice)
	var tokens struct {
		Tokens []struct {
			ID int64 `json:"id"`
		} `json:"tokens"`
	}
	if code := a.do(alice, "GET", "/api/tokens", nil, &tokens); code != 200 || len(tokens.Tokens) != 1 {
		t.Fatalf("GET /api/tokens: %d %+v", code, tokens)
	}
	sockTok := b.connect(alice, nil, func() (any, error) { return map[string]any{"token": tok}, nil })
	sockCookie := b.connect(alice, nil, nil) // the session cookie of A's signup, on B
	if code := a.do(alice, "DELETE", fmt.Sprintf("/api/tokens/%d", tokens.Tokens[0].ID), nil, nil); code != http.StatusOK {
		t.Fatalf("revoke on A: %d", code)
	}
	waitDropped(t, sockTok)
	// The cookie's socket on B lives on until the logout on A.
	sockCookie.send("general", "still connected")
	if code := a.do(alice, "POST", "/api/logout", nil, nil); code != http.StatusOK {
		t.Fatalf("logout on A: %d", code)
	}
	waitDropped(t, sockCookie)
	select {
	case reason := <-sockTok.life.Disconnected:
		t.Fatalf("token socket disconnected twice (%s)", reason)
	default:
	}
}
