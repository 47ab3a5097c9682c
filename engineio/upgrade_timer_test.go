package engineio

import (
	"testing"

	"github.com/gorilla/websocket"
)

// The upgrade timer can fire the instant the upgrade packet stops it: its
// function then runs after the probe became the session's transport, and
// must leave that transport alone. The test runs the timer's function
// itself once the upgrade is done (testHookUpgradeTimer), on the poller
// and on a reader goroutine.
func TestUpgradeTimerFiringAtTheUpgradeKeepsTheTransport(t *testing.T) {
	for _, mode := range []struct {
		name     string
		disabled bool
	}{{"poller", false}, {"goroutine", true}} {
		t.Run(mode.name, func(t *testing.T) {
			expiries := make(chan func(), 1)
			testHookUpgradeTimer = func(expire func()) { expiries <- expire }
			t.Cleanup(func() { testHookUpgradeTimer = nil })
			ts := startServerRaw(t, &Options{DisablePoller: mode.disabled}, true)
			op := handshake(t, ts)
			ts.nextConn(t)
			u := ts.url("transport=polling&sid=" + op.SID)
			pending := make(chan string, 1)
			go func() { _, _, b := do(t, "GET", u, ""); pending <- b }()
			ws := dialWS(t, ts, "sid="+op.SID)
			_ = ws.WriteMessage(websocket.TextMessage, []byte("2probe"))
			if got := readText(t, ws); got != "3probe" {
				t.Fatalf("probe answer %q", got)
			}
			if b := <-pending; b != "6" {
				t.Fatalf("pending poll released with %q, want noop", b)
			}
			_ = ws.WriteMessage(websocket.TextMessage, []byte("5"))
			_ = ws.WriteMessage(websocket.TextMessage, []byte("4upgraded"))
			if got := readText(t, ws); got != "4upgraded" {
				t.Fatalf("echo over websocket %q", got)
			}
			expire := receive(t, expiries, "no upgrade timer")
			expire()
			_ = ws.WriteMessage(websocket.TextMessage, []byte("4still"))
			if got := readText(t, ws); got != "4still" {
				t.Fatalf("echo after the timer %q", got)
			}
		})
	}
}
