package sioclient

import (
	"log/slog"
	"testing"
	"time"
)

// waitState polls cond (a look at the executor's state under its lock)
// until it holds, failing t after a while.
func waitState(t *testing.T, e *executor, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		e.mu.Lock()
		ok := cond()
		e.mu.Unlock()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// The reader posting inbound packets waits once maxPending callbacks are
// pending, not one later, and is let go only once the backlog is under
// half of that: a slow handler is not woken past for every callback it
// finishes.
func TestInboundBacklogBoundAndHysteresis(t *testing.T) {
	e := &executor{logger: slog.New(slog.DiscardHandler)}
	blocker, started := make(chan struct{}), make(chan struct{})
	e.post(func() { close(started); <-blocker })
	<-started
	running, step := make(chan struct{}), make(chan struct{})
	for range maxPending {
		e.post(func() { running <- struct{}{}; <-step })
	}
	posted := make(chan struct{})
	go func() {
		e.postInbound(func() {}, nil)
		close(posted)
	}()
	// The backlog is at the bound: the poster waits.
	waitState(t, e, "the poster waits for space", func() bool { return e.space != nil })
	select {
	case <-posted:
		t.Fatal("posted with maxPending callbacks pending")
	default:
	}
	close(blocker)
	for i := 1; i <= maxPending/2+1; i++ {
		<-running // callback i was taken: maxPending-i are pending
		e.mu.Lock()
		pending, waiting := len(e.q), e.space != nil
		e.mu.Unlock()
		// Once let go, the poster may have posted its callback already.
		letGo := i == maxPending/2+1
		if pending != maxPending-i && !(letGo && pending == maxPending-i+1) {
			t.Fatalf("after %d callbacks %d pending", i, pending)
		}
		if want := !letGo; waiting != want {
			t.Fatalf("with %d pending, the poster waiting: %v, want %v", pending, waiting, want)
		}
		if i <= maxPending/2 {
			step <- struct{}{}
		}
	}
	select {
	case <-posted:
	case <-time.After(5 * time.Second):
		t.Fatal("the poster was not let go under half the bound")
	}
	// Let the rest run: the callback started last, then each pending one.
	step <- struct{}{}
	for range maxPending - (maxPending/2 + 1) {
		<-running
		step <- struct{}{}
	}
	waitState(t, e, "the executor is idle", func() bool { return !e.running })
}
