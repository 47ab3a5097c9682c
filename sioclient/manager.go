package sioclient

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sync"
	"time"

	"github.com/switchboard-go/socketio/engineio"
	"github.com/switchboard-go/socketio/parser"
)

// Lock order: Socket.mu, then Manager.mu, then the engine connection's and
// the executor's locks. The manager never calls into a socket, and nobody
// calls user code, while holding a lock.

type managerState int

const (
	stateClosed  managerState = iota // no connection, maybe a reconnection timer
	stateOpening                     // a goroutine is dialling
	stateOpen                        // m.conn is the connection
)

// Manager owns one Engine.IO connection to a server and multiplexes the
// sockets of several namespaces over it (Node: Manager, the io property of
// a socket). It opens the connection when a socket connects, reconnects
// with exponential backoff when the connection is lost, and closes it when
// the last socket disconnects.
//
// Every method is safe for concurrent use. See the package documentation
// for when callbacks run.
type Manager struct {
	cfg      *config
	engURL   string // the Engine.IO endpoint
	cacheKey string // set while in the Dial cache
	exec     executor

	mu            sync.Mutex
	state         managerState
	gen           uint64 // bumped on every open and close; tags a connection's callbacks
	conn          *engineio.ClientConn
	cancelDial    context.CancelFunc
	nsps          map[string]*Socket
	active        map[*Socket]struct{} // sockets that want to be connected
	reconnecting  bool                 // a reconnection timer or attempt is pending
	skipReconnect bool
	backoff       backoff
	timer         *time.Timer
	timerGen      uint64
	hooks         hooks
}

type hooks struct {
	open             []func()
	close            []func(reason string)
	err              []func(error)
	reconnectAttempt []func(attempt int)
	reconnect        []func(attempt int)
	reconnectError   []func(error)
	reconnectFailed  []func()
}

// NewManager returns a manager for the server at rawURL (http, https, ws or
// wss; the path is ignored: the endpoint is Options.Path; the query is
// used when Options.Query is nil). It does no I/O: the connection opens
// when a socket connects.
func NewManager(rawURL string, opts *Options) (*Manager, error) {
	u, err := parseURL(rawURL)
	if err != nil {
		return nil, err
	}
	return newManager(u, newConfig(opts)), nil
}

func newManager(u *url.URL, cfg *config) *Manager {
	if cfg.Query == nil && u.RawQuery != "" {
		cfg.Query = u.Query()
		cfg.engine.Query = cfg.Query
	}
	e := *u
	e.Path, e.RawPath, e.RawQuery, e.Fragment = cfg.Path, "", "", ""
	m := &Manager{
		cfg:    cfg,
		engURL: e.String(),
		nsps:   make(map[string]*Socket),
		active: make(map[*Socket]struct{}),
		backoff: backoff{
			min:    cfg.ReconnectionDelay,
			max:    cfg.ReconnectionDelayMax,
			jitter: cfg.RandomizationFactor,
		},
	}
	m.exec.logger = cfg.Logger
	return m
}

// Socket returns the socket of namespace nsp ("" and "/" are the main
// namespace; a missing leading slash is added), creating it with opts on
// first use; later calls return the same socket and ignore opts. The
// socket is not connected: register its handlers, then call Connect.
func (m *Manager) Socket(nsp string, opts *SocketOptions) *Socket {
	nsp = normalizeNamespace(nsp)
	m.mu.Lock()
	defer m.mu.Unlock()
	if s := m.nsps[nsp]; s != nil {
		return s
	}
	s := newSocket(m, nsp, opts)
	m.nsps[nsp] = s
	return s
}

func normalizeNamespace(nsp string) string {
	if nsp == "" || nsp[0] != '/' {
		return "/" + nsp
	}
	return nsp
}

func (m *Manager) hasSocket(nsp string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.nsps[nsp] != nil
}

// Engine returns the current Engine.IO connection, nil while there is
// none. It changes with every reconnection.
func (m *Manager) Engine() *engineio.ClientConn {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.conn
}

