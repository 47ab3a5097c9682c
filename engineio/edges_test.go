package engineio

import (
	"errors"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"
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

// stallPost starts a chunked POST for sid that sends the start of a body
// and then nothing more, and returns its connection.
func stallPost(t *testing.T, ts *testServer, sid string) net.Conn {
	t.Helper()
	nc, err := net.Dial("tcp", ts.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	req := "POST /socket.io/?EIO=4&transport=polling&sid=" + sid + " HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n4hel"
	if _, err := io.WriteString(nc, req); err != nil {
		t.Fatal(err)
	}
	return nc
}

// waitReleased waits until the server has closed nc (whatever it answered
// first), failing after within.
func waitReleased(t *testing.T, nc net.Conn, within time.Duration) {
	t.Helper()
	_ = nc.SetReadDeadline(time.Now().Add(within))
	if _, err := io.Copy(io.Discard, nc); err != nil {
		t.Fatalf("connection of a stalled POST still open after %v: %v", within, err)
	}
}

func (c *Conn) isPosting() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.posting
}

// A POST whose client stops sending mid-body is released (its goroutine
// and its TCP connection) as soon as its session closes, with no
// http.Server.ReadTimeout set.
func TestStalledPostEndsWithItsSession(t *testing.T) {
	ts := startServer(t, nil, false)
	http.DefaultTransport.(*http.Transport).CloseIdleConnections()
	base := runtime.NumGoroutine()
	const n = 100
	var conns []*Conn
	var ncs []net.Conn
	for range n {
		op := handshake(t, ts)
		c := ts.nextConn(t)
		ncs = append(ncs, stallPost(t, ts, op.SID))
		conns = append(conns, c)
		waitFor(t, c.isPosting)
	}
	if g := runtime.NumGoroutine(); g < base+n {
		t.Fatalf("%d goroutines with %d stalled POSTs, %d before", g, n, base)
	}
	for _, c := range conns {
		c.CloseWithReason(ReasonTransportError)
		ts.closeReason(t)
	}
	for _, nc := range ncs {
		waitReleased(t, nc, 2*time.Second)
	}
	// The handshakes' keep-alive connections go too, to compare with base.
	http.DefaultTransport.(*http.Transport).CloseIdleConnections()
	waitFor(t, func() bool { return runtime.NumGoroutine() <= base })
}

// A POST body that does not arrive within PostTimeout ends its read and
// its session, even while the session is otherwise alive.
func TestStalledPostTimesOut(t *testing.T) {
	ts := startServer(t, &Options{PostTimeout: 200 * time.Millisecond}, false)
	op := handshake(t, ts)
	c := ts.nextConn(t)
	start := time.Now()
	nc := stallPost(t, ts, op.SID)
	waitReleased(t, nc, 2*time.Second)
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Fatalf("released after %v, before PostTimeout", d)
	}
	if r := ts.closeReason(t); r != ReasonTransportError {
		t.Fatalf("reason %q", r)
	}
	waitFor(t, func() bool { return !c.isPosting() })
}

// A refused POST that net/http drains after the answer is bounded too.
func TestStalledPostToUnknownSessionReleased(t *testing.T) {
	ts := startServer(t, &Options{PostTimeout: 200 * time.Millisecond}, false)
	nc := stallPost(t, ts, "unknown")
	waitReleased(t, nc, 2*time.Second)
}

// A receiver that was congested leaves the server's set of congested
// receivers when it closes, whether or not a sender waits later.
func TestCongestedReceiverForgottenOnClose(t *testing.T) {
	ts := startServer(t, &Options{MaxQueueBytes: 1000}, false)
	handshake(t, ts)
	c := ts.nextConn(t)
	for range 6 { // 6 × 101 bytes: past half of 1000
		if err := c.Send([]byte(strings.Repeat("x", 100)), false, false); err != nil {
			t.Fatal(err)
		}
	}
	cg := &ts.eng.congestion
	inSet := func() bool {
		cg.mu.Lock()
		defer cg.mu.Unlock()
		_, ok := cg.congested[c]
		return ok
	}
	if !inSet() {
		t.Fatal("a receiver past half of its queue is not in the congested set")
	}
	c.CloseWithReason(ReasonTransportError)
	if inSet() {
		t.Fatal("a closed receiver stays in the congested set")
	}
}
