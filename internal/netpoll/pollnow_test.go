//go:build linux

package netpoll

import (
	"runtime"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestPollNowServesOnCaller checks that PollNow reads ready input on the
// calling goroutine. With one P and no yield between the client's write
// and PollNow, the poller's own goroutine cannot get there first; a few
// attempts absorb the odd scheduling surprise.
func TestPollNowServesOnCaller(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	ln := listen(t)
	client, srv := pair(t, ln)
	r := newRecorder()
	var byPollNow atomic.Int64
	r.onData = func([]byte) {
		if strings.Contains(string(debug.Stack()), "netpoll.PollNow") {
			byPollNow.Add(1)
		}
	}
	take(t, srv, r)
	want := 0
	for attempt := 0; attempt < 20 && byPollNow.Load() == 0; attempt++ {
		if _, err := client.Write([]byte("x")); err != nil {
			t.Fatal(err)
		}
		want++
		deadline := time.Now().Add(time.Second)
		for len(r.bytes()) < want && time.Now().Before(deadline) {
			PollNow()
		}
	}
	if byPollNow.Load() == 0 {
		t.Fatal("PollNow never served the input itself")
	}
	_ = client.Close()
	r.waitClosed(t)
	waitNoPollerGoroutine(t)
}

// TestPollNowLastCloseStopsLoop checks that when PollNow handles the
// hang-up of the last connection, the poller goroutine still exits.
func TestPollNowLastCloseStopsLoop(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	ln := listen(t)
	client, srv := pair(t, ln)
	r := newRecorder()
	take(t, srv, r)
	_ = client.Close()
	deadline := time.Now().Add(2 * time.Second)
	for r.nClose.Load() == 0 && time.Now().Before(deadline) {
		PollNow()
	}
	r.waitClosed(t)
	waitNoPollerGoroutine(t)
}