// Close disconnects every socket of the manager (their OnDisconnect gets
// "forced close"), closes the connection after flushing it, and stops
// reconnecting (Node: manager.disconnect()). A socket's Connect opens the
// manager again, the socket as a new session (see Socket.Recovered).
func (m *Manager) Close() error {
	m.mu.Lock()
	socks := make([]*Socket, 0, len(m.active))
	for s := range m.active {
		socks = append(socks, s)
	}
	clear(m.active)
	m.mu.Unlock()
	for _, s := range socks {
		s.forgetSession()
		s.lost(ReasonForcedClose, 0)
	}
	m.shutdown(ReasonForcedClose)
	return nil
}

// OnOpen registers fn, called each time the connection opens.
func (m *Manager) OnOpen(fn func()) { m.addHook(func(h *hooks) { h.open = append(h.open, fn) }) }

// OnClose registers fn, called each time the connection closes, with the
// reason.
func (m *Manager) OnClose(fn func(reason string)) {
	m.addHook(func(h *hooks) { h.close = append(h.close, fn) })
}

// OnError registers fn, called when a connection attempt fails.
func (m *Manager) OnError(fn func(err error)) {
	m.addHook(func(h *hooks) { h.err = append(h.err, fn) })
}

// OnReconnectAttempt registers fn, called before each reconnection
// attempt with its number, from 1.
func (m *Manager) OnReconnectAttempt(fn func(attempt int)) {
	m.addHook(func(h *hooks) { h.reconnectAttempt = append(h.reconnectAttempt, fn) })
}

// OnReconnect registers fn, called when a reconnection succeeded, with the
// number of attempts it took.
func (m *Manager) OnReconnect(fn func(attempt int)) {
	m.addHook(func(h *hooks) { h.reconnect = append(h.reconnect, fn) })
}

// OnReconnectError registers fn, called when a reconnection attempt fails.
func (m *Manager) OnReconnectError(fn func(err error)) {
	m.addHook(func(h *hooks) { h.reconnectError = append(h.reconnectError, fn) })
}

// OnReconnectFailed registers fn, called when Options.ReconnectionAttempts
// attempts have failed and the manager gives up. A socket's Connect starts
// again.
func (m *Manager) OnReconnectFailed(fn func()) {
	m.addHook(func(h *hooks) { h.reconnectFailed = append(h.reconnectFailed, fn) })
}

func (m *Manager) addHook(add func(*hooks)) {
	m.mu.Lock()
	add(&m.hooks)
	m.mu.Unlock()
}

// emitHook posts a call of the hooks that pick selects, as registered
// when the call runs.
func emitHook[T any](m *Manager, pick func(*hooks) []T, call func(T)) {
	m.exec.post(func() {
		m.mu.Lock()
		fns := pick(&m.hooks)
		m.mu.Unlock()
		for _, fn := range fns {
			m.exec.safely(func() { call(fn) })
		}
	})
}

func (m *Manager) isActive(s *Socket) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.active[s]
	return ok
}

// activate makes s want a connection: it opens the manager if needed, or
// sends the socket's CONNECT at once when the connection is open.
func (m *Manager) activate(s *Socket) {
	m.mu.Lock()
	_, was := m.active[s]
	m.active[s] = struct{}{}
	send, gen := false, m.gen
	switch {
	case m.state == stateOpen:
		send = !was
	case m.state == stateClosed && !m.reconnecting:
		m.openLocked(false)
	}
	m.mu.Unlock()
	if send {
		s.sendConnect(gen)
	}
}

// deactivate drops s from the sockets to connect; the last one leaving
// closes the manager, as in the reference client.
func (m *Manager) deactivate(s *Socket) {
	m.mu.Lock()
	_, was := m.active[s]
	delete(m.active, s)
	last := was && len(m.active) == 0
	m.mu.Unlock()
	if last {
		m.shutdown(ReasonForcedClose)
	}
}

// shutdown closes the connection (flushing it) and stops reconnecting.
func (m *Manager) shutdown(reason string) {
	m.mu.Lock()
	m.skipReconnect = true
	m.reconnecting = false
	m.stopTimerLocked()
	if m.cancelDial != nil {
		m.cancelDial()
		m.cancelDial = nil
	}
	c, wasOpen := m.conn, m.state == stateOpen
	m.conn = nil
	m.state = stateClosed
	m.gen++
	m.backoff.reset()
	m.mu.Unlock()
	if c != nil {
		_ = c.Close()
	}
	if wasOpen {
		emitHook(m, func(h *hooks) []func(string) { return h.close }, func(fn func(string)) { fn(reason) })
	}
	m.uncache()
}

