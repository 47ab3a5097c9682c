package engineio

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"net/http/httptest"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/switchboard-go/socketio/internal/netpoll"
)

// noPoller runs the package's tests with a reader goroutine per WebSocket
// (Options.DisablePoller): scripts/test.sh runs the package both ways.
var noPoller = flag.Bool("nopoller", false, "run every server with Options.DisablePoller")

// noRings makes the flushers write connection by connection instead of a
// round per io_uring submission: scripts/test.sh runs the package that way
// too, which is the path of machines that refuse io_uring.
var noRings = flag.Bool("norings", false, "write broadcast rounds without io_uring (netpoll.SetRings(false))")

// The default pass writes broadcast rounds through io_uring, and
// scripts/test.sh runs -norings for the other path: a machine that
// refuses io_uring would run the second path twice and the first never,
// silently. It fails here unless SWITCHBOARD_NO_IOURING=1 declares that.
func TestRingsAvailable(t *testing.T) {
	if !netpoll.Supported {
		t.Skip("no poller on this platform")
	}
	if runtime.GOARCH != "amd64" && runtime.GOARCH != "arm64" {
		t.Skip("no io_uring writes on " + runtime.GOARCH)
	}
	if *noRings {
		netpoll.SetRings(false)
		if r := netpoll.AcquireRing(); r != nil {
			netpoll.ReleaseRing(r)
			t.Fatal("-norings, but the flushers would get a ring")
		}
		return
	}
	r := netpoll.AcquireRing()
	declared := os.Getenv("SWITCHBOARD_NO_IOURING") == "1"
	if r != nil {
		netpoll.ReleaseRing(r)
	}
	switch {
	case r != nil && declared:
		t.Fatal("SWITCHBOARD_NO_IOURING=1, but io_uring works here: unset it")
	case r == nil && !declared:
		t.Fatal("io_uring is refused here: the ring path goes untested; set SWITCHBOARD_NO_IOURING=1 on a machine known to refuse it")
	}
}

