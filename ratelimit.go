package socketio

import (
	"time"

	"github.com/switchboard-go/socketio/engineio"
)

// EventLimit is a token bucket: a client may send Burst events at once,
// and Rate events per second after that.
type EventLimit struct {
	Rate  float64 // sustained events per second; zero or less: no limit
	Burst int     // events at once; less than 1 counts as 1
}

func (l EventLimit) on() bool { return l.Rate > 0 }

// RateLimits bounds the events the clients of a namespace send, each
// socket on its own. An event over a limit is refused before any handler
// sees it — the catch-all handlers (OnAny) and the socket middleware
// included — so a flooding client costs the server the decoding of its
// packets and no more, and other clients' events are not delayed behind
// the flood's handlers.
//
// A refused event is dropped: when it asked for an acknowledgement, the
// acknowledgement is {"error": "rate limit exceeded"}, so that a client
// waiting for it learns why. A socket that goes on past its PerSocket
// limit (a second refusal within a token's time of the first) has its
// connection's reads held for a token's time per refused event, up to
// engineio.MaxReadHold (engineio.Conn.HoldReads): the rest of a flood waits in the kernel
// instead of costing a read and a refusal each, and other events on that
// connection wait with it. With Disconnect set, the socket is
// disconnected instead (the client gets a DISCONNECT packet, the server's
// disconnect handlers the reason ReasonRateLimited).
type RateLimits struct {
	// PerSocket bounds every event of a socket together.
	PerSocket EventLimit
	// PerEvent bounds the events of one name, for each socket. An event
	// must pass both its own bucket and PerSocket's.
	PerEvent map[string]EventLimit
	// Disconnect disconnects a socket over a limit instead of dropping
	// the event.
	Disconnect bool
}

// rateLimitedAck is what a dropped event that asked for an
// acknowledgement receives.
var rateLimitedAck = map[string]string{"error": "rate limit exceeded"}

// SetRateLimits bounds the events of this namespace's sockets (see
// RateLimits); nil removes the bounds. A socket counts from its first
// event after the call, with full buckets.
func (ns *Namespace) SetRateLimits(l *RateLimits) { ns.limits.Store(cloneLimits(l)) }

// SetRateLimits bounds the events of the sockets of every child namespace
// that has no limits of its own (see Namespace.SetRateLimits).
func (p *ParentNamespace) SetRateLimits(l *RateLimits) { p.limits.Store(cloneLimits(l)) }

// cloneLimits copies l, so that the caller's later changes to its map do
// not reach sockets counting against it concurrently.
func cloneLimits(l *RateLimits) *RateLimits {
	if l == nil {
		return nil
	}
	c := *l
	if l.PerEvent != nil {
		c.PerEvent = make(map[string]EventLimit, len(l.PerEvent))
		for name, el := range l.PerEvent {
			if el.on() {
				c.PerEvent[name] = el
			}
		}
	}
	return &c
}

// rateLimits returns the limits that apply to the namespace's sockets.
func (ns *Namespace) rateLimits() *RateLimits {
	if l := ns.limits.Load(); l != nil || ns.parent == nil {
		return l
	}
	return ns.parent.limits.Load()
}

// bucket is the state of one EventLimit for one socket.
type bucket struct {
	tokens float64
	last   time.Time
}

// refill adds the tokens earned since the last event, up to the burst.
func (b *bucket) refill(l EventLimit, now time.Time) {
	burst := float64(max(l.Burst, 1))
	if b.last.IsZero() {
		b.tokens = burst // a socket starts with a full bucket
	} else if d := now.Sub(b.last); d > 0 {
		b.tokens = min(burst, b.tokens+d.Seconds()*l.Rate)
	}
	b.last = now
}

// eventLimiter holds one socket's buckets. It is used only by the
// connection's dispatch goroutine (events are dispatched one at a time,
// under the engine's dispatch lock), so it needs no lock of its own.
type eventLimiter struct {
	cfg      *RateLimits
	socket   bucket
	perEvent map[string]*bucket // only the names cfg.PerEvent lists: bounded
	// readsHeld is when the connection's input may be read again: each
	// event the socket's own limit refuses holds it back by one token's
	// time more (see Socket.refuse).
	readsHeld time.Time
}

