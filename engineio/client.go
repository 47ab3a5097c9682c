package engineio

// The client side of Engine.IO v4. Dial opens a session over long-polling
// or WebSocket and, when both are allowed and the server offers it,
// upgrades from polling to WebSocket in the background (client_websocket.go).
//
// Goroutines, all tracked by ClientConn.wg and ended by terminate:
//   - polling: one GET loop (decode and dispatch inline) and one POST loop
//     (drain the queue, one request at a time, as the server requires);
//   - WebSocket: one reader (decode and dispatch inline) and one writer;
//   - upgrade: one goroutine dialling and probing the WebSocket, which
//     becomes its reader once the upgrade is done.
//
// Lock order: ClientConn.mu before queue.Queue's lock. No lock is held
// while calling the handler.

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/switchboard-go/socketio/internal/queue"
)

// ClientHandler receives the events of one client connection.
//
// OnMessage calls are serialized (never concurrent) and in arrival order;
// data is owned by the callee. OnMessage runs on the goroutine reading the
// transport, so a slow handler stops reading, which pushes back on the
// server through TCP. OnClose is called exactly once, after the last
// OnMessage and after every goroutine of the connection has ended, from a
// goroutine of its own.
type ClientHandler interface {
	OnMessage(c *ClientConn, data []byte, binary bool)
	// OnClose reports why the connection ended: one of the Reason
	// constants ("transport close", "transport error", "ping timeout",
	// "parse error", "forced close" after Close). cause, when not nil, is
	// the underlying error.
	OnClose(c *ClientConn, reason string, cause error)
}

// DialOptions configure Dial. A nil *DialOptions, and every zero field,
// means the default of the Node.js reference client (engine.io-client v6),
// named in each field's comment.
type DialOptions struct {
	// Transports allowed, in order of preference; default {"polling",
	// "websocket"} (Node: transports). The connection opens on the first
	// one; it upgrades from polling to WebSocket when "websocket" is also
	// listed and the server offers it.
	Transports []string

	// DisableUpgrade keeps the connection on its first transport (Node:
	// upgrade, default true).
	DisableUpgrade bool

	// Query is added to the query string of every request, after the
	// query of the URL given to Dial (Node: query).
	Query url.Values

	// Header is sent with every request: the polling requests and the
	// WebSocket handshake (Node: extraHeaders).
	Header http.Header

	// TLSConfig is used for https and wss URLs; default the system roots.
	TLSConfig *tls.Config

	// Jar, when set, stores cookies of the responses and sends them back,
	// which load balancers using sticky sessions need (Node:
	// withCredentials).
	Jar http.CookieJar

	// WriteTimeout bounds one polling POST and one WebSocket write batch;
	// default 10s. A write that does not finish in time closes the
	// connection with "transport error". Node has no such bound.
	WriteTimeout time.Duration

	// UpgradeTimeout bounds the upgrade: dialling the WebSocket, the probe
	// and pausing polling; default 10s. When it passes, the WebSocket is
	// dropped and the connection stays on polling.
	UpgradeTimeout time.Duration

	// MaxPayload is the largest WebSocket message or polling response
	// body accepted from the server, in bytes; default 64 MiB. A larger
	// one closes the connection with "transport error". Node has no such
	// bound.
	MaxPayload int

	// MaxQueueBytes bounds the outbound queue, which holds what was sent
	// but not yet written (while a POST is in flight, during an upgrade);
	// default 1 MiB. Send fails with ErrQueueOverflow when it is full;
	// volatile messages are dropped once a quarter of it is used. Node has
	// no such bound.
	MaxQueueBytes int

	// Logger receives debug messages (failed upgrades and the like);
	// default slog.Default().
	Logger *slog.Logger
}

type clientConfig struct {
	DialOptions
	polling, websocket bool
}