// requires m.mu
func (m *Manager) stopTimerLocked() {
	if m.timer != nil {
		m.timer.Stop()
		m.timer = nil
	}
	m.timerGen++
}

// openLocked starts a connection attempt on a goroutine of its own.
//
// requires m.mu
func (m *Manager) openLocked(reconnect bool) {
	if m.state != stateClosed {
		return
	}
	m.state = stateOpening
	m.skipReconnect = false
	m.gen++
	ctx, cancel := context.WithTimeout(context.Background(), m.cfg.Timeout)
	m.cancelDial = cancel
	go m.dial(ctx, cancel, m.gen, reconnect)
}

func (m *Manager) dial(ctx context.Context, cancel context.CancelFunc, gen uint64, reconnect bool) {
	defer cancel()
	h := &connHandler{m: m, gen: gen}
	if m.cfg.Parser != nil {
		h.codecDec = m.cfg.Parser.NewDecoder(parser.DefaultMaxAttachments)
	}
	c, err := engineio.Dial(ctx, m.engURL, h, &m.cfg.engine)

	m.mu.Lock()
	if gen != m.gen {
		// Closed (or closed and reopened) meanwhile.
		m.mu.Unlock()
		if c != nil {
			c.CloseWithReason(ReasonForcedClose)
		}
		return
	}
	m.cancelDial = nil
	socks := m.activeLocked()
	if err != nil {
		m.state = stateClosed
		m.reconnecting = false
		m.reconnectLocked()
		m.mu.Unlock()
		emitHook(m, func(h *hooks) []func(error) { return h.err }, func(fn func(error)) { fn(err) })
		if reconnect {
			emitHook(m, func(h *hooks) []func(error) { return h.reconnectError }, func(fn func(error)) { fn(err) })
		}
		ce := &ConnectError{Message: err.Error(), Err: err}
		for _, s := range socks {
			s.connectFailed(ce)
		}
		return
	}
	m.state = stateOpen
	m.conn = c
	attempt := m.backoff.attempts
	if reconnect {
		m.backoff.reset()
	}
	m.reconnecting = false
	m.mu.Unlock()

	emitHook(m, func(h *hooks) []func() { return h.open }, func(fn func()) { fn() })
	for _, s := range socks {
		s.sendConnect(gen)
	}
	if reconnect {
		emitHook(m, func(h *hooks) []func(int) { return h.reconnect }, func(fn func(int)) { fn(attempt) })
	}
}

// requires m.mu
func (m *Manager) activeLocked() []*Socket {
	socks := make([]*Socket, 0, len(m.active))
	for s := range m.active {
		socks = append(socks, s)
	}
	return socks
}

// reconnectLocked schedules the next attempt, unless one is pending, the
// manager was closed on purpose, or the attempts are exhausted.
//
// requires m.mu
func (m *Manager) reconnectLocked() {
	if m.reconnecting || m.skipReconnect || m.cfg.DisableReconnection || m.state != stateClosed {
		return
	}
	if limit := m.cfg.ReconnectionAttempts; limit > 0 && m.backoff.attempts >= limit {
		m.backoff.reset()
		emitHook(m, func(h *hooks) []func() { return h.reconnectFailed }, func(fn func()) { fn() })
		return
	}
	d := m.backoff.duration()
	m.reconnecting = true
	m.timerGen++
	tg := m.timerGen
	m.timer = time.AfterFunc(d, func() { m.onReconnectTimer(tg) })
}

func (m *Manager) onReconnectTimer(tg uint64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if tg != m.timerGen || m.skipReconnect || !m.reconnecting {
		return
	}
	m.timer = nil
	attempt := m.backoff.attempts
	emitHook(m, func(h *hooks) []func(int) { return h.reconnectAttempt }, func(fn func(int)) { fn(attempt) })
	if m.state != stateClosed {
		m.reconnecting = false // opened by other means meanwhile
		return
	}
	m.openLocked(true)
}

