package engineio

import (
	"fmt"
	"net"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-go/socketio/internal/netpoll"
)

// The reader paths whose idle connections wait in the poller (wswatch.go):
// TLS, with or without permessage-deflate (on plain TCP a compressed
// connection is the poller's own).
func watchedPaths() []readerPath {
	return []readerPath{{name: "tls", tls: true}, {name: "tls+deflate", tls: true, deflate: true}}
}

// startWatched starts an echo server for rp whose connections are
// watched in every pass of the tests: its options do not go through
// testOptions, which turns the poller off under -nopoller.
func startWatched(t *testing.T, rp readerPath) (*testServer, chan *gorillaWS) {
	t.Helper()
	if !netpoll.Supported {
		t.Skip("no poller on this platform")
	}
	rec := newRecorder(true)
	eng := NewServer(&Options{PingInterval: time.Hour, PerMessageDeflate: rp.deflate}, func(c *Conn) Handler {
		rec.conns <- c
		return rec
	})
	// Parks of this server's connections only: other tests' may still
	// be ending.
	parked := make(chan *gorillaWS, 64)
	hook := func(g *gorillaWS) {
		if g.c.srv == eng {
			parked <- g
		}
	}
	testHookParked.Store(&hook)
	t.Cleanup(func() { testHookParked.Store(nil) })
	hs := httptest.NewUnstartedServer(eng)
	if rp.tls {
		hs.StartTLS()
	} else {
		hs.Start()
	}
	t.Cleanup(func() {
		_ = eng.Close()
		hs.Close()
	})
	return &testServer{Server: hs, eng: eng, rec: rec}, parked
}

// readerGoroutines counts the goroutines reading a WebSocket.
func readerGoroutines() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	return strings.Count(string(buf), "engineio.(*Conn).readLoop(")
}

// splitConn passes the first n bytes of the next write on and keeps the
// rest until release: a message (and under TLS, a record) arrives in two
// parts with the connection parked between them.
type splitConn struct {
	net.Conn
	mu   sync.Mutex
	n    int // bytes of the next write to pass on; -1: all
	rest []byte
}

func (s *splitConn) Write(b []byte) (int, error) {
	s.mu.Lock()
	n := s.n
	s.n = -1
	if n >= 0 && n < len(b) {
		s.rest = append([]byte(nil), b[n:]...)
		b = b[:n]
	}
	s.mu.Unlock()
	if _, err := s.Conn.Write(b); err != nil {
		return 0, err
	}
	return len(b) + len(s.rest), nil
}

func (s *splitConn) split(n int) { s.mu.Lock(); s.n = n; s.mu.Unlock() }

func (s *splitConn) release() error {
	s.mu.Lock()
	rest := s.rest
	s.rest = nil
	s.mu.Unlock()
	_, err := s.Conn.Write(rest)
	return err
}

// An idle TLS WebSocket, compressed or not, holds no reader goroutine: a
// reader runs while the client sends, then the connection is parked; a
// message (and a TLS record; with permessage-deflate, a compressed one)
// split across a park arrives whole; a parked
// connection closed by the server or hung up by the client ends its
// session as it would with a reader waiting on it.
func TestIdleWatchedConnectionHoldsNoReader(t *testing.T) {
	for _, rp := range watchedPaths() {
		t.Run(rp.name, func(t *testing.T) {
			ts, parked := startWatched(t, rp)
			sc := &splitConn{n: -1}
			w := dialPathVia(t, ts, rp, 0, func(nc net.Conn) net.Conn { sc.Conn = nc; return sc })
			c := receive(t, ts.rec.conns, "no session")
			receive(t, parked, "not parked after the handshake")
			// Other connections' readers (an earlier test's, between
			// its last read and its return) may still be ending: wait for
			// none; a reader held while parked never ends.
			deadline := time.Now().Add(5 * time.Second)
			for n := readerGoroutines(); n != 0; n = readerGoroutines() {
				if time.Now().After(deadline) {
					t.Fatalf("%d reader goroutines while parked", n)
				}
				time.Sleep(5 * time.Millisecond)
			}
			echo := func(msg string) {
				t.Helper()
				op, p, err := w.next()
				if err != nil || op != opText || string(p) != msg {
					t.Fatalf("echo: %#x %.40q %v, want %.40q", op, p, err, msg)
				}
			}

			w.send(t, maskedFrame(0x81, []byte("4hi")))
			echo("4hi")
			receive(t, parked, "not parked after a message")

			long := "4" + strings.Repeat("x", 300)
			frame := maskedFrameN(0x81, []byte(long))
			if rp.deflate {
				// Compressed both ways: over the threshold, and not
				// too repetitive for the split to fall inside it.
				var b strings.Builder
				b.WriteString("4")
				for i := 0; b.Len() < 2*compressThreshold; i++ {
					fmt.Fprintf(&b, "%d,", i*i)
				}
				long = b.String()
				frame = maskedFrameN(0xC1, deflateMessage(t, []byte(long)))
			}
			sc.split(20) // inside the frame header's record, or the frame
			w.send(t, frame)
			receive(t, parked, "not parked after the first part")
			if err := sc.release(); err != nil {
				t.Fatal(err)
			}
			echo(long)
			receive(t, parked, "not parked after the second part")

			// Closed by the server while parked: the close frame goes out
			// and the session ends.
			_ = c.Close()
			if code := w.closeCode(t); code != closeNormal {
				t.Fatalf("close %d", code)
			}
			if r := ts.closeReason(t); r != ReasonForcedClose {
				t.Fatalf("reason %q", r)
			}
		})
	}
}

// A client that hangs up on a parked connection ends its session with a
// transport close; the server's Close returns once every connection's
// reads have ended (parked ones included).
func TestParkedConnectionHangUp(t *testing.T) {
	for _, rp := range watchedPaths() {
		t.Run(rp.name, func(t *testing.T) {
			ts, parked := startWatched(t, rp)
			w := dialPath(t, ts, rp, 0)
			receive(t, ts.rec.conns, "no session")
			receive(t, parked, "not parked")
			_ = w.nc.Close()
			if r := ts.closeReason(t); r != ReasonTransportClose {
				t.Fatalf("reason %q", r)
			}

			w2 := dialPath(t, ts, rp, 0)
			receive(t, ts.rec.conns, "no second session")
			receive(t, parked, "second not parked")
			done := make(chan error, 1)
			go func() { done <- ts.eng.Close() }()
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				t.Fatal("Close did not return with a parked connection")
			}
			if r := ts.closeReason(t); r != ReasonForcedServerClose {
				t.Fatalf("reason %q", r)
			}
			// And the client's connection ends.
			for {
				if _, _, err := w2.next(); err != nil {
					if ne, ok := err.(net.Error); ok && ne.Timeout() {
						t.Fatal("the connection did not end")
					}
					break
				}
			}
		})
	}
}
