package queue

import (
	"testing"
	"unsafe"
)

// A server holds a Queue per connection: it is kept within the 128-byte
// size class (its fields are ordered for that).
func TestQueueFitsItsSizeClass(t *testing.T) {
	if n := unsafe.Sizeof(Queue{}); n > 128 {
		t.Errorf("Queue is %d bytes, over the 128-byte size class", n)
	}
}
