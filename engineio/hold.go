package engineio

import "time"

// MaxReadHold bounds one HoldReads: a held connection cannot deliver its
// pongs either, and a hold must not cost it its session (it is also kept
// under half of PingTimeout).
const MaxReadHold = 5 * time.Second

// HoldReads stops reading the session's input until the time given, for a
// client that sends more than it is allowed (the Socket.IO layer's rate
// limits): what it sends meanwhile stays in the kernel's buffers, and the
// client meets TCP backpressure instead of the server spending its time
// reading and refusing the excess. Packets already read are still
// delivered. A later time extends a hold; an earlier one changes nothing.
// A hold ends at most 5 s (and half of PingTimeout) after the call.
//
// On a WebSocket nothing more is read; on long-polling the next POST is
// read once the hold is over (or its request ends). Safe to call from any
// goroutine, cheaply again and again while a hold lasts.
func (c *Conn) HoldReads(until time.Time) {
	now := time.Now()
	limit := min(MaxReadHold, c.srv.cfg.PingTimeout/2)
	if until.After(now.Add(limit)) {
		until = now.Add(limit)
	}
	u := until.UnixNano()
	for {
		old := c.holdUntil.Load()
		if u <= old {
			return // held that long already
		}
		if c.holdUntil.CompareAndSwap(old, u) {
			break
		}
	}
	c.mu.Lock()
	t := c.ws
	c.mu.Unlock()
	if pw, ok := t.(*pollWS); ok {
		pw.hold()
	}
}

// heldFor is how long reads are held still; zero or less: not held.
func (c *Conn) heldFor() time.Duration {
	u := c.holdUntil.Load()
	if u == 0 {
		return 0
	}
	return time.Until(time.Unix(0, u))
}

// waitHold returns once reads are no longer held, or done is closed: for
// the reader goroutine of a WebSocket (done: the session's end) and for a
// POST (its request's).
func (c *Conn) waitHold(done <-chan struct{}) {
	for {
		d := c.heldFor()
		if d <= 0 {
			return
		}
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-done:
			t.Stop()
			return
		}
	}
}

// hold pauses the poller's reads of pw until the session's hold is over.
func (pw *pollWS) hold() {
	pw.inMu.Lock()
	defer pw.inMu.Unlock()
	if pw.held || pw.endReason != "" {
		return // its timer sees an extended hold
	}
	d := pw.c.heldFor()
	if d <= 0 {
		return
	}
	pw.held = true
	if !pw.paused {
		pw.d.PauseReads(true)
	}
	if pw.holdTimer == nil {
		pw.holdTimer = time.AfterFunc(d, pw.holdOver)
	} else {
		pw.holdTimer.Reset(d)
	}
}

// holdOver runs when a hold may be over: it resumes reading, or waits for
// the rest of a hold extended meanwhile.
func (pw *pollWS) holdOver() {
	pw.inMu.Lock()
	defer pw.inMu.Unlock()
	if !pw.held {
		return
	}
	if d := pw.c.heldFor(); d > 0 {
		pw.holdTimer.Reset(d)
		return
	}
	pw.held = false
	if !pw.paused {
		pw.d.PauseReads(false)
	}
}
