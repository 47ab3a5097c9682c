package socketio

import (
	"context"
	"encoding/json"
	"maps"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchboard-go/socketio/adapter"
	"github.com/switchboard-go/socketio/engineio"
	"github.com/switchboard-go/socketio/internal/listeners"
	"github.com/switchboard-go/socketio/parser"
)

// Handshake describes how a socket connected: the handshake request's
// headers, query, URL and remote address, the time, and the auth payload
// of the CONNECT packet.
type Handshake = adapter.Handshake

// Socket is one client's connection to one namespace.
//
// Concurrency contract: handlers registered on a socket (On, Once, OnAny,
// ack callbacks) and on its namespace (middleware, OnConnection) run on the
// connection's dispatch goroutine, one at a time, in arrival order; sockets
// of different connections run concurrently. Handlers must not block: long
// work belongs in a goroutine of its own, which may call Emit, Join,
// Event.Ack, Disconnect and the other methods at any time — every method
// of Socket is safe for concurrent use. EmitWithAck blocks until the answer
// arrives, and the answer is read by the dispatch goroutine, so calling it
// from a handler deadlocks until its context ends: use an AckFunc there.
// Disconnect handlers run on the goroutine that caused the disconnection,
// except while the connection handlers (OnConnection) run: a socket
// disconnected then (by Server.Shutdown, say) finishes its disconnection
// once they have returned, on their goroutine, so that the disconnecting
// and disconnect handlers they registered are called too.
type Socket struct {
	id     string
	ns     *Namespace
	client *client
	auth   string // the CONNECT packet's payload (a string: 8 bytes less a socket than a slice)

	handlers listeners.Registry[*Event] // safe for concurrent use on its own

	// rec is the socket's connection state recovery; nil when recovery
	// is off. Set before the socket is published, never replaced.
	rec *socketRecovery

	mu        sync.Mutex // guards below; never held while calling user code
	connected bool
	welcoming bool // the connection handlers are running (see finishClose)
	// closing: the disconnection has begun. Set under mu; also read
	// without it by broadcasts (Deliver), which skip the socket from that
	// moment: its client has the DISCONNECT, and a disconnection put off
	// while the connection handlers run (finishClose) leaves the rooms
	// only later.
	closing      atomic.Bool
	hooks        *socketHooks // the rarely used handlers; nil until one is set
	onDisconnect []func(Reason)
	acks         map[uint64]*pendingAck
	data         map[string]any
}

type outListener struct {
	fn func(event string, args []any)
}

// socketHooks are the per-socket handlers few sockets have (middleware,
// error, outgoing and disconnecting handlers): kept apart, they cost the
// others one pointer, on a server that holds a Socket per connection.
type socketHooks struct {
	middleware    []func(*Event) error // copied on write
	onError       []func(error)        // copied on write
	outgoing      []*outListener       // OnAnyOutgoing; appended, snapshots stay valid
	disconnecting []func(Reason)       // OnDisconnecting; likewise
	limiter       *eventLimiter        // the namespace's RateLimits, counted for this socket
	// closedWhileWelcoming is the reason of a disconnection claimed while
	// the connection handlers ran, finished once they return; "" if none.
	closedWhileWelcoming Reason
}

type pendingAck struct {
	fn    func(Args, error)
	timer *time.Timer
	sent  time.Time // for Observer.AckReceived; zero without an observer
}

func newSocket(ns *Namespace, c *client, auth json.RawMessage) *Socket {
	return &Socket{id: newID(), ns: ns, client: c, auth: string(auth)}
}

// ID returns the socket id, distinct from the Engine.IO session id; every
// socket is in the room named by its id.
func (s *Socket) ID() string { return s.id }

// Namespace returns the socket's namespace.
func (s *Socket) Namespace() *Namespace { return s.ns }

