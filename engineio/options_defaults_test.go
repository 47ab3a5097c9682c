package engineio

import (
	"strings"
	"testing"
	"time"
)

// PostTimeout defaults to PingInterval + PingTimeout: with both an hour, a
// POST body larger than what net/http reads with the headers is read
// whole, not cut by a deadline already passed.
func TestDefaultPostTimeout(t *testing.T) {
	ts := startServer(t, &Options{PingInterval: time.Hour, PingTimeout: time.Hour}, false)
	op := handshake(t, ts)
	msg := strings.Repeat("p", 256<<10)
	status, _, body := do(t, "POST", ts.url("transport=polling&sid="+op.SID), "4"+msg)
	if status != 200 || body != "ok" {
		t.Fatalf("POST of %d bytes: %d %q", len(msg)+1, status, body)
	}
	if m := receive(t, ts.rec.msgs, "no message"); string(m.Data) != msg {
		t.Fatalf("got %d bytes, want %d", len(m.Data), len(msg))
	}
}