// allow reports whether the event named name passes the limits, and
// counts it if so: a refused event spends no token of either bucket.
func (l *eventLimiter) allow(name string, now time.Time) bool {
	return l.check(name, now) == passed
}

// verdict says which limit, if any, refused an event.
type verdict int

const (
	passed verdict = iota
	refusedByEvent
	refusedBySocket
)

func (l *eventLimiter) check(name string, now time.Time) verdict {
	var own *bucket
	if el, ok := l.cfg.PerEvent[name]; ok {
		if own = l.perEvent[name]; own == nil {
			if l.perEvent == nil {
				l.perEvent = make(map[string]*bucket, len(l.cfg.PerEvent))
			}
			own = &bucket{}
			l.perEvent[name] = own
		}
		if own.refill(el, now); own.tokens < 1 {
			return refusedByEvent
		}
	}
	if l.cfg.PerSocket.on() {
		if l.socket.refill(l.cfg.PerSocket, now); l.socket.tokens < 1 {
			return refusedBySocket
		}
		l.socket.tokens--
	}
	if own != nil {
		own.tokens--
	}
	return passed
}

// limiterLocked returns the socket's limiter for the namespace's current
// limits, or nil when there are none.
//
// requires s.mu
func (s *Socket) limiterLocked() *eventLimiter {
	cfg := s.ns.rateLimits()
	if cfg == nil {
		if s.hooks != nil {
			s.hooks.limiter = nil
		}
		return nil
	}
	h := s.hooksLocked()
	if h.limiter == nil || h.limiter.cfg != cfg {
		h.limiter = &eventLimiter{cfg: cfg}
	}
	return h.limiter
}

// refuse handles an event over the limits: dropped with an error
// acknowledgement, or the socket disconnected.
func (s *Socket) refuse(e *Event, l *eventLimiter, v verdict) {
	cfg := l.cfg
	s.ns.srv.logger.Debug("socketio: event over the rate limit", "nsp", s.ns.name, "socket", s.id, "event", e.Name, "disconnect", cfg.Disconnect)
	if o := s.ns.srv.observer(); o != nil {
		st := RateLimitStat{Namespace: s.ns.name, Disconnected: cfg.Disconnect}
		if v == refusedByEvent {
			st.Event = e.Name
		}
		o.EventRateLimited(st)
	}
	if cfg.Disconnect {
		s.disconnect(ReasonRateLimited)
		return
	}
	if v == refusedBySocket {
		s.holdReads(l, cfg.PerSocket)
	}
	if e.hasAck {
		_ = e.Ack(rateLimitedAck)
	}
}

// holdReads stops reading the socket's connection for one token's time
// more for each event the socket's own limit refused: a client that keeps
// sending past its limit is read no faster than the limit, and the rest
// of its flood waits in the kernel (TCP backpressure on it) instead of
// costing the server a read and a refusal each. The engine reads in
// chunks (up to 64 KiB: thousands of small events), so a hold only as
// long as the next token would let each chunk through whole; holding by
// what was refused keeps the flooder's pace at the limit's. The engine
// bounds one hold (engineio.MaxReadHold).
//
// A refusal alone holds nothing: a client that went over its burst once
// gets its error and goes on. The hold starts with a refusal that comes
// within a token's time of the one before.
func (s *Socket) holdReads(l *eventLimiter, limit EventLimit) {
	now := time.Now()
	again := l.readsHeld.After(now)
	if !again {
		l.readsHeld = now
	}
	l.readsHeld = l.readsHeld.Add(time.Duration(float64(time.Second) / limit.Rate))
	// A hold the engine would cut short is debt not worth keeping.
	if most := now.Add(engineio.MaxReadHold); l.readsHeld.After(most) {
		l.readsHeld = most
	}
	if again {
		s.client.conn.HoldReads(l.readsHeld)
	}
}
