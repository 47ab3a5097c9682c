package engineio

import (
	"testing"
	"time"
	"unsafe"
)

// An idle server holds a Conn per connection: the struct is kept within
// the 256-byte size class (conn.go orders its fields for that), and a
// field added carelessly pushes it into the next class (288 bytes).
func TestConnFitsItsSizeClass(t *testing.T) {
	if n := unsafe.Sizeof(Conn{}); n > 256 {
		t.Errorf("Conn is %d bytes, over the 256-byte size class", n)
	}
}

// Created is kept as a monotonic offset: it must still read as the time of
// the handshake.
func TestConnCreated(t *testing.T) {
	ts := startServer(t, nil, false)
	before := time.Now()
	handshake(t, ts)
	after := time.Now()
	c := ts.nextConn(t)
	if got := c.Created(); got.Before(before) || got.After(after) {
		t.Errorf("Created() = %v, not between %v and %v", got, before, after)
	}
}
