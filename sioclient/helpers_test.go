package sioclient_test

import (
	"fmt"
	"net"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	socketio "github.com/switchboard-go/socketio"
	"github.com/switchboard-go/socketio/engineio"
	"github.com/switchboard-go/socketio/socketiotest"
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

// startServer starts our Go server on addr ("" picks a free loopback
// port) with a fast heartbeat, calling setup before it serves. It is
// stopped at the end of the test.
func startServer(t *testing.T, addr string, setup func(*socketio.Server)) *socketiotest.Server {
	t.Helper()
	srv := socketio.NewServer(&socketio.Options{
		Engine: engineio.Options{PingInterval: 200 * time.Millisecond, PingTimeout: time.Second},
		Logger: socketiotest.Logger(),
	})
	if setup != nil {
		setup(srv)
	}
	return socketiotest.Start(t, srv, addr)
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
