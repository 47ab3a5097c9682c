package engineio

import (
	"bytes"
	"io"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// On the poller the write timeout counts from the last time the kernel
// took bytes, not from the start of the stall: a client that reads slowly
// but steadily keeps its connection even when one message takes many
// WriteTimeouts to go out, and is cut once it stops reading for
// WriteTimeout. (The poller is Linux's: the file is built there only.)
func TestPollerWriteTimeoutCountsFromProgress(t *testing.T) {
	const timeout = 700 * time.Millisecond
	ts, ws, c := dialSmallReceiver(t, timeout)
	// One message far larger than the loopback buffers hold: the writer
	// stalls inside it and the rest goes out as the client reads.
	big := make([]byte, 48<<20)
	for i := range big {
		big[i] = byte(i * 7)
	}
	if err := c.Send(big, true, false); err != nil {
		t.Fatal(err)
	}
	waitWriterStalled(t, c)
	_ = ws.SetReadDeadline(time.Now().Add(30 * time.Second))
	mt, r, err := ws.NextReader()
	if err != nil || mt != websocket.BinaryMessage {
		t.Fatalf("next message: %v, type %d", err, mt)
	}
	// Read 256 KiB every 10 ms: steady progress, and the 48 MB take
	// about two seconds, several WriteTimeouts.
	start := time.Now()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	got := make([]byte, 0, len(big))
	chunk := make([]byte, 256<<10)
	for len(got) < len(big) {
		<-tick.C
		n, err := io.ReadFull(r, chunk[:min(len(chunk), len(big)-len(got))])
		got = append(got, chunk[:n]...)
		if err != nil {
			t.Fatalf("after %d of %d bytes in %v: %v (reason %q)", len(got), len(big), time.Since(start), err, closeReasonNow(ts))
		}
	}
	if took := time.Since(start); took < 2*timeout {
		t.Fatalf("the slow read took %v, not several WriteTimeouts (%v): the test arranged nothing", took, timeout)
	}
	if !bytes.Equal(got, big) {
		t.Fatal("the message arrived altered")
	}
	select {
	case r := <-ts.rec.closed:
		t.Fatalf("a client that kept reading was closed: %q", r)
	default:
	}
	if st := ts.eng.Stats(); st.WriteTimeouts != 0 {
		t.Fatalf("write timeouts %d", st.WriteTimeouts)
	}

	// Now it stops reading with the writer stalled: cut within about
	// WriteTimeout of its last read.
	if err := c.Send(big, true, false); err != nil {
		t.Fatal(err)
	}
	waitWriterStalled(t, c)
	stopped := time.Now()
	if r := ts.closeReason(t); r != ReasonWriteTimeout {
		t.Fatalf("reason %q", r)
	}
	if took := time.Since(stopped); took > timeout+2*time.Second {
		t.Fatalf("cut %v after the client stopped reading, WriteTimeout %v", took, timeout)
	}
	if st := ts.eng.Stats(); st.WriteTimeouts != 1 {
		t.Fatalf("write timeouts %d, want 1", st.WriteTimeouts)
	}
}

// dialSmallReceiver starts a server on the poller with WriteTimeout
// timeout and connects a WebSocket whose receive buffer is small and of
// fixed size: Linux opens a closed receive window only once half the
// buffer is free, and an autotuned one of many megabytes would make the
// server wait for that many bytes read before the kernel takes any more
// of its.
func dialSmallReceiver(t *testing.T, timeout time.Duration) (*testServer, *websocket.Conn, *Conn) {
	t.Helper()
	ts := startServerRaw(t, &Options{MaxQueueBytes: 128 << 20, WriteTimeout: timeout}, false)
	d := websocket.Dialer{NetDial: func(network, addr string) (net.Conn, error) {
		nd := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
			var serr error
			if err := rc.Control(func(fd uintptr) {
				serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 256<<10)
			}); err != nil {
				return err
			}
			return serr
		}}
		return nd.Dial(network, addr)
	}}
	ws, _, err := d.Dial("ws"+strings.TrimPrefix(ts.url("transport=websocket"), "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	readText(t, ws) // open
	c := ts.nextConn(t)
	if _, ok := transportOf(c).(*pollWS); !ok {
		t.Fatalf("transport %T, want the poller's", transportOf(c))
	}
	return ts, ws, c
}

// A client that reads a little once the writer stalled, then nothing: it
// is cut WriteTimeout after the kernel last took bytes. When the stall
// check first fires the client has been quiet for most of WriteTimeout,
// so the check must wait only the rest of it, not a whole period more.
func TestPollerWriteTimeoutFromLastProgress(t *testing.T) {
	const timeout = time.Second
	ts, ws, c := dialSmallReceiver(t, timeout)
	big := make([]byte, 32<<20)
	if err := c.Send(big, true, false); err != nil {
		t.Fatal(err)
	}
	waitWriterStalled(t, c)
	// 4 MB read at once: the server's send buffer drains by more than a
	// third, and the kernel takes more of the message.
	_ = ws.SetReadDeadline(time.Now().Add(30 * time.Second))
	_, r, err := ws.NextReader()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(r, make([]byte, 4<<20)); err != nil {
		t.Fatal(err)
	}
	quiet := time.Now()
	if r := ts.closeReason(t); r != ReasonWriteTimeout {
		t.Fatalf("reason %q", r)
	}
	// The kernel took its last bytes just after the read: the cut is due
	// about WriteTimeout after it; a check that waits a whole period
	// after first finding the client quiet cuts it near 2 WriteTimeouts.
	took := time.Since(quiet)
	if took < timeout*8/10 || took > timeout*16/10 {
		t.Fatalf("cut %v after the client went quiet, want about WriteTimeout (%v)", took, timeout)
	}
}

// closeReasonNow is the reason of a close the handler already heard, if
// any.
func closeReasonNow(ts *testServer) string {
	select {
	case r := <-ts.rec.closed:
		return r
	default:
		return ""
	}
}
