// Package socketio is a Socket.IO v4 server (protocol v5 over Engine.IO
// v4): the official JavaScript, Python, Java and Swift clients talk to it
// as to the Node.js reference server.
//
//	srv := socketio.NewServer(nil)
//	srv.OnConnection(func(s *socketio.Socket) {
//		s.On("chat message", func(e *socketio.Event) {
//			var text string
//			_ = e.Decode(0, &text)
//			srv.Emit("chat message", text)
//		})
//	})
//	http.Handle("/socket.io/", srv)
//
// See Socket for the concurrency contract and Options for the limits.
package socketio

import (
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchboard-go/socketio/adapter"
	"github.com/switchboard-go/socketio/engineio"
	"github.com/switchboard-go/socketio/internal/observers"
	"github.com/switchboard-go/socketio/parser"
)

// Options configure a Server. A nil *Options, and every zero field, means
// the default of the Node.js reference server.
type Options struct {
	// Engine configures the Engine.IO layer: path (default "/socket.io/"),
	// transports, heartbeat, payload limit, CORS, AllowRequest, cookie,
	// AllowEIO3. With AllowEIO3 (Node: allowEIO3) Socket.IO v2 clients
	// are served Socket.IO protocol v4 as the reference server serves
	// it: they join "/" on connection without asking; a CONNECT's
	// namespace may carry a query string ("/admin?token=abc"), whose
	// parameters become the socket's auth (Handshake().Auth, string
	// values); CONNECT answers carry no sid; a socket's ID is the session
	// id, after "<namespace>#" outside "/"; a middleware's refusal is sent
	// as its Data, or else its message (the v2 client's "error" event).
	// Connection state recovery is not offered to them (they get no pid).
	Engine engineio.Options

	// ConnectTimeout closes a connection that has joined no namespace
	// after this long; default 45s (Node: connectTimeout).
	ConnectTimeout time.Duration

	// MaxAttachments bounds the binary attachments of one packet; default
	// 10 (Node: the parser's maxAttachments). More closes the connection
	// with "parse error".
	MaxAttachments int

	// Parser is the packet encoding the server's clients use (Node: the
	// parser option of new Server). Default nil: socket.io-parser's, which
	// every official client speaks unless told otherwise. The module
	// msgpackparser provides the encoding of socket.io-msgpack-parser
	// (socketio.Options{Parser: msgpackparser.Parser{}}), for clients
	// created with parser: require("socket.io-msgpack-parser"). All the
	// clients of one server use the same encoding. Packets are still
	// built once per emit and once per broadcast in the default form and
	// converted by the parser once, at the wire, whatever the number of
	// receivers; MaxAttachments bounds the binary values of one packet.
	Parser parser.Codec

	// Adapter makes each namespace's adapter; default
	// adapter.NewInMemory, or adapter.NewInMemoryWithRecovery with
	// ConnectionStateRecovery. A cluster adapter goes here.
	Adapter adapter.Factory

	// ConnectionStateRecovery, when set, lets a client whose connection
	// was lost get its socket back (Node: connectionStateRecovery): see
	// Recovery.
	ConnectionStateRecovery *Recovery

	// CleanupEmptyChildNamespaces removes a namespace created from a
	// dynamic pattern (OfRegexp, OfFunc) when its last socket leaves, and
	// closes its adapter; the next client creates it anew (Node:
	// cleanupEmptyChildNamespaces). Default false: such namespaces stay.
	CleanupEmptyChildNamespaces bool

	// DisableServeClient stops the server from serving the official
	// JavaScript client (the socket.io-client release this module pins)
	// under the engine path: "/socket.io/socket.io.js", socket.io.min.js,
	// socket.io.esm.min.js, socket.io.msgpack.min.js and their source
	// maps, with the reference server's caching headers (ETag, 304) and
	// gzip. Default false: a page needs nothing but
	// <script src="/socket.io/socket.io.js"></script>, offline too (Node:
	// serveClient, default true). As from the reference, the msgpack
	// build (socket.io.msgpack.min.js) talks only to a server whose Parser
	// is msgpackparser's; the other builds, only to one without a Parser.
	DisableServeClient bool

	// Observer, when set, hears what the server does, for metrics: see
	// Observer. It also becomes Engine.Observer unless that is set.
	// Default nil: nothing is reported, at no cost. More observers can
	// be attached later with Server.Observe.
	Observer Observer

	// Logger; default slog.Default().
	Logger *slog.Logger
}

