// Package hostile attacks a Socket.IO server of this module the way a
// hostile client would, one named attack at a time, and checks after each
// that the attacker got the protocol's answer, that a well-behaved client
// connected throughout still echoes and receives broadcasts, and that the
// server's goroutines and heap come back near where they were. cmd/hostile
// runs it from the command line; its test runs it in CI.
package hostile

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	socketio "github.com/switchboard-go/socketio"
	"github.com/switchboard-go/socketio/engineio"
)

// Path is one of the server's WebSocket reader paths.
type Path string

// The reader paths. On Linux the default hands a plain WebSocket to an
// epoll poller and parses its frames with the module's own reader; with
// DisablePoller (or on TLS, or other platforms) a goroutine per
// connection reads it, with the same parser; with PerMessageDeflate on, a
// client that negotiates compression is polled too, and its messages are
// inflated by the parser and compressed by the engine's writers.
const (
	PathPoller    Path = "poller"
	PathGoroutine Path = "goroutine"
	PathDeflate   Path = "deflate"
	// PathFront is the poller path served by the server's own HTTP front
	// (Server.Serve): long-polling requests read and answered without
	// net/http, and WebSocket upgrades read by it and hijacked from it
	// (then polled as on PathPoller). Every attack runs there.
	PathFront Path = "front"
)

// AllPaths lists the paths in the order they are run.
var AllPaths = []Path{PathPoller, PathGoroutine, PathDeflate, PathFront}

// Limits are the server settings the attacks are measured against. The
// in-process server is configured with them; for an external server they
// must be what that server was given.
type Limits struct {
	MaxPayload     int           // engineio.Options.MaxPayload
	WriteTimeout   time.Duration // engineio.Options.WriteTimeout
	PingInterval   time.Duration // long enough that no heartbeat falls inside an attack
	PingTimeout    time.Duration
	ConnectTimeout time.Duration // socketio.Options.ConnectTimeout: ends sessions that never join
}

// DefaultLimits keep every attack short: a small MaxPayload makes bombs
// cheap to build, a 2 s WriteTimeout and ConnectTimeout bound the waits,
// a 3 s PingTimeout bounds how long a closed long-polling session stays
// reachable for its close packet, and a 20 s PingInterval keeps the
// heartbeat out of the write-timeout checks (a connection cut only by the
// next heartbeat must not look cut in time).
var DefaultLimits = Limits{
	MaxPayload:     100_000,
	WriteTimeout:   2 * time.Second,
	PingInterval:   20 * time.Second,
	PingTimeout:    3 * time.Second,
	ConnectTimeout: 2 * time.Second,
}

// Target is the server under attack.
type Target struct {
	Path   Path
	Limits Limits

	base string // http://host/socket.io/
	host string // host:port
	path string // /socket.io/

	// InProcess is true when the server runs in this process, so that
	// its goroutines and heap can be measured.
	InProcess bool
	srv       *socketio.Server
	httpSrv   *http.Server
	ln        net.Listener
	reasons   *reasons
}

// The test server's events. "echo" answers with its arguments (as the
// acknowledgement when one is asked, else as an "echo" event); "broadcast"
// emits its arguments as "bcast" to every socket of "/", the sender
// included (the observer's probe: it waits for its own nonce); "flood"
// emits them as "bcast" to every socket but the sender. The floods use
// "flood": a flooder that got its own messages back would be a slow reader
// of its own making (on the deflate path under the race detector the
// server compresses its copies at only ~350 messages/s, measured) and be
// cut for it, which ends the flood early and is not what the flood
// attacks test.
const (
	evEcho      = "echo"
	evBroadcast = "broadcast"
	evFlood     = "flood"
	evBcast     = "bcast"
)

// reasons counts the disconnect reasons of an in-process server's sockets.
type reasons struct {
	mu sync.Mutex
	n  map[string]int
}

func (r *reasons) add(reason string) {
	r.mu.Lock()
	r.n[reason]++
	r.mu.Unlock()
}

// take returns the counts since the last call, as "reason×n, ...".
func (r *reasons) take() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for k, v := range r.n {
		out = append(out, fmt.Sprintf("%s×%d", k, v))
	}
	clear(r.n)
	sort.Strings(out)
	return strings.Join(out, ", ")
}

