package sioclient

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/switchboard-go/socketio/internal/listeners"
	"github.com/switchboard-go/socketio/parser"
)

// Socket is the client's side of one namespace on a Manager's connection
// (Node: Socket).
//
// A socket is active from Connect until it is disconnected for good: by
// Disconnect, by the server (reason "io server disconnect"), by a refusal
// (OnConnectError from the server), or by Manager.Close. While active, it
// is reconnected every time its manager reconnects, and the emits made
// while it is disconnected are buffered (up to Options.MaxBufferBytes) and
// sent, in order, once it is connected again, before OnConnect runs.
// Volatile emits are dropped instead. When the server has connection
// state recovery enabled, each reconnection asks for the socket's session
// back; Recovered tells whether the server restored it.
//
// Concurrency contract: every method is safe for concurrent use. The
// callbacks of a socket — event handlers, OnAny, OnAnyOutgoing, AckFuncs,
// OnConnect, OnConnectError, OnDisconnect — and those of the other
// sockets and hooks of its Manager run one at a time, in the order the
// events happened, on a goroutine of the manager. Handlers must not block: while one runs the
// others wait, and when a backlog builds up the connection stops reading.
// Long work belongs in a goroutine of its own, which may call Emit,
// Event.Ack, Disconnect and the other methods at any time. EmitWithAck
// works from a handler (its answer does not queue behind the handler) but
// holds up every other callback of the manager while it waits, so prefer
// an AckFunc there.
type Socket struct {
	m        *Manager
	nsp      string
	auth     any
	authFunc func() (any, error)

	handlers listeners.Registry[*Event] // safe for concurrent use on its own

	mu           sync.Mutex // guards below; never held while calling user code
	connected    bool
	gen          uint64 // the manager connection the socket joined
	id           string
	session      session // for connection state recovery; see recovery.go
	nextAckID    uint64
	acks         map[uint64]*pendingAck
	buf          []outPacket // emits waiting for a connection
	bufBytes     int
	onConnect    []func()
	onConnectErr []func(*ConnectError)
	onDisconnect []func(reason string)
	onOutgoing   []func(event string, args []any)
	retryQ       []*retryEmit // Options.Retries: emits not yet acknowledged, in order
	retryBytes   int
	refusal      error // a *refusedError from the last refusal, until Connect
}

// outPacket is a buffered emit; size is what it counts against
// MaxBufferBytes.
type outPacket struct {
	pkt  parser.Packet
	size int
	// event and args, for the OnAnyOutgoing handlers once it is sent.
	event string
	args  []any
}

func newSocket(m *Manager, nsp string, opts *SocketOptions) *Socket {
	s := &Socket{
		m:    m,
		nsp:  nsp,
		acks: make(map[uint64]*pendingAck),
	}
	if opts != nil {
		s.auth, s.authFunc = opts.Auth, opts.AuthFunc
	}
	return s
}

// ID returns the socket id the server assigned at the last connection; ""
// while disconnected.
func (s *Socket) ID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.id
}

// Namespace returns the socket's namespace, such as "/" or "/chat".
func (s *Socket) Namespace() string { return s.nsp }

// Manager returns the manager whose connection the socket uses.
func (s *Socket) Manager() *Manager { return s.m }

// Connected reports whether the socket is connected to its namespace now.
func (s *Socket) Connected() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.connected
}

// Active reports whether the socket wants to be connected: it is connected,
// or connecting, or waiting to reconnect (Node: socket.active).
func (s *Socket) Active() bool { return s.m.isActive(s) }

// Connect connects the socket, opening the manager's connection if needed,
// and returns at once (Node: socket.connect()). OnConnect or
// OnConnectError tells the outcome. On a socket already active it only
// restarts a manager that gave up reconnecting.
func (s *Socket) Connect() {
	s.mu.Lock()
	connected := s.connected
	if !connected {
		s.refusal = nil // a new attempt: emits wait for its outcome
	}
	s.mu.Unlock()
	if connected {
		return
	}
	s.m.activate(s)
}

// Disconnect disconnects the socket (Node: socket.disconnect()): the
// server gets a DISCONNECT packet, OnDisconnect gets "io client
// disconnect", acknowledgements still awaited fail with ErrDisconnected,
// and the socket does not reconnect. When it was the manager's last active
// socket, the connection closes. Connect connects it again, as a new
// session (see Recovered).
func (s *Socket) Disconnect() {
	s.forgetSession()
	s.mu.Lock()
	was, gen := s.connected, s.gen
	s.mu.Unlock()
	if was {
		_ = s.m.writePacket(gen, &parser.Packet{Type: parser.Disconnect, Namespace: s.nsp}, false)
	}
	s.m.deactivate(s)
	if was {
		s.lost(ReasonIOClientDisconnect, 0)
	}
}