// Recovery configures connection state recovery. A socket whose
// connection is lost for a reason a network can cause ("transport
// close", "transport error", "ping timeout", "forced close", and a
// server closing) leaves a session behind. If its client reconnects
// within MaxDisconnectionDuration, it gets the same socket back: the same
// ID, rooms and Set values, Socket.Recovered true, and the events it
// missed, sent just before the CONNECT packet as the reference server does.
//
// To tell the server what it missed, a client must know where it
// stands: with recovery on, every event emitted without an
// acknowledgement and not volatile carries an offset, a string, as its
// last argument, and the client sends the last one it received when it
// reconnects. The official clients and sioclient do this. Events with an
// acknowledgement and volatile ones are neither logged nor recovered.
//
// The adapter keeps the sessions and the packet log: it must implement
// adapter.SessionAware, as the default in-memory one does when recovery
// is on. The cluster adapters (adapter/cluster, redisadapter) do too,
// per server: each server logs what it delivers to its own sockets, those
// of other servers included, so a client that reconnects to the same
// server (a sticky load balancer, which long-polling needs anyway) gets
// its socket back and the events it missed from any server; one that
// lands on another server gets a new socket (Socket.Recovered false), as
// after an expiry. With an adapter that keeps no sessions, recovery never
// succeeds and the server logs a warning.
type Recovery struct {
	// MaxDisconnectionDuration is how long sessions and packets are kept;
	// default 2 minutes (Node: maxDisconnectionDuration).
	MaxDisconnectionDuration time.Duration
	// RunMiddlewares runs the namespace's middleware for a recovered
	// socket too; default false: a recovered socket skips it (Node:
	// skipMiddlewares, default true).
	RunMiddlewares bool
	// MaxLogBytes bounds the packets the default adapter keeps, by their
	// encoded size; default 16 MiB. See adapter.RecoveryConfig.
	MaxLogBytes int
}

// Server is a Socket.IO server and an http.Handler: mount it at the
// engine path ("/socket.io/" by default) of any mux. Its methods are safe
// for concurrent use. The methods it shares with Namespace act on the main
// namespace "/".
type Server struct {
	engine         *engineio.Server
	adapterFactory adapter.Factory
	connectTimeout time.Duration
	maxAttachments int
	codec          parser.Codec // Options.Parser; nil: the parser package's text encoding
	recovery       *Recovery    // nil: off
	cleanupEmpty   bool
	clientPath     string // the engine path when serving the client, else ""
	logger         *slog.Logger
	observers      observers.Set[Observer] // Options.Observer and those attached by Observe

	mu      sync.RWMutex
	nsps    map[string]*Namespace
	parents []*ParentNamespace
	root    *Namespace
	onNew   []func(*Namespace) // OnNewNamespace; copied on write
}

// NewServer returns a server with the main namespace "/" ready.
func NewServer(opts *Options) *Server {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = 45 * time.Second
	}
	if o.MaxAttachments <= 0 {
		o.MaxAttachments = parser.DefaultMaxAttachments
	}
	var recovery *Recovery
	if o.ConnectionStateRecovery != nil {
		r := *o.ConnectionStateRecovery
		if r.MaxDisconnectionDuration <= 0 {
			r.MaxDisconnectionDuration = 2 * time.Minute
		}
		recovery = &r
	}
	if o.Adapter == nil {
		o.Adapter = adapter.NewInMemory
		if recovery != nil {
			o.Adapter = adapter.NewInMemoryWithRecovery(adapter.RecoveryConfig{
				MaxDisconnectionDuration: recovery.MaxDisconnectionDuration,
				MaxLogBytes:              recovery.MaxLogBytes,
			})
		}
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Engine.Logger == nil {
		o.Engine.Logger = o.Logger
	}
	if o.Engine.Observer == nil && o.Observer != nil {
		o.Engine.Observer = o.Observer
	}
	s := &Server{
		adapterFactory: o.Adapter,
		connectTimeout: o.ConnectTimeout,
		maxAttachments: o.MaxAttachments,
		codec:          o.Parser,
		recovery:       recovery,
		cleanupEmpty:   o.CleanupEmptyChildNamespaces,
		logger:         o.Logger,
		nsps:           make(map[string]*Namespace),
	}
	s.observers.Init(o.Observer, newFanOut)
	s.engine = engineio.NewServer(&o.Engine, func(c *engineio.Conn) engineio.Handler {
		return newClient(s, c)
	})
	if !o.DisableServeClient {
		s.clientPath = s.engine.Options().Path
	}
	s.root = s.Of("/")
	return s
}

