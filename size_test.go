package socketio

import (
	"testing"
	"unsafe"
)

// A server holds a Socket and a client per connection: each is kept within
// its size class (176 and 112 bytes), so that a field added carelessly
// shows here rather than as a few percent more memory per connection in a
// benchmark nobody reruns.
func TestPerConnectionStructsFitTheirSizeClasses(t *testing.T) {
	if n := unsafe.Sizeof(Socket{}); n > 176 {
		t.Errorf("Socket is %d bytes, over the 176-byte size class", n)
	}
	if n := unsafe.Sizeof(client{}); n > 112 {
		t.Errorf("client is %d bytes, over the 112-byte size class", n)
	}
}