func newClientConfig(o *DialOptions) (clientConfig, error) {
	var c clientConfig
	if o != nil {
		c.DialOptions = *o
	}
	if len(c.Transports) == 0 {
		c.Transports = []string{TransportPolling, TransportWebSocket}
	}
	for _, t := range c.Transports {
		switch t {
		case TransportPolling:
			c.polling = true
		case TransportWebSocket:
			c.websocket = true
		default:
			return c, fmt.Errorf("engineio: unknown transport %q", t)
		}
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = 10 * time.Second
	}
	if c.UpgradeTimeout <= 0 {
		c.UpgradeTimeout = 10 * time.Second
	}
	if c.MaxPayload <= 0 {
		c.MaxPayload = 64 << 20
	}
	if c.MaxQueueBytes <= 0 {
		c.MaxQueueBytes = 1 << 20
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c, nil
}

// StatusError is returned when the server answers a request with an HTTP
// error status, for instance 403 from an AllowRequest hook, or 400
// "Session ID unknown" for a session the server no longer knows.
type StatusError struct {
	StatusCode int    // the HTTP status
	Code       int    // the Engine.IO error code of the JSON body; -1 when absent
	Message    string // the message of the JSON body, else the body's text
}

func (e *StatusError) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("engineio: server answered %d %s", e.StatusCode, http.StatusText(e.StatusCode))
	}
	return fmt.Sprintf("engineio: server answered %d %s: %s", e.StatusCode, http.StatusText(e.StatusCode), e.Message)
}