// ServeHTTP serves the Engine.IO endpoint, and the official JavaScript
// client beside it (see Options.DisableServeClient).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.clientPath != "" && serveClient(w, r, s.clientPath, s.engine) {
		return
	}
	s.engine.ServeHTTP(w, r)
}

// Serve accepts connections on ln and serves HTTP on them as hs.Serve(ln)
// would, except that the requests long-polling clients make are read and
// answered by the server itself, on the poller, rather than by net/http:
// an idle polling client then holds no goroutine and no buffer (about a
// fifth of the memory). WebSocket upgrades are read by it too and
// hijacked from it, without net/http's buffers. Everything else (the rest
// of hs.Handler's paths, the JavaScript client, unusual requests) is
// passed to hs with its connection. A nil hs serves s alone; hs.Handler is
// usually a mux with s mounted at its path. See engineio.Server.Serve for
// the details.
//
//	mux := http.NewServeMux()
//	mux.Handle("/socket.io/", io)
//	mux.Handle("/", http.FileServer(http.Dir("public")))
//	ln, _ := net.Listen("tcp", ":3000")
//	log.Fatal(io.Serve(ln, &http.Server{Handler: mux}))
func (s *Server) Serve(ln net.Listener, hs *http.Server) error {
	if hs == nil {
		hs = &http.Server{Handler: s}
	}
	return s.engine.Serve(ln, hs)
}

// ServeTLS is Serve over TLS, as hs.ServeTLS(ln, certFile, keyFile) would
// serve it (ln a plain TCP listener; hs.TLSConfig, or the files, give the
// certificate). It offers HTTP/1.1 unless hs.TLSConfig lists other
// protocols, and sets hs.Handler and hs.ConnContext to wrappers that give
// the requests net/http serves their r.TLS. See engineio.Server.ServeTLS.
func (s *Server) ServeTLS(ln net.Listener, hs *http.Server, certFile, keyFile string) error {
	if hs == nil {
		hs = &http.Server{Handler: s}
	}
	return s.engine.ServeTLS(ln, hs, certFile, keyFile)
}

// Engine returns the underlying Engine.IO server.
func (s *Server) Engine() *engineio.Server { return s.engine }

// Of returns the namespace name, creating it if needed ("" and "/" are the
// main namespace; a missing leading slash is added, as in Node).
func (s *Server) Of(name string) *Namespace {
	if name == "" || name[0] != '/' {
		name = "/" + name
	}
	s.mu.Lock()
	if ns, ok := s.nsps[name]; ok {
		s.mu.Unlock()
		return ns
	}
	ns := newNamespace(s, name, nil)
	s.nsps[name] = ns
	hooks := s.onNew
	s.mu.Unlock()
	s.created(ns, hooks)
	return ns
}

// OnNewNamespace registers fn, called with every namespace created from
// then on but the main one: by Of, or for a client of a dynamic pattern
// (Node: the "new_namespace" event). It runs on the goroutine that
// created the namespace: for a dynamic one, the connecting client's,
// before its middleware.
func (s *Server) OnNewNamespace(fn func(*Namespace)) {
	s.mu.Lock()
	s.onNew = append(s.onNew[:len(s.onNew):len(s.onNew)], fn)
	s.mu.Unlock()
}

// created runs the OnNewNamespace hooks for ns.
func (s *Server) created(ns *Namespace, hooks []func(*Namespace)) {
	if ns.name == "/" {
		return
	}
	for _, fn := range hooks {
		ns.safely("", func() { fn(ns) })
	}
}

