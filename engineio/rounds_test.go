package engineio

import (
	"runtime"
	"testing"
)

// A round queue starts a round for the first item and not for the next
// while it runs; a round takes grabs of roundGrab in order, told whether
// more wait; a grab that finds none ends the round (the next item starts
// one again); ended rounds' states are kept, one per CPU at most.
func TestRoundQueue(t *testing.T) {
	var q roundQueue[int, struct{ n int }]
	if !q.add(0) {
		t.Fatal("the first item started no round")
	}
	for i := 1; i < roundGrab+10; i++ {
		if q.add(i) && runtime.GOMAXPROCS(0) == 1 {
			t.Fatalf("item %d started a second round on one CPU", i)
		}
	}
	var mine []int
	mine, more := q.grab(mine)
	if len(mine) != roundGrab || mine[0] != 0 || mine[roundGrab-1] != roundGrab-1 || !more {
		t.Fatalf("first grab: %d items from %v, more %v", len(mine), mine[:1], more)
	}
	mine, more = q.grab(mine)
	if len(mine) != 10 || mine[0] != roundGrab || more {
		t.Fatalf("second grab: %v, more %v", mine, more)
	}
	running := q.running
	if mine, _ = q.grab(mine); len(mine) != 0 || q.running != running-1 {
		t.Fatalf("the last grab: %v, running %d → %d", mine, running, q.running)
	}
	q.running = 0 // as if every round had ended
	if !q.add(7) {
		t.Fatal("an item after the rounds ended started none")
	}
	if s := q.state(); s != nil {
		t.Fatalf("a spare state before any was kept: %v", s)
	}
	for i := range runtime.GOMAXPROCS(0) + 2 {
		q.keep(&struct{ n int }{i})
	}
	if len(q.spare) != runtime.GOMAXPROCS(0) {
		t.Fatalf("%d states kept, want one per CPU (%d)", len(q.spare), runtime.GOMAXPROCS(0))
	}
	if s := q.state(); s == nil || len(q.spare) != runtime.GOMAXPROCS(0)-1 {
		t.Fatalf("state %v, %d left", s, len(q.spare))
	}
}

// An idle queue keeps a ready list up to maxKeptReady and drops a larger
// one once its last round ends.
func TestRoundQueueDropsALargeList(t *testing.T) {
	for _, n := range []int{10, maxKeptReady + 1} {
		var q roundQueue[int, struct{}]
		for i := range n {
			q.add(i)
		}
		q.running = 1
		var mine []int
		for {
			if mine, _ = q.grab(mine); len(mine) == 0 {
				break
			}
		}
		if kept := q.ready != nil; kept != (n <= maxKeptReady) {
			t.Errorf("%d items: list kept %v, capacity %d", n, kept, cap(q.ready))
		}
	}
}