// onEngineClose handles the end of connection gen: the sockets lose it,
// and a reconnection is scheduled.
func (m *Manager) onEngineClose(gen uint64, reason string, cause error) {
	m.mu.Lock()
	if gen != m.gen || m.state == stateClosed {
		m.mu.Unlock()
		return
	}
	c := m.conn
	m.gen++
	m.conn = nil
	m.state = stateClosed
	m.cancelDial = nil
	m.reconnecting = false
	m.backoff.reset()
	socks := m.activeLocked()
	m.mu.Unlock()
	if c != nil {
		c.CloseWithReason(reason) // a no-op unless we are the ones ending it
	}
	if cause != nil {
		m.cfg.Logger.Debug("sioclient: connection lost", "url", m.engURL, "reason", reason, "err", cause)
	}
	// The sockets first, then the timer: a reconnection must not begin
	// before every socket knows it lost the old connection.
	for _, s := range socks {
		s.lost(reason, gen)
	}
	emitHook(m, func(h *hooks) []func(string) { return h.close }, func(fn func(string)) { fn(reason) })
	m.mu.Lock()
	m.reconnectLocked()
	m.mu.Unlock()
}

// pingExpired reports whether the connection's heartbeat is overdue (see
// engineio.ClientConn.PingExpired); emits then go to the buffer.
func (m *Manager) pingExpired() bool {
	m.mu.Lock()
	c := m.conn
	m.mu.Unlock()
	return c != nil && c.PingExpired()
}

// writePacket queues p on connection gen: its text and attachments as one
// unit. It fails with errNoConn when gen is no longer the open connection,
// so that a socket never writes to a connection it has not joined.
func (m *Manager) writePacket(gen uint64, p *parser.Packet, volatile bool) error {
	m.mu.Lock()
	c := m.conn
	if gen != m.gen {
		c = nil
	}
	m.mu.Unlock()
	if c == nil {
		return errNoConn
	}
	if m.cfg.Parser != nil {
		frames, err := m.cfg.Parser.Encode(p)
		if err != nil {
			return err
		}
		msgs := make([]engineio.Message, len(frames))
		for i, f := range frames {
			msgs[i] = engineio.Message{Data: f.Data, Binary: f.Binary}
		}
		return c.SendMessages(msgs, volatile)
	}
	text := p.Encode()
	if len(p.Attachments) == 0 {
		return c.Send(text, false, volatile)
	}
	msgs := make([]engineio.Message, 0, 1+len(p.Attachments))
	msgs = append(msgs, engineio.Message{Data: text})
	for _, a := range p.Attachments {
		msgs = append(msgs, engineio.Message{Data: a, Binary: true})
	}
	return c.SendMessages(msgs, volatile)
}

// connGone reports whether err, from writePacket, means that the
// connection is going away (the packet may go on the next one), rather
// than that this packet cannot be sent (ErrQueueOverflow, an error of
// Options.Parser).
func connGone(err error) bool {
	return errors.Is(err, errNoConn) || errors.Is(err, engineio.ErrClosed)
}

// connHandler receives the messages of one connection (one generation).
// Its decoder is its own, so that a late message of an old connection
// cannot corrupt the state of the new one.
type connHandler struct {
	m   *Manager
	gen uint64
	dec parser.Decoder
	// codecDec replaces dec with Options.Parser.
	codecDec parser.PacketDecoder
}

func (h *connHandler) OnMessage(c *engineio.ClientConn, data []byte, binary bool) {
	var (
		pkt *parser.Packet
		err error
	)
	if h.codecDec != nil {
		pkt, err = h.codecDec.Add(data, binary)
	} else if binary {
		pkt, err = h.dec.AddBinary(data)
	} else {
		pkt, err = h.dec.AddText(data)
	}
	if err != nil {
		h.m.onEngineClose(h.gen, ReasonParseError, fmt.Errorf("sioclient: %w", err))
		return
	}
	if pkt == nil {
		return // waiting for attachments
	}
	m := h.m
	m.mu.Lock()
	s := m.nsps[pkt.Namespace]
	current := h.gen == m.gen
	m.mu.Unlock()
	if current && s != nil {
		s.onPacket(h.gen, pkt, c.Done())
	}
}

func (h *connHandler) OnClose(_ *engineio.ClientConn, reason string, cause error) {
	h.m.onEngineClose(h.gen, reason, cause)
}
