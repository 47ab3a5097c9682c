package socketio

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchboard-go/socketio/adapter"
	"github.com/switchboard-go/socketio/engineio"
	"github.com/switchboard-go/socketio/parser"
)

// Namespace is a communication channel multiplexed on the connections:
// its own sockets, middleware, handlers and rooms. Its methods are safe for
// concurrent use.
type Namespace struct {
	srv     *Server
	name    string
	parent  *ParentNamespace // set for a namespace created from a dynamic pattern
	adapter adapter.Adapter
	// sessions is the adapter's recovery side; nil when recovery is off
	// or the adapter has none.
	sessions adapter.SessionAware
	ackIDs   atomic.Uint64

	rooms roomEvents // OnRoom

	serverSide serverSideHandlers // OnServerSideEmit

	limits atomic.Pointer[RateLimits] // SetRateLimits; nil: the parent's, or none

	mu          sync.RWMutex
	sockets     map[string]*Socket
	middlewares []Middleware
	onConn      []func(*Socket)
	dropped     bool // removed by CleanupEmptyChildNamespaces: takes no socket
}

func newNamespace(srv *Server, name string, parent *ParentNamespace) *Namespace {
	ns := &Namespace{srv: srv, name: name, parent: parent, sockets: make(map[string]*Socket)}
	ns.adapter = srv.adapterFactory(nsHost{ns})
	if srv.recovery != nil {
		if sa, ok := ns.adapter.(adapter.SessionAware); ok {
			ns.sessions = sa
		} else {
			srv.logger.Warn("socketio: connection state recovery is on but the adapter keeps no sessions: no socket will be recovered", "namespace", name)
		}
	}
	return ns
}

// Name returns the namespace name, e.g. "/" or "/chat".
func (ns *Namespace) Name() string { return ns.name }

// Adapter returns the namespace's adapter.
func (ns *Namespace) Adapter() adapter.Adapter { return ns.adapter }

// Use adds connection middleware (Node: namespace.use).
func (ns *Namespace) Use(m Middleware) {
	ns.mu.Lock()
	ns.middlewares = append(ns.middlewares, m)
	ns.mu.Unlock()
}

// OnConnection registers fn, called for every socket that connects (Node:
// the "connection" event), after the client has been told it is
// connected.
func (ns *Namespace) OnConnection(fn func(*Socket)) {
	ns.mu.Lock()
	ns.onConn = append(ns.onConn, fn)
	ns.mu.Unlock()
}

// Sockets returns the sockets connected to this namespace on this server.
func (ns *Namespace) Sockets() []*Socket {
	ns.mu.RLock()
	defer ns.mu.RUnlock()
	out := make([]*Socket, 0, len(ns.sockets))
	for _, s := range ns.sockets {
		out = append(out, s)
	}
	return out
}

// Socket returns the local socket with the given id.
func (ns *Namespace) Socket(id string) (*Socket, bool) {
	ns.mu.RLock()
	defer ns.mu.RUnlock()
	s, ok := ns.sockets[id]
	return s, ok
}

func (ns *Namespace) nextAckID() uint64 { return ns.ackIDs.Add(1) - 1 }

// forgetAck drops the pending acknowledgement id from every local socket
// (ack ids are unique per namespace).
func (ns *Namespace) forgetAck(id uint64) {
	for _, s := range ns.Sockets() {
		s.dropAck(id)
	}
}

func (ns *Namespace) remove(s *Socket) {
	ns.mu.Lock()
	if ns.sockets[s.id] == s {
		delete(ns.sockets, s.id)
	}
	empty := len(ns.sockets) == 0
	ns.mu.Unlock()
	if empty && ns.parent != nil && ns.srv.cleanupEmpty {
		ns.srv.dropChild(ns)
	}
}

// register adds s to the namespace's sockets; false when the namespace
// was dropped (CleanupEmptyChildNamespaces) and takes no more, or the id
// is taken (a session recovered twice at once).
func (ns *Namespace) register(s *Socket) bool {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	if _, taken := ns.sockets[s.id]; taken || ns.dropped {
		return false
	}
	ns.sockets[s.id] = s
	return true
}

// handlers returns the middleware and connection handlers to run: a
// parent pattern's first, then the namespace's own.
func (ns *Namespace) handlers() ([]Middleware, []func(*Socket)) {
	var mws []Middleware
	var conns []func(*Socket)
	if p := ns.parent; p != nil {
		p.mu.RLock()
		mws = append(mws, p.middlewares...)
		conns = append(conns, p.onConn...)
		p.mu.RUnlock()
	}
	ns.mu.RLock()
	mws = append(mws, ns.middlewares...)
	conns = append(conns, ns.onConn...)
	ns.mu.RUnlock()
	return mws, conns
}

// Broadcast operators (Node: namespace.to(...).emit(...)).

// Send emits the "message" event to every socket of the namespace.
func (ns *Namespace) Send(args ...any) error { return ns.Emit("message", args...) }

// Emit sends event to every socket of the namespace.
func (ns *Namespace) Emit(event string, args ...any) error {
	return newBroadcast(ns).Emit(event, args...)
}

// EmitWithAck sends event to every socket and collects their answers.
func (ns *Namespace) EmitWithAck(ctx context.Context, event string, args ...any) ([]Args, error) {
	return newBroadcast(ns).EmitWithAck(ctx, event, args...)
}

