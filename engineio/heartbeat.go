package engineio

import "time"

// The server pings every PingInterval and expects a pong within
// PingTimeout of each ping, as Engine.IO v4 specifies (the client never
// pings). A v3 client pings instead (onPingV3); its session waits for each
// ping as for a pong, PingInterval + PingTimeout. One timer at a time; a generation number makes a timer that
// fired while being replaced harmless.

// heartbeatEpoch is the origin of Conn.hbDue (monotonic).
var heartbeatEpoch = time.Now()

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
	if c.hbTimer != nil {
		c.hbTimer.Stop()
	}
	c.hbGen++
	gen := c.hbGen
	c.hbDue = time.Since(heartbeatEpoch) + d
	c.awaitingPong = awaitingPong
	c.hbTimer = time.AfterFunc(d, func() { c.onHeartbeatTimer(gen) })
}

func (c *Conn) onHeartbeatTimer(gen uint64) {
	c.mu.Lock()
	if c.closed || gen != c.hbGen {
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
