package engineio

import (
	"runtime"
	"sync"

	"github.com/switchboard-go/socketio/internal/netpoll"
)

// roundQueue is the work that rounds take in grabs: the WebSocket
// connections a broadcast made ready (flushers, wspoll.go) and the polls
// it woke (front.rounds, front_rounds.go). A round starts with the first
// item, and one more while more than a grab waits, up to one per CPU;
// each takes grabs until none is left. The state of a round that ended
// (S: its buffers, the batch it writes) is kept for the next, one per
// CPU at most.
type roundQueue[T, S any] struct {
	mu      sync.Mutex
	ready   []T // ready[head:] wait for a round
	head    int
	running int
	spare   []*S
}

// roundGrab is how many items a round takes at once: small enough that a
// second round finds work, large enough to keep the lock cold, and what
// one io_uring submission holds (netpoll's ring size).
const roundGrab = 64

// maxKeptReady bounds the ready list an idle server keeps for the next
// round (32 KiB); a larger one is dropped. Regrowing it for every
// broadcast to 1,000 connections was a quarter of the bytes a light
// broadcast load allocated (BENCHMARKS.md).
const maxKeptReady = 4096

// add queues x and reports whether the caller must start a round.
func (q *roundQueue[T, S]) add(x T) bool {
	q.mu.Lock()
	q.ready = append(q.ready, x)
	start := q.running == 0 || (q.running < runtime.GOMAXPROCS(0) && len(q.ready)-q.head > roundGrab)
	if start {
		q.running++
	}
	q.mu.Unlock()
	return start
}

// state returns the state a round that ended left, or nil.
func (q *roundQueue[T, S]) state() *S {
	q.mu.Lock()
	defer q.mu.Unlock()
	n := len(q.spare)
	if n == 0 {
		return nil
	}
	s := q.spare[n-1]
	q.spare[n-1] = nil
	q.spare = q.spare[:n-1]
	return s
}

// begin starts a round's run: the state a round that ended left (a new
// one when none is kept), and a ring from netpoll's pool for this run only
// (nil: io_uring unavailable, a write per item). end gives both back.
func (q *roundQueue[T, S]) begin() (*S, *netpoll.Ring) {
	s := q.state()
	if s == nil {
		s = new(S)
	}
	return s, netpoll.AcquireRing()
}

// end ends a round's run begun with begin, once grab found nothing.
func (q *roundQueue[T, S]) end(s *S, ring *netpoll.Ring) {
	if ring != nil {
		netpoll.ReleaseRing(ring)
	}
	q.keep(s)
}

// grab moves up to roundGrab waiting items to mine (reused from dst) and
// reports whether more wait after them. Finding none, it ends the
// caller's round: mine is empty, and the round must stop (after keep).
func (q *roundQueue[T, S]) grab(dst []T) (mine []T, more bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.head == len(q.ready) {
		q.ready, q.head = q.ready[:0], 0
		q.running--
		if q.running == 0 && cap(q.ready) > maxKeptReady {
			q.ready = nil
		}
		return dst[:0], false
	}
	k := min(len(q.ready)-q.head, roundGrab)
	grab := q.ready[q.head : q.head+k]
	mine = append(dst[:0], grab...)
	clear(grab)
	q.head += k
	return mine, q.head < len(q.ready)
}

// keep keeps an ended round's state for the next: at most one per CPU,
// the most that run at once.
func (q *roundQueue[T, S]) keep(s *S) {
	q.mu.Lock()
	if len(q.spare) < runtime.GOMAXPROCS(0) {
		q.spare = append(q.spare, s)
	}
	q.mu.Unlock()
}
