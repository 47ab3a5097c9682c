package engineio

import (
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-go/socketio/internal/netpoll"
)

// dispatcherGoroutines counts the goroutines dispatching the packets of
// poller-held WebSockets, idle ones included.
func dispatcherGoroutines() int {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	return strings.Count(string(buf), "(*dispatchers).loop(")
}

// A dispatcher idle for dispatcherIdle exits, and the next message of a
// poller-held connection gets a dispatcher all the same.
func TestIdleDispatcherExits(t *testing.T) {
	if !netpoll.Supported {
		t.Skip("no poller on this platform")
	}
	ts := startServerRaw(t, &Options{PingInterval: time.Hour}, true) // the poller, in the -nopoller pass too
	ws := dialWS(t, ts, "")
	readText(t, ws) // open
	for round := range 2 {
		if err := ws.WriteMessage(1, []byte("4hi")); err != nil {
			t.Fatal(err)
		}
		if got := readText(t, ws); got != "4hi" {
			t.Fatalf("round %d: echo %q", round, got)
		}
		// The dispatcher parks, then exits after dispatcherIdle.
		deadline := time.Now().Add(dispatcherIdle + 10*time.Second)
		for dispatcherGoroutines() != 0 {
			if time.Now().After(deadline) {
				t.Fatalf("round %d: %d dispatchers still running %v after the last message", round, dispatcherGoroutines(), dispatcherIdle+10*time.Second)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// The sweeper lets go of the dispatchers parked for dispatcherIdle (2 s),
// the oldest first, and keeps the others parked; it ends once none is
// idle.
func TestDispatchersExpireTheOldest(t *testing.T) {
	var wg tracker
	ds := &dispatchers{wg: &wg, sweeping: true}
	now := time.Now()
	var all []*dispatcher
	for _, age := range []time.Duration{5 * time.Second, 3 * time.Second, time.Second} {
		d := &dispatcher{work: make(chan task, 1), since: now.Add(-age)}
		all = append(all, d)
		ds.idle = append(ds.idle, d)
	}
	closed := func(d *dispatcher) bool {
		select {
		case _, ok := <-d.work:
			return !ok
		default:
			return false
		}
	}
	if none := ds.expire(now); none {
		t.Error("expire reported none idle with one parked a second ago")
	}
	if !closed(all[0]) || !closed(all[1]) || closed(all[2]) {
		t.Errorf("let go: %v %v %v, want the two parked before the cutoff", closed(all[0]), closed(all[1]), closed(all[2]))
	}
	if len(ds.idle) != 1 || ds.idle[0] != all[2] || !ds.sweeping {
		t.Errorf("idle %v (sweeping %v), want the newest only", ds.idle, ds.sweeping)
	}
	if none := ds.expire(now.Add(2 * time.Second)); !none {
		t.Error("expire reported some idle after letting the last go")
	}
	if !closed(all[2]) || len(ds.idle) != 0 || ds.sweeping {
		t.Errorf("the last: closed %v, idle %v, sweeping %v", closed(all[2]), ds.idle, ds.sweeping)
	}
}
