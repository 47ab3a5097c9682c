package engineio

import (
	"bytes"
	"testing"
)

// An inflated message keeps its bytes until it is released, however many
// messages are inflated meanwhile (a reader hands one to the dispatcher
// and goes on reading): its pooled buffer goes back to the pool only with
// release, never while the message is still held.
func TestInflatedMessageKeptUntilReleased(t *testing.T) {
	first := []byte("4" + string(bytes.Repeat([]byte("first "), 50)))
	m, err := inflateMessage(deflateMessage(t, first), 4096)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 8 {
		other := bytes.Repeat([]byte{'a' + byte(i)}, len(first))
		o, err := inflateMessage(deflateMessage(t, other), 4096)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(o.b, other) {
			t.Fatalf("message %d inflated to %q", i, o.b)
		}
		// Not released: each one holds its buffer, as m does.
	}
	if !bytes.Equal(m.b, first) {
		t.Fatalf("the first message changed while held: %q", m.b)
	}
	m.release()
}
