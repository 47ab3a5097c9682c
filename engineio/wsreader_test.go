package engineio

import (
	"bufio"
	"bytes"
	"compress/flate"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"testing"
	"time"
)

// The same hostile input on every way the server reads a WebSocket: the
// poller, a reader goroutine (DisablePoller), permessage-deflate on the
// poller, TLS (a reader goroutine while the client sends, wswatch.go) and
// TLS with permessage-deflate (the reader goroutine's parser inflating,
// its writer compressing). Every path must give the same answer: the
// README's Limits table promises these close codes on all of them. Under
// -nopoller the "poller" and "deflate" cases run on a reader goroutine
// too.

// readerPath is one way the server reads WebSockets.
type readerPath struct {
	name    string
	opts    Options
	tls     bool
	deflate bool // the client offers permessage-deflate and the server takes it
}

func readerPaths() []readerPath {
	return []readerPath{
		{name: "poller"},
		{name: "goroutine", opts: Options{DisablePoller: true}},
		{name: "deflate", opts: Options{PerMessageDeflate: true}, deflate: true},
		{name: "tls", tls: true},
		{name: "tls+deflate", opts: Options{PerMessageDeflate: true}, tls: true, deflate: true},
	}
}

// eachReaderPath runs f on every reader path, with a fresh echo server
// started with opts.
func eachReaderPath(t *testing.T, opts Options, f func(t *testing.T, rp readerPath, ts *testServer)) {
	for _, rp := range readerPaths() {
		t.Run(rp.name, func(t *testing.T) {
			o := opts
			o.DisablePoller = o.DisablePoller || rp.opts.DisablePoller
			o.PerMessageDeflate = o.PerMessageDeflate || rp.opts.PerMessageDeflate
			rec := newRecorder(true)
			eng := NewServer(testOptions(&o), func(c *Conn) Handler {
				rec.conns <- c
				return rec
			})
			hs := httptest.NewUnstartedServer(eng)
			hs.Listener = smallSendBuffers{hs.Listener}
			if rp.tls {
				hs.StartTLS()
			} else {
				hs.Start()
			}
			t.Cleanup(func() {
				_ = eng.Close()
				hs.Close()
			})
			f(t, rp, &testServer{Server: hs, eng: eng, rec: rec})
		})
	}
}

// smallSendBuffers gives the server's connections a small socket send
// buffer, so that a client that does not read stalls the server's writes
// after a few kilobytes rather than megabytes.
type smallSendBuffers struct{ net.Listener }

func (l smallSendBuffers) Accept() (net.Conn, error) {
	nc, err := l.Listener.Accept()
	if tc, ok := nc.(*net.TCPConn); ok {
		_ = tc.SetWriteBuffer(32 << 10)
	}
	return nc, err
}

// pathWS is a hand-written client: it sends any bytes it is given, and
// reads the server's frames as they are.
type pathWS struct {
	nc      net.Conn
	br      *bufio.Reader
	deflate bool
	head    [2]byte // the first two header bytes of the frame next read last
}

// dialPath opens a WebSocket session on ts as rp says, and reads the open
// packet. recvBuffer, when not 0, is the client's socket receive buffer.
func dialPath(t *testing.T, ts *testServer, rp readerPath, recvBuffer int) *pathWS {
	t.Helper()
	return dialPathVia(t, ts, rp, recvBuffer, nil)
}

// dialPathVia is dialPath with the TCP connection wrapped by via (under
// TLS, when rp.tls), when via is not nil.
func dialPathVia(t *testing.T, ts *testServer, rp readerPath, recvBuffer int, via func(net.Conn) net.Conn) *pathWS {
	t.Helper()
	u, err := url.Parse(ts.url("transport=websocket"))
	if err != nil {
		t.Fatal(err)
	}
	tc, err := net.DialTimeout("tcp", u.Host, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if recvBuffer > 0 {
		_ = tc.(*net.TCPConn).SetReadBuffer(recvBuffer)
	}
	nc := tc
	if via != nil {
		nc = via(tc)
	}
	if rp.tls {
		cfg := ts.Client().Transport.(*http.Transport).TLSClientConfig.Clone()
		cfg.ServerName = "example.com" // httptest's certificate
		nc = tls.Client(nc, cfg)
	}
	t.Cleanup(func() { nc.Close() })
	var key [16]byte
	_, _ = rand.Read(key[:])
	ext := ""
	if rp.deflate {
		ext = "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
	}
	_ = nc.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(nc, "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n%s\r\n",
		u.RequestURI(), u.Host, base64.StdEncoding.EncodeToString(key[:]), ext)
	br := bufio.NewReaderSize(nc, 64<<10)
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("upgrade: %s", res.Status)
	}
	got := strings.HasPrefix(res.Header.Get("Sec-Websocket-Extensions"), "permessage-deflate")
	if got != rp.deflate {
		t.Fatalf("extensions %q, want deflate %v", res.Header.Get("Sec-Websocket-Extensions"), rp.deflate)
	}
	_ = nc.SetDeadline(time.Time{})
	w := &pathWS{nc: nc, br: br, deflate: rp.deflate}
	if op, p, err := w.next(); err != nil || op != opText || !bytes.HasPrefix(p, []byte("0{")) {
		t.Fatalf("open packet: %#x %q %v", op, p, err)
	}
	return w
}

