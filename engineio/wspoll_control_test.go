//go:build linux

package engineio

import (
	"bufio"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"
	"unsafe"
)

// Control frames on a stalled connection: the server's pongs and close
// frames must go out between frames, after the rest of a data frame that
// the kernel took only in part, never inside it, and nothing may follow a
// close frame. A raw client reads the server's bytes exactly as they were
// written and parses them strictly.

// rawWS is a hand-written WebSocket client: gorilla's client would hide
// how the frames were laid out, and its buffering would keep the test
// from controlling when the kernel's buffers fill.
type rawWS struct {
	nc net.Conn
	br *bufio.Reader
}

// rawRecvBuffer is the client's socket receive buffer: small, so that the
// server stalls after a few megabytes at most.
const rawRecvBuffer = 16 << 10

// dialRaw opens a WebSocket to ts with the query added.
func dialRaw(t *testing.T, ts *testServer, query string) *rawWS {
	t.Helper()
	u, err := url.Parse(ts.url("transport=websocket&" + query))
	if err != nil {
		t.Fatal(err)
	}
	d := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, rawRecvBuffer)
		})
		if err != nil {
			return err
		}
		return serr
	}}
	nc, err := d.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	var key [16]byte
	_, _ = rand.Read(key[:])
	_ = nc.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(nc, "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n",
		u.RequestURI(), u.Host, base64.StdEncoding.EncodeToString(key[:]))
	br := bufio.NewReaderSize(nc, 64<<10)
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("upgrade: %s", res.Status)
	}
	_ = nc.SetDeadline(time.Time{})
	return &rawWS{nc: nc, br: br}
}

// write sends raw bytes (masked frames: see maskedFrame).
func (r *rawWS) write(t *testing.T, b []byte) {
	t.Helper()
	_ = r.nc.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if _, err := r.nc.Write(b); err != nil {
		t.Fatal(err)
	}
}

type wsFrame struct {
	op      byte
	payload []byte
}

// errTruncated is a connection that ended inside a frame.
var errTruncated = errors.New("connection ended inside a frame")

// readFrame reads one server frame and checks everything RFC 6455 asks of
// it, plus what this server promises: it never fragments, never masks, and
// encodes lengths minimally. io.EOF means the connection ended cleanly
// between frames.
func (r *rawWS) readFrame() (wsFrame, error) {
	_ = r.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	var h [2]byte
	if n, err := io.ReadFull(r.br, h[:]); err != nil {
		if n == 0 && errors.Is(err, io.EOF) {
			return wsFrame{}, io.EOF
		}
		return wsFrame{}, fmt.Errorf("header: %w (%v)", errTruncated, err)
	}
	op := h[0] & 0x0f
	switch {
	case h[0]&0x80 == 0:
		return wsFrame{}, fmt.Errorf("frame %#x without FIN", h[0])
	case h[0]&0x70 != 0:
		return wsFrame{}, fmt.Errorf("frame %#x with reserved bits", h[0])
	case op != opText && op != opBinary && op != opClose && op != opPong:
		return wsFrame{}, fmt.Errorf("unexpected opcode %#x", op)
	case h[1]&0x80 != 0:
		return wsFrame{}, errors.New("masked server frame")
	}
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		var b [2]byte
		if _, err := io.ReadFull(r.br, b[:]); err != nil {
			return wsFrame{}, fmt.Errorf("length: %w (%v)", errTruncated, err)
		}
		if n = uint64(binary.BigEndian.Uint16(b[:])); n < 126 {
			return wsFrame{}, fmt.Errorf("16-bit length %d", n)
		}
	case 127:
		var b [8]byte
		if _, err := io.ReadFull(r.br, b[:]); err != nil {
			return wsFrame{}, fmt.Errorf("length: %w (%v)", errTruncated, err)
		}
		if n = binary.BigEndian.Uint64(b[:]); n <= 0xffff || n > 64<<20 {
			return wsFrame{}, fmt.Errorf("64-bit length %d", n)
		}
	}
	if op >= opClose && n > maxControlPayload {
		return wsFrame{}, fmt.Errorf("control frame %#x of %d bytes", op, n)
	}
	payload := make([]byte, n)
	if got, err := io.ReadFull(r.br, payload); err != nil {
		// Its last bytes show what went in instead of the rest.
		return wsFrame{}, fmt.Errorf("payload of %d bytes, %d came, ending % x: %w (%v)", n, got, payload[max(0, got-8):got], errTruncated, err)
	}
	switch {
	case op == opText && !utf8.Valid(payload):
		return wsFrame{}, errors.New("text frame not UTF-8")
	case op == opClose && len(payload) == 1:
		return wsFrame{}, errors.New("close frame with a 1-byte payload")
	}
	return wsFrame{op: op, payload: payload}, nil
}

