package main

import (
	"testing"

	tt "github.com/switchboard-go/socketio/examples/tutorial/internal/tutorialtest"
	"github.com/switchboard-go/socketio/internal/leakcheck"
)

// The step leaves no goroutine behind: servers, clients, proxies.
func TestMain(m *testing.M) { leakcheck.Main(m) }

// The home page says hello; nothing else is served.
func TestHelloWorld(t *testing.T) {
	srv := tt.Start(t, run, "")
	if code, body := tt.Get(t, srv.URL+"/"); code != 200 || body != "<h1>Hello world</h1>" {
		t.Errorf("GET /: %d %q", code, body)
	}
	if code, _ := tt.Get(t, srv.URL+"/socket.io/socket.io.js"); code != 404 {
		t.Errorf("GET /socket.io/socket.io.js: %d, want 404 (no Socket.IO in step 1)", code)
	}
}
