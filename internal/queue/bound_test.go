package queue

import (
	"bytes"
	"testing"
)

// A bound of zero or less means the default of 1 MiB, not a queue that
// holds one item.
func TestNewDefaultBound(t *testing.T) {
	for _, max := range []int{0, -1} {
		q := New(max)
		half := Item{Data: bytes.Repeat([]byte("x"), 1<<19-1)} // 512 KiB with its type byte
		if err := q.Push(half); err != nil {
			t.Fatal(err)
		}
		if err := q.Push(half); err != nil {
			t.Fatalf("New(%d): a second 512 KiB item: %v, want it queued under the 1 MiB default", max, err)
		}
		if err := q.Push(item("")); err != ErrFull {
			t.Fatalf("New(%d): one byte past 1 MiB: %v, want ErrFull", max, err)
		}
	}
}
