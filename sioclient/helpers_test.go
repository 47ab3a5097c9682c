package sioclient_test

import (
	"fmt"
	"log/slog"
	"net"
	"net/http/httptest"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	socketio "github.com/switchboard-go/socketio"
	"github.com/switchboard-go/socketio/engineio"
	"github.com/switchboard-go/socketio/sioclient"
)

// TestMain fails the run if any client goroutine outlives the tests: every
// test closes what it opened, so nothing of a client may remain.
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		if leaked := waitNoClientGoroutines(5 * time.Second); len(leaked) > 0 {
			fmt.Fprintf(os.Stderr, "goroutine leak: %d client goroutines remain after the tests:\n%s\n", len(leaked), strings.Join(leaked, "\n\n"))
			code = 1
		}
	}
	os.Exit(code)
}

// clientGoroutines returns the stacks of goroutines that belong to a
// client: the engine connection's loops, the manager's dial and executor,
// and HTTP client connections.
func clientGoroutines() []string {
	buf := make([]byte, 4<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "sioclient.") && !strings.Contains(g, "sioclient_test.") ||
			strings.Contains(g, "(*ClientConn)") || strings.Contains(g, "net/http.(*persistConn)") {
			out = append(out, g)
		}
	}
	return out
}

// waitNoClientGoroutines retries until no client goroutine is left or d
// passes: goroutines take a moment to notice a close.
func waitNoClientGoroutines(d time.Duration) []string {
	deadline := time.Now().Add(d)
	for {
		leaked := clientGoroutines()
		if len(leaked) == 0 || time.Now().After(deadline) {
			return leaked
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func quiet() *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// mode is one column of the transport matrix.
type mode struct {
	name       string
	transports []string
	final      string // the transport the connection must end on
}

var modes = []mode{
	{"polling", []string{engineio.TransportPolling}, engineio.TransportPolling},
	{"websocket", []string{engineio.TransportWebSocket}, engineio.TransportWebSocket},
	{"upgrade", nil, engineio.TransportWebSocket},
}

// eachMode runs fn as parallel subtests, one per transport mode.
func eachMode(t *testing.T, fn func(t *testing.T, m mode)) {
	t.Helper()
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			fn(t, m)
		})
	}
}

// options returns client options for m with fast reconnection.
func (m mode) options() *sioclient.Options {
	return &sioclient.Options{
		Transports:           m.transports,
		ReconnectionDelay:    20 * time.Millisecond,
		ReconnectionDelayMax: 100 * time.Millisecond,
		Timeout:              3 * time.Second,
		Logger:               quiet(),
	}
}

// testServer is our Go server on 127.0.0.1, restartable on its address.
type testServer struct {
	URL  string
	Addr string
	Srv  *socketio.Server
	hs   *httptest.Server
	once sync.Once
}

