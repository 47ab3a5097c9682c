package engineio

import (
	"math"
	"net/http"
	"time"
)

// Idle connections of the front (Serve, ServeTLS).
//
// net/http closes a keep-alive connection that waits longer than
// hs.IdleTimeout for its next request, and one that sends no request
// header within hs.ReadHeaderTimeout; the front applies the same bounds
// to the connections it reads. An idle connection costs a descriptor and,
// over TLS, crypto/tls's state (about 6 KB live): a long-polling client
// holds a second connection for its POSTs, idle between two heartbeats.
// The Node.js server closes it after 5 s (keepAliveTimeout).
//
// The bounds are kept without a timer per connection: a connection
// records when its idle time ends (idleUntil, set when an answer is
// written or the connection opens, cleared when a request is taken), and one
// goroutine per front looks at the connections every tick (sweep). A
// connection is closed between its bound and its bound plus a tick; never
// before.

// idleBounds are the front's bounds, from hs as net/http reads them: 0
// or less is none.
type idleBounds struct {
	between time.Duration // waiting for the next request: IdleTimeout, else ReadTimeout
	first   time.Duration // waiting for the first request: ReadHeaderTimeout, else ReadTimeout
	// handshake bounds a TLS handshake, as net/http bounds it: the
	// least of ReadTimeout, ReadHeaderTimeout and WriteTimeout that is
	// set (ServeTLS takes it when it is under PostTimeout).
	handshake time.Duration
}

func idleBoundsOf(hs *http.Server) idleBounds {
	b := idleBounds{between: hs.IdleTimeout, first: hs.ReadHeaderTimeout}
	if b.between == 0 {
		b.between = hs.ReadTimeout
	}
	if b.first == 0 {
		b.first = hs.ReadTimeout
	}
	b.handshake = leastBound(hs.ReadTimeout, hs.ReadHeaderTimeout, hs.WriteTimeout)
	return b
}

// leastBound is the least of ds that is a bound (over 0), 0 when none is.
func leastBound(ds ...time.Duration) time.Duration {
	least := time.Duration(math.MaxInt64)
	for _, d := range ds {
		if d > 0 {
			least = min(least, d)
		}
	}
	if least == math.MaxInt64 {
		return 0
	}
	return least
}

// sweepTick is how often the connections are looked at: an eighth of the
// shortest bound, within [10ms, 1s]; 0 when there is no bound.
func (b idleBounds) sweepTick() time.Duration {
	shortest := leastBound(b.between, b.first)
	if shortest == 0 {
		return 0
	}
	return min(max(shortest/8, 10*time.Millisecond), time.Second)
}

// clock is the front's monotonic time, in nanoseconds since it started.
func (f *front) clock() int64 { return int64(time.Since(f.started)) }

// idleFor starts fc's idle time with bound d (none when d <= 0; a bound
// makes idleUntil positive, and 0 stays "no bound").
func (fc *frontConn) idleFor(d time.Duration) {
	if d > 0 {
		fc.idleUntil.Store(fc.f.clock() + int64(d))
	}
}

// sweep closes, every tick until the front closes, the connections whose
// idle time has ended.
func (f *front) sweep(tick time.Duration) {
	t := time.NewTicker(tick)
	defer t.Stop()
	var due []*frontConn
	for {
		select {
		case <-t.C:
		case <-f.handoff.done:
			return
		}
		now := f.clock()
		f.mu.Lock()
		for fc := range f.conns {
			if idleEnded(fc.idleUntil.Load(), now) {
				due = append(due, fc)
			}
		}
		f.mu.Unlock()
		for i, fc := range due {
			fc.closeIfIdle(now)
			due[i] = nil
		}
		due = due[:0]
	}
}

// closeIfIdle closes fc if it is still idle past its bound at now: no
// request pending or begun, no reader running, nothing in the kernel. It
// takes the reader role to look, so that no input is taken meanwhile;
// when fc turns out not to be idle (input came since the sweep looked), a
// reader gets the role and reads.
func (fc *frontConn) closeIfIdle(now int64) {
	if !fc.reading.CompareAndSwap(false, true) {
		return // a reader runs: input came
	}
	if fc.idleAt(now) && fc.nothingArrived() {
		fc.f.srv.cfg.Logger.Debug("engineio: closing an idle connection", "remote", fc.nc.RemoteAddr().String())
		fc.lost()
		return
	}
	fc.f.workers.run(fc)
}

// idleAt reports whether fc waits for a request with its idle time ended
// at now.
func (fc *frontConn) idleAt(now int64) bool {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	return !fc.gone && !fc.pending && len(fc.in) == 0 && idleEnded(fc.idleUntil.Load(), now)
}

// idleEnded reports whether an idle time that ends at until (0: no bound)
// has ended at now: at its end, not before.
func idleEnded(until, now int64) bool { return until != 0 && until <= now }