func (w *pathWS) send(t *testing.T, b []byte) {
	t.Helper()
	_ = w.nc.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if _, err := w.nc.Write(b); err != nil {
		t.Fatal(err)
	}
}

// next reads one frame (inflating a compressed one) within 5 s. io.EOF
// means the connection ended between frames.
func (w *pathWS) next() (byte, []byte, error) {
	_ = w.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	var h [2]byte
	if _, err := io.ReadFull(w.br, h[:]); err != nil {
		return 0, nil, err
	}
	w.head = h
	if h[1]&0x80 != 0 {
		return 0, nil, errors.New("masked server frame")
	}
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		var b [2]byte
		if _, err := io.ReadFull(w.br, b[:]); err != nil {
			return 0, nil, err
		}
		n = uint64(binary.BigEndian.Uint16(b[:]))
	case 127:
		var b [8]byte
		if _, err := io.ReadFull(w.br, b[:]); err != nil {
			return 0, nil, err
		}
		n = binary.BigEndian.Uint64(b[:])
	}
	if n > 64<<20 {
		return 0, nil, fmt.Errorf("%d-byte frame", n)
	}
	p := make([]byte, n)
	if _, err := io.ReadFull(w.br, p); err != nil {
		return 0, nil, err
	}
	if h[0]&0x40 != 0 {
		if !w.deflate {
			return 0, nil, errors.New("compressed frame without permessage-deflate")
		}
		fr := flate.NewReader(io.MultiReader(bytes.NewReader(p), bytes.NewReader(deflateTail)))
		var err error
		if p, err = io.ReadAll(fr); err != nil {
			return 0, nil, err
		}
	}
	return h[0] & 0x0f, p, nil
}

// closeCode reads until the server's close frame and returns its status
// code; the connection must not end without one.
func (w *pathWS) closeCode(t *testing.T) int {
	t.Helper()
	for {
		op, p, err := w.next()
		if err != nil {
			t.Fatalf("no close frame: %v", err)
		}
		if op == opClose {
			if len(p) < 2 {
				t.Fatalf("close frame %q", p)
			}
			return int(binary.BigEndian.Uint16(p))
		}
	}
}

// maskedFrameN is maskedFrame for payloads of any length.
func maskedFrameN(b0 byte, payload []byte) []byte {
	key := [4]byte{1, 2, 3, 4}
	f := []byte{b0}
	switch n := len(payload); {
	case n < 126:
		f = append(f, 0x80|byte(n))
	case n <= 0xffff:
		f = append(f, 0x80|126, byte(n>>8), byte(n))
	default:
		f = append(f, 0x80|127)
		f = binary.BigEndian.AppendUint64(f, uint64(n))
	}
	f = append(f, key[:]...)
	for i, b := range payload {
		f = append(f, b^key[i%4])
	}
	return f
}