// Handshake returns the connection's handshake details. Each call builds
// them anew (headers and query included) from what the connection kept of
// its handshake request: a server holds thousands of sockets that mostly
// never ask, so none of them keeps a parsed copy. Keep the result rather
// than calling Handshake in a loop.
func (s *Socket) Handshake() Handshake {
	r := s.client.conn.Request()
	addr := r.RemoteAddr
	if host, _, err := net.SplitHostPort(addr); err == nil {
		addr = host
	}
	created := s.client.conn.Created()
	return Handshake{
		Headers: r.Header,
		Time:    created,
		Issued:  created.UnixMilli(),
		Address: addr,
		XDomain: r.Header.Get("Origin") != "",
		Secure:  r.TLS != nil,
		URL:     r.RequestURI,
		Query:   r.URL.Query(),
		Auth:    authOf(s.auth),
	}
}

// Recovered reports whether the socket is one its client had before
// losing its connection, restored by connection state recovery: the same
// ID, rooms and Set values, with the events it missed sent just before its
// CONNECT packet (Node: socket.recovered).
func (s *Socket) Recovered() bool { return s.rec != nil && s.rec.recovered }

// Conn returns the underlying Engine.IO connection, shared by every
// namespace socket of the client.
func (s *Socket) Conn() *engineio.Conn { return s.client.conn }

// Connected reports whether the socket is connected.
func (s *Socket) Connected() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.connected && !s.closing.Load()
}

// Set stores a user value on the socket (Node: socket.data); FetchSockets
// returns these values for every socket.
func (s *Socket) Set(key string, value any) {
	s.mu.Lock()
	if s.data == nil {
		s.data = make(map[string]any)
	}
	s.data[key] = value
	s.mu.Unlock()
}

// Get returns a value stored with Set.
func (s *Socket) Get(key string) (any, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.data[key]
	return v, ok
}

func (s *Socket) dataCopy() map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.data)
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

// Use adds a middleware for the events the socket receives (Node:
// socket.use). Each event goes through the middleware in the order added,
// after the catch-all handlers (OnAny, as in Node) and before the event's
// own handlers; a middleware may change e.Args. An error stops the event:
// its handlers do not run (a once-handler stays registered) and the error
// goes to the OnError handlers, or is logged at debug level when there is
// none. An event stopped this way gets no acknowledgement unless the
// middleware or an OnError handler calls e.Ack. Middleware runs on the
// socket's dispatch goroutine, like the handlers.
func (s *Socket) Use(fn func(e *Event) error) {
	s.mu.Lock()
	h := s.hooksLocked()
	h.middleware = append(h.middleware[:len(h.middleware):len(h.middleware)], fn)
	s.mu.Unlock()
}

// OnError registers fn, called with the error of a middleware (Use) that
// stopped an event (Node: the socket's "error" event), and with the
// *ArgError of a typed handler (Typed1, ...) whose arguments did not
// decode. A common answer is s.Disconnect(false).
func (s *Socket) OnError(fn func(err error)) {
	s.mu.Lock()
	h := s.hooksLocked()
	h.onError = append(h.onError[:len(h.onError):len(h.onError)], fn)
	s.mu.Unlock()
}

// requires s.mu
func (s *Socket) hooksLocked() *socketHooks {
	if s.hooks == nil {
		s.hooks = &socketHooks{}
	}
	return s.hooks
}

// admit runs the middleware for e and reports whether its handlers run.
func (s *Socket) admit(e *Event) bool {
	s.mu.Lock()
	var mws []func(*Event) error
	if s.hooks != nil {
		mws = s.hooks.middleware
	}
	s.mu.Unlock()
	for _, m := range mws {
		err := errMiddlewarePanicked // stays if m panics: a failing check stops
		s.safely(func() { err = m(e) })
		if err == nil {
			continue
		}
		s.mu.Lock()
		onErr := s.hooks.onError
		s.mu.Unlock()
		if len(onErr) == 0 {
			s.ns.srv.logger.Debug("socketio: socket middleware stopped an event", "nsp", s.ns.name, "socket", s.id, "event", e.Name, "err", err)
		}
		for _, fn := range onErr {
			s.safely(func() { fn(err) })
		}
		return false
	}
	return true
}

// OnAnyOutgoing registers a handler called for every event the socket
// emits (not for broadcasts), before it is sent.
func (s *Socket) OnAnyOutgoing(fn func(event string, args []any)) {
	s.mu.Lock()
	h := s.hooksLocked()
	h.outgoing = append(h.outgoing, &outListener{fn: fn})
	s.mu.Unlock()
}

