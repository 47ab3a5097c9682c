package engineio

import (
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// An upgrade that fails leaves the session on polling and free to upgrade
// again: whether the WebSocket handshake itself failed, the client closed
// its probe before probing, or the probe timed out. The failed probe is
// closed by the server. On the poller and on a reader goroutine.
func TestFailedUpgradeCanBeRetried(t *testing.T) {
	fails := []struct {
		name string
		fail func(t *testing.T, ts *testServer, sid string)
	}{
		{"handshake refused", func(t *testing.T, ts *testServer, sid string) {
			// A WebSocket handshake of a version the upgrader does not
			// speak: it refuses it.
			status, _, _ := do(t, "GET", ts.url("transport=websocket&sid="+sid), "",
				"Connection", "Upgrade", "Upgrade", "websocket",
				"Sec-WebSocket-Version", "12", "Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
			if status != http.StatusBadRequest {
				t.Fatalf("handshake of version 12: %d", status)
			}
		}},
		{"probe closed", func(t *testing.T, ts *testServer, sid string) {
			ws := dialWS(t, ts, "sid="+sid)
			_ = ws.Close()
		}},
		{"probe timed out", func(t *testing.T, ts *testServer, sid string) {
			ws := dialWS(t, ts, "sid="+sid)
			// The server closes a probe that never probes.
			_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
			if _, _, err := ws.ReadMessage(); err == nil {
				t.Fatal("a probe that never probed was not closed")
			}
		}},
	}
	for _, mode := range []struct {
		name     string
		disabled bool
	}{{"poller", false}, {"goroutine", true}} {
		for _, f := range fails {
			t.Run(mode.name+"/"+f.name, func(t *testing.T) {
				ts := startServerRaw(t, &Options{DisablePoller: mode.disabled, UpgradeTimeout: 300 * time.Millisecond}, true)
				op := handshake(t, ts)
				c := ts.nextConn(t)
				f.fail(t, ts, op.SID)
				u := ts.url("transport=polling&sid=" + op.SID)
				// The failure is handled once the session no longer
				// upgrades; then it is still on polling.
				waitFor(t, func() bool {
					c.mu.Lock()
					defer c.mu.Unlock()
					return !c.upgrading && c.probe == nil
				})
				do(t, "POST", u, "4still")
				if _, _, b := do(t, "GET", u, ""); b != "4still" {
					t.Fatalf("polling after the failed upgrade: %q", b)
				}
				// And the next upgrade goes through.
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
				_ = ws.WriteMessage(websocket.TextMessage, []byte("4after"))
				if got := readText(t, ws); got != "4after" {
					t.Fatalf("echo over websocket %q", got)
				}
				if status, _, _ := do(t, "GET", u, ""); status != 400 {
					t.Fatalf("poll after the upgrade: %d", status)
				}
			})
		}
	}
}

// A session upgraded to the poller is not under the write timeout for
// nothing: the probe's answer went out whole, so nothing is stalled, and
// a client that reads everything keeps its session however long it
// stays idle past WriteTimeout.
func TestUpgradedIdlePastWriteTimeout(t *testing.T) {
	const timeout = 200 * time.Millisecond
	ts := startServerRaw(t, &Options{WriteTimeout: timeout, PingInterval: time.Minute}, true)
	op := handshake(t, ts)
	c := ts.nextConn(t)
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
	_ = ws.WriteMessage(websocket.TextMessage, []byte("4first"))
	if got := readText(t, ws); got != "4first" {
		t.Fatalf("echo %q", got)
	}
	if _, ok := transportOf(c).(*pollWS); !ok {
		t.Fatalf("transport %T, want the poller's", transportOf(c))
	}
	// Idle for several WriteTimeouts: the time is the subject here, no
	// event stands for it.
	select {
	case r := <-ts.rec.closed:
		t.Fatalf("an idle upgraded session was closed: %q", r)
	case <-time.After(5 * timeout):
	}
	_ = ws.WriteMessage(websocket.TextMessage, []byte("4later"))
	if got := readText(t, ws); got != "4later" {
		t.Fatalf("echo %q", got)
	}
	if st := ts.eng.Stats(); st.WriteTimeouts != 0 {
		t.Fatalf("write timeouts %d", st.WriteTimeouts)
	}
}

// A client that goes away without a close frame, its TCP connection shut
// (FIN) or reset (RST), has closed the transport: the session ends with
// "transport close", on the poller and on a reader goroutine.
func TestWebSocketDroppedIsTransportClose(t *testing.T) {
	for _, mode := range []struct {
		name     string
		disabled bool
	}{{"poller", false}, {"goroutine", true}} {
		for _, reset := range []bool{false, true} {
			name := mode.name + "/fin"
			if reset {
				name = mode.name + "/rst"
			}
			t.Run(name, func(t *testing.T) {
				ts := startServerRaw(t, &Options{DisablePoller: mode.disabled}, true)
				ws := dialWS(t, ts, "")
				readText(t, ws)
				ts.nextConn(t)
				tc := ws.NetConn().(*net.TCPConn)
				if reset {
					_ = tc.SetLinger(0)
				}
				_ = tc.Close()
				if r := ts.closeReason(t); r != ReasonTransportClose {
					t.Fatalf("reason %q, want %q", r, ReasonTransportClose)
				}
			})
		}
	}
}