// Close is Disconnect.
func (s *Socket) Close() error {
	s.Disconnect()
	return nil
}

// On registers fn for event. Several handlers of one event run in the
// order registered.
func (s *Socket) On(event string, fn func(*Event)) { s.handlers.On(event, fn) }

// Once registers fn for the next occurrence of event only.
func (s *Socket) Once(event string, fn func(*Event)) { s.handlers.Once(event, fn) }

// Off removes every handler of event.
func (s *Socket) Off(event string) { s.handlers.Off(event) }

// OnAny registers a catch-all handler, called for every incoming event
// before the event's own handlers.
func (s *Socket) OnAny(fn func(*Event)) { s.handlers.OnAny(fn) }

// OffAny removes every catch-all handler.
func (s *Socket) OffAny() { s.handlers.OffAny() }

// OnAnyOutgoing registers fn, called with the event name and arguments
// (without an AckFunc) of every emit of this socket when it is sent: at
// once when the socket is connected, on connection for an emit that was
// buffered (before OnConnect), never for a volatile emit that was dropped.
// Like every callback it runs on the manager's callback goroutine, after
// the Emit call has returned; each emit sent queues one call there, so fn
// must be cheaper than the emits are frequent (log, count). (Node:
// socket.onAnyOutgoing.)
func (s *Socket) OnAnyOutgoing(fn func(event string, args []any)) {
	s.mu.Lock()
	s.onOutgoing = append(s.onOutgoing, fn)
	s.mu.Unlock()
}

// OffAnyOutgoing removes every OnAnyOutgoing handler.
func (s *Socket) OffAnyOutgoing() {
	s.mu.Lock()
	s.onOutgoing = nil
	s.mu.Unlock()
}

// sentLocked tells the OnAnyOutgoing handlers that event was sent. Posting
// while s.mu is held keeps the calls in the order of the sends.
//
// requires s.mu
func (s *Socket) sentLocked(event string, args []any) {
	if len(s.onOutgoing) == 0 {
		return
	}
	fns := s.onOutgoing // OnAnyOutgoing appends past len, OffAnyOutgoing replaces: this view stays as it is
	s.m.exec.post(func() {
		for _, fn := range fns {
			s.m.exec.safely(func() { fn(event, args) })
		}
	})
}

// OnConnect registers fn, called each time the socket connects (after a
// reconnection too), once the buffered emits have been sent.
func (s *Socket) OnConnect(fn func()) {
	s.mu.Lock()
	s.onConnect = append(s.onConnect, fn)
	s.mu.Unlock()
}

// OnConnectError registers fn, called when a connection attempt fails:
// the server refused the socket (err.FromServer()) or its AuthFunc failed,
// and the socket stops trying, as in the reference client; or the
// connection could not be established (err.Err says why), and the manager
// keeps trying unless reconnection is off.
func (s *Socket) OnConnectError(fn func(err *ConnectError)) {
	s.mu.Lock()
	s.onConnectErr = append(s.onConnectErr, fn)
	s.mu.Unlock()
}

// OnDisconnect registers fn, called when the connected socket
// disconnects, with the reason (see the Reason constants).
func (s *Socket) OnDisconnect(fn func(reason string)) {
	s.mu.Lock()
	s.onDisconnect = append(s.onDisconnect, fn)
	s.mu.Unlock()
}

// sendConnect sends the CONNECT packet on connection gen, with the auth
// payload of the moment and the session to recover, if any.
func (s *Socket) sendConnect(gen uint64) {
	data, err := s.authPayload()
	if err != nil {
		s.refused(&ConnectError{Message: err.Error(), Err: err})
		return
	}
	s.mu.Lock()
	pid, offset := s.session.pid, s.session.offset
	s.mu.Unlock()
	data, ok := withSession(data, pid, offset)
	if !ok {
		s.m.cfg.Logger.Debug("sioclient: the auth is not a JSON object: connection state recovery not requested", "namespace", s.nsp)
	}
	_ = s.m.writePacket(gen, &parser.Packet{Type: parser.Connect, Namespace: s.nsp, Data: data}, false)
}

// authPayload calls AuthFunc (containing a panic) or takes Auth, and
// checks that the value is a JSON object, the only auth the protocol
// carries.
func (s *Socket) authPayload() (data json.RawMessage, err error) {
	v := s.auth
	if s.authFunc != nil {
		func() {
			defer func() {
				if r := recover(); r != nil {
					err = fmt.Errorf("sioclient: AuthFunc panicked: %v", r)
				}
			}()
			v, err = s.authFunc()
		}()
		if err != nil {
			return nil, err
		}
	}
	if v == nil {
		return nil, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("sioclient: auth: %w", err)
	}
	if bytes.Equal(b, []byte("null")) {
		return nil, nil
	}
	if len(b) == 0 || b[0] != '{' {
		return nil, errors.New("sioclient: auth must be a JSON object")
	}
	return b, nil
}