// OffAnyOutgoing removes every outgoing catch-all handler.
func (s *Socket) OffAnyOutgoing() {
	s.mu.Lock()
	if s.hooks != nil {
		s.hooks.outgoing = nil
	}
	s.mu.Unlock()
}

// OnDisconnecting registers fn, called when the socket is about to
// disconnect, while Rooms still lists its rooms.
func (s *Socket) OnDisconnecting(fn func(Reason)) {
	s.mu.Lock()
	h := s.hooksLocked()
	h.disconnecting = append(h.disconnecting, fn)
	s.mu.Unlock()
}

// OnDisconnect registers fn, called once the socket has disconnected.
func (s *Socket) OnDisconnect(fn func(Reason)) {
	s.mu.Lock()
	s.onDisconnect = append(s.onDisconnect, fn)
	s.mu.Unlock()
}

// Send emits the "message" event (Node: socket.send; python-socketio's
// send), which clients receive with on("message").
func (s *Socket) Send(args ...any) error { return s.Emit("message", args...) }

// Emit sends event to this client. []byte arguments (also nested in []any
// and map[string]any) travel as binary attachments. If the last argument
// is an AckFunc, the client's acknowledgement is passed to it.
func (s *Socket) Emit(event string, args ...any) error {
	return SocketEmitter{s: s}.Emit(event, args...)
}

// EmitWithAck sends event and waits for the client's acknowledgement or
// the end of ctx. Do not call it from the socket's own handlers (see the
// concurrency contract).
func (s *Socket) EmitWithAck(ctx context.Context, event string, args ...any) (Args, error) {
	return SocketEmitter{s: s}.EmitWithAck(ctx, event, args...)
}

// Volatile returns an emitter whose events may be dropped if the client
// is not ready to receive them.
func (s *Socket) Volatile() SocketEmitter { return SocketEmitter{s: s, volatile: true} }

// Compress(false) returns an emitter that sends uncompressed (see
// BroadcastOperator.Compress).
func (s *Socket) Compress(compress bool) SocketEmitter {
	return SocketEmitter{s: s, noCompress: !compress}
}

// Timeout returns an emitter whose AckFunc receives ErrTimeout when the
// client does not answer within d.
func (s *Socket) Timeout(d time.Duration) SocketEmitter { return SocketEmitter{s: s, timeout: d} }

// SocketEmitter emits to one socket with flags; it is an immutable value.
type SocketEmitter struct {
	s          *Socket
	volatile   bool
	noCompress bool
	timeout    time.Duration
}

// Compress(false) returns a copy that sends uncompressed (see
// BroadcastOperator.Compress).
func (e SocketEmitter) Compress(c bool) SocketEmitter { e.noCompress = !c; return e }

// Volatile returns a copy with the volatile flag set.
func (e SocketEmitter) Volatile() SocketEmitter { e.volatile = true; return e }

// Timeout returns a copy with the acknowledgement timeout set.
func (e SocketEmitter) Timeout(d time.Duration) SocketEmitter { e.timeout = d; return e }

// Emit sends event (see Socket.Emit).
func (e SocketEmitter) Emit(event string, args ...any) error {
	var ack AckFunc
	if n := len(args); n > 0 {
		if fn, ok := args[n-1].(AckFunc); ok {
			ack, args = fn, args[:n-1]
		} else if fn, ok := args[n-1].(func(Args, error)); ok {
			ack, args = fn, args[:n-1]
		}
	}
	_, err := e.s.emit(event, args, e.volatile, e.noCompress, e.timeout, ack)
	return err
}

// EmitWithAck sends event and waits for the answer (see
// Socket.EmitWithAck). The emitter's Timeout, when set, also applies.
func (e SocketEmitter) EmitWithAck(ctx context.Context, event string, args ...any) (Args, error) {
	type result struct {
		args Args
		err  error
	}
	ch := make(chan result, 1)
	id, err := e.s.emit(event, args, e.volatile, e.noCompress, e.timeout, func(a Args, err error) { ch <- result{a, err} })
	if err != nil {
		return Args{}, err
	}
	select {
	case r := <-ch:
		return r.args, r.err
	case <-ctx.Done():
		e.s.dropAck(id)
		return Args{}, ctxError(ctx)
	}
}

