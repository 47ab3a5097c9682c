package engineio

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/switchboard-go/socketio/internal/observers"
)

// Handler receives the events of one connection. The Socket.IO layer
// implements it; the engine calls it, never the other way round.
//
// OnMessage calls for one connection are serialized (never concurrent) and
// in arrival order; data is owned by the callee. OnClose is called exactly
// once, after the last OnMessage, from a goroutine of its own.
type Handler interface {
	OnMessage(c *Conn, data []byte, binary bool)
	OnClose(c *Conn, reason string)
}

// Server is an Engine.IO v4 server (and v3, with Options.AllowEIO3). It is
// an http.Handler; mount it at Options.Path. Its methods are safe for
// concurrent use.
type Server struct {
	cfg       *config
	upgrader  websocket.Upgrader
	onConnect func(*Conn) Handler

	mu       sync.RWMutex
	sessions map[string]*Conn
	// draining holds sessions closed with a flush whose WebSocket still
	// writes what was queued: no longer reachable by id, but Close and an
	// expired Shutdown must still be able to cut them off (a client that
	// stopped reading would otherwise hold them for WriteTimeout).
	draining map[*Conn]struct{}
	closed   bool

	// wg tracks every goroutine the server starts (WebSocket readers,
	// writers, dispatchers and flushers, close notifications) and every
	// connection parked in the poller, so Close/Shutdown can wait for them.
	wg tracker

	flushers    flushers    // write connections made ready by broadcasts
	tlsFlushers tlsFlushers // the same for the front's TLS WebSockets (wstls.go)
	dispatchers dispatchers // run the inbound packets of polled connections

	stats counters
	open  atomic.Int64 // sessions started and not yet closed
	// pollingOpen: the sessions of open that are on long-polling (not
	// upgraded).
	pollingOpen atomic.Int64

	congestion congestion // receivers behind, and the senders that wait for them
	heartbeats heartbeats // every session's next heartbeat deadline (heartbeat.go)

	observers observers.Set[Observer] // Options.Observer and those attached by Observe
}

type counters struct {
	handshakes, queueOverflows, writeTimeouts, volatileDropped atomic.Uint64
}

// Stats are counters of a server's life, for metrics and logs.
type Stats struct {
	Connections     int    // open now
	Polling         int    // of Connections, those on long-polling now (not, or not yet, upgraded)
	Handshakes      uint64 // connections accepted since start
	QueueOverflows  uint64 // clients disconnected with ReasonQueueOverflow
	WriteTimeouts   uint64 // clients disconnected with ReasonWriteTimeout
	VolatileDropped uint64 // volatile messages dropped for clients that were behind
}

// volatileDropped counts a volatile message dropped.
func (s *Server) volatileDropped() {
	s.stats.volatileDropped.Add(1)
	if o := s.observer(); o != nil {
		o.VolatileDropped()
	}
}

// Stats returns the server's counters.
func (s *Server) Stats() Stats {
	return Stats{
		Connections:     s.Count(),
		Polling:         int(s.pollingOpen.Load()),
		Handshakes:      s.stats.handshakes.Load(),
		QueueOverflows:  s.stats.queueOverflows.Load(),
		WriteTimeouts:   s.stats.writeTimeouts.Load(),
		VolatileDropped: s.stats.volatileDropped.Load(),
	}
}