// NewServer returns the Socket.IO server the attacks expect, configured
// for path p with limits l.
func NewServer(p Path, l Limits) *socketio.Server { return newServer(p, l, nil) }

func newServer(p Path, l Limits, r *reasons) *socketio.Server {
	opts := &socketio.Options{
		ConnectTimeout: l.ConnectTimeout,
		Engine: engineio.Options{
			MaxPayload:        l.MaxPayload,
			WriteTimeout:      l.WriteTimeout,
			PingInterval:      l.PingInterval,
			PingTimeout:       l.PingTimeout,
			DisablePoller:     p == PathGoroutine,
			PerMessageDeflate: p == PathDeflate,
		},
		// Every attack makes the server log; the results say what matters.
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	srv := socketio.NewServer(opts)
	srv.OnConnection(func(s *socketio.Socket) {
		if r != nil {
			s.OnDisconnect(func(reason socketio.Reason) { r.add(string(reason)) })
		}
		s.On(evEcho, func(e *socketio.Event) {
			if e.WantsAck() {
				_ = e.Ack(e.RawArgs()...)
				return
			}
			_ = s.Emit(evEcho, e.RawArgs()...)
		})
		s.On(evBroadcast, func(e *socketio.Event) {
			_ = srv.Emit(evBcast, e.RawArgs()...)
		})
		s.On(evFlood, func(e *socketio.Event) {
			_ = s.Broadcast().Emit(evBcast, e.RawArgs()...)
		})
	})
	return srv
}

// serverSendBuffer is the socket send buffer of the in-process server's
// connections. Loopback lets it grow to 4 MiB, which would hide the
// server's own queue (MaxQueueBytes, 1 MiB) behind the kernel's: a reader
// that falls 4 MiB behind is the kernel's problem before it is the
// server's. 64 KiB (the kernel doubles it) keeps the queue the buffer that
// matters, as over a real network with a slow client.
const serverSendBuffer = 64 << 10

type smallSendBuffers struct{ net.Listener }

func (l smallSendBuffers) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetWriteBuffer(serverSendBuffer)
	}
	return c, err
}

// StartServer starts NewServer(p, l) on a loopback port, served by an
// http.Server without timeouts, as the README's examples run it.
func StartServer(p Path, l Limits) (*Target, error) {
	tcp, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	ln := smallSendBuffers{tcp}
	r := &reasons{n: make(map[string]int)}
	srv := newServer(p, l, r)
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", srv)
	hs := &http.Server{Handler: mux, ErrorLog: nil}
	if p == PathFront {
		go func() { _ = srv.Serve(ln, hs) }()
	} else {
		go func() { _ = hs.Serve(ln) }()
	}
	t := newTarget("http://"+ln.Addr().String()+"/socket.io/", p, l)
	t.InProcess, t.srv, t.httpSrv, t.ln, t.reasons = true, srv, hs, ln, r
	return t, nil
}

// ExternalTarget attacks a server already running at rawURL (its
// Engine.IO endpoint, e.g. http://localhost:3000/socket.io/), which must
// serve the events of NewServer with limits l on reader path p.
func ExternalTarget(rawURL string, p Path, l Limits) (*Target, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, err
	}
	if u.Scheme != "http" {
		return nil, errors.New("hostile: only http:// targets are supported (the attackers write plain TCP)")
	}
	if u.Path == "" {
		u.Path = "/socket.io/"
	}
	return newTarget(u.String(), p, l), nil
}

func newTarget(base string, p Path, l Limits) *Target {
	u, _ := url.Parse(base)
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	return &Target{Path: p, Limits: l, base: u.String(), host: u.Host, path: u.Path}
}

// Close stops an in-process server.
func (t *Target) Close() {
	if !t.InProcess {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = t.srv.Close()
	_ = t.httpSrv.Shutdown(ctx)
	_ = t.httpSrv.Close()
}

// URL is the Socket.IO URL of the main namespace, for sioclient.
func (t *Target) URL() string {
	return "http://" + t.host + "/"
}

func (t *Target) String() string { return fmt.Sprintf("%s (%s)", t.base, t.Path) }