// ctxError maps a context's end to ErrTimeout for deadlines, so callers
// test one error whichever way the timeout was set.
func ctxError(ctx context.Context) error {
	if ctx.Err() == context.DeadlineExceeded {
		return ErrTimeout
	}
	return ctx.Err()
}

func (s *Socket) emit(event string, args []any, volatile, noCompress bool, timeout time.Duration, ack func(Args, error)) (uint64, error) {
	if isReserved(event) {
		return 0, ErrReservedEvent
	}
	s.mu.Lock()
	if !s.connected || s.closing.Load() {
		s.mu.Unlock()
		return 0, ErrDisconnected
	}
	var outs []*outListener
	if s.hooks != nil {
		outs = s.hooks.outgoing
	}
	s.mu.Unlock()
	for _, l := range outs {
		s.safely(func() { l.fn(event, args) })
	}
	pkt, err := eventPacket(s.ns.name, event, args)
	if err != nil {
		return 0, err
	}
	if s.ns.sessions != nil && ack == nil && !volatile {
		// Through the adapter, to the socket's own room, so that the
		// event is logged with an offset and recovered if it is lost
		// with the connection (as the reference server does).
		return 0, s.ns.adapter.Broadcast(&pkt, adapter.Options{Rooms: []string{s.id}, Flags: adapter.Flags{NoCompress: noCompress}})
	}
	if ack != nil {
		pkt.ID, pkt.HasID = s.ns.nextAckID(), true
		var sent time.Time
		if s.ns.srv.observer() != nil {
			sent = time.Now()
		}
		s.registerAck(pkt.ID, ack, timeout, sent)
	}
	if err := s.client.writePacketCompress(&pkt, volatile, noCompress); err != nil {
		if ack != nil && s.takeAck(pkt.ID) == nil {
			return pkt.ID, nil // the disconnection the failure caused took the ack: its ErrDisconnected is the one report
		}
		return 0, err
	}
	return pkt.ID, nil
}

// eventPacket builds the EVENT (or BINARY_EVENT) packet for event and args.
func eventPacket(nsp, event string, args []any) (parser.Packet, error) {
	all := make([]any, 0, 1+len(args))
	all = append(all, event)
	all = append(all, args...)
	data, atts, err := parser.EncodeArgs(all)
	if err != nil {
		return parser.Packet{}, err
	}
	t := parser.Event
	if len(atts) > 0 {
		t = parser.BinaryEvent
	}
	return parser.Packet{Type: t, Namespace: nsp, Data: data, Attachments: atts}, nil
}

// registerAck waits for the answer id; sent is when the emit left, for
// the observer (zero without one).
func (s *Socket) registerAck(id uint64, fn func(Args, error), timeout time.Duration, sent time.Time) {
	p := &pendingAck{fn: fn, sent: sent}
	s.mu.Lock()
	if s.acks == nil {
		s.acks = make(map[uint64]*pendingAck)
	}
	s.acks[id] = p
	if timeout > 0 {
		p.timer = time.AfterFunc(timeout, func() {
			if s.takeAck(id) != nil {
				s.safely(func() { fn(Args{}, ErrTimeout) })
			}
		})
	}
	s.mu.Unlock()
}

// takeAck removes and returns the pending ack id (nil if gone).
func (s *Socket) takeAck(id uint64) *pendingAck {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.acks[id]
	if p != nil {
		delete(s.acks, id)
		if p.timer != nil {
			p.timer.Stop()
		}
	}
	return p
}

func (s *Socket) dropAck(id uint64) { s.takeAck(id) }

func (s *Socket) sendAck(id uint64, args []any) error {
	if args == nil {
		args = []any{}
	}
	data, atts, err := parser.EncodeArgs(args)
	if err != nil {
		return err
	}
	t := parser.Ack
	if len(atts) > 0 {
		t = parser.BinaryAck
	}
	s.mu.Lock()
	ok := s.connected
	s.mu.Unlock()
	if !ok {
		return ErrDisconnected
	}
	return s.client.writePacket(&parser.Packet{Type: t, Namespace: s.ns.name, ID: id, HasID: true, Data: data, Attachments: atts}, false)
}

