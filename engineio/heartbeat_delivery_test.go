package engineio

import (
	"testing"
	"time"
)

// The server's ping reaches an idle client on its own, over either
// transport: nothing else is sent that could carry it.
func TestPingReachesIdleClient(t *testing.T) {
	opts := &Options{PingInterval: 20 * time.Millisecond, PingTimeout: 10 * time.Second}
	t.Run("polling", func(t *testing.T) {
		ts := startServer(t, opts, false)
		op := handshake(t, ts)
		if _, _, body := do(t, "GET", ts.url("transport=polling&sid="+op.SID), ""); body != "2" {
			t.Fatalf("poll %q, want the ping", body)
		}
	})
	t.Run("websocket", func(t *testing.T) {
		ts := startServer(t, opts, false)
		ws := dialWS(t, ts, "")
		readText(t, ws) // open
		if got := readText(t, ws); got != "2" {
			t.Fatalf("frame %q, want the ping", got)
		}
	})
}
