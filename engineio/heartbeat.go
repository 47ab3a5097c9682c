package engineio

import (
	"container/heap"
	"sync"
	"time"
)

// The server pings every PingInterval and expects a pong within
// PingTimeout of each ping, as Engine.IO v4 specifies (the client never
// pings). A v3 client pings instead (onPingV3); its session waits for each
// ping as for a pong, PingInterval + PingTimeout.
//
// Every session's next heartbeat deadline (a ping to send, or a pong or v3
// ping due) is an entry of the server's heartbeat heap, ordered by
// deadline, with one timer for the server set to the earliest. A
// time.Timer per session cost about 130 bytes for every connection (the
// runtime's timer and the closure of each re-arm) and an allocation per
// heartbeat; an entry costs 16 bytes and the index in Conn. The timer
// fires at the deadline itself, not on a coarser tick: the official
// protocol suite closes the session upon ping timeout to the millisecond.

// heartbeatEpoch is the origin of the deadlines and of sessions' creation
// times (monotonic).
var heartbeatEpoch = time.Now()

// heartbeats is a server's heap of heartbeat deadlines.
type heartbeats struct {
	mu      sync.Mutex
	entries hbEntries
	timer   *time.Timer   // set to the earliest deadline; made on first use
	armed   bool          // timer is set, to at
	at      time.Duration // since heartbeatEpoch
}

type hbEntry struct {
	c   *Conn
	due time.Duration // since heartbeatEpoch
}

// hbEntries is a min-heap by due; each Conn knows its index (hbIndex, -1
// when absent), kept under heartbeats.mu.
type hbEntries []hbEntry

func (h hbEntries) Len() int           { return len(h) }
func (h hbEntries) Less(i, j int) bool { return h[i].due < h[j].due }
func (h hbEntries) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].c.hbIndex = int32(i)
	h[j].c.hbIndex = int32(j)
}
func (h *hbEntries) Push(x any) {
	e := x.(hbEntry)
	e.c.hbIndex = int32(len(*h))
	*h = append(*h, e)
}
func (h *hbEntries) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = hbEntry{}
	*h = old[:len(old)-1]
	e.c.hbIndex = -1
	return e
}

// set puts c's deadline at due, replacing the one it had.
func (hb *heartbeats) set(c *Conn, due time.Duration) {
	hb.mu.Lock()
	if i := c.hbIndex; i >= 0 {
		hb.entries[i].due = due
		heap.Fix(&hb.entries, int(i))
	} else {
		heap.Push(&hb.entries, hbEntry{c: c, due: due})
	}
	hb.armLocked()
	hb.mu.Unlock()
}

// remove takes c's deadline out, if it has one.
func (hb *heartbeats) remove(c *Conn) {
	hb.mu.Lock()
	if i := c.hbIndex; i >= 0 {
		heap.Remove(&hb.entries, int(i))
	}
	hb.mu.Unlock()
}

// armLocked sets the timer to the earliest deadline; an empty heap leaves
// it stopped.
//
// requires hb.mu
func (hb *heartbeats) armLocked() {
	if len(hb.entries) == 0 {
		if hb.armed {
			hb.timer.Stop()
			hb.armed = false
		}
		return
	}
	due := hb.entries[0].due
	if hb.armed && due == hb.at {
		return
	}
	hb.armed, hb.at = true, due
	d := due - time.Since(heartbeatEpoch)
	if hb.timer == nil {
		hb.timer = time.AfterFunc(d, hb.fire)
		return
	}
	hb.timer.Reset(d)
}

// fire runs the heartbeats that are due, then sets the timer to the next.
// A run of the timer that comes early (replaced meanwhile) finds nothing
// due and sets it again.
func (hb *heartbeats) fire() {
	var due []hbEntry
	hb.mu.Lock()
	now := time.Since(heartbeatEpoch)
	for len(hb.entries) > 0 && hb.entries[0].due <= now {
		due = append(due, heap.Pop(&hb.entries).(hbEntry))
	}
	hb.armed = false
	hb.armLocked()
	hb.mu.Unlock()
	for _, e := range due {
		e.c.onHeartbeatDue(e.due)
	}
}

// requires nothing; takes c.mu
func (c *Conn) scheduleHeartbeat(d time.Duration, awaitingPong bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.armLocked(d, awaitingPong)
}

// requires c.mu
func (c *Conn) armLocked(d time.Duration, awaitingPong bool) {
	if c.closed {
		return
	}
	c.hbDue = time.Since(heartbeatEpoch) + d
	c.awaitingPong = awaitingPong
	c.srv.heartbeats.set(c, c.hbDue)
}

// onHeartbeatDue runs the heartbeat that was due at due, unless the
// session moved its deadline meanwhile (a pong came as the deadline
// passed) or closed.
func (c *Conn) onHeartbeatDue(due time.Duration) {
	c.mu.Lock()
	if c.closed || due != c.hbDue {
		c.mu.Unlock()
		return
	}
	if c.awaitingPong {
		c.mu.Unlock()
		c.close(ReasonPingTimeout, false)
		return
	}
	// The pong is due PingTimeout after the ping was due, not after this
	// timer ran: a timer that fires late on a busy machine must not
	// give the client more than PingInterval+PingTimeout, the bound it
	// checks the server against.
	c.armLocked(c.hbDue+c.srv.cfg.PingTimeout-time.Since(heartbeatEpoch), true)
	c.mu.Unlock()
	c.pushControl(PacketPing, nil)
}

func (c *Conn) onPong() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.awaitingPong {
		c.armLocked(c.srv.cfg.PingInterval, false)
	}
}

// onPingV3 answers a v3 client's ping and gives it PingInterval +
// PingTimeout for the next one: in Engine.IO v3 the client pings and the
// server only answers.
func (c *Conn) onPingV3() {
	cfg := c.srv.cfg
	c.scheduleHeartbeat(cfg.PingInterval+cfg.PingTimeout, true)
	c.pushControl(PacketPong, nil)
}