// To selects the sockets in rooms (a union when called again).
func (ns *Namespace) To(rooms ...string) BroadcastOperator { return newBroadcast(ns).To(rooms...) }

// In is To.
func (ns *Namespace) In(rooms ...string) BroadcastOperator { return ns.To(rooms...) }

// Except excludes the sockets in rooms.
func (ns *Namespace) Except(rooms ...string) BroadcastOperator {
	return newBroadcast(ns).Except(rooms...)
}

// Volatile returns a broadcast whose packets may be dropped for clients
// that are behind.
func (ns *Namespace) Volatile() BroadcastOperator { return newBroadcast(ns).Volatile() }

// Local returns a broadcast to this server's sockets only.
func (ns *Namespace) Local() BroadcastOperator { return newBroadcast(ns).Local() }

// Compress returns a broadcast with the compression hint set.
func (ns *Namespace) Compress(c bool) BroadcastOperator { return newBroadcast(ns).Compress(c) }

// Timeout returns a broadcast whose EmitWithAck gives up after d.
func (ns *Namespace) Timeout(d time.Duration) BroadcastOperator {
	return newBroadcast(ns).Timeout(d)
}

// FetchSockets returns handles on every socket of the namespace.
func (ns *Namespace) FetchSockets(ctx context.Context) ([]*RemoteSocket, error) {
	return newBroadcast(ns).FetchSockets(ctx)
}

// SocketsJoin makes every socket join rooms.
func (ns *Namespace) SocketsJoin(rooms ...string) error {
	return newBroadcast(ns).SocketsJoin(rooms...)
}

// SocketsLeave makes every socket leave rooms.
func (ns *Namespace) SocketsLeave(rooms ...string) error {
	return newBroadcast(ns).SocketsLeave(rooms...)
}

// DisconnectSockets disconnects every socket.
func (ns *Namespace) DisconnectSockets(close bool) error {
	return newBroadcast(ns).DisconnectSockets(close)
}

// ServerSideEmit sends an event to the other servers of a cluster; with
// the in-memory adapter there are none and it does nothing.
func (ns *Namespace) ServerSideEmit(ctx context.Context, event string, args ...any) error {
	if isReserved(event) {
		return ErrReservedEvent
	}
	return ns.adapter.ServerSideEmit(ctx, append([]any{event}, args...))
}

// nsHost is the adapter's view of the namespace.
type nsHost struct{ ns *Namespace }

func (h nsHost) Name() string { return h.ns.name }

// Recovery implements adapter.RecoveryHost.
func (h nsHost) Recovery() (adapter.RecoveryConfig, bool) {
	r := h.ns.srv.recovery
	if r == nil {
		return adapter.RecoveryConfig{}, false
	}
	return adapter.RecoveryConfig{MaxDisconnectionDuration: r.MaxDisconnectionDuration, MaxLogBytes: r.MaxLogBytes}, true
}

// prepareFrames frames a packet once for every target.
func prepareFrames(frames []adapter.Frame, noCompress bool) *engineio.Prepared {
	msgs := make([]engineio.Message, len(frames))
	for i, f := range frames {
		msgs[i] = engineio.Message{Data: f.Data, Binary: f.Binary, NoCompress: noCompress}
	}
	return engineio.Prepare(msgs)
}

func (h nsHost) Deliver(ids []string, frames []adapter.Frame, opts adapter.DeliverOptions) {
	ns := h.ns
	wire, err := ns.srv.wireFrames(frames)
	if err != nil {
		ns.srv.logger.Warn("socketio: cannot encode broadcast", "nsp", ns.name, "err", err)
		return
	}
	prepared := prepareFrames(wire, opts.NoCompress)
	obs := ns.srv.observer()
	var sent time.Time
	if obs != nil && opts.OnAck != nil {
		sent = time.Now()
	}
	delivered := 0
	ns.mu.RLock()
	for _, id := range ids {
		s := ns.sockets[id]
		if s == nil || s.closing.Load() {
			continue
		}
		delivered++
		if opts.OnAck != nil {
			onAck := opts.OnAck
			s.registerAck(opts.AckID, func(a Args, err error) {
				if err == nil {
					onAck(id, a)
				}
			}, opts.AckTimeout, sent)
		}
		if s.rec != nil && s.rec.restoring.Load() && s.hold(prepared, opts.Volatile) {
			continue
		}
		_ = s.client.conn.SendPrepared(prepared, opts.Volatile)
	}
	ns.mu.RUnlock()
	if obs != nil && delivered > 0 && len(frames) > 0 && len(frames[0].Data) > 0 {
		obs.Broadcast(BroadcastStat{
			Namespace:  ns.name,
			Type:       parser.PacketType(frames[0].Data[0] - '0'),
			Deliveries: delivered,
			Bytes:      framesBytes(wire),
			Messages:   len(wire),
		})
	}
}

func (h nsHost) SocketDetails(id string) (adapter.SocketDetails, bool) {
	s, ok := h.ns.Socket(id)
	if !ok {
		return adapter.SocketDetails{}, false
	}
	return s.details(), true
}

func (h nsHost) DisconnectSocket(id string, close bool) {
	if s, ok := h.ns.Socket(id); ok {
		s.Disconnect(close)
	}
}

// newID returns a 20-character random id (15 random bytes, URL-safe
// base64), the shape of the reference server's ids.
func newID() string {
	var b [15]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}
