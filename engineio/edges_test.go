package engineio

import (
	"errors"
	"net/http"
	"strings"
	"testing"
)

// A client that does not keep up is one overflow, however many sends fail
// before its close has run.
func TestQueueOverflowCountedOnce(t *testing.T) {
	ts := startServer(t, &Options{MaxQueueBytes: 1000}, false)
	handshake(t, ts)
	c := ts.nextConn(t)
	overflows := 0
	for range 200 {
		if err := c.Send([]byte(strings.Repeat("x", 100)), false, false); errors.Is(err, ErrQueueOverflow) {
			overflows++
		}
	}
	if overflows == 0 {
		t.Fatal("no send overflowed")
	}
	if r := ts.closeReason(t); r != ReasonQueueOverflow {
		t.Fatalf("reason %q", r)
	}
	if st := ts.eng.Stats(); st.QueueOverflows != 1 {
		t.Fatalf("QueueOverflows = %d after %d failed sends, want 1", st.QueueOverflows, overflows)
	}
}

// A session keeps its handshake's headers for its whole life: a handshake
// larger than the bound is refused, as a Node.js server refuses it; one
// just under is kept whole.
func TestHandshakeHeadersBounded(t *testing.T) {
	ts := startServer(t, nil, false)
	status, _, _ := do(t, "GET", ts.url("transport=polling"), "", "X-Big", strings.Repeat("b", 20<<10))
	if status != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("20 KiB header: status %d, want 431", status)
	}
	big := strings.Repeat("k", 12<<10)
	if status, _, _ := do(t, "GET", ts.url("transport=polling"), "", "X-Big", big); status != 200 {
		t.Fatalf("12 KiB header: status %d", status)
	}
	if got := ts.nextConn(t).Request().Header.Get("X-Big"); got != big {
		t.Fatalf("kept %d bytes of the header", len(got))
	}
}
