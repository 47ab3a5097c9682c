package engineio

import (
	"sync"
	"time"
)

// dispatchers runs short-lived work on goroutines that outlive one piece
// of it: the inbound packets of event-driven connections (wspoll.go), the
// writers of connections read by a goroutine (TLS, DisablePoller:
// wswrite.go), and the reads and answers of the HTTP front (front.go,
// with a set of its own). Handlers decode JSON and call user code, and
// crypto/tls's Write has deep frames; either grows a goroutine's stack to
// several KiB, and a goroutine per message or per write would pay for
// that growth (copying the stack) every time: at one message a
// connection, 10 % of a TLS delivery's CPU. Work takes an idle dispatcher
// or starts a new one, so work that blocks never holds up another.
//
// A dispatcher idle for dispatcherIdle exits: a sweeper, running while
// any is idle, lets the oldest go. (A timer per dispatcher, reset after
// every piece of work, cost a polling answer 6 % of its CPU in timer and
// select bookkeeping.) A stopped set keeps none.
type dispatchers struct {
	wg *tracker

	mu       sync.Mutex
	idle     []*dispatcher // parked, most recently parked last
	stopped  bool
	sweeping bool          // a sweeper runs
	sweepEnd chan struct{} // made with the sweeper, closed by stop
}

type dispatcher struct {
	work  chan task // capacity 1: a hand-off never blocks
	since time.Time // when it parked (under dispatchers.mu)
}

// task is a dispatcher's work: a polled connection's packets
// (pollWS.runTask), a connection's writer (gorillaWS.runTask), a front
// connection's reader (frontConn.runTask), a round of answers to the
// polls woken together (frontRound.runTask) or the rest of one that the
// kernel did not take at once (answerRest.runTask).
type task interface{ runTask() }

// dispatcherIdle is how long an idle dispatcher waits for work, give or
// take dispatcherSweep, how often the sweeper looks.
const (
	dispatcherIdle  = 2 * time.Second
	dispatcherSweep = time.Second
)

// run has t run by a dispatcher.
func (ds *dispatchers) run(t task) {
	ds.mu.Lock()
	if n := len(ds.idle); n > 0 {
		d := ds.idle[n-1]
		ds.idle[n-1] = nil
		ds.idle = ds.idle[:n-1]
		ds.mu.Unlock()
		d.work <- t
		return
	}
	ds.mu.Unlock()
	ds.wg.Add(1)
	go ds.loop(t)
}

func (ds *dispatchers) loop(t task) {
	defer ds.wg.Done()
	d := &dispatcher{work: make(chan task, 1)}
	for {
		t.runTask()
		ds.mu.Lock()
		if ds.stopped {
			ds.mu.Unlock()
			return
		}
		d.since = time.Now()
		ds.idle = append(ds.idle, d)
		if !ds.sweeping {
			ds.sweeping = true
			ds.sweepEnd = make(chan struct{})
			ds.wg.Add(1)
			go ds.sweep(ds.sweepEnd)
		}
		ds.mu.Unlock()
		next, ok := <-d.work
		if !ok {
			return // let go by the sweeper, or stopped
		}
		t = next
	}
}

// sweep lets go of the dispatchers idle for dispatcherIdle, looking every
// dispatcherSweep, until none is idle or the set is stopped.
func (ds *dispatchers) sweep(stop chan struct{}) {
	defer ds.wg.Done()
	tick := time.NewTicker(dispatcherSweep)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
		case <-stop:
			return
		}
		if ds.expire(time.Now()) {
			return
		}
	}
}

// expire lets go of the dispatchers parked for dispatcherIdle by now (the
// oldest first in idle); it reports whether none is left idle, and then
// the sweeper ends.
func (ds *dispatchers) expire(now time.Time) (none bool) {
	cutoff := now.Add(-dispatcherIdle)
	ds.mu.Lock()
	n := 0
	for n < len(ds.idle) && ds.idle[n].since.Before(cutoff) {
		n++
	}
	for _, d := range ds.idle[:n] {
		close(d.work) // never blocks: its dispatcher wakes and exits
	}
	rest := copy(ds.idle, ds.idle[n:])
	clear(ds.idle[rest:])
	ds.idle = ds.idle[:rest]
	if rest == 0 {
		ds.sweeping = false
	}
	ds.mu.Unlock()
	return rest == 0
}

// stop lets idle dispatchers go and keeps none from now on; work arriving
// later gets a goroutine that exits when done.
func (ds *dispatchers) stop() {
	ds.mu.Lock()
	ds.stopped = true
	idle := ds.idle
	ds.idle = nil
	if ds.sweeping {
		ds.sweeping = false
		close(ds.sweepEnd)
	}
	ds.mu.Unlock()
	for _, d := range idle {
		close(d.work)
	}
}
