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
	due := c.hbDue
	c.mu.Unlock()
	start := time.Now()
	c.onHeartbeatDue(due)
	select {
	case r := <-ts.rec.closed:
		if r != ReasonPingTimeout {
			t.Fatalf("reason %q", r)
		}
	case <-time.After(3 * time.Second):
		t.Fatalf("no ping timeout %v after an overdue ping (PingTimeout counted from the late timer)", time.Since(start))
	}
}

// The heartbeat heap keeps every session's deadline once, the earliest
// first, each session knowing where its entry is, through sets that move
// deadlines both ways and removals.
func TestHeartbeatHeapKeepsOrderAndIndexes(t *testing.T) {
	var hb heartbeats
	conns := make([]*Conn, 50)
	for i := range conns {
		conns[i] = &Conn{hbIndex: -1}
	}
	defer func() {
		for _, c := range conns {
			hb.remove(c)
		}
	}()
	far := time.Since(heartbeatEpoch) + time.Hour // the timer never fires here
	for i, c := range conns {
		hb.set(c, far+time.Duration((i*37)%50)*time.Second)
	}
	for i, c := range conns {
		if i%3 == 0 {
			hb.set(c, far+time.Duration(100-i)*time.Second) // later
		}
		if i%5 == 1 {
			hb.set(c, far-time.Duration(i)*time.Second) // earlier
		}
		if i%7 == 2 {
			hb.remove(c)
		}
	}
	hb.mu.Lock()
	defer hb.mu.Unlock()
	present := 0
	for _, c := range conns {
		if c.hbIndex >= 0 {
			present++
			if hb.entries[c.hbIndex].c != c {
				t.Fatalf("a session's index %d points at another's entry", c.hbIndex)
			}
		}
	}
	if present != len(hb.entries) || present != 50-7 {
		t.Fatalf("%d sessions say they are in the heap, which holds %d (want %d)", present, len(hb.entries), 50-7)
	}
	for i := 1; i < len(hb.entries); i++ {
		if hb.entries[(i-1)/2].due > hb.entries[i].due {
			t.Fatalf("entry %d is due before its parent", i)
		}
	}
	if !hb.armed || hb.at != hb.entries[0].due {
		t.Fatalf("timer armed %v at %v, the earliest deadline is %v", hb.armed, hb.at, hb.entries[0].due)
	}
}

// Sessions with deadlines close to each other each get their ping on
// time, from the one timer.
func TestHeartbeatsOfManySessions(t *testing.T) {
	ts := startServer(t, &Options{PingInterval: 50 * time.Millisecond, PingTimeout: time.Minute}, false)
	const n = 20
	sids := make([]string, n)
	for i := range sids {
		sids[i] = handshake(t, ts).SID
		ts.nextConn(t)
	}
	t.Cleanup(func() {
		// The recorder's close channel holds a few: take the closes.
		go func() {
			for range n {
				<-ts.rec.closed
			}
		}()
	})
	deadline := time.Now().Add(5 * time.Second)
	for _, sid := range sids {
		// Each session's first poll carries its first ping.
		status, _, body := do(t, "GET", ts.url("transport=polling&sid="+sid), "")
		if status != 200 || body != "2" {
			t.Fatalf("poll of %s: %d %q", sid, status, body)
		}
		if time.Now().After(deadline) {
			t.Fatal("pings too slow")
		}
	}
}
