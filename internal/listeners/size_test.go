package listeners

import (
	"testing"
	"unsafe"
)

// A server holds a registry per socket and an entry per event name in it:
// an entry is kept to 48 bytes (once is a pointer for that).
func TestEntryIs48Bytes(t *testing.T) {
	if n := unsafe.Sizeof(entry[func()]{}); n > 48 {
		t.Errorf("an entry is %d bytes, want 48 at most", n)
	}
}
