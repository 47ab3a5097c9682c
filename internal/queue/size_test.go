package queue

import (
	"testing"
	"unsafe"
)

// A server holds a Queue per connection: it is kept within the 160-byte
// size class (its fields are ordered for that, and it holds its first
// item inline).
func TestQueueFitsItsSizeClass(t *testing.T) {
	if n := unsafe.Sizeof(Queue{}); n > 160 {
		t.Errorf("Queue is %d bytes, over the 160-byte size class", n)
	}
}