// dropChild removes ns, a child of a dynamic pattern, if it is still
// empty (CleanupEmptyChildNamespaces). A client connecting to it
// meanwhile finds it dropped when it registers and starts over on a new
// one (client.connect).
func (s *Server) dropChild(ns *Namespace) {
	s.mu.Lock()
	ns.mu.Lock()
	if len(ns.sockets) > 0 || ns.dropped {
		ns.mu.Unlock()
		s.mu.Unlock()
		return
	}
	ns.dropped = true
	ns.mu.Unlock()
	if s.nsps[ns.name] == ns {
		delete(s.nsps, ns.name)
	}
	s.mu.Unlock()
	p := ns.parent
	p.mu.Lock()
	if p.children[ns.name] == ns {
		delete(p.children, ns.name)
	}
	p.mu.Unlock()
	_ = ns.adapter.Close()
}

// OfRegexp returns a dynamic namespace: a client connecting to any name
// that re matches gets a namespace created on demand, with the parent's
// middleware and connection handlers.
func (s *Server) OfRegexp(re *regexp.Regexp) *ParentNamespace {
	return s.OfFunc(func(name string, _ json.RawMessage) bool { return re.MatchString(name) })
}

// OfFunc returns a dynamic namespace decided by match, called with the
// requested name and the client's auth payload.
func (s *Server) OfFunc(match func(name string, auth json.RawMessage) bool) *ParentNamespace {
	p := &ParentNamespace{srv: s, match: match, children: make(map[string]*Namespace)}
	s.mu.Lock()
	s.parents = append(s.parents, p)
	s.mu.Unlock()
	return p
}

// namespaceFor finds or, through a dynamic parent, creates the namespace
// a client asks for; nil means "Invalid namespace".
func (s *Server) namespaceFor(name string, auth json.RawMessage) *Namespace {
	s.mu.RLock()
	ns := s.nsps[name]
	parents := s.parents
	s.mu.RUnlock()
	if ns != nil {
		return ns
	}
	for _, p := range parents {
		if !p.match(name, auth) {
			continue
		}
		var hooks []func(*Namespace)
		s.mu.Lock()
		if ns = s.nsps[name]; ns == nil {
			ns = newNamespace(s, name, p)
			s.nsps[name] = ns
			p.mu.Lock()
			p.children[name] = ns
			p.mu.Unlock()
			hooks = s.onNew
		}
		s.mu.Unlock()
		s.created(ns, hooks)
		return ns
	}
	return nil
}

// Use adds middleware to the main namespace.
func (s *Server) Use(m Middleware) { s.root.Use(m) }

// OnConnection registers a connection handler on the main namespace.
func (s *Server) OnConnection(fn func(*Socket)) { s.root.OnConnection(fn) }

// Emit sends event to every socket of the main namespace.
func (s *Server) Emit(event string, args ...any) error { return s.root.Emit(event, args...) }

// Send emits the "message" event to every socket of the main namespace
// (Node: io.send).
func (s *Server) Send(args ...any) error { return s.root.Send(args...) }

// EmitWithAck broadcasts on the main namespace and collects answers.
func (s *Server) EmitWithAck(ctx context.Context, event string, args ...any) ([]Args, error) {
	return s.root.EmitWithAck(ctx, event, args...)
}

// To selects rooms of the main namespace.
func (s *Server) To(rooms ...string) BroadcastOperator { return s.root.To(rooms...) }

// In is To.
func (s *Server) In(rooms ...string) BroadcastOperator { return s.root.To(rooms...) }

// Except excludes rooms of the main namespace.
func (s *Server) Except(rooms ...string) BroadcastOperator { return s.root.Except(rooms...) }

// Volatile returns a volatile broadcast on the main namespace.
func (s *Server) Volatile() BroadcastOperator { return s.root.Volatile() }

// Local returns a local-only broadcast on the main namespace.
func (s *Server) Local() BroadcastOperator { return s.root.Local() }

// Compress returns a broadcast with the compression hint set.
func (s *Server) Compress(c bool) BroadcastOperator { return s.root.Compress(c) }

// Timeout returns a broadcast on the main namespace whose EmitWithAck
// gives up after d.
func (s *Server) Timeout(d time.Duration) BroadcastOperator { return s.root.Timeout(d) }

// FetchSockets returns handles on the sockets of the main namespace.
func (s *Server) FetchSockets(ctx context.Context) ([]*RemoteSocket, error) {
	return s.root.FetchSockets(ctx)
}

