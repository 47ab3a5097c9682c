package main

import (
	"strings"
	"testing"

	tt "github.com/switchboard-go/socketio/examples/tutorial/internal/tutorialtest"
	"github.com/switchboard-go/socketio/internal/leakcheck"
)

// The step leaves no goroutine behind: servers, clients, proxies.
func TestMain(m *testing.M) { leakcheck.Main(m) }

// The page loads the client from the server, which serves it; each client
// that connects and leaves is logged.
func TestConnectDisconnectLogged(t *testing.T) {
	srv := tt.Start(t, run, "")
	code, body := tt.Get(t, srv.URL+"/")
	if code != 200 || !strings.Contains(body, `<script src="/socket.io/socket.io.js"></script>`) {
		t.Fatalf("GET /: %d\n%s", code, body)
	}
	code, body = tt.Get(t, srv.URL+"/socket.io/socket.io.js")
	if code != 200 || !strings.Contains(body[:200], "Socket.IO v4.") {
		t.Fatalf("GET /socket.io/socket.io.js: %d %.100q", code, body)
	}

	a := tt.Connect(t, srv.URL, nil)
	srv.ExpectLog(t, "a user connected")
	b := tt.Connect(t, srv.URL, nil)
	srv.ExpectLog(t, "a user connected")
	a.Disconnect()
	srv.ExpectLog(t, "user disconnected")
	b.Disconnect()
	srv.ExpectLog(t, "user disconnected")
}
