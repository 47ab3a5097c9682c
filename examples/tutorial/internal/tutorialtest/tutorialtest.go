// Package tutorialtest holds what the steps' tests share: running a step's
// program on a free loopback port and reading its log, HTTP GETs, Go
// clients that record what they receive, a TCP proxy that cuts the
// network between a client and the server, streams of messages while
// clients connect or recover (stream.go), and (browser.go) headless
// Chromium driving the steps' pages with the official client.
package tutorialtest

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-go/socketio/sioclient"
)

// Wait bounds every wait of these tests for something that should happen
// at once: generous, for a loaded machine running the race detector.
const Wait = 20 * time.Second

// RunFunc is the signature of every step's run function.
type RunFunc func(ctx context.Context, addr string, logf func(string, ...any)) error

// Server is one step's program running for a test.
type Server struct {
	URL  string // http://127.0.0.1:port
	Addr string // 127.0.0.1:port
	logs chan string
	stop context.CancelFunc
	done chan error
}

// Start runs a step's program on a free loopback port (or addr, when not
// empty: to restart a server where it was) until the test ends or Stop is
// called. It returns once the program says where it listens.
func Start(t testing.TB, run RunFunc, addr string) *Server {
	t.Helper()
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{logs: make(chan string, 1000), stop: cancel, done: make(chan error, 1)}
	go func() {
		s.done <- run(ctx, addr, func(format string, args ...any) {
			select {
			case s.logs <- fmt.Sprintf(format, args...):
			default: // a test that logs 1000 lines unread has failed anyway
			}
		})
	}()
	t.Cleanup(func() { s.Stop(t) })
	select {
	case line := <-s.logs:
		url, ok := strings.CutPrefix(line, "server running at ")
		if !ok {
			t.Fatalf("first log line %q, want \"server running at …\"", line)
		}
		s.URL = url
		s.Addr = strings.TrimPrefix(url, "http://")
	case err := <-s.done:
		s.done <- err
		t.Fatalf("the program ended before listening: %v", err)
	case <-time.After(Wait):
		t.Fatal("the program did not say where it listens")
	}
	return s
}

// Stop stops the program and waits until it has returned; an error it
// returns fails the test. Calling it twice is harmless.
func (s *Server) Stop(t testing.TB) {
	t.Helper()
	if s.stop == nil {
		return
	}
	s.stop()
	s.stop = nil
	select {
	case err := <-s.done:
		if err != nil {
			t.Errorf("the program returned %v", err)
		}
	case <-time.After(Wait):
		t.Error("the program did not stop")
	}
}

// NextLog returns the program's next log line.
func (s *Server) NextLog(t testing.TB) string {
	t.Helper()
	select {
	case line := <-s.logs:
		return line
	case <-time.After(Wait):
		t.Fatal("no log line")
		return ""
	}
}

// ExpectLog fails unless the program's next log line is want.
func (s *Server) ExpectLog(t testing.TB, want string) {
	t.Helper()
	if got := s.NextLog(t); got != want {
		t.Fatalf("log line %q, want %q", got, want)
	}
}

// Get fetches a URL and returns its status and body.
func Get(t testing.TB, url string) (int, string) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, string(b)
}

// Message is one "chat message" event a client received: all its
// arguments, as JSON decoded them.
type Message []any

// Client is a Go client on the main namespace that records the "chat
// message" events it receives.
type Client struct {
	*sioclient.Socket
	Messages  chan Message
	connected chan bool // Recovered at each connection
	lost      chan string
}

// Connect opens a client and waits until it is connected. opts may be
// nil; reconnection is made quick (a lost connection is retried after
// 100-200 ms) so that tests of recovery do not wait a second.
func Connect(t testing.TB, url string, opts *sioclient.Options) *Client {
	t.Helper()
	c := open(t, url, opts, 100)
	c.WaitConnected(t)
	return c
}

// open starts connecting a client without waiting, with room for buffered
// messages before its receiving blocks.
func open(t testing.TB, url string, opts *sioclient.Options, buffered int) *Client {
	t.Helper()
	if opts == nil {
		opts = &sioclient.Options{}
	}
	if opts.ReconnectionDelay == 0 {
		opts.ReconnectionDelay = 100 * time.Millisecond
		opts.ReconnectionDelayMax = 200 * time.Millisecond
	}
	opts.ForceNew = true
	s, err := sioclient.New(url, opts)
	if err != nil {
		t.Fatal(err)
	}
	c := &Client{Socket: s, Messages: make(chan Message, buffered), connected: make(chan bool, 10), lost: make(chan string, 10)}
	s.On("chat message", func(e *sioclient.Event) { c.Messages <- Message(e.Values()) })
	s.OnConnect(func() { c.connected <- s.Recovered() })
	s.OnDisconnect(func(reason string) { c.lost <- reason })
	// Not an error in itself: while a test restarts the server, the
	// clients' attempts to reconnect fail. A client that never connects
	// fails the test's next wait.
	s.OnConnectError(func(err *sioclient.ConnectError) { t.Logf("connect error: %v", err) })
	t.Cleanup(func() { _ = s.Close() })
	s.Connect()
	return c
}