// NewServer returns a server that calls onConnect for every new connection,
// before the client receives the open packet; the returned Handler gets
// that connection's messages.
func NewServer(opts *Options, onConnect func(*Conn) Handler) *Server {
	cfg := newConfig(opts)
	s := &Server{
		cfg:       cfg,
		onConnect: onConnect,
		sessions:  make(map[string]*Conn),
		draining:  make(map[*Conn]struct{}),
	}
	s.congestion.bound = cfg.WriteTimeout / 2
	s.observers.Init(cfg.Observer, newFanOut)
	s.flushers.wg = &s.wg
	s.tlsFlushers.srv = s
	s.dispatchers.wg = &s.wg
	s.upgrader = websocket.Upgrader{
		HandshakeTimeout:  cfg.UpgradeTimeout,
		EnableCompression: cfg.PerMessageDeflate,
		// Buffers: gorilla never reads a frame (the engine's parser does,
		// websocket.go), so its read buffer is the smallest it takes
		// rather than net/http's 4 KiB one. It writes no message either
		// (the engine frames and compresses them itself, wswrite.go and
		// wsdeflate.go): with a pool it takes a write buffer only for a
		// write, so it neither allocates one nor adopts net/http's.
		ReadBufferSize:  1,
		WriteBufferPool: &writeBufferPool,
		CheckOrigin:     cfg.originAllowed,
		Error:           s.refuseUpgrade,
	}
	return s
}

var writeBufferPool sync.Pool

// Options returns the effective options (defaults filled in).
func (s *Server) Options() Options { return s.cfg.Options }

// Count returns the number of open connections.
//
// A session closed gracefully on long-polling stays reachable until the
// client's next poll collects the close packet, but no longer counts.
func (s *Server) Count() int { return int(s.open.Load()) }

// ServeHTTP answers Engine.IO requests: handshakes, polls, posts and
// WebSocket upgrades.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	cfg := s.cfg
	if p := r.URL.Path; p != cfg.Path && p != strings.TrimSuffix(cfg.Path, "/") {
		http.NotFound(w, r)
		return
	}
	if r.ContentLength != 0 {
		// A request body, read here or discarded by net/http after an
		// answer that did not read it, comes within PostTimeout: a client
		// that stops sending holds the connection no longer.
		_ = http.NewResponseController(w).SetReadDeadline(timeNow().Add(cfg.PostTimeout))
	}
	if cfg.Headers != nil {
		cfg.Headers(w.Header(), r)
	}
	if cfg.applyCORS(w, r) {
		return
	}
	q := readQuery(r.URL.RawQuery)
	eio3 := q.eio != "4"
	if eio3 && !cfg.AllowEIO3 {
		s.refuse(w, r, CodeUnsupportedProtocol, "")
		return
	}
	transport := q.transport
	if !(transport == TransportPolling && cfg.polling) && !(transport == TransportWebSocket && cfg.websocket) {
		s.refuse(w, r, CodeUnknownTransport, "")
		return
	}
	isWS := websocket.IsWebSocketUpgrade(r)
	sid := q.sid
	if sid == "" {
		s.handshake(w, r, transport, isWS, eio3, q.b64 != "")
		return
	}
	s.mu.RLock()
	c := s.sessions[sid]
	s.mu.RUnlock()
	if c == nil {
		s.refuse(w, r, CodeUnknownSID, "")
		return
	}
	switch {
	case transport == TransportWebSocket:
		if !isWS || cfg.DisallowUpgrades {
			s.refuse(w, r, CodeBadRequest, "")
			return
		}
		if cfg.AllowRequest != nil {
			if err := cfg.AllowRequest(r); err != nil {
				s.refuse(w, r, CodeForbidden, err.Error())
				return
			}
		}
		c.serveUpgrade(w, r)
	case !c.startedPolling:
		s.refuse(w, r, CodeBadRequest, "")
	case r.Method == http.MethodGet:
		c.servePoll(w, r)
	case r.Method == http.MethodPost:
		c.servePost(w, r)
	default:
		s.refuse(w, r, CodeBadRequest, "")
	}
}

// maxQueryParams is net/url's default bound on a query's parameters
// (GODEBUG urlmaxqueryparams): past it, url.ParseQuery reads none.
const maxQueryParams = 10000

// engineQuery is what a request's query says to the engine.
type engineQuery struct{ eio, transport, sid, b64 string }