// Join adds the socket to rooms.
func (s *Socket) Join(rooms ...string) {
	// Held across AddAll so a concurrent disconnect (which marks the
	// socket closing, then removes it from every room) cannot slip in
	// between the check and the join and leave it in a room for good.
	s.mu.Lock()
	joined := s.connected && !s.closing.Load()
	if joined {
		s.ns.adapter.AddAll(s.id, rooms)
	}
	s.mu.Unlock()
	if joined {
		syncRooms(s.ns.adapter)
	}
}

// syncRooms waits, with no lock held, until a cluster adapter that listens
// per room hears the rooms of the joins so far (adapter.RoomSyncer).
func syncRooms(a adapter.Adapter) {
	if rs, ok := a.(adapter.RoomSyncer); ok {
		rs.SyncRooms()
	}
}

// Leave removes the socket from room.
func (s *Socket) Leave(room string) { s.ns.adapter.Del(s.id, room) }

// Rooms lists the socket's rooms, its own id included.
func (s *Socket) Rooms() []string { return s.ns.adapter.SocketRooms(s.id) }

// To returns a broadcast to rooms from this socket: every socket in them
// but this one.
func (s *Socket) To(rooms ...string) BroadcastOperator { return s.Broadcast().To(rooms...) }

// In is To.
func (s *Socket) In(rooms ...string) BroadcastOperator { return s.To(rooms...) }

// Except returns a broadcast from this socket to every socket but this one
// and those in rooms.
func (s *Socket) Except(rooms ...string) BroadcastOperator { return s.Broadcast().Except(rooms...) }

// Broadcast returns a broadcast to every socket of the namespace but this
// one.
func (s *Socket) Broadcast() BroadcastOperator {
	return newBroadcast(s.ns).Except(s.id)
}

// Disconnect disconnects the socket from its namespace: the client
// receives a DISCONNECT packet and does not reconnect by itself. With
// close, every namespace of the client is disconnected and the underlying
// connection closed.
func (s *Socket) Disconnect(close bool) {
	if close {
		s.client.disconnectAll()
		return
	}
	s.disconnect(ReasonServerNamespaceDisconnect)
}

// disconnect disconnects the socket from its namespace with a DISCONNECT
// packet, its handlers told reason.
func (s *Socket) disconnect(reason Reason) {
	// The socket is marked closing before the DISCONNECT packet leaves:
	// the client may close its transport as soon as it reads the packet,
	// and that close must not win the race and name the disconnection
	// "transport close".
	discoing, ok := s.beginClose()
	if !ok {
		return
	}
	_ = s.client.writePacket(&parser.Packet{Type: parser.Disconnect, Namespace: s.ns.name}, false)
	if testHookDisconnectWritten != nil {
		testHookDisconnectWritten(s)
	}
	s.finishClose(reason, discoing)
}

// testHookDisconnectWritten, set only by tests, runs between the
// DISCONNECT packet's write and the end of Socket.Disconnect.
var testHookDisconnectWritten func(*Socket)

// onClose runs the disconnection once: disconnecting handlers (rooms still
// visible), cleanup, pending acks failed, disconnect handlers.
func (s *Socket) onClose(reason Reason) {
	if discoing, ok := s.beginClose(); ok {
		s.finishClose(reason, discoing)
	}
}

// beginClose claims the disconnection for its caller: it reports false
// when the socket is not connected or another caller already claimed it,
// and returns the disconnecting handlers to run.
func (s *Socket) beginClose() (discoing []func(Reason), ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.connected || s.closing.Load() {
		return nil, false
	}
	s.closing.Store(true)
	if s.hooks != nil {
		discoing = s.hooks.disconnecting
	}
	return discoing, true
}