// WaitConnected waits for the client's next connection and returns whether
// the server recovered its session.
func (c *Client) WaitConnected(t testing.TB) (recovered bool) {
	t.Helper()
	select {
	case r := <-c.connected:
		return r
	case <-time.After(Wait):
		t.Fatal("the client did not connect")
		return false
	}
}

// WaitDisconnected waits until the client has lost its connection and
// returns the reason.
func (c *Client) WaitDisconnected(t testing.TB) string {
	t.Helper()
	select {
	case r := <-c.lost:
		return r
	case <-time.After(Wait):
		t.Fatal("the client did not notice the connection was lost")
		return ""
	}
}

// WaitUpgraded waits until the client's connection has moved from
// long-polling to WebSocket, on both sides. A test that cuts the network
// to see a session recovered cuts after this: a cut in the middle of the
// upgrade leaves the server a polling transport with no poll pending,
// whose loss it notices only when the heartbeat times out (so does the
// reference server), and a client returning before then finds no session
// to recover.
//
// The client switches as soon as it has written its upgrade packet, which
// may still be on its way (in the test's proxy, say) when the network is
// cut. So the wait ends with a round trip written after that packet, on
// the same WebSocket: a CONNECT to a namespace no step serves, which the
// server refuses. Once the refusal is back, the server has read the
// upgrade packet before it.
func (c *Client) WaitUpgraded(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(Wait)
	for c.Socket.Manager().Engine().Transport() != "websocket" {
		if time.Now().After(deadline) {
			t.Fatal("the client did not upgrade to WebSocket")
		}
		time.Sleep(5 * time.Millisecond)
	}
	probe := c.Socket.Manager().Socket("/upgrade-probe", nil)
	refused := make(chan struct{}, 1)
	probe.OnConnectError(func(*sioclient.ConnectError) {
		select {
		case refused <- struct{}{}:
		default: // a handler of an earlier wait
		}
	})
	probe.Connect()
	select {
	case <-refused:
	case <-time.After(time.Until(deadline)):
		t.Fatal("the server did not answer on the upgraded connection")
	}
}

// Next returns the next chat message the client received.
func (c *Client) Next(t testing.TB) Message {
	t.Helper()
	select {
	case m := <-c.Messages:
		return m
	case <-time.After(Wait):
		t.Fatal("no chat message")
		return nil
	}
}

// None fails if the client has received a chat message not yet read. A
// test calls it after something that proves any such message would have
// arrived (a later message from the same server, in order).
func (c *Client) None(t testing.TB) {
	t.Helper()
	select {
	case m := <-c.Messages:
		t.Fatalf("unexpected chat message %v", m)
	default:
	}
}

// Proxy forwards TCP connections from its own loopback address to a
// server's, and can cut them all: what a client sees when the network
// goes away, without the server closing anything.
type Proxy struct {
	URL    string
	ln     net.Listener
	target string

	mu    sync.Mutex
	down  bool
	conns map[net.Conn]bool
	wg    sync.WaitGroup
}

// NewProxy starts a proxy to target (host:port) until the test ends.
func NewProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{URL: "http://" + ln.Addr().String(), ln: ln, target: target, conns: map[net.Conn]bool{}}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.close)
	return p
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.down {
			p.mu.Unlock()
			_ = c.Close() // no network: refused
			continue
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			p.mu.Unlock()
			_ = c.Close()
			continue
		}
		p.conns[c], p.conns[up] = true, true
		p.wg.Add(2)
		p.mu.Unlock()
		go p.pipe(c, up)
		go p.pipe(up, c)
	}
}

func (p *Proxy) pipe(dst, src net.Conn) {
	defer p.wg.Done()
	_, _ = io.Copy(dst, src)
	_ = dst.Close()
	_ = src.Close()
	p.mu.Lock()
	delete(p.conns, dst)
	delete(p.conns, src)
	p.mu.Unlock()
}

// Cut closes every forwarded connection and refuses new ones until Restore.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = true
	for c := range p.conns {
		_ = c.Close()
	}
}

// Restore accepts connections again.
func (p *Proxy) Restore() {
	p.mu.Lock()
	p.down = false
	p.mu.Unlock()
}

func (p *Proxy) close() {
	_ = p.ln.Close()
	p.Cut()
	p.wg.Wait()
}
