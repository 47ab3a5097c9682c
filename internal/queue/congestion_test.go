package queue

import (
	"bytes"
	"testing"
	"time"
)

// sized returns an item of n bytes as the queue counts them (its data and
// the type byte).
func sized(n int) Item { return Item{Kind: 4, Data: bytes.Repeat([]byte("x"), n-1)} }

// A queue is congested once it holds more than half of its bound, not at
// exactly half, and Below's channel closes when it drains under half.
func TestCongestionAtHalfTheBound(t *testing.T) {
	q := New(1000)
	if err := q.Push(sized(500)); err != nil {
		t.Fatal(err)
	}
	if q.Congested() {
		t.Fatal("congested at exactly half of the bound")
	}
	if ch, _ := q.Below(); !isClosed(ch) {
		t.Fatal("Below of a queue that is not congested is not closed")
	}
	before := time.Now()
	if err := q.Push(sized(100)); err != nil { // 600: over half
		t.Fatal(err)
	}
	after := time.Now()
	if err := q.Push(sized(100)); err != nil {
		t.Fatal(err)
	}
	if !q.Congested() {
		t.Fatal("not congested at 700 bytes of 1000")
	}
	below, since := q.Below()
	if isClosed(below) || since.Before(before) || since.After(after) {
		t.Fatalf("Below of a congested queue: closed %v, since %v (pushed over between %v and %v)", isClosed(below), since, before, after)
	}

	// 700 → 200 in one drain: well under half.
	if got := q.Drain(nil, 1); len(got) != 1 || got[0].Size() != 500 {
		t.Fatalf("drained %d items, want the first one of 500 bytes", len(got))
	}
	if q.Congested() || !isClosed(below) {
		t.Fatalf("at 200 bytes of 1000: congested %v, Below closed %v; want not congested", q.Congested(), isClosed(below))
	}
}

// Draining that leaves the queue above half keeps it congested; reaching
// exactly half ends the congestion.
func TestCongestionEndsAtHalf(t *testing.T) {
	q := New(1000)
	for _, n := range []int{100, 100, 500} {
		if err := q.Push(sized(n)); err != nil {
			t.Fatal(err)
		}
	}
	if !q.Congested() {
		t.Fatal("not congested at 700 bytes of 1000")
	}
	below, _ := q.Below()

	q.Drain(nil, 100) // 700 → 600
	if !q.Congested() || isClosed(below) {
		t.Fatalf("at 600 bytes of 1000: congested %v, Below closed %v; want congested", q.Congested(), isClosed(below))
	}
	q.Drain(nil, 100) // 600 → 500: exactly half
	if q.Congested() || !isClosed(below) {
		t.Fatalf("at 500 bytes of 1000: congested %v, Below closed %v; want not congested", q.Congested(), isClosed(below))
	}
}

// Only crossing half of the bound starts a congestion: pushing more while
// congested keeps the time it began.
func TestCongestionKeepsItsStart(t *testing.T) {
	q := New(1000)
	if err := q.Push(sized(501)); err != nil {
		t.Fatal(err)
	}
	if !q.Congested() {
		t.Fatal("not congested at 501 bytes of 1000")
	}
	_, first := q.Below()
	if err := q.Push(sized(10)); err != nil {
		t.Fatal(err)
	}
	if _, again := q.Below(); !again.Equal(first) {
		t.Fatalf("congested since %v after another push, %v before", again, first)
	}
}
