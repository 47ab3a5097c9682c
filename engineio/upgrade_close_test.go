package engineio

import (
	"context"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// A session closed with a flush (Conn.Close, Server.Shutdown) while its
// transport is being upgraded lets the upgrade finish and delivers what
// was queued over the new WebSocket, then closes it, as the reference
// server does. The client has paused polling once the probe was answered
// and waits for the WebSocket: aborting the probe would leave it waiting
// for a ping timeout, never seeing the last messages (a Socket.IO
// DISCONNECT, so a kicked client would come back).
func TestFlushCloseDuringUpgradeFinishesIt(t *testing.T) {
	for _, tc := range []struct {
		name  string
		close func(ts *testServer, c *Conn)
	}{
		{"Conn.Close", func(_ *testServer, c *Conn) { _ = c.Close() }},
		{"Server.Shutdown", func(ts *testServer, _ *Conn) {
			go func() { _ = ts.eng.Shutdown(context.Background()) }()
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, probeAnswered := range []bool{true, false} {
				ts := startServer(t, nil, false)
				op := handshake(t, ts)
				c := ts.nextConn(t)
				u := ts.url("transport=polling&sid=" + op.SID)
				pending := make(chan string, 1)
				go func() { _, _, b := do(t, "GET", u, ""); pending <- b }()
				waitFor(t, func() bool {
					c.mu.Lock()
					defer c.mu.Unlock()
					return c.polling
				})
				ws := dialWS(t, ts, "sid="+op.SID)
				if probeAnswered {
					_ = ws.WriteMessage(websocket.TextMessage, []byte("2probe"))
					if got := readText(t, ws); got != "3probe" {
						t.Fatalf("probe answer %q", got)
					}
					if b := receive(t, pending, "poll not released"); b != "6" {
						t.Fatalf("pending poll released with %q", b)
					}
				}
				// The client has paused polling (or is about to).
				_ = c.Send([]byte("bye"), false, false)
				tc.close(ts, c)
				if !probeAnswered {
					// The pending poll collects the message.
					if b := receive(t, pending, "poll not released"); b != "4bye" {
						t.Fatalf("pending poll got %q", b)
					}
					_ = ws.WriteMessage(websocket.TextMessage, []byte("2probe"))
					if got := readText(t, ws); got != "3probe" {
						t.Fatalf("probe answer %q", got)
					}
				}
				_ = ws.WriteMessage(websocket.TextMessage, []byte("5"))
				if probeAnswered {
					if got := readText(t, ws); got != "4bye" {
						t.Fatalf("over the upgraded WebSocket: %q", got)
					}
				}
				expectCloseFrame(t, ws)
				if r := ts.closeReason(t); r != ReasonForcedClose && r != ReasonForcedServerClose {
					t.Fatalf("reason %q", r)
				}
				_ = ts.eng.Shutdown(context.Background())
			}
		})
	}
}

// A forced close (Server.Close) drops the probe at once.
func TestForcedCloseDuringUpgradeDropsProbe(t *testing.T) {
	ts := startServer(t, nil, false)
	op := handshake(t, ts)
	ws := dialWS(t, ts, "sid="+op.SID)
	_ = ws.WriteMessage(websocket.TextMessage, []byte("2probe"))
	if got := readText(t, ws); got != "3probe" {
		t.Fatalf("probe answer %q", got)
	}
	_ = ts.eng.Close()
	_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, _, err := ws.ReadMessage(); err == nil {
		t.Fatal("probe still open after a forced close")
	}
}