// startServer starts a server on addr ("" picks a free port) with a fast
// heartbeat, calling setup before it serves. It is stopped at the end of
// the test.
func startServer(t *testing.T, addr string, setup func(*socketio.Server)) *testServer {
	t.Helper()
	srv := socketio.NewServer(&socketio.Options{
		Engine: engineio.Options{PingInterval: 200 * time.Millisecond, PingTimeout: time.Second},
		Logger: quiet(),
	})
	if setup != nil {
		setup(srv)
	}
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	var ln net.Listener
	var err error
	for range 50 { // the port of a server just stopped may take a moment
		if ln, err = net.Listen("tcp", addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("listen %s: %v", addr, err)
	}
	hs := httptest.NewUnstartedServer(srv)
	_ = hs.Listener.Close()
	hs.Listener = ln
	hs.Start()
	ts := &testServer{URL: hs.URL, Addr: ln.Addr().String(), Srv: srv, hs: hs}
	t.Cleanup(ts.Stop)
	return ts
}

// Stop stops the server at once, dropping its connections.
func (ts *testServer) Stop() {
	ts.once.Do(func() {
		_ = ts.Srv.Close()
		ts.hs.CloseClientConnections()
		ts.hs.Close()
	})
}

// recv waits for a value on ch, failing the test after 5s.
func recv[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(5 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
		var zero T
		return zero
	}
}

// none checks that nothing arrives on ch for d.
func none[T any](t *testing.T, ch <-chan T, d time.Duration, what string) {
	t.Helper()
	select {
	case v := <-ch:
		t.Fatalf("unexpected %s: %v", what, v)
	case <-time.After(d):
	}
}

// lifecycle records a socket's connect, connect_error and disconnect
// callbacks on channels.
type lifecycle struct {
	connect    chan string // the socket id
	connectErr chan *sioclient.ConnectError
	disconnect chan string
}

func watch(s *sioclient.Socket) *lifecycle {
	l := &lifecycle{
		connect:    make(chan string, 16),
		connectErr: make(chan *sioclient.ConnectError, 16),
		disconnect: make(chan string, 16),
	}
	s.OnConnect(func() { l.connect <- s.ID() })
	s.OnConnectError(func(err *sioclient.ConnectError) { l.connectErr <- err })
	s.OnDisconnect(func(reason string) { l.disconnect <- reason })
	return l
}

// connect makes a socket for url (namespace in its path), registers
// setup's handlers, connects and waits for the connection. The socket's
// manager is closed at the end of the test.
func connect(t *testing.T, url string, opts *sioclient.Options, setup func(*sioclient.Socket)) (*sioclient.Socket, *lifecycle) {
	t.Helper()
	s, err := sioclient.New(url, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Manager().Close() })
	l := watch(s)
	if setup != nil {
		setup(s)
	}
	s.Connect()
	select {
	case <-l.connect:
	case err := <-l.connectErr:
		t.Fatalf("connect %s: %v", url, err)
	case <-time.After(5 * time.Second):
		t.Fatalf("connect %s: timed out", url)
	}
	return s, l
}

// waitTransport waits for the socket's connection to reach transport.
func waitTransport(t *testing.T, s *sioclient.Socket, transport string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		c := s.Manager().Engine()
		if c != nil && c.Transport() == transport {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("connection never reached %s", transport)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// proxy is a TCP proxy that can freeze: while frozen it forwards nothing,
// which to the client looks like a server fallen silent.
type proxy struct {
	ln      net.Listener
	backend string

	mu     sync.Mutex
	frozen bool
	thaw   chan struct{}
	conns  []net.Conn
	wg     sync.WaitGroup
}

func startProxy(t *testing.T, backend string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, backend: backend, thaw: make(chan struct{})}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.close)
	return p
}

func (p *proxy) URL() string { return "http://" + p.ln.Addr().String() }

func (p *proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		b, err := net.Dial("tcp", p.backend)
		if err != nil {
			_ = c.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, c, b)
		p.mu.Unlock()
		p.wg.Add(2)
		go p.pipe(c, b)
		go p.pipe(b, c)
	}
}

func (p *proxy) pipe(dst, src net.Conn) {
	defer p.wg.Done()
	defer dst.Close()
	defer src.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			frozen, thaw := p.frozen, p.thaw
			p.mu.Unlock()
			if frozen {
				<-thaw
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			// EOF or closed: the deferred closes end the other direction
			// too, but not while frozen: a silent network delivers no
			// close either (else the server's own ping timeout would
			// reach the client as a transport close, racing the client's
			// heartbeat that TestSilentServerPingTimeout checks).
			p.mu.Lock()
			frozen, thaw := p.frozen, p.thaw
			p.mu.Unlock()
			if frozen {
				<-thaw
			}
			return
		}
	}
}

func (p *proxy) freeze() {
	p.mu.Lock()
	p.frozen = true
	p.mu.Unlock()
}

func (p *proxy) unfreeze() {
	p.mu.Lock()
	if p.frozen {
		p.frozen = false
		close(p.thaw)
		p.thaw = make(chan struct{})
	}
	p.mu.Unlock()
}

func (p *proxy) close() {
	_ = p.ln.Close()
	p.unfreeze()
	p.mu.Lock()
	for _, c := range p.conns {
		_ = c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}
