package engineio

import (
	"testing"
	"time"
)

// The pong is due PingTimeout after the ping was due, not after the
// heartbeat timer ran: a timer that fires late (a busy machine) must not
// stretch the ping timeout beyond PingInterval+PingTimeout, which the
// official protocol suite checks to the millisecond.
func TestPingTimeoutCountsFromWhenThePingWasDue(t *testing.T) {
	ts := startServer(t, &Options{PingInterval: time.Hour, PingTimeout: 5 * time.Second}, false)
	handshake(t, ts)
	c := ts.nextConn(t)
	// The ping timer ran 10 s late: its ping was due 10 s ago, so the
	// pong is overdue already.
	c.mu.Lock()
	c.hbDue = time.Since(heartbeatEpoch) - 10*time.Second
	gen := c.hbGen
	c.mu.Unlock()
	start := time.Now()
	c.onHeartbeatTimer(gen)
	select {
	case r := <-ts.rec.closed:
		if r != ReasonPingTimeout {
			t.Fatalf("reason %q", r)
		}
	case <-time.After(3 * time.Second):
		t.Fatalf("no ping timeout %v after an overdue ping (PingTimeout counted from the late timer)", time.Since(start))
	}
}