// deflateMessage compresses b as permessage-deflate sends it.
func deflateMessage(t testing.TB, b []byte) []byte {
	var buf bytes.Buffer
	fw, err := flate.NewWriter(&buf, flate.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = fw.Write(b)
	_ = fw.Flush()
	out := buf.Bytes()
	if !bytes.HasSuffix(out, []byte{0, 0, 0xff, 0xff}) {
		t.Fatal("flush did not end with an empty stored block")
	}
	return out[:len(out)-4]
}

// deflateBomb returns a permessage-deflate message that inflates to "4"
// followed by 'a' up to size bytes (a multiple of 1 MiB): one compressed
// MiB repeated. A flush ends each at a byte boundary with an empty stored
// block, so the copies follow one another as blocks of one stream, and
// each one's matches look back only at its own output. Compressing the
// whole at once took minutes under the race detector on a loaded machine.
func deflateBomb(t testing.TB, size int) []byte {
	const chunk = 1 << 20
	body := bytes.Repeat([]byte{'a'}, chunk)
	first := append(deflateMessage(t, append([]byte{'4'}, body[1:]...)), 0, 0, 0xff, 0xff)
	rest := append(deflateMessage(t, body), 0, 0, 0xff, 0xff)
	out := first
	for n := chunk; n < size; n += chunk {
		out = append(out, rest...)
	}
	return out[:len(out)-4]
}

// closedWith checks the reason the session closed with.
func closedWith(t *testing.T, ts *testServer, want string) {
	t.Helper()
	if got := ts.closeReason(t); got != want {
		t.Fatalf("session closed with %q, want %q", got, want)
	}
}

// The RFC 6455 checks the goroutine path used to miss (gorilla's reader).
func TestReaderProtocolChecksOnEveryPath(t *testing.T) {
	cases := []struct {
		name   string
		frame  []byte
		code   int
		reason string
	}{
		{"invalid UTF-8 text", maskedFrame(0x81, []byte{'4', 0xff, 0xfe}), closeInvalidPayload, ReasonTransportError},
		{"invalid UTF-8 across fragments", append(maskedFrame(0x01, []byte{'4', 0xe2, 0x82}), maskedFrame(0x80, []byte{'x'})...), closeInvalidPayload, ReasonTransportError},
		{"2^63 length", []byte{0x82, 0x80 | 127, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4}, closeMessageTooBig, ReasonTransportError},
		{"length over MaxPayload", []byte{0x82, 0x80 | 127, 0, 0, 0, 1, 0, 0, 0, 0, 1, 2, 3, 4}, closeMessageTooBig, ReasonTransportError},
		{"1-byte close payload", maskedFrame(0x88, []byte{3}), closeProtocolError, ReasonTransportError},
		{"close reason not UTF-8", maskedFrame(0x88, []byte{0x03, 0xe8, 0xff}), closeInvalidPayload, ReasonTransportError},
		{"close code 1005", maskedFrame(0x88, []byte{0x03, 0xed}), closeProtocolError, ReasonTransportError},
		{"fragmented ping", maskedFrame(0x09, []byte("x")), closeProtocolError, ReasonTransportError},
		{"RSV1 without permessage-deflate", maskedFrame(0xC1, []byte("4x")), closeProtocolError, ReasonTransportError},
		{"close 4000", maskedFrame(0x88, []byte{0x0f, 0xa0}), 4000, ReasonTransportClose},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			eachReaderPath(t, Options{}, func(t *testing.T, rp readerPath, ts *testServer) {
				frame := tc.frame
				if rp.deflate && tc.name == "RSV1 without permessage-deflate" {
					// Negotiated: RSV1 is allowed on a first frame, but
					// not on a control frame.
					frame = maskedFrame(0xC9, []byte("x"))
				}
				w := dialPath(t, ts, rp, 0)
				w.send(t, frame)
				if got := w.closeCode(t); got != tc.code {
					t.Fatalf("close %d, want %d", got, tc.code)
				}
				closedWith(t, ts, tc.reason)
			})
		})
	}
}

// A small compressed message inflating far past MaxPayload is refused
// with 1009 without being inflated: the bytes allocated while it is read
// stay far below its inflated size.
func TestReaderDeflateBomb(t *testing.T) {
	const maxPayload = 100_000
	compressed := deflateBomb(t, 64<<20)
	if len(compressed) >= maxPayload {
		t.Fatalf("the bomb is %d bytes compressed, over MaxPayload", len(compressed))
	}
	half := len(compressed) / 2
	whole := maskedFrameN(0xC1, compressed)
	fragmented := append(maskedFrameN(0x41, compressed[:half]), maskedFrameN(0x80, compressed[half:])...)
	for _, in := range []struct {
		name  string
		frame []byte
	}{{"one frame", whole}, {"fragmented", fragmented}} {
		t.Run(in.name, func(t *testing.T) {
			eachReaderPath(t, Options{MaxPayload: maxPayload}, func(t *testing.T, rp readerPath, ts *testServer) {
				w := dialPath(t, ts, rp, 0)
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				want := closeMessageTooBig
				if rp.deflate {
					w.send(t, in.frame)
				} else {
					// RSV1 was not negotiated: refused on the header,
					// and the connection closes before the rest is in.
					w.send(t, in.frame[:64])
					want = closeProtocolError
				}
				if got := w.closeCode(t); got != want {
					t.Fatalf("close %d, want %d", got, want)
				}
				closedWith(t, ts, ReasonTransportError)
				runtime.ReadMemStats(&after)
				// The compressed frame (~65 KB) and at most MaxPayload of
				// output, plus the test's own reading: far below the 64 MiB
				// the message inflates to.
				if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 8<<20 {
					t.Fatalf("%d bytes allocated reading the bomb", alloc)
				}
			})
		})
	}
}

