package engineio

import (
	"sync"
	"sync/atomic"
	"time"
)

// congestion slows a connection whose messages make others fall behind,
// before anyone is disconnected for it (nats-server stalls a fast producer
// the same way before it calls a consumer slow).
//
// A connection's inbound packets are dispatched one at a time, and the
// next is not read until the previous one returned: the poller stops
// reading a connection whose undispatched input passes a limit, a reader
// goroutine reads nothing while it dispatches, a polling client waits for
// its POST's answer. So a dispatch that waits holds back its own
// connection alone, and TCP pushes back on that client.
//
// A dispatch waits when a non-volatile send made while its handler ran
// left a receiver's queue more than half full (queue.Queue.Congested):
// it waits until the congested receivers drain back to half, for at most
// bound (half of WriteTimeout). A receiver that stays congested for bound
// is not waited for any more: it does not keep up, and the sends that go
// on fill its queue until it overflows and is disconnected ("queue
// overflow"), as before. Volatile sends are dropped instead, as before.
//
// Attribution. A broadcast made by a handler runs on the dispatching
// goroutine, down through the Socket.IO layer, user code and the adapter,
// to Conn.SendMessages on each target; Go has no goroutine-local state to
// say which connection is being dispatched, and the sends made by user
// code (an io.Emit inside a handler) carry no source. So attribution is by
// time: every congested send bumps epoch, and a dispatch during which
// epoch moved waits. That never misses the flooder (its congested sends
// happen during its own dispatches) and costs senders nothing while no
// receiver is congested (an atomic load before and after a message). Its
// error is on the cautious side: a connection whose message is dispatched
// while another one floods may wait once too, only while receivers are
// congested and at most bound; connections that only receive are never
// slowed. Passing the source explicitly would cover the socket's own
// broadcasts (socket.broadcast, socket.to) but not a server-wide emit made
// inside a handler, the commonest relay.
type congestion struct {
	bound time.Duration
	epoch atomic.Uint64 // bumped by every send that found its receiver congested

	mu        sync.Mutex // taken before a queue's lock, never after
	congested map[*Conn]struct{}
}

// note records that c's queue is congested after a send to it.
func (cg *congestion) note(c *Conn) {
	cg.epoch.Add(1)
	c.congestionNoted.Store(true)
	cg.mu.Lock()
	if cg.congested == nil {
		cg.congested = make(map[*Conn]struct{})
	}
	// Added after the send made the queue congested, never skipped: a
	// waiter that has just dropped c (drained) cannot lose this one.
	cg.congested[c] = struct{}{}
	cg.mu.Unlock()
}

// wait holds the dispatch of src until no receiver congested for less
// than bound remains, or bound has passed, or src closed.
func (cg *congestion) wait(src *Conn) {
	deadline := time.Now().Add(cg.bound)
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		now := time.Now()
		ch, until := cg.next(now)
		if ch == nil {
			return
		}
		if deadline.Before(until) {
			until = deadline
		}
		if !until.After(now) {
			return
		}
		if timer == nil {
			timer = time.NewTimer(until.Sub(now))
		} else {
			timer.Reset(until.Sub(now))
		}
		select {
		case <-ch:
		case <-timer.C:
			if !time.Now().Before(deadline) {
				return
			}
		case <-src.Done():
			return
		}
	}
}

// next returns a congested receiver's channel to wait on, and until when
// it is waited for; nil when none is to be waited for. Receivers no
// longer congested leave the set.
func (cg *congestion) next(now time.Time) (<-chan struct{}, time.Time) {
	cg.mu.Lock()
	defer cg.mu.Unlock()
	for r := range cg.congested {
		below, since := r.q.Below()
		if since.IsZero() {
			delete(cg.congested, r) // drained or closed
			continue
		}
		if until := since.Add(cg.bound); until.After(now) {
			return below, until
		}
		// Congested for bound already: a slow consumer, left to overflow.
	}
	return nil, time.Time{}
}

// forget drops a closed connection from the set, so that the set does not
// keep it until the next wait looks.
func (cg *congestion) forget(c *Conn) {
	if !c.congestionNoted.Load() {
		return
	}
	cg.mu.Lock()
	delete(cg.congested, c)
	cg.mu.Unlock()
}
