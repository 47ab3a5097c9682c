// Package socketiotest helps test Socket.IO servers and clients, as
// net/http/httptest helps test HTTP handlers: it runs a Server on a
// loopback port, runs a test once per transport (long-polling, WebSocket,
// long-polling upgraded to WebSocket), connects a Go client and turns its
// callbacks into channel values that a test can wait for with a timeout.
//
//	func TestChat(t *testing.T) {
//		socketiotest.EachTransport(t, func(t *testing.T, tr socketiotest.Transport) {
//			io := socketio.NewServer(nil)
//			io.OnConnection(func(s *socketio.Socket) { ... })
//			srv := socketiotest.Start(t, io, "")
//			c, _ := socketiotest.Connect(t, srv.URL+"/", tr.Options(), nil)
//			...
//		})
//	}
//
// Every helper that takes a testing.TB reports failures through it and
// releases what it started in tb's Cleanup, so a test leaks no goroutine
// even when it fails half-way.
package socketiotest

import (
	"log/slog"
	"net"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	socketio "github.com/switchboard-go/socketio"
	"github.com/switchboard-go/socketio/engineio"
	"github.com/switchboard-go/socketio/sioclient"
)

// Timeout bounds every wait of this package: a connection, a value on a
// channel, a transport upgrade. It is long for a loopback exchange so that
// a loaded CI machine running the race detector does not fail a test that
// is merely slow.
const Timeout = 10 * time.Second

// Server is a Socket.IO server listening on a loopback address.
type Server struct {
	// URL is the server's base URL, "http://127.0.0.1:PORT"; a client
	// appends the namespace ("/", "/chat").
	URL string
	// Addr is the listening address, "127.0.0.1:PORT": Start with it again
	// to bring a stopped server back where its clients reconnect.
	Addr string
	// IO is the Socket.IO server that was started.
	IO *socketio.Server

	hs   *httptest.Server
	once sync.Once
}

// Start serves io on addr, or on a free loopback port when addr is "",
// and stops it when the test ends.
func Start(tb testing.TB, io *socketio.Server, addr string) *Server {
	tb.Helper()
	ln := Listen(tb, addr)
	hs := httptest.NewUnstartedServer(io)
	_ = hs.Listener.Close()
	hs.Listener = ln
	hs.Start()
	s := &Server{URL: hs.URL, Addr: ln.Addr().String(), IO: io, hs: hs}
	tb.Cleanup(s.Close)
	return s
}

// Listen listens on addr, or on a free loopback port when addr is "". The
// address of a server just stopped may be refused for a moment, so Listen
// retries for up to a second before it fails tb.
func Listen(tb testing.TB, addr string) net.Listener {
	tb.Helper()
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	var err error
	for range 50 {
		var ln net.Listener
		if ln, err = net.Listen("tcp", addr); err == nil {
			return ln
		}
		time.Sleep(20 * time.Millisecond)
	}
	tb.Fatalf("socketiotest: listen on %s: %v", addr, err)
	return nil
}

// Close stops the server at once, as a crash would: the Socket.IO server
// closes its connections, then the HTTP server drops whatever is left.
// Clients see "transport close" (or "transport error" for a poll that
// failed) and try to reconnect. Close may be called
// more than once; Start registers it as a cleanup.
func (s *Server) Close() {
	s.once.Do(func() {
		_ = s.IO.Close()
		s.hs.CloseClientConnections()
		s.hs.Close()
	})
}

// Transport is one column of the transport matrix: how a client connects
// and which transport its connection settles on.
type Transport struct {
	// Name is "polling", "websocket" or "upgrade", the subtest's name.
	Name string
	// Transports is the client's Options.Transports.
	Transports []string
	// Final is the transport the connection ends on: the one to wait for
	// (WaitTransport) before testing what happens after an upgrade.
	Final string
}

// The three ways a client connects. Upgrade is what browsers do by
// default; the other two isolate one transport.
var (
	Polling   = Transport{"polling", []string{engineio.TransportPolling}, engineio.TransportPolling}
	WebSocket = Transport{"websocket", []string{engineio.TransportWebSocket}, engineio.TransportWebSocket}
	Upgrade   = Transport{"upgrade", []string{engineio.TransportPolling, engineio.TransportWebSocket}, engineio.TransportWebSocket}
)

// Transports returns the matrix: Polling, WebSocket and Upgrade.
func Transports() []Transport { return []Transport{Polling, WebSocket, Upgrade} }

// EachTransport runs fn as a subtest per transport. The subtests run in
// parallel with each other (each should start its own Server), so a test
// with three transports takes about as long as one.
func EachTransport(t *testing.T, fn func(t *testing.T, tr Transport)) {
	t.Helper()
	for _, tr := range Transports() {
		t.Run(tr.Name, func(t *testing.T) {
			t.Parallel()
			fn(t, tr)
		})
	}
}

// Options returns client options for tr, tuned for tests: reconnection
// after 20-100 ms instead of 1-5 s, connection attempts bounded by
// Timeout, and the client's log (Logger) shown only under go test -v.
func (tr Transport) Options() *sioclient.Options {
	return &sioclient.Options{
		Transports:           tr.Transports,
		ReconnectionDelay:    20 * time.Millisecond,
		ReconnectionDelayMax: 100 * time.Millisecond,
		Timeout:              Timeout,
		Logger:               Logger(),
	}
}

// Logger returns a logger for servers and clients under test: debug
// output on standard error under go test -v, nothing otherwise. Call it
// from a test, after the testing flags are parsed.
func Logger() *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// WaitTransport waits up to Timeout for m's connection to be on transport
// ("websocket" after an upgrade), failing tb otherwise. A socket's manager
// is s.Manager().
func WaitTransport(tb testing.TB, m *sioclient.Manager, transport string) {
	tb.Helper()
	deadline := time.Now().Add(Timeout)
	for {
		if c := m.Engine(); c != nil && c.Transport() == transport {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("socketiotest: the connection did not reach %s in %v", transport, Timeout)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Receive returns the next value on ch, failing tb if none comes within
// Timeout; what names the value in that failure ("the ack", "a
// disconnect").
func Receive[T any](tb testing.TB, ch <-chan T, what string) T {
	tb.Helper()
	timer := time.NewTimer(Timeout)
	defer timer.Stop()
	select {
	case v := <-ch:
		return v
	case <-timer.C:
		tb.Fatalf("socketiotest: timed out after %v waiting for %s", Timeout, what)
		panic("unreachable") // Fatalf does not return
	}
}

// Nothing checks that no value arrives on ch for d, failing tb with the
// value if one does.
func Nothing[T any](tb testing.TB, ch <-chan T, d time.Duration, what string) {
	tb.Helper()
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case v := <-ch:
		tb.Fatalf("socketiotest: unexpected %s: %v", what, v)
	case <-timer.C:
	}
}