// What permessage-deflate must accept and refuse on every path that
// negotiates it (the poller's and the reader goroutine's parser): a
// compressed message up to MaxPayload once inflated, fragmented or not,
// and invalid deflate data.
func TestReaderDeflateMessages(t *testing.T) {
	const maxPayload = 10_000
	run := func(t *testing.T, f func(t *testing.T, ts *testServer, w *pathWS)) {
		paths := 0
		eachReaderPath(t, Options{MaxPayload: maxPayload}, func(t *testing.T, rp readerPath, ts *testServer) {
			if !rp.deflate {
				return
			}
			paths++
			f(t, ts, dialPath(t, ts, rp, 0))
		})
		if paths < 2 {
			t.Fatalf("%d reader paths with permessage-deflate, want the poller's and TLS's", paths)
		}
	}
	exact := append([]byte("4"), bytes.Repeat([]byte("é"), (maxPayload-1)/2)...)
	exact = append(exact, bytes.Repeat([]byte("x"), maxPayload-len(exact))...)
	t.Run("at the limit", func(t *testing.T) {
		run(t, func(t *testing.T, ts *testServer, w *pathWS) {
			c := deflateMessage(t, exact)
			w.send(t, append(maskedFrameN(0x41, c[:3]), maskedFrameN(0x80, c[3:])...))
			op, p, err := w.next()
			if err != nil || op != opText || !bytes.Equal(p, exact) {
				t.Fatalf("echo: %#x, %d bytes, %v", op, len(p), err)
			}
			w.send(t, maskedFrameN(0xC1, deflateMessage(t, []byte("4small"))))
			if op, p, err := w.next(); err != nil || op != opText || string(p) != "4small" {
				t.Fatalf("echo: %#x %q %v", op, p, err)
			}
		})
	})
	t.Run("one byte over", func(t *testing.T) {
		run(t, func(t *testing.T, ts *testServer, w *pathWS) {
			w.send(t, maskedFrameN(0xC1, deflateMessage(t, append(exact, 'x'))))
			if got := w.closeCode(t); got != closeMessageTooBig {
				t.Fatalf("close %d, want %d", got, closeMessageTooBig)
			}
			closedWith(t, ts, ReasonTransportError)
		})
	})
	t.Run("invalid deflate", func(t *testing.T) {
		run(t, func(t *testing.T, ts *testServer, w *pathWS) {
			w.send(t, maskedFrameN(0xC1, []byte{0xff, 0xff, 0xff, 0xff}))
			if got := w.closeCode(t); got != closeInvalidPayload {
				t.Fatalf("close %d, want %d", got, closeInvalidPayload)
			}
			closedWith(t, ts, ReasonTransportError)
		})
	})
	t.Run("RSV1 on a continuation", func(t *testing.T) {
		run(t, func(t *testing.T, ts *testServer, w *pathWS) {
			w.send(t, append(maskedFrame(0x01, []byte("4a")), maskedFrame(0xC0, []byte("b"))...))
			if got := w.closeCode(t); got != closeProtocolError {
				t.Fatalf("close %d, want %d", got, closeProtocolError)
			}
		})
	})
}

// A client that pings and never reads is cut once the pongs have waited
// WriteTimeout, as one that does not read its messages is, not at the
// next heartbeat.
func TestReaderPingFloodCutWithinWriteTimeout(t *testing.T) {
	const writeTimeout = time.Second
	opts := Options{WriteTimeout: writeTimeout, PingInterval: time.Minute, PingTimeout: time.Minute}
	eachReaderPath(t, opts, func(t *testing.T, rp readerPath, ts *testServer) {
		w := dialPath(t, ts, rp, 16<<10)
		ping := maskedFrame(0x89, bytes.Repeat([]byte{'p'}, maxControlPayload))
		burst := bytes.Repeat(ping, 64)
		// Flood until the server stops reading: a burst that cannot be
		// written within a second. The server's pong writes stalled
		// before that.
		stalled := make(chan time.Time, 1)
		go func() {
			for {
				_ = w.nc.SetWriteDeadline(time.Now().Add(time.Second))
				if _, err := w.nc.Write(burst); err != nil {
					stalled <- time.Now()
					return
				}
			}
		}()
		var stallAt time.Time
		select {
		case stallAt = <-stalled:
		case <-time.After(20 * time.Second):
			t.Fatal("the server kept reading pings for 20 s")
		}
		select {
		case got := <-ts.rec.closed:
			if got != ReasonWriteTimeout {
				t.Fatalf("session closed with %q, want %q", got, ReasonWriteTimeout)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("a client flooding pings without reading still connected 10 s after the server stalled")
		}
		// The pong that stalled waited WriteTimeout at most, and began
		// before the client noticed the stall.
		if d := time.Since(stallAt); d > 2*writeTimeout {
			t.Errorf("cut %v after the client stalled, WriteTimeout is %v", d, writeTimeout)
		}
		w.nc.Close()
	})
}