// readQuery reads the engine's parameters from a raw query as
// url.ParseQuery would (pairs split at '&', a pair with ';' or a bad
// escape skipped, '+' a space), keeping the last value of a parameter
// given more than once, as the reference server reads its query (a plain
// object built from the parameters in order): "EIO=4&EIO=3" asks for
// version 3 and is refused, "transport=polling&transport=websocket" asks
// for WebSocket. Unlike url.ParseQuery it builds no map: it allocates only
// for an escaped value, and a long-polling client sends a query with every
// request.
func readQuery(raw string) engineQuery {
	var q engineQuery
	if strings.Count(raw, "&") >= maxQueryParams {
		return q // url.ParseQuery reads none of them
	}
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		if pair == "" || strings.Contains(pair, ";") {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		k, err := url.QueryUnescape(k)
		if err != nil {
			continue
		}
		var dst *string
		switch k {
		case "EIO":
			dst = &q.eio
		case "transport":
			dst = &q.transport
		case "sid":
			dst = &q.sid
		case "b64":
			dst = &q.b64
		default:
			continue
		}
		if v, err = url.QueryUnescape(v); err == nil {
			*dst = v
		}
	}
	return q
}

func (s *Server) handshake(w http.ResponseWriter, r *http.Request, transport string, isWS, eio3, b64 bool) {
	cfg := s.cfg
	if r.Method != http.MethodGet {
		s.refuse(w, r, CodeBadHandshakeMethod, "")
		return
	}
	if transport == TransportWebSocket && !isWS {
		s.refuse(w, r, CodeBadRequest, "")
		return
	}
	if cfg.AllowRequest != nil {
		if err := cfg.AllowRequest(r); err != nil {
			s.refuse(w, r, CodeForbidden, err.Error())
			return
		}
	}
	if requestBytes(r) > maxKeptRequestBytes {
		// The session would keep these for its whole life (see
		// Conn.Request); a Node.js server refuses them the same way,
		// before the request reaches engine.io.
		s.cfg.Logger.Debug("engineio: handshake refused, request line and headers too large", "limit", maxKeptRequestBytes)
		http.Error(w, "request header fields too large", http.StatusRequestHeaderFieldsTooLarge)
		return
	}
	s.mu.RLock()
	closed := s.closed
	s.mu.RUnlock()
	if closed {
		// A server shutting down takes no new sessions.
		http.Error(w, "server closed", http.StatusServiceUnavailable)
		return
	}
	c := newConn(s, newSID(), r, transport)
	if eio3 {
		c.eio3, c.b64 = true, b64
	}
	s.stats.handshakes.Add(1)

	h := w.Header()
	if cfg.InitialHeaders != nil {
		cfg.InitialHeaders(h, r)
	}
	if cfg.Cookie != nil {
		ck := *cfg.Cookie
		ck.Value = c.id
		if ck.Path == "" {
			ck.Path = "/"
		}
		http.SetCookie(w, &ck)
	}
	if transport == TransportWebSocket {
		ws, err := s.upgrade(w, r, h)
		if err != nil {
			return // the upgrader has answered the request
		}
		c.sendOpen()
		if !c.start() {
			_ = ws.Close()
			return
		}
		c.opened()
		c.serveWebSocket(ws, r, false)
		return
	}
	c.sendOpen()
	if !c.start() {
		http.Error(w, "server closed", http.StatusServiceUnavailable)
		return
	}
	c.opened()
	c.servePoll(w, r)
}

// upgrade completes a WebSocket handshake. gorilla needs an http.Hijacker;
// a wrapper around net/http's ResponseWriter (logging middleware) that
// hides it but offers Unwrap, as http.ResponseController expects, is
// unwrapped.
func (s *Server) upgrade(w http.ResponseWriter, r *http.Request, h http.Header) (*websocket.Conn, error) {
	if _, ok := w.(http.Hijacker); !ok {
		w = controlledWriter{w}
	}
	return s.upgrader.Upgrade(w, r, h)
}