// onPacket handles a packet of this namespace from connection gen; abort
// is closed when that connection ends.
func (s *Socket) onPacket(gen uint64, p *parser.Packet, abort <-chan struct{}) {
	switch p.Type {
	case parser.Connect:
		s.onConnectPacket(gen, p)
	case parser.ConnectError:
		s.onConnectErrorPacket(p)
	case parser.Event, parser.BinaryEvent:
		s.onEvent(gen, p, abort)
	case parser.Ack, parser.BinaryAck:
		raw, err := parser.SplitArray(p.Data)
		if err != nil {
			return
		}
		if a := s.takeAck(p.ID); a != nil {
			a.resolve(&s.m.exec, Args{Raw: raw, Attachments: p.Attachments}, nil, abort)
		}
	case parser.Disconnect:
		s.forgetSession()
		s.m.deactivate(s)
		s.lost(ReasonIOServerDisconnect, 0)
	}
}

func (s *Socket) onConnectPacket(gen uint64, p *parser.Packet) {
	var d struct {
		SID string `json:"sid"`
		PID string `json:"pid"` // only from a server with connection state recovery
	}
	if json.Unmarshal(p.Data, &d) != nil || d.SID == "" {
		// A Socket.IO v2 server answers without a sid; v2 and v4 do not
		// interoperate.
		s.postConnectError(&ConnectError{Message: "the server's CONNECT has no sid: is it a Socket.IO v3/v4 server?"})
		return
	}
	s.mu.Lock()
	if s.connected || !s.m.isActive(s) {
		s.session.dropEarly(gen)
		s.mu.Unlock()
		return
	}
	s.connected, s.gen, s.id = true, gen, d.SID
	s.session.joined(d.PID)
	// As in the reference client: the events received before the CONNECT
	// (a recovery's missed events), then the buffered emits, then
	// OnConnect. Posting under s.mu keeps that order against the
	// OnAnyOutgoing calls that flushLocked posts.
	for _, e := range s.session.takeEarly(gen) {
		s.session.received(e)
		s.m.exec.post(func() { s.dispatch(e) })
	}
	dropped := s.flushLocked()
	s.mu.Unlock()
	for _, d := range dropped {
		d.a.resolve(&s.m.exec, Args{}, d.err, nil)
	}
	s.drainRetries(true)
	s.m.exec.post(func() {
		s.mu.Lock()
		fns := s.onConnect
		s.mu.Unlock()
		for _, fn := range fns {
			s.m.exec.safely(fn)
		}
	})
}

// droppedAck is the pending ack of a buffered emit that could not be
// sent, and why.
type droppedAck struct {
	a   *pendingAck
	err error
}

// flushLocked sends the buffered emits in order. It stops when the
// connection is going away (the rest waits for the next one); an emit the
// connection refuses (its queue is full, Options.Parser cannot encode it)
// is dropped and its pending ack, returned, must fail with that error.
//
// requires s.mu
func (s *Socket) flushLocked() (dropped []droppedAck) {
	for len(s.buf) > 0 {
		op := &s.buf[0]
		err := s.m.writePacket(s.gen, &op.pkt, false)
		if connGone(err) {
			break
		}
		if op.pkt.HasID {
			if a := s.acks[op.pkt.ID]; a != nil {
				a.buffered = false
				if err != nil {
					delete(s.acks, op.pkt.ID)
					dropped = append(dropped, droppedAck{a, err})
				}
			}
		}
		if err == nil {
			s.sentLocked(op.event, op.args)
		}
		s.bufBytes -= op.size
		s.buf[0] = outPacket{}
		s.buf = s.buf[1:]
	}
	if len(s.buf) == 0 {
		s.buf = nil
	}
	return dropped
}

func (s *Socket) onConnectErrorPacket(p *parser.Packet) {
	s.mu.Lock()
	s.session.dropEarly(0)
	s.mu.Unlock()
	ce := &ConnectError{}
	var d struct {
		Message string          `json:"message"`
		Data    json.RawMessage `json:"data"`
	}
	if len(p.Data) > 0 && p.Data[0] == '{' && json.Unmarshal(p.Data, &d) == nil {
		ce.Message, ce.Data = d.Message, d.Data
	} else {
		_ = json.Unmarshal(p.Data, &ce.Message) // an old server sends a bare string
	}
	s.refused(ce)
}