// testOptions applies -nopoller and -norings to a test server.
func testOptions(opts *Options) *Options {
	if *noRings {
		netpoll.SetRings(false)
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	if *noPoller {
		o.DisablePoller = true
	}
	return &o
}

func pollerExpected() bool { return netpoll.Supported && !*noPoller }

func transportOf(c *Conn) wsTransport {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ws
}

func TestPollerTakesPlainWebSockets(t *testing.T) {
	if !netpoll.Supported {
		t.Skip("no poller on this platform")
	}
	cases := []struct {
		name     string
		opts     Options
		deflate  bool
		wantPoll bool
	}{
		{"default", Options{}, false, true},
		{"disabled", Options{DisablePoller: true}, false, false},
		{"deflate negotiated", Options{PerMessageDeflate: true}, true, true},
		{"deflate negotiated, disabled", Options{PerMessageDeflate: true, DisablePoller: true}, true, false},
		{"deflate offered, not enabled", Options{}, true, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			opts := tc.opts
			ts := startServerRaw(t, &opts, true)
			d := websocket.Dialer{EnableCompression: tc.deflate}
			ws, _, err := d.Dial(strings.Replace(ts.url("transport=websocket"), "http", "ws", 1), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer ws.Close()
			readText(t, ws)
			c := <-ts.rec.conns
			_, isPoll := transportOf(c).(*pollWS)
			if isPoll != tc.wantPoll {
				t.Fatalf("transport %T, want poller %v", transportOf(c), tc.wantPoll)
			}
			_ = ws.WriteMessage(websocket.TextMessage, []byte("4ok"))
			if got := readText(t, ws); got != "4ok" {
				t.Fatalf("echo %q", got)
			}
		})
	}
}

// startServerRaw is startServer without -nopoller applied.
func startServerRaw(t *testing.T, opts *Options, echo bool) *testServer {
	saved := *noPoller
	*noPoller = false
	defer func() { *noPoller = saved }()
	return startServer(t, opts, echo)
}

// countStacks counts goroutines whose stack mentions any of frags.
func countStacks(frags ...string) int {
	buf := make([]byte, 8<<20)
	buf = buf[:runtime.Stack(buf, true)]
	n := 0
	for _, g := range strings.Split(string(buf), "\n\n") {
		for _, f := range frags {
			if strings.Contains(g, f) {
				n++
				break
			}
		}
	}
	return n
}

func TestIdleWebSocketsHoldNoGoroutine(t *testing.T) {
	ts := startServer(t, nil, true)
	const n = 20
	ts.rec.closed = make(chan string, n) // Close reports every connection
	for i := 0; i < n; i++ {
		ws := dialWS(t, ts, "")
		readText(t, ws)
		<-ts.rec.conns
		_ = ws.WriteMessage(websocket.TextMessage, []byte("4x"))
		if got := readText(t, ws); got != "4x" {
			t.Fatalf("echo %q", got)
		}
		<-ts.rec.msgs
	}
	perConn := []string{"engineio.(*Conn).readLoop", "engineio.(*dispatchers).loop", "engineio.(*Conn).writeLoop", "engineio.(*flushers).loop"}
	want := 0
	if !pollerExpected() {
		want = n // one reader each
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := countStacks(perConn...)
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines for %d idle connections, want %d", got, n, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestWebSocketProtocolErrors(t *testing.T) {
	cases := []struct {
		name      string
		frame     []byte // raw bytes the client writes after the open packet
		wantCode  int
		wantClose string
	}{
		{"unmasked frame", []byte{0x81, 0x02, '4', 'x'}, closeProtocolError, ReasonTransportError},
		{"reserved bit", maskedFrame(0xC1, []byte("4x")), closeProtocolError, ReasonTransportError},
		{"unknown opcode", maskedFrame(0x83, []byte("4x")), closeProtocolError, ReasonTransportError},
		{"invalid UTF-8", maskedFrame(0x81, []byte{'4', 0xff, 0xfe}), closeInvalidPayload, ReasonTransportError},
		{"close 4000", maskedFrame(0x88, []byte{0x0f, 0xa0}), 4000, ReasonTransportClose},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ts := startServer(t, nil, true)
			ws := dialWS(t, ts, "")
			readText(t, ws)
			if _, err := ws.NetConn().Write(tc.frame); err != nil {
				t.Fatal(err)
			}
			_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
			_, _, err := ws.ReadMessage()
			var ce *websocket.CloseError
			if !errors.As(err, &ce) || ce.Code != tc.wantCode {
				t.Fatalf("read error %v, want close %d", err, tc.wantCode)
			}
			select {
			case r := <-ts.rec.closed:
				if r != tc.wantClose {
					t.Fatalf("reason %q, want %q", r, tc.wantClose)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("session not closed")
			}
		})
	}
}

// maskedFrame builds a client frame with first byte b0 and a fixed key.
func maskedFrame(b0 byte, payload []byte) []byte {
	key := [4]byte{1, 2, 3, 4}
	f := []byte{b0, 0x80 | byte(len(payload))}
	f = append(f, key[:]...)
	for i, b := range payload {
		f = append(f, b^key[i%4])
	}
	return f
}

func TestWebSocketPingFrameAnswered(t *testing.T) {
	ts := startServer(t, nil, true)
	ws := dialWS(t, ts, "")
	readText(t, ws)
	pongs := make(chan string, 1)
	ws.SetPongHandler(func(s string) error { pongs <- s; return nil })
	if err := ws.WriteControl(websocket.PingMessage, []byte("hello"), time.Now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	_ = ws.WriteMessage(websocket.TextMessage, []byte("4after"))
	if got := readText(t, ws); got != "4after" {
		t.Fatalf("echo %q", got)
	}
	select {
	case s := <-pongs:
		if s != "hello" {
			t.Fatalf("pong %q", s)
		}
	default:
		t.Fatal("no pong before the echo")
	}
}

// blockingRecorder holds every message until released.
type blockingRecorder struct {
	*recorder
	release chan struct{}
}

func (b *blockingRecorder) OnMessage(c *Conn, data []byte, binary bool) {
	<-b.release
	b.recorder.OnMessage(c, data, binary)
}

func TestPollerInboundBackpressure(t *testing.T) {
	if !netpoll.Supported {
		t.Skip("no poller on this platform")
	}
	rec := newRecorder(false)
	rec.msgs = make(chan Message, 4096)
	br := &blockingRecorder{recorder: rec, release: make(chan struct{})}
	opts := testOptions(nil)
	opts.DisablePoller = false // the poller's backpressure even in the -nopoller pass
	eng := NewServer(opts, func(c *Conn) Handler { rec.conns <- c; return br })
	ts := &testServer{eng: eng, rec: rec}
	ts.Server = httptest.NewServer(eng)
	t.Cleanup(func() {
		_ = eng.Close()
		ts.Server.Close()
	})
	ws := dialWS(t, ts, "")
	readText(t, ws)
	c := <-rec.conns
	pw := transportOf(c).(*pollWS)
	const n = 3000 // 3 MB: past inboundLimit
	payload := strings.Repeat("x", 1000)
	go func() {
		for i := 0; i < n; i++ {
			if ws.WriteMessage(websocket.TextMessage, []byte(fmt.Sprintf("4%05d%s", i, payload))) != nil {
				return
			}
		}
	}()
	waitFor(t, func() bool {
		pw.inMu.Lock()
		defer pw.inMu.Unlock()
		return pw.paused
	})
	pw.inMu.Lock()
	held := pw.inBytes
	pw.inMu.Unlock()
	// Pausing takes effect after the read that crossed the limit.
	if held > inboundLimit+readChunk {
		t.Fatalf("%d bytes held while paused", held)
	}
	close(br.release)
	for i := 0; i < n; i++ {
		select {
		case m := <-rec.msgs:
			if want := fmt.Sprintf("%05d", i); string(m.Data[:5]) != want {
				t.Fatalf("message %d is %q", i, m.Data[:5])
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("message %d did not arrive", i)
		}
	}
	waitFor(t, func() bool {
		pw.inMu.Lock()
		defer pw.inMu.Unlock()
		return !pw.paused && !pw.dispatching
	})
	_ = ws.Close()
}

// readChunk bounds what one read of the poller adds (its buffer size).
const readChunk = 64 << 10

func TestWebSocketEmptyBinaryIsNotNil(t *testing.T) {
	ts := startServer(t, nil, false)
	ws := dialWS(t, ts, "")
	readText(t, ws)
	_ = ws.WriteMessage(websocket.BinaryMessage, nil)
	select {
	case m := <-ts.rec.msgs:
		if !m.Binary || m.Data == nil || len(m.Data) != 0 {
			t.Fatalf("got %+v, want an empty non-nil binary message", m)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no message")
	}
}

// waitWriterStalled waits until c's WebSocket writer is stopped by a full
// socket: the poller's writer marks the stall itself; a writer goroutine
// is then blocked in a write, waiting for the network. It fails if that
// does not happen within 10 s.
func waitWriterStalled(t *testing.T, c *Conn) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		switch w := transportOf(c).(type) {
		case *pollWS:
			if w.stalledSince.Load() != 0 {
				return
			}
		case *gorillaWS:
			buf := make([]byte, 8<<20)
			buf = buf[:runtime.Stack(buf, true)]
			for _, g := range strings.Split(string(buf), "\n\n") {
				if strings.Contains(g, "[IO wait") && strings.Contains(g, "engineio.(*Conn).writeLoop") {
					return
				}
			}
		case nil: // not attached yet
		default:
			t.Fatalf("transport %T", w)
		}
		if time.Now().After(deadline) {
			t.Fatalf("the writer (%T) did not stall on a client that reads nothing", transportOf(c))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestSlowReaderGetsEverythingInOrder fills the kernel's buffers while the
// client does not read, then lets it read: every message must arrive once,
// intact and in order, through the stall and the resumption (single sends
// and broadcast-style prepared sends mixed, binary and text).
func TestSlowReaderGetsEverythingInOrder(t *testing.T) {
	ts := startServer(t, &Options{MaxQueueBytes: 64 << 20, WriteTimeout: 10 * time.Second}, false)
	ws := dialWS(t, ts, "")
	readText(t, ws) // open
	c := <-ts.rec.conns
	const n = 400
	body := func(i int) []byte {
		b := make([]byte, 40<<10+i) // 16 MB in all: more than loopback buffers hold
		for j := range b {
			b[j] = byte(i + j)
		}
		copy(b, fmt.Sprintf("%05d", i))
		return b
	}
	go func() {
		for i := 0; i < n; i++ {
			var err error
			switch i % 3 {
			case 0:
				err = c.Send(body(i), true, false)
			case 1:
				err = c.SendPrepared(Prepare([]Message{{Data: body(i), Binary: true}}), false)
			default:
				err = c.Send([]byte(fmt.Sprintf("%05d text", i)), false, false)
			}
			if err != nil {
				t.Errorf("send %d: %v", i, err)
				return
			}
		}
	}()
	// The client reads nothing until the server's writer stalled on the
	// full socket: 16 MB is more than the loopback buffers hold, so it
	// must, and a writer that never does fails here.
	waitWriterStalled(t, c)
	for i := 0; i < n; i++ {
		_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
		mt, data, err := ws.ReadMessage()
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if i%3 == 2 {
			if mt != websocket.TextMessage || string(data) != fmt.Sprintf("4%05d text", i) {
				t.Fatalf("message %d: %q", i, data)
			}
			continue
		}
		if mt != websocket.BinaryMessage || !bytes.Equal(data, body(i)) {
			t.Fatalf("message %d: binary=%v, %d bytes, starts %q", i, mt == websocket.BinaryMessage, len(data), data[:min(8, len(data))])
		}
	}
}
