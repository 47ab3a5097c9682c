package engineio

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/gorilla/websocket"
)

// The length of a server frame is written in the shortest of the three
// forms (RFC 6455 §5.2): up to 125 bytes in the first header bytes, up to
// 65,535 in two more, beyond that in eight. On the poller and on a reader
// goroutine (the deflate path would compress these).
func TestFrameLengthForms(t *testing.T) {
	eachReaderPath(t, Options{}, func(t *testing.T, rp readerPath, ts *testServer) {
		if rp.deflate {
			return
		}
		w := dialPath(t, ts, rp, 0)
		for _, c := range []struct {
			size int  // of the frame's payload: the type digit and the data
			code byte // the header's 7-bit length
		}{{125, 125}, {126, 126}, {0xffff, 126}, {0x10000, 127}} {
			msg := append([]byte("4"), bytes.Repeat([]byte("x"), c.size-1)...)
			w.send(t, maskedFrameN(0x81, msg))
			op, p, err := w.next()
			if err != nil || op != opText || !bytes.Equal(p, msg) {
				t.Fatalf("%d bytes: echo %#x, %d bytes, %v", c.size, op, len(p), err)
			}
			if got := w.head[1] & 0x7f; got != c.code {
				t.Errorf("%d-byte frame: length code %d, want %d", c.size, got, c.code)
			}
		}
	})
}

// With permessage-deflate, a message of compressThreshold bytes or more
// is compressed, a shorter one is not (Node's threshold, 1,024 bytes of
// data: the packet type is not counted).
func TestDeflateThreshold(t *testing.T) {
	eachReaderPath(t, Options{}, func(t *testing.T, rp readerPath, ts *testServer) {
		if !rp.deflate {
			return
		}
		w := dialPath(t, ts, rp, 0)
		for _, n := range []int{compressThreshold - 1, compressThreshold, compressThreshold + 1} {
			msg := append([]byte("4"), bytes.Repeat([]byte("y"), n)...)
			w.send(t, maskedFrameN(0x81, msg))
			op, p, err := w.next()
			if err != nil || op != opText || !bytes.Equal(p, msg) {
				t.Fatalf("%d bytes: echo %#x, %d bytes, %v", n, op, len(p), err)
			}
			if got, want := w.head[0]&rsv1Bit != 0, n >= compressThreshold; got != want {
				t.Errorf("%d bytes of data: compressed %v, want %v", n, got, want)
			}
		}
	})
}

// On a reader goroutine's WebSocket the writer is a goroutine started
// when there is something to write and gone once the queue is empty: an
// idle connection holds none.
func TestWriterGoroutineGoneWhenIdle(t *testing.T) {
	ts := startServerRaw(t, &Options{DisablePoller: true}, true)
	ws := dialWS(t, ts, "")
	readText(t, ws)
	ts.nextConn(t)
	writers := func() int { return countStacks("engineio.(*Conn).writeLoop(") }
	for i := range 3 {
		msg := fmt.Sprint("4m", i)
		_ = ws.WriteMessage(websocket.TextMessage, []byte(msg))
		if got := readText(t, ws); got != msg {
			t.Fatalf("echo %q, want %q", got, msg)
		}
		waitFor(t, func() bool { return writers() == 0 })
	}
}