// newStatusError reads the body of an error response: the reference server
// sends {"code": N, "message": "..."}, other servers plain text.
func newStatusError(resp *http.Response) *StatusError {
	e := &StatusError{StatusCode: resp.StatusCode, Code: -1}
	if resp.Body == nil {
		return e
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	var m struct {
		Code    *int   `json:"code"`
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &m) == nil && m.Code != nil {
		e.Code, e.Message = *m.Code, m.Message
	} else {
		e.Message = strings.TrimSpace(string(body))
	}
	return e
}

// ClientConn is the client side of one Engine.IO session. Like the
// server's Conn, it outlives its transports: the outbound queue belongs to
// the session, so messages sent during an upgrade go out on the WebSocket.
//
// Send, SendMessages, Close and the accessors are safe for concurrent use.
type ClientConn struct {
	cfg     clientConfig
	h       ClientHandler
	httpc   *http.Client
	httpTr  *http.Transport // ours: its idle connections are closed with the session
	dialer  websocket.Dialer
	q       *queue.Queue
	pollURL string // the session's polling URL (with sid)
	wsURL   string // the session's WebSocket URL (with sid)

	sid          string
	upgrades     []string
	pingInterval time.Duration
	pingTimeout  time.Duration
	maxPayload   int // the server's limit for what we send

	// ctx is canceled when the session ends, aborting pending requests.
	ctx    context.Context
	cancel context.CancelFunc

	done     chan struct{} // closed when the session ends
	finished chan struct{} // closed after OnClose returned
	wg       sync.WaitGroup

	// dispatchMu serializes calls into the handler. The transports never
	// dispatch concurrently by construction (the WebSocket reader starts
	// only after polling has paused); the lock makes that a guarantee.
	dispatchMu sync.Mutex

	// pingDeadline is when the server's next ping is overdue, in Unix
	// nanoseconds of the wall clock, which keeps running while the machine
	// sleeps (see PingExpired).
	pingDeadline atomic.Int64

	mu        sync.Mutex // guards the fields below
	transport string
	ws        *websocket.Conn // the active WebSocket, once on that transport
	probe     *websocket.Conn // a WebSocket being probed for the upgrade
	pausing   bool            // an upgrade waits for polling to stop
	pollAlive bool            // the GET loop runs
	postAlive bool            // the POST loop runs
	loopExit  chan struct{}   // a polling loop stopped (capacity 2)
	closing   bool            // Close was called: flush, then end
	closed    bool
	hbTimer   *time.Timer
	hbGen     uint64
	flushTmr  *time.Timer // bounds the flush of a graceful Close
}

// Dial opens an Engine.IO v4 session with the server at rawURL and
// returns once the server's handshake has been received.
//
// rawURL is the endpoint, such as "http://localhost:3000/socket.io/"; its
// scheme is http, https, ws or wss (the last two mean the same as the
// first two), and an empty path means "/socket.io/". Query parameters of
// rawURL are kept. ctx bounds the handshake only; once Dial returns, the
// connection lives until Close, the server closes it, or the transport
// fails.
//
// h receives the messages and the close; it is called from the
// connection's goroutines, possibly before Dial returns. A nil h discards
// messages.
func Dial(ctx context.Context, rawURL string, h ClientHandler, opts *DialOptions) (*ClientConn, error) {
	cfg, err := newClientConfig(opts)
	if err != nil {
		return nil, err
	}
	base, err := endpointURL(rawURL, cfg.Query)
	if err != nil {
		return nil, err
	}
	if h == nil {
		h = nopClientHandler{}
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	var wsTLS *tls.Config
	if cfg.TLSConfig != nil {
		tr.TLSClientConfig = cfg.TLSConfig.Clone()
		// A config of its own: net/http adds "h2" to the NextProtos of
		// the one it uses, and a WebSocket handshake negotiated as HTTP/2
		// fails.
		wsTLS = cfg.TLSConfig.Clone()
		wsTLS.NextProtos = nil
	}
	c := &ClientConn{
		cfg:      cfg,
		h:        h,
		httpc:    &http.Client{Transport: tr, Jar: cfg.Jar},
		httpTr:   tr,
		q:        queue.New(cfg.MaxQueueBytes),
		done:     make(chan struct{}),
		finished: make(chan struct{}),
		loopExit: make(chan struct{}, 2),
	}
	c.dialer = websocket.Dialer{
		Proxy:           http.ProxyFromEnvironment,
		TLSClientConfig: wsTLS,
		Jar:             cfg.Jar,
		WriteBufferPool: &writeBufferPool,
	}
	c.ctx, c.cancel = context.WithCancel(context.Background())

	var rest []Packet
	first := cfg.Transports[0]
	if first == TransportPolling {
		rest, err = c.handshakePolling(ctx, base)
	} else {
		err = c.handshakeWebSocket(ctx, base)
	}
	if err != nil {
		c.cancel()
		tr.CloseIdleConnections()
		return nil, err
	}
	c.start(rest)
	return c, nil
}

type nopClientHandler struct{}

func (nopClientHandler) OnMessage(*ClientConn, []byte, bool) {}
func (nopClientHandler) OnClose(*ClientConn, string, error)  {}

// endpointURL validates rawURL and returns it with the http(s) scheme, the
// default path, the extra query and EIO=4.
func endpointURL(rawURL string, query url.Values) (*url.URL, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("engineio: bad URL: %w", err)
	}
	switch u.Scheme {
	case "http", "https":
	case "ws":
		u.Scheme = "http"
	case "wss":
		u.Scheme = "https"
	default:
		return nil, fmt.Errorf("engineio: bad URL %q: scheme must be http, https, ws or wss", rawURL)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("engineio: bad URL %q: no host", rawURL)
	}
	if u.Path == "" || u.Path == "/" {
		u.Path, u.RawPath = "/socket.io/", ""
	}
	q := u.Query()
	for k, vs := range query {
		q[k] = slices.Clone(vs)
	}
	q.Set("EIO", "4")
	u.RawQuery = q.Encode()
	u.Fragment = ""
	return u, nil
}

// transportURL returns base for transport, with the session id once known.
func transportURL(base *url.URL, transport, sid string) string {
	u := *base
	q := u.Query()
	q.Set("transport", transport)
	if sid != "" {
		q.Set("sid", sid)
	}
	u.RawQuery = q.Encode()
	if transport == TransportWebSocket {
		if u.Scheme == "https" {
			u.Scheme = "wss"
		} else {
			u.Scheme = "ws"
		}
	}
	return u.String()
}

// openData is the JSON of the server's open packet.
type openData struct {
	SID          string   `json:"sid"`
	Upgrades     []string `json:"upgrades"`
	PingInterval int64    `json:"pingInterval"`
	PingTimeout  int64    `json:"pingTimeout"`
	MaxPayload   int      `json:"maxPayload"`
}

// onOpenPacket records the handshake and derives the session's URLs.
func (c *ClientConn) onOpenPacket(p Packet, base *url.URL, transport string) error {
	if p.Type != PacketOpen || p.Binary {
		return fmt.Errorf("%w: handshake: first packet is %v, not open", ErrInvalidPacket, p.Type)
	}
	var o openData
	if err := json.Unmarshal(p.Data, &o); err != nil {
		return fmt.Errorf("%w: handshake: %v", ErrInvalidPacket, err)
	}
	if o.SID == "" || o.PingInterval <= 0 || o.PingTimeout <= 0 {
		return fmt.Errorf("%w: handshake: missing sid, pingInterval or pingTimeout in %s", ErrInvalidPacket, p.Data)
	}
	c.sid = o.SID
	c.upgrades = o.Upgrades
	c.pingInterval = time.Duration(o.PingInterval) * time.Millisecond
	c.pingTimeout = time.Duration(o.PingTimeout) * time.Millisecond
	c.maxPayload = o.MaxPayload
	if c.maxPayload <= 0 {
		c.maxPayload = 1_000_000 // the reference server's default
	}
	c.transport = transport
	c.pollURL = transportURL(base, TransportPolling, o.SID)
	c.wsURL = transportURL(base, TransportWebSocket, o.SID)
	return nil
}

// start arms the heartbeat and starts the transport's goroutines; rest are
// the packets that came with the open packet.
func (c *ClientConn) start(rest []Packet) {
	c.resetHeartbeat()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.transport == TransportPolling {
		c.startPollingLocked(rest)
		if c.cfg.websocket && !c.cfg.DisableUpgrade && slices.Contains(c.upgrades, TransportWebSocket) {
			c.wg.Add(1)
			go c.upgrade()
		}
		return
	}
	c.wg.Add(2)
	go c.wsWriteLoop(c.ws)
	go c.wsReadLoop(c.ws)
}

// ID returns the session id.
func (c *ClientConn) ID() string { return c.sid }

// Transport returns the current transport name; it changes from "polling"
// to "websocket" when the upgrade completes.
func (c *ClientConn) Transport() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.transport
}

