package engineio

import (
	"sync"
	"time"
)

// dispatchers runs short-lived work on goroutines that outlive one piece
// of it: the inbound packets of event-driven connections (wspoll.go) and
// the writers of connections read by a goroutine (TLS, DisablePoller:
// wswrite.go). Handlers decode JSON and call user code, and crypto/tls's
// Write has deep frames; either grows a goroutine's stack to several KiB,
// and a goroutine per message or per write would pay for that growth
// (copying the stack) every time: at one message a connection, 10 % of
// a TLS delivery's CPU. Work takes an idle dispatcher or starts a new
// one, so work that blocks never holds up another; a dispatcher idle for
// dispatcherIdle exits, and a closed server keeps none.
type dispatchers struct {
	wg *tracker

	mu      sync.Mutex
	idle    []*dispatcher // parked, most recently parked last
	stopped bool
}

type dispatcher struct {
	work chan task // capacity 1: a hand-off never blocks
}

// task is a dispatcher's work: a polled connection's packets
// (pollWS.runTask) or a connection's writer (gorillaWS.runTask).
type task interface{ runTask() }

// dispatcherIdle is how long an idle dispatcher waits for work.
const dispatcherIdle = 2 * time.Second

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
	var timer *time.Timer
	for {
		t.runTask()
		ds.mu.Lock()
		if ds.stopped {
			ds.mu.Unlock()
			return
		}
		ds.idle = append(ds.idle, d)
		ds.mu.Unlock()
		if timer == nil {
			timer = time.NewTimer(dispatcherIdle)
		} else {
			timer.Reset(dispatcherIdle)
		}
		select {
		case next, ok := <-d.work:
			timer.Stop()
			if !ok {
				return // stopped
			}
			t = next
			continue
		case <-timer.C:
		}
		// Timed out, unless run took this dispatcher meanwhile: then its
		// work is on the way.
		ds.mu.Lock()
		found := false
		for i, x := range ds.idle {
			if x == d {
				ds.idle = append(ds.idle[:i], ds.idle[i+1:]...)
				found = true
				break
			}
		}
		ds.mu.Unlock()
		if found {
			return
		}
		next, ok := <-d.work
		if !ok {
			return
		}
		t = next
	}
}

// stop lets idle dispatchers go and keeps none from now on; work arriving
// later gets a goroutine that exits when done.
func (ds *dispatchers) stop() {
	ds.mu.Lock()
	ds.stopped = true
	idle := ds.idle
	ds.idle = nil
	ds.mu.Unlock()
	for _, d := range idle {
		close(d.work)
	}
}