// nibble takes a little of what the server wrote off the socket (kept
// for readFrame): the server's send buffer gets some room, too little to
// resume the stalled writer, enough for a short write to go in.
func (r *rawWS) nibble(t *testing.T) {
	t.Helper()
	srv := peerSocket(t, r.nc)
	before := sendQueue(t, srv)
	_ = r.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := r.br.Peek(nibbleBytes); err != nil {
		t.Fatal(err)
	}
	// The window update has reached the server once its send queue
	// shrinks: the kernel sent, and the client's acknowledged, bytes it
	// could not send before.
	deadline := time.Now().Add(5 * time.Second)
	for sendQueue(t, srv) >= before {
		if time.Now().After(deadline) {
			t.Fatalf("the server's send queue stayed at %d bytes or more after the client read", before)
		}
		time.Sleep(time.Millisecond)
	}
}

// peerSocket returns the descriptor, in this process, of the server's end
// of the client connection nc: the socket whose local address is nc's
// remote one and whose peer is nc's local one.
func peerSocket(t *testing.T, nc net.Conn) int {
	t.Helper()
	local, remote := nc.LocalAddr().(*net.TCPAddr), nc.RemoteAddr().(*net.TCPAddr)
	same := func(sa syscall.Sockaddr, a *net.TCPAddr) bool {
		in, ok := sa.(*syscall.SockaddrInet4)
		return ok && in.Port == a.Port && net.IP(in.Addr[:]).Equal(a.IP)
	}
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		fd, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		sa, err := syscall.Getsockname(fd)
		if err != nil || !same(sa, remote) {
			continue
		}
		if pa, err := syscall.Getpeername(fd); err == nil && same(pa, local) {
			return fd
		}
	}
	t.Fatalf("no socket of this process is the server's end of %v -> %v", local, remote)
	return -1
}

// sendQueue is how many bytes fd's send queue holds (SIOCOUTQ): unsent,
// or sent and not yet acknowledged.
func sendQueue(t *testing.T, fd int) int {
	t.Helper()
	var n int32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), syscall.TIOCOUTQ, uintptr(unsafe.Pointer(&n))); e != 0 {
		t.Fatalf("SIOCOUTQ on %d: %v", fd, e)
	}
	return int(n)
}

const nibbleBytes = 32 << 10

// readText reads the next frame, which must be a text frame.
func (r *rawWS) readText(t *testing.T) string {
	t.Helper()
	f, err := r.readFrame()
	if err != nil {
		t.Fatal(err)
	}
	if f.op != opText {
		t.Fatalf("frame %#x, want text", f.op)
	}
	return string(f.payload)
}

// stallBody is message i of a stall test: its index, then bytes that
// depend on it, so that a message cut, shifted or mixed with another one
// shows.
func stallBody(i int) []byte {
	b := make([]byte, 48<<10+7*i)
	binary.BigEndian.PutUint32(b, uint32(i))
	for j := 4; j < len(b); j++ {
		b[j] = byte(i*31 + j)
	}
	return b
}

// stallQueued is how many messages are queued behind the write that
// stalled: more than several of the writer's batches (writeBatchBytes).
const stallQueued = 24

// stallServer sends binary messages to c until the server's write stalls,
// with part of a frame left unwritten, then queues stallQueued more. It
// returns how many it sent.
func stallServer(t *testing.T, c *Conn) int {
	t.Helper()
	pw, ok := transportOf(c).(*pollWS)
	if !ok {
		t.Fatalf("transport %T, want the poller's", transportOf(c))
	}
	after := -1
	for i := 0; ; i++ {
		if err := c.Send(stallBody(i), true, false); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
		if after < 0 && pw.stalledSince.Load() != 0 {
			after = i
		}
		if after >= 0 && i-after >= stallQueued {
			return i + 1
		}
		if i > 2000 { // 100 MB
			t.Fatal("the server's writes never stalled")
		}
	}
}

// stalledConn is a poller connection whose writer stalled in mid-frame,
// with messages queued behind.
func stalledConn(t *testing.T) (*testServer, *rawWS, *Conn, int) {
	t.Helper()
	// The poller's writer even in the -nopoller pass: its stall is the
	// subject.
	ts := startServerRaw(t, &Options{MaxQueueBytes: 256 << 20, WriteTimeout: 20 * time.Second}, false)
	ws := dialRaw(t, ts, "")
	if open := ws.readText(t); !strings.HasPrefix(open, "0{") {
		t.Fatalf("open packet %q", open)
	}
	c := <-ts.rec.conns
	return ts, ws, c, stallServer(t, c)
}