// PingInterval and PingTimeout return the server's heartbeat settings.
func (c *ClientConn) PingInterval() time.Duration { return c.pingInterval }

// PingTimeout: see PingInterval.
func (c *ClientConn) PingTimeout() time.Duration { return c.pingTimeout }

// Send queues one message. See SendMessages.
func (c *ClientConn) Send(data []byte, binary, volatile bool) error {
	return c.SendMessages([]Message{{Data: data, Binary: binary}}, volatile)
}

// SendMessages queues msgs as one unit: nothing else is queued between
// them (a Socket.IO packet and its binary attachments stay together). It
// never blocks. A volatile unit is dropped silently while an upgrade is in
// progress or when the queue is past a quarter of its size. A
// non-volatile unit that does not fit fails with ErrQueueOverflow and the
// connection stays open. After Close, or once the connection has ended,
// it fails with ErrClosed.
//
// The data must not be modified after the call.
func (c *ClientConn) SendMessages(msgs []Message, volatile bool) error {
	c.mu.Lock()
	ended, paused := c.closing || c.closed, c.pausing
	c.mu.Unlock()
	if ended {
		return ErrClosed
	}
	if volatile && paused {
		return nil // the reference client drops volatile packets while not writable
	}
	items := make([]queue.Item, len(msgs))
	for i, m := range msgs {
		items[i] = queue.Item{Kind: byte(PacketMessage), Binary: m.Binary, Volatile: volatile, Data: m.Data}
	}
	switch err := c.q.PushAll(items, volatile); err {
	case nil, queue.ErrDropped: // dropping is the volatile contract
		return nil
	case queue.ErrFull:
		return ErrQueueOverflow
	default:
		return ErrClosed
	}
}

