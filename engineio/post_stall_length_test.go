package engineio

import (
	"io"
	"net"
	"testing"
	"time"
)

// A POST that announced its length (Content-Length) and stopped sending is
// released at PostTimeout too, its TCP connection included: net/http's
// draining of the rest of the body after the answer is bounded by the same
// deadline.
func TestStalledPostWithLengthTimesOut(t *testing.T) {
	ts := startServer(t, &Options{PostTimeout: 200 * time.Millisecond}, false)
	op := handshake(t, ts)
	ts.nextConn(t)
	nc, err := net.Dial("tcp", ts.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	req := "POST /socket.io/?EIO=4&transport=polling&sid=" + op.SID + " HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n4hel"
	if _, err := io.WriteString(nc, req); err != nil {
		t.Fatal(err)
	}
	waitReleased(t, nc, 3*time.Second)
	if r := ts.closeReason(t); r != ReasonTransportError {
		t.Fatalf("reason %q", r)
	}
}
