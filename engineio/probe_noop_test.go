package engineio

import (
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// During the probe exchange a noop is harmless (some clients send one
// while upgrading) and the upgrade goes on; any other packet ends the
// probe, and the session carries on over polling. On the poller and on a
// reader goroutine.
func TestProbeTakesNoopsOnly(t *testing.T) {
	for _, mode := range []struct {
		name     string
		disabled bool
	}{{"poller", false}, {"goroutine", true}} {
		t.Run(mode.name+"/noop", func(t *testing.T) {
			ts := startServerRaw(t, &Options{DisablePoller: mode.disabled}, true)
			op := handshake(t, ts)
			ts.nextConn(t)
			u := ts.url("transport=polling&sid=" + op.SID)
			pending := make(chan string, 1)
			go func() { _, _, b := do(t, "GET", u, ""); pending <- b }()
			ws := dialWS(t, ts, "sid="+op.SID)
			_ = ws.WriteMessage(websocket.TextMessage, []byte("6"))
			_ = ws.WriteMessage(websocket.TextMessage, []byte("2probe"))
			if got := readText(t, ws); got != "3probe" {
				t.Fatalf("probe answer %q", got)
			}
			if b := <-pending; b != "6" {
				t.Fatalf("pending poll released with %q, want noop", b)
			}
			_ = ws.WriteMessage(websocket.TextMessage, []byte("6"))
			_ = ws.WriteMessage(websocket.TextMessage, []byte("5"))
			_ = ws.WriteMessage(websocket.TextMessage, []byte("4upgraded"))
			if got := readText(t, ws); got != "4upgraded" {
				t.Fatalf("echo over websocket %q", got)
			}
		})
		t.Run(mode.name+"/message", func(t *testing.T) {
			ts := startServerRaw(t, &Options{DisablePoller: mode.disabled}, true)
			op := handshake(t, ts)
			ts.nextConn(t)
			u := ts.url("transport=polling&sid=" + op.SID)
			ws := dialWS(t, ts, "sid="+op.SID)
			_ = ws.WriteMessage(websocket.TextMessage, []byte("2probe"))
			if got := readText(t, ws); got != "3probe" {
				t.Fatalf("probe answer %q", got)
			}
			// A message before the upgrade packet: the probe is dropped.
			_ = ws.WriteMessage(websocket.TextMessage, []byte("4early"))
			_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
			if _, _, err := ws.ReadMessage(); err == nil {
				t.Fatal("the probe was not closed")
			}
			do(t, "POST", u, "4polling")
			if _, _, b := do(t, "GET", u, ""); b != "4polling" {
				t.Fatalf("polling after the dropped probe: %q", b)
			}
		})
	}
}