// handle processes one inbound packet; it reports whether the transport
// loop must stop (the session ended).
func (c *ClientConn) handle(p Packet) (stop bool) {
	switch p.Type {
	case PacketMessage:
		c.dispatchMu.Lock()
		if !c.isClosed() {
			c.h.OnMessage(c, p.Data, p.Binary)
		}
		c.dispatchMu.Unlock()
	case PacketPing:
		// Engine.IO v4: the server pings, the client answers with the same
		// data and expects the next ping within pingInterval+pingTimeout.
		_ = c.q.PushControl(queue.Item{Kind: byte(PacketPong), Data: p.Data})
		c.resetHeartbeat()
	case PacketClose:
		c.terminate(ReasonTransportClose, nil)
		return true
	case PacketOpen, PacketPong, PacketUpgrade, PacketNoop:
		// Nothing to do: a noop releases a poll during the upgrade; the
		// others are not meant for an established client session.
	}
	return false
}

func (c *ClientConn) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

// resetHeartbeat (re)arms the ping timeout: the server pings every
// pingInterval, so silence for pingInterval+pingTimeout means it is gone.
// One timer at a time; the generation makes a timer that fired while
// being replaced harmless.
func (c *ClientConn) resetHeartbeat() {
	d := c.pingInterval + c.pingTimeout
	c.pingDeadline.Store(time.Now().Add(d).UnixNano())
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	if c.hbTimer != nil {
		c.hbTimer.Stop()
	}
	c.hbGen++
	gen := c.hbGen
	c.hbTimer = time.AfterFunc(d, func() {
		c.mu.Lock()
		stale := gen != c.hbGen
		c.mu.Unlock()
		if !stale {
			c.terminate(ReasonPingTimeout, nil)
		}
	})
}

// PingExpired reports whether the server's ping is overdue by the wall
// clock, and if so closes the connection with "ping timeout". Timers do
// not advance while a machine sleeps; the reference client checks this
// before each emit so that a packet is not written to a connection that
// died during the sleep, and so can callers.
func (c *ClientConn) PingExpired() bool {
	if time.Now().UnixNano() <= c.pingDeadline.Load() {
		return false
	}
	c.terminate(ReasonPingTimeout, nil)
	return true
}

// Close closes the connection after flushing what is queued (bounded by
// WriteTimeout): over polling the server receives a close packet, over
// WebSocket a close frame. The handler's OnClose gets "forced close".
// Close does not wait for the connection's goroutines; Wait does.
// Idempotent.
func (c *ClientConn) Close() error {
	c.mu.Lock()
	if c.closing || c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closing = true
	// The writers notice closing when woken; whichever is active sends
	// the rest and then ends the session. The timer bounds the flush.
	c.flushTmr = time.AfterFunc(c.cfg.WriteTimeout, func() { c.terminate(ReasonForcedClose, nil) })
	c.mu.Unlock()
	c.q.Signal()
	return nil
}

// CloseWithReason ends the connection at once, dropping what is queued,
// and reports reason to the handler.
func (c *ClientConn) CloseWithReason(reason string) { c.terminate(reason, nil) }

// Done is closed when the connection has ended.
func (c *ClientConn) Done() <-chan struct{} { return c.done }

// Wait blocks until the connection has ended, every goroutine of it has
// returned and the handler's OnClose has returned. Do not call it from
// the handler.
func (c *ClientConn) Wait() { <-c.finished }

// terminate ends the session once: it stops the timers, aborts the
// requests and closes the WebSockets, then, from a goroutine of its own,
// waits for the transport goroutines and calls OnClose.
func (c *ClientConn) terminate(reason string, cause error) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	if c.closing {
		// After Close, however the session ends (the server's close
		// frame, a reset), it ends because the user closed it.
		reason = ReasonForcedClose
	}
	ws, probe := c.ws, c.probe
	if c.hbTimer != nil {
		c.hbTimer.Stop()
	}
	if c.flushTmr != nil {
		c.flushTmr.Stop()
	}
	c.mu.Unlock()

	close(c.done)
	c.q.Close()
	c.cancel()
	if ws != nil {
		_ = ws.Close()
	}
	if probe != nil {
		_ = probe.Close()
	}
	if cause != nil {
		c.cfg.Logger.Debug("engineio: client connection closed", "sid", c.sid, "reason", reason, "err", cause)
	}
	go func() {
		c.wg.Wait()
		c.httpTr.CloseIdleConnections()
		c.dispatchMu.Lock()
		c.h.OnClose(c, reason, cause)
		c.dispatchMu.Unlock()
		close(c.finished)
	}()
}