// controlledWriter hijacks through http.ResponseController, which follows
// Unwrap to a writer that can.
type controlledWriter struct{ http.ResponseWriter }

func (c controlledWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, rw, err := http.NewResponseController(c.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, fmt.Errorf("engineio: cannot take over the connection for WebSocket: the http.ResponseWriter (%T) implements neither http.Hijacker nor Unwrap() http.ResponseWriter leading to one (%w)", c.ResponseWriter, err)
	}
	return conn, rw, nil
}

// refuseUpgrade answers a WebSocket handshake gorilla refused (a bad
// handshake, an origin not allowed, a ResponseWriter that cannot be
// hijacked), passing its reason on: to the log and to OnConnectionError,
// and to the client, as the reference server's ws library tells it.
func (s *Server) refuseUpgrade(w http.ResponseWriter, r *http.Request, status int, reason error) {
	msg := reason.Error()
	if status >= 500 {
		// The server cannot do WebSocket as deployed: worth more than
		// a debug line.
		s.cfg.Logger.Error("engineio: WebSocket upgrade failed", "err", msg)
	} else {
		s.cfg.Logger.Debug("engineio: WebSocket upgrade refused", "status", status, "err", msg)
	}
	if status < 500 {
		status = http.StatusBadRequest // an origin refused included, as before
	}
	s.refuseStatus(w, r, status, CodeBadRequest, msg)
}

// handlerFor is called once per connection; isolated so the zero Handler
// case (no onConnect) still drains and closes cleanly.
func (s *Server) handlerFor(c *Conn) Handler {
	if s.onConnect == nil {
		return nopHandler{}
	}
	if h := s.onConnect(c); h != nil {
		return h
	}
	return nopHandler{}
}

// OpenHandler is implemented by a Handler that acts as soon as its
// connection is open, before any message from the client is handled: the
// Socket.IO layer joins a v3 client to the main namespace this way, since
// a Socket.IO v2 client does not ask to. OnOpen runs once, on the
// handshake request's goroutine, serialized with OnMessage like it.
type OpenHandler interface {
	OnOpen(c *Conn)
}

type nopHandler struct{}

func (nopHandler) OnMessage(*Conn, []byte, bool) {}
func (nopHandler) OnClose(*Conn, string)         {}

// setDraining adds c to the draining set or takes it out; see draining.
func (s *Server) setDraining(c *Conn, on bool) {
	s.mu.Lock()
	if on {
		s.draining[c] = struct{}{}
	} else {
		delete(s.draining, c)
	}
	s.mu.Unlock()
}

func (s *Server) remove(c *Conn) {
	s.mu.Lock()
	if s.sessions[c.id] == c {
		delete(s.sessions, c.id)
	}
	s.mu.Unlock()
}

// Close closes every connection at once (reason "forced server close") and
// refuses new ones. It waits for the goroutines the server started.
// Idempotent.
func (s *Server) Close() error {
	s.closeAll(false)
	s.dispatchers.stop()
	s.wg.Wait()
	return nil
}

// Shutdown refuses new connections, closes every connection after flushing
// what is queued for it, and waits for them to finish or ctx to end; then
// it closes whatever is left at once.
func (s *Server) Shutdown(ctx context.Context) error {
	s.closeAll(true)
	s.dispatchers.stop()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		s.closeAll(false)
		<-done
		return ctx.Err()
	}
}

func (s *Server) closeAll(flush bool) {
	s.mu.Lock()
	s.closed = true
	conns := make([]*Conn, 0, len(s.sessions)+len(s.draining))
	for _, c := range s.sessions {
		conns = append(conns, c)
	}
	for c := range s.draining {
		conns = append(conns, c) // closed already: a forced close aborts the flush
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.close(ReasonForcedServerClose, flush)
	}
}

// newSID returns 20 characters of URL-safe base64 from 15 random bytes, the
// shape of the reference server's ids.
func newSID() string {
	var b [15]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

var timeNow = time.Now
