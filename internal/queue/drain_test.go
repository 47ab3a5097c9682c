package queue

import "testing"

// Drain takes items up to its byte limit included: items that fit exactly
// are taken together.
func TestDrainExactFit(t *testing.T) {
	q := New(1000)
	for _, s := range []string{"0123456789", "0123456789", "x"} { // 11, 11 and 2 bytes
		if err := q.Push(item(s)); err != nil {
			t.Fatal(err)
		}
	}
	if got := q.Drain(nil, 22); len(got) != 2 {
		t.Fatalf("Drain(22) of 11+11+2 bytes took %d items, want 2", len(got))
	}
	if got := q.Drain(nil, 2); len(got) != 1 {
		t.Fatalf("Drain(2) of a 2-byte item took %d items", len(got))
	}
}

// A drain that leaves items signals the consumer again; one that empties
// the queue does not, so the consumer is not woken for nothing.
func TestDrainSignalsOnlyWhatRemains(t *testing.T) {
	q := New(1000)
	<-q.Ready() // the token the channel is born with
	_ = q.Push(item("a"))
	_ = q.Push(item("b"))
	<-q.Ready()
	q.Drain(nil, 2) // "b" remains
	select {
	case <-q.Ready():
	default:
		t.Fatal("no signal with an item left")
	}
	q.Drain(nil, 0)
	select {
	case <-q.Ready():
		t.Fatal("signal after the queue was emptied")
	default:
	}
}