// finishClose runs a disconnection claimed by beginClose. While the
// connection handlers run it is put off until they return (welcomed):
// handlers they register after the disconnection began would be missed,
// and in Node, where they run within the connect, nothing can come between.
func (s *Socket) finishClose(reason Reason, discoing []func(Reason)) {
	s.mu.Lock()
	if s.welcoming {
		s.hooksLocked().closedWhileWelcoming = reason
		s.mu.Unlock()
		return
	}
	s.mu.Unlock()
	for _, fn := range discoing {
		s.safely(func() { fn(reason) })
	}
	if sessions := s.ns.sessions; sessions != nil && s.rec != nil && recoverable(reason) {
		sessions.PersistSession(adapter.Session{
			SID: s.id, PID: s.rec.pid, Rooms: s.ns.adapter.SocketRooms(s.id), Data: s.dataCopy(),
		})
	}
	s.ns.adapter.DelAll(s.id)
	s.ns.remove(s)
	s.client.remove(s)

	s.mu.Lock()
	s.connected = false
	acks := s.acks
	s.acks = nil
	disc := s.onDisconnect
	s.mu.Unlock()
	for _, p := range acks {
		if p.timer != nil {
			p.timer.Stop()
		}
		s.safely(func() { p.fn(Args{}, ErrDisconnected) })
	}
	if o := s.ns.srv.observer(); o != nil {
		o.SocketDisconnected(SocketDisconnect{Namespace: s.ns.name, Reason: reason})
	}
	for _, fn := range disc {
		s.safely(func() { fn(reason) })
	}
}

// welcomed ends the connection handlers' run (connectOnce), finishing a
// disconnection put off meanwhile, with the disconnecting handlers
// registered by then.
func (s *Socket) welcomed() {
	s.mu.Lock()
	s.welcoming = false
	var reason Reason
	var discoing []func(Reason)
	if h := s.hooks; h != nil {
		reason, discoing = h.closedWhileWelcoming, h.disconnecting
	}
	s.mu.Unlock()
	if reason != "" {
		s.finishClose(reason, discoing)
	}
}

// onPacket handles a packet for this namespace (not CONNECT).
func (s *Socket) onPacket(p *parser.Packet) {
	switch p.Type {
	case parser.Event, parser.BinaryEvent:
		s.onEvent(p)
	case parser.Ack, parser.BinaryAck:
		raw, err := parser.SplitArray(p.Data)
		if err != nil {
			return
		}
		if a := s.takeAck(p.ID); a != nil {
			if o := s.ns.srv.observer(); o != nil && !a.sent.IsZero() {
				o.AckReceived(AckStat{Namespace: s.ns.name, RTT: time.Since(a.sent)})
			}
			s.safely(func() { a.fn(Args{Raw: raw, Attachments: p.Attachments}, nil) })
		}
	case parser.Disconnect:
		s.onClose(ReasonClientNamespaceDisconnect)
	}
}

func (s *Socket) onEvent(p *parser.Packet) {
	raw, err := parser.SplitArray(p.Data)
	if err != nil || len(raw) == 0 {
		return
	}
	var name string
	if json.Unmarshal(raw[0], &name) != nil {
		// The reference parser also accepts a number as the event name.
		name = string(raw[0])
	}
	e := &Event{
		Name:   name,
		Args:   Args{Raw: raw[1:], Attachments: p.Attachments},
		socket: s,
		ackID:  p.ID,
		hasAck: p.HasID,
	}
	s.mu.Lock()
	ok := s.connected && !s.closing.Load()
	var lim *eventLimiter
	if ok {
		lim = s.limiterLocked()
	}
	s.mu.Unlock()
	if !ok {
		return
	}
	if lim != nil {
		if v := lim.check(name, time.Now()); v != passed {
			s.refuse(e, lim, v)
			return
		}
	}
	for _, fn := range s.handlers.CatchAll() {
		s.safely(func() { fn(e) })
	}
	if !s.admit(e) {
		return
	}
	for _, fn := range s.handlers.TakeNamed(name) {
		s.safely(func() { fn(e) })
	}
}

// safely runs user code; a panic is logged and contained to this call so
// it never takes the server down.
func (s *Socket) safely(fn func()) { s.ns.safely(s.id, fn) }

func (s *Socket) details() adapter.SocketDetails {
	d := adapter.SocketDetails{ID: s.id, Handshake: s.Handshake(), Rooms: s.Rooms()}
	if m := s.dataCopy(); m != nil {
		d.Data = m
	}
	return d
}

// authOf returns a socket's auth as Handshake carries it: nil when the
// CONNECT packet had none.
func authOf(auth string) json.RawMessage {
	if auth == "" {
		return nil
	}
	return json.RawMessage(auth)
}
