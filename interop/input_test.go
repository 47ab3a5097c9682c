package interop_test

// What the server read from its clients, recorded beside it: which
// Socket.IO DISCONNECT packets reached the server on each Engine.IO
// session before that session ended. A client that races its DISCONNECT
// packet against closing its connection (python-socketio 5.7 on
// WebSocket) can then be held to the exact reason its input implies,
// instead of to "one of two".

import (
	"bufio"
	"bytes"
	be "encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-go/socketio/engineio"
)

// inputLog records, per session, the namespaces of the DISCONNECT packets
// the server accepted, in order, up to the end of the session's input.
// Sessions are keyed by their sid (polling requests, and the WebSocket of
// an upgrade carry it) or, for a session opened on WebSocket, by the
// handshake's remote address (its one TCP connection).
type inputLog struct {
	mu       sync.Mutex
	sessions map[string]*sessionInput
	inflight sync.WaitGroup // POSTs being served, whose outcome is not known yet
}

type sessionInput struct {
	disconnects []string // namespaces, in arrival order
	ended       bool     // a close (frame or packet) was read: nothing after it counts
	err         error    // input the log could not read (compressed frames)
}

func newInputLog() *inputLog { return &inputLog{sessions: map[string]*sessionInput{}} }

// wrap returns h with the log recording what h reads: the bodies of the
// POSTs it accepts, and the frames of the WebSockets it takes over. A
// recorded WebSocket is not a *net.TCPConn, so it keeps the reader
// goroutine rather than moving to the epoll poller.
func (l *inputLog) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sid := r.URL.Query().Get("sid")
		switch {
		case strings.EqualFold(r.Header.Get("Upgrade"), "websocket"):
			key := "sid " + sid
			if sid == "" {
				key = "addr " + r.RemoteAddr
			}
			h.ServeHTTP(&hijackRecorder{ResponseWriter: w, log: l, key: key}, r)
		case r.Method == http.MethodPost && sid != "":
			l.inflight.Add(1)
			defer l.inflight.Done()
			body, err := io.ReadAll(r.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
			h.ServeHTTP(sw, r)
			// The engine answers 200 to a payload it took, in order; a
			// refused one (session gone) was not input to any socket.
			if sw.status == http.StatusOK {
				for _, rec := range bytes.Split(body, []byte{0x1e}) {
					l.packet("sid "+sid, string(rec))
				}
			}
		default:
			h.ServeHTTP(w, r)
		}
	})
}

// packet records one Engine.IO packet of key's session, as text.
func (l *inputLog) packet(key, p string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.session(key)
	if s.ended || p == "" {
		return
	}
	switch {
	case p[0] == '1': // Engine.IO CLOSE: the session ends here
		s.ended = true
	case strings.HasPrefix(p, "41"): // MESSAGE carrying a Socket.IO DISCONNECT
		ns := "/"
		if rest := p[2:]; strings.HasPrefix(rest, "/") {
			ns, _, _ = strings.Cut(rest, ",")
		}
		// A second DISCONNECT for a namespace already left is a packet
		// for a namespace not joined: the server closes the connection
		// there, so what follows is not read.
		for _, prev := range s.disconnects {
			if prev == ns {
				s.ended = true
				return
			}
		}
		s.disconnects = append(s.disconnects, ns)
	}
}

func (l *inputLog) end(key string, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.session(key)
	s.ended = true
	if s.err == nil {
		s.err = err
	}
}

// requires l.mu
func (l *inputLog) session(key string) *sessionInput {
	s := l.sessions[key]
	if s == nil {
		s = &sessionInput{}
		l.sessions[key] = s
	}
	return s
}

// disconnected reports whether a DISCONNECT packet for namespace ns
// reached the server on c's session before the session's input ended. It
// waits for the POSTs being served; call it once the server has reported
// the socket's disconnection, so the input that decided it is in.
func (l *inputLog) disconnected(t *testing.T, c *engineio.Conn, ns string) bool {
	t.Helper()
	done := make(chan struct{})
	go func() { l.inflight.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(pyWait):
		t.Fatal("input log: POSTs still being served")
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	found := false
	for _, key := range []string{"sid " + c.ID(), "addr " + c.Request().RemoteAddr} {
		s := l.sessions[key]
		if s == nil {
			continue
		}
		found = true
		if s.err != nil {
			t.Fatalf("input log of session %s: %v", c.ID(), s.err)
		}
		for _, got := range s.disconnects {
			if got == ns {
				return true
			}
		}
	}
	if !found {
		t.Fatalf("input log: nothing recorded for session %s", c.ID())
	}
	return false
}

// statusWriter remembers the status a handler answered with.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// hijackRecorder hands the WebSocket upgrade a connection whose reads go
// through a frame reader first.
type hijackRecorder struct {
	http.ResponseWriter
	log *inputLog
	key string
}

func (h *hijackRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := h.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, fmt.Errorf("input log: %T cannot be hijacked", h.ResponseWriter)
	}
	nc, brw, err := hj.Hijack()
	if err != nil {
		return nil, nil, err
	}
	// Bytes the HTTP server had buffered are read first, through brw.
	rc := &recordingConn{Conn: nc, r: brw.Reader, log: h.log, key: h.key}
	return rc, bufio.NewReadWriter(bufio.NewReader(rc), bufio.NewWriter(rc)), nil
}

// recordingConn parses the client's WebSocket frames as the server reads
// them, so only bytes the server took are recorded.
type recordingConn struct {
	net.Conn
	r   io.Reader
	log *inputLog
	key string

	buf  []byte // an incomplete frame
	msg  []byte // the fragments of a message so far
	text bool   // msg is a text message
}

func (c *recordingConn) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if n > 0 {
		c.feed(p[:n])
	}
	return n, err
}

// feed parses the frames in b (RFC 6455 §5.2), client to server, so
// masked; the server does not negotiate permessage-deflate here.
func (c *recordingConn) feed(b []byte) {
	c.buf = append(c.buf, b...)
	for len(c.buf) >= 2 {
		b0, b1 := c.buf[0], c.buf[1]
		n, hdr := uint64(b1&0x7f), 2
		switch n {
		case 126:
			if len(c.buf) < 4 {
				return
			}
			n, hdr = uint64(be.BigEndian.Uint16(c.buf[2:])), 4
		case 127:
			if len(c.buf) < 10 {
				return
			}
			n, hdr = be.BigEndian.Uint64(c.buf[2:]), 10
		}
		if b1&0x80 != 0 {
			hdr += 4
		}
		if len(c.buf) < hdr || uint64(len(c.buf)-hdr) < n {
			return
		}
		payload := bytes.Clone(c.buf[hdr : hdr+int(n)])
		if b1&0x80 != 0 {
			mask := c.buf[hdr-4 : hdr]
			for i := range payload {
				payload[i] ^= mask[i%4]
			}
		}
		c.buf = c.buf[hdr+int(n):]
		if b0&0x70 != 0 {
			c.log.end(c.key, fmt.Errorf("a frame with RSV bits %#x (compressed?)", b0&0x70))
			return
		}
		switch op := b0 & 0x0f; op {
		case 0x8: // close
			c.log.end(c.key, nil)
			return
		case 0x1, 0x2:
			c.msg, c.text = payload, op == 0x1
		case 0x0:
			c.msg = append(c.msg, payload...)
		default: // ping, pong
			continue
		}
		if b0&0x80 != 0 && c.text { // FIN of a text message; binary ones are attachments
			c.log.packet(c.key, string(c.msg))
		}
	}
}