// waitMessage waits until the handler got want: the client's frames sent
// before it were all handled by the poller.
func waitMessage(t *testing.T, ts *testServer, want string) {
	t.Helper()
	select {
	case m := <-ts.rec.msgs:
		if string(m.Data) != want {
			t.Fatalf("handler got %q, want %q", m.Data, want)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("handler did not get %q", want)
	}
}

// streamEvent is a control frame seen in the stream, with the number of
// data messages that came before it.
type streamEvent struct {
	frame  wsFrame
	before int
}

// readStream reads until the server ends the connection. Data messages
// must be stallBody(0), stallBody(1)... in order; it returns how many came
// and the control frames among them. A close frame must be the last frame.
func (r *rawWS) readStream(t *testing.T) (int, []streamEvent) {
	t.Helper()
	msgs := 0
	var ctl []streamEvent
	for {
		f, err := r.readFrame()
		closed := len(ctl) > 0 && ctl[len(ctl)-1].frame.op == opClose
		switch {
		case errors.Is(err, io.EOF):
			return msgs, ctl
		case err != nil:
			t.Fatalf("after %d messages and %d control frames: %v", msgs, len(ctl), err)
		case closed:
			t.Fatalf("frame %#x (%d bytes) after the close frame", f.op, len(f.payload))
		}
		switch f.op {
		case opPong, opClose:
			ctl = append(ctl, streamEvent{f, msgs})
		case opBinary:
			if want := stallBody(msgs); string(f.payload) != string(want) {
				got := -1
				if len(f.payload) >= 4 {
					got = int(binary.BigEndian.Uint32(f.payload))
				}
				t.Fatalf("message %d: %d bytes, index %d; want %d bytes", msgs, len(f.payload), got, len(want))
			}
			msgs++
		default:
			t.Fatalf("after %d messages: unexpected %#x frame %q", msgs, f.op, f.payload)
		}
	}
}

func closeCode(f wsFrame) int { return int(binary.BigEndian.Uint16(f.payload)) }

// TestPongWhileStalled pings a connection whose server is stalled in
// mid-frame: the pongs must not land inside the unwritten data; they must
// go out at the next frame boundary, ahead of the messages still queued
// (not behind all of them); and the pongs of many pings must not pile up
// while the client does not read.
func TestPongWhileStalled(t *testing.T) {
	ts, ws, c, sent := stalledConn(t)
	const pings = 50
	var out []byte
	for i := 0; i < pings; i++ {
		out = append(out, maskedFrame(0x80|opPing, fmt.Appendf(nil, "ping %02d", i))...)
	}
	out = append(out, maskedFrame(0x81, []byte("4marker"))...)
	ws.write(t, out)
	waitMessage(t, ts, "marker")

	// A graceful close: everything queued, then the close frame.
	_ = c.Close()
	msgs, ctl := ws.readStream(t)
	if msgs != sent {
		t.Fatalf("%d messages, want %d", msgs, sent)
	}
	if len(ctl) < 2 || ctl[len(ctl)-1].frame.op != opClose {
		t.Fatalf("control frames %+v, want pongs then the close frame", ctl)
	}
	pongs := ctl[:len(ctl)-1]
	last := -1
	for _, e := range pongs {
		if e.frame.op != opPong {
			t.Fatalf("control frame %#x, want pongs", e.frame.op)
		}
		var n int
		if _, err := fmt.Sscanf(string(e.frame.payload), "ping %d", &n); err != nil || n <= last {
			t.Fatalf("pong %q after the pong of ping %d", e.frame.payload, last)
		}
		last = n
	}
	t.Logf("%d messages, %d pongs, the first after message %d", msgs, len(pongs), pongs[0].before)
	if last != pings-1 {
		t.Fatalf("the last pong answers ping %d, want %d (the latest)", last, pings-1)
	}
	if len(pongs) > pings/2 {
		t.Fatalf("%d pongs for %d pings sent while the client did not read: pongs pile up", len(pongs), pings)
	}
	if pongs[0].before >= sent {
		t.Fatalf("the first pong came after all %d messages: it waited behind the queue", sent)
	}
}

// TestCloseWhileStalled sends a ping and a close frame to a connection
// whose server is stalled in mid-frame: the server must finish the frame it
// started (and what it had accepted with it), then answer with the pong and
// the close frame echoing the client's status, send nothing after it, and
// only then end the connection.
func TestCloseWhileStalled(t *testing.T) {
	ts, ws, _, sent := stalledConn(t)
	ws.nibble(t)
	var out []byte
	out = append(out, maskedFrame(0x80|opPing, []byte("last ping"))...)
	out = append(out, maskedFrame(0x81, []byte("4marker"))...)
	out = append(out, maskedFrame(0x80|opClose, []byte{0x0f, 0xa1, 'b', 'y', 'e'})...) // 4001
	ws.write(t, out)
	waitMessage(t, ts, "marker")
	if r := ts.closeReason(t); r != ReasonTransportClose {
		t.Fatalf("reason %q", r)
	}

	msgs, ctl := ws.readStream(t)
	t.Logf("%d of %d messages before the close", msgs, sent)
	if msgs >= sent {
		t.Fatalf("all %d messages were sent: the queue was written after the client's close", sent)
	}
	if len(ctl) != 2 || ctl[0].frame.op != opPong || string(ctl[0].frame.payload) != "last ping" || ctl[1].frame.op != opClose {
		t.Fatalf("control frames %+v, want the pong then the close frame", ctl)
	}
	if code := closeCode(ctl[1].frame); code != 4001 {
		t.Fatalf("close status %d, want the client's 4001", code)
	}
}

// TestProtocolErrorWhileStalled breaks the protocol (an unmasked frame)
// while the server is stalled in mid-frame: its close frame with status
// 1002 must come whole, after the frame in progress, and last.
func TestProtocolErrorWhileStalled(t *testing.T) {
	ts, ws, _, sent := stalledConn(t)
	ws.nibble(t)
	ws.write(t, []byte{0x81, 0x02, '4', 'x'})
	if r := ts.closeReason(t); r != ReasonTransportError {
		t.Fatalf("reason %q", r)
	}
	msgs, ctl := ws.readStream(t)
	t.Logf("%d of %d messages before the close", msgs, sent)
	if len(ctl) != 1 || ctl[0].frame.op != opClose || closeCode(ctl[0].frame) != closeProtocolError {
		t.Fatalf("control frames %+v, want one close frame with status %d", ctl, closeProtocolError)
	}
}

// TestGracefulCloseWhileStalled closes a session with Close (flush, then
// the close frame) while its writes are stalled: every message comes, then
// the close frame, last.
func TestGracefulCloseWhileStalled(t *testing.T) {
	ts, ws, c, sent := stalledConn(t)
	_ = c.Close()
	if r := <-ts.rec.closed; r != ReasonForcedClose {
		t.Fatalf("reason %q", r)
	}
	msgs, ctl := ws.readStream(t)
	if msgs != sent {
		t.Fatalf("%d messages, want %d", msgs, sent)
	}
	if len(ctl) != 1 || ctl[0].frame.op != opClose || closeCode(ctl[0].frame) != closeNormal {
		t.Fatalf("control frames %+v, want one close frame with status %d", ctl, closeNormal)
	}
}

// TestProbeAnswersPings pings a WebSocket while it is an upgrade's probe:
// the pong, then the probe's answer, then the session's messages once the
// upgrade is done.
func TestProbeAnswersPings(t *testing.T) {
	// The poller's probe even in the -nopoller pass: it is the subject.
	ts := startServerRaw(t, nil, true)
	op := handshake(t, ts)
	c := <-ts.rec.conns
	ws := dialRaw(t, ts, "sid="+op.SID)
	ws.write(t, append(maskedFrame(0x80|opPing, []byte("are you there")), maskedFrame(0x81, []byte("2probe"))...))
	f, err := ws.readFrame()
	if err != nil || f.op != opPong || string(f.payload) != "are you there" {
		t.Fatalf("frame %#x %q (%v), want the pong", f.op, f.payload, err)
	}
	if got := ws.readText(t); got != "3probe" {
		t.Fatalf("probe answer %q", got)
	}
	// The pending poll is released with a noop once the probe is
	// answered; none is pending here.
	ws.write(t, maskedFrame(0x81, []byte("5")))
	waitFor(t, func() bool { return c.Transport() == TransportWebSocket })
	ws.write(t, maskedFrame(0x80|opPing, []byte("and now")))
	f, err = ws.readFrame()
	if err != nil || f.op != opPong || string(f.payload) != "and now" {
		t.Fatalf("frame %#x %q (%v), want the pong", f.op, f.payload, err)
	}
	_ = c.Send([]byte("over websocket"), false, false)
	if got := ws.readText(t); got != "4over websocket" {
		t.Fatalf("message %q", got)
	}
}