// SocketsJoin makes every socket of the main namespace join rooms.
func (s *Server) SocketsJoin(rooms ...string) error { return s.root.SocketsJoin(rooms...) }

// SocketsLeave makes every socket of the main namespace leave rooms.
func (s *Server) SocketsLeave(rooms ...string) error { return s.root.SocketsLeave(rooms...) }

// DisconnectSockets disconnects every socket of the main namespace.
func (s *Server) DisconnectSockets(close bool) error { return s.root.DisconnectSockets(close) }

// ServerSideEmit sends an event to the other servers of the cluster.
func (s *Server) ServerSideEmit(ctx context.Context, event string, args ...any) error {
	return s.root.ServerSideEmit(ctx, event, args...)
}

// Shutdown stops the server gracefully: every socket disconnects with
// "server shutting down", what is queued is flushed, and each connection
// is closed with a close packet; clients see a transport close and
// reconnect (to this server's successor), as with the reference server's
// close(). It waits for the connections to finish or ctx to end.
func (s *Server) Shutdown(ctx context.Context) error {
	s.disconnectLocal()
	err := s.engine.Shutdown(ctx)
	s.closeAdapters()
	return err
}

// Close stops the server at once: connections are closed without flushing.
func (s *Server) Close() error {
	s.disconnectLocal()
	err := s.engine.Close()
	s.closeAdapters()
	return err
}

// Namespaces returns the server's namespaces, sorted by name: the main
// one, those made by Of, and the children of dynamic namespaces that
// exist now (Node: io._nsps). With OnNewNamespace, it lets a tool such as
// the admin UI's instrumentation find every namespace, those created
// before it started included.
func (s *Server) Namespaces() []*Namespace {
	out := s.namespaces()
	slices.SortFunc(out, func(a, b *Namespace) int { return strings.Compare(a.name, b.name) })
	return out
}

func (s *Server) namespaces() []*Namespace {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]*Namespace, 0, len(s.nsps))
	for _, ns := range s.nsps {
		out = append(out, ns)
	}
	return out
}

func (s *Server) disconnectLocal() {
	for _, ns := range s.namespaces() {
		for _, sock := range ns.Sockets() {
			sock.onClose(ReasonServerShuttingDown)
		}
	}
}

func (s *Server) closeAdapters() {
	for _, ns := range s.namespaces() {
		_ = ns.adapter.Close()
	}
}

// ParentNamespace is a dynamic namespace pattern (Server.OfRegexp,
// Server.OfFunc): its middleware and handlers apply to every namespace
// created from it, and its broadcasts reach all of them.
type ParentNamespace struct {
	srv   *Server
	match func(string, json.RawMessage) bool

	mu          sync.RWMutex
	children    map[string]*Namespace
	middlewares []Middleware
	onConn      []func(*Socket)

	limits atomic.Pointer[RateLimits] // SetRateLimits
}

// Use adds middleware run for every child namespace, before the child's own.
func (p *ParentNamespace) Use(m Middleware) {
	p.mu.Lock()
	p.middlewares = append(p.middlewares, m)
	p.mu.Unlock()
}

// OnConnection registers fn for connections to every child namespace;
// Socket.Namespace tells which.
func (p *ParentNamespace) OnConnection(fn func(*Socket)) {
	p.mu.Lock()
	p.onConn = append(p.onConn, fn)
	p.mu.Unlock()
}

// Children returns the namespaces created so far.
func (p *ParentNamespace) Children() []*Namespace {
	p.mu.RLock()
	defer p.mu.RUnlock()
	out := make([]*Namespace, 0, len(p.children))
	for _, ns := range p.children {
		out = append(out, ns)
	}
	return out
}

func (p *ParentNamespace) broadcast() BroadcastOperator {
	return BroadcastOperator{nss: p.Children}
}

// Emit sends event to every socket of every child namespace.
func (p *ParentNamespace) Emit(event string, args ...any) error {
	return p.broadcast().Emit(event, args...)
}

// To selects rooms across the child namespaces.
func (p *ParentNamespace) To(rooms ...string) BroadcastOperator { return p.broadcast().To(rooms...) }

// Except excludes rooms across the child namespaces.
func (p *ParentNamespace) Except(rooms ...string) BroadcastOperator {
	return p.broadcast().Except(rooms...)
}