// refused ends the connection attempt for good: the socket becomes
// inactive (the reference client does not retry a refusal), then hears
// why, and the acknowledgements it awaits fail with ErrRefused at once
// rather than at their timeout (see ErrRefused).
func (s *Socket) refused(ce *ConnectError) {
	s.m.deactivate(s)
	err := &refusedError{nsp: s.nsp, ce: ce}
	s.mu.Lock()
	s.refusal = err
	acks, dones := s.failAwaitedLocked()
	s.mu.Unlock()
	s.postConnectError(ce)
	for _, a := range acks {
		a.resolve(&s.m.exec, Args{}, err, nil)
	}
	for _, done := range dones {
		s.m.exec.post(func() { s.m.exec.safely(func() { done(Args{}, err) }) })
	}
}

// failAwaitedLocked removes every awaited acknowledgement, with its emit if
// still buffered or queued for retries, and returns them to be failed. The
// emits that asked for none stay buffered for a later Connect, as in the
// reference client.
//
// requires s.mu
func (s *Socket) failAwaitedLocked() (acks []*pendingAck, dones []func(Args, error)) {
	for id, a := range s.acks {
		delete(s.acks, id)
		if a.timer != nil {
			a.timer.Stop()
		}
		acks = append(acks, a)
	}
	if len(acks) > 0 {
		s.buf = slices.DeleteFunc(s.buf, func(op outPacket) bool {
			if op.pkt.HasID {
				s.bufBytes -= op.size
				return true
			}
			return false
		})
	}
	s.retryQ = slices.DeleteFunc(s.retryQ, func(r *retryEmit) bool {
		if r.done != nil {
			s.retryBytes -= r.size
			dones = append(dones, r.done)
			return true
		}
		return false
	})
	return acks, dones
}

// connectFailed reports a failed connection attempt of the manager to a
// socket still waiting to connect.
func (s *Socket) connectFailed(ce *ConnectError) {
	if !s.Connected() {
		s.postConnectError(ce)
	}
}

func (s *Socket) postConnectError(ce *ConnectError) {
	s.m.exec.post(func() {
		s.mu.Lock()
		fns := s.onConnectErr
		s.mu.Unlock()
		for _, fn := range fns {
			s.m.exec.safely(func() { fn(ce) })
		}
	})
}

// lost disconnects the socket with reason: it is no longer connected,
// OnDisconnect hears why, and the acknowledgements of emits already sent
// fail (those of buffered emits wait for the next connection). With gen
// set, it acts only if the socket is connected on that connection.
func (s *Socket) lost(reason string, gen uint64) {
	s.mu.Lock()
	s.session.dropEarly(gen)
	if !s.connected || (gen != 0 && s.gen != gen) {
		s.mu.Unlock()
		return
	}
	s.connected, s.id = false, ""
	var failed []*pendingAck
	for id, a := range s.acks {
		if !a.buffered {
			delete(s.acks, id)
			failed = append(failed, a)
		}
	}
	s.mu.Unlock()
	s.m.exec.post(func() {
		s.mu.Lock()
		fns := s.onDisconnect
		s.mu.Unlock()
		for _, fn := range fns {
			s.m.exec.safely(func() { fn(reason) })
		}
	})
	for _, a := range failed {
		a.resolve(&s.m.exec, Args{}, ErrDisconnected, nil)
	}
}

func (s *Socket) onEvent(gen uint64, p *parser.Packet, abort <-chan struct{}) {
	raw, err := parser.SplitArray(p.Data)
	if err != nil || len(raw) == 0 {
		return
	}
	var name string
	if json.Unmarshal(raw[0], &name) != nil {
		name = string(raw[0]) // the reference parser also accepts a number
	}
	e := &Event{
		Name:   name,
		Args:   Args{Raw: raw[1:], Attachments: p.Attachments},
		socket: s,
		gen:    gen,
		ackID:  p.ID,
		hasAck: p.HasID,
	}
	// Whether to deliver is decided now, on arrival: an event that arrived
	// while connected is delivered even if the socket disconnects before
	// its handler runs (the disconnect callback then follows it). Its
	// offset counts from then on too, so that a recovery does not replay
	// what is already on its way to the handlers.
	s.mu.Lock()
	switch {
	case s.connected && s.gen == gen:
		s.session.received(e)
		s.mu.Unlock()
		s.m.exec.postInbound(func() { s.dispatch(e) }, abort)
	case !s.connected && s.m.isActive(s):
		// Before the CONNECT: the missed events of a recovery.
		now := s.session.holdEarly(gen, e)
		s.mu.Unlock()
		for _, e := range now {
			s.m.exec.postInbound(func() { s.dispatch(e) }, abort)
		}
	default:
		s.mu.Unlock()
	}
}

// dispatch runs the handlers of e, on the executor.
func (s *Socket) dispatch(e *Event) {
	anys, named := s.handlers.Take(e.Name)
	for _, fn := range anys {
		s.m.exec.safely(func() { fn(e) })
	}
	for _, fn := range named {
		s.m.exec.safely(func() { fn(e) })
	}
}
