package queue

import (
	"testing"
)

// One item at a time, as on an idle or lightly loaded connection, is held
// inline: pushing and draining it allocates nothing, not even a first ring.
func TestOneItemAtATimeAllocatesNothing(t *testing.T) {
	q := New(1 << 20)
	it := sized(10)
	dst := make([]Item, 0, 4)
	allocs := testing.AllocsPerRun(100, func() {
		if err := q.Push(it); err != nil {
			t.Fatal(err)
		}
		dst = q.Drain(dst[:0], 0)
	})
	if allocs != 0 {
		t.Errorf("a push and a drain of one item allocate %v times, want 0", allocs)
	}
	if len(q.items) != 1 {
		t.Errorf("the ring has %d slots after single items, want the inline one", len(q.items))
	}
}

// Growing out of the inline slot keeps the order, from any head position,
// and leaves nothing behind in the slot.
func TestInlineSlotGrowsInOrder(t *testing.T) {
	q := New(1 << 20)
	push := func(n int) {
		t.Helper()
		if err := q.Push(sized(n)); err != nil {
			t.Fatal(err)
		}
	}
	push(2)
	push(3) // grows the inline slot into a ring of 2
	if q.inline[0].Data != nil {
		t.Error("the inline slot still holds an item once the ring grew")
	}
	got := q.Drain(nil, 3) // takes the first only
	push(4)
	push(5) // grows a ring whose head is not at 0
	got = q.Drain(got, 0)
	var sizes []int
	for _, it := range got {
		sizes = append(sizes, it.Size())
	}
	want := []int{2, 3, 4, 5}
	if len(sizes) != len(want) {
		t.Fatalf("drained sizes %v, want %v", sizes, want)
	}
	for i := range want {
		if sizes[i] != want[i] {
			t.Fatalf("drained sizes %v, want %v", sizes, want)
		}
	}
}
