package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchboard-go/socketio/adapter"
	"github.com/switchboard-go/socketio/parser"
)

// Bus is one namespace's connection to the cluster, made by a Transport.
// Publishing methods return once the backend accepted the message (not
// once other servers handled it).
type Bus interface {
	PublishBroadcast(ctx context.Context, b *Broadcast) error
	PublishRequest(ctx context.Context, r *Request) error
	// PublishResponse answers req, a request another server made.
	PublishResponse(ctx context.Context, req *Request, r *Response) error
	// ServerCount is the number of servers listening to the namespace,
	// this one included.
	ServerCount(ctx context.Context) (int, error)
	// Close stops delivering to the Receiver and releases the bus.
	Close() error
}

// RoomSubscriber is implemented by a Bus that listens to a channel per
// room, such as the sharded Redis adapter in its dynamic modes: a server
// then hears a single-room broadcast only when it has a socket in the
// room. The Adapter tells such a bus of every room its local index creates
// and deletes, and a join waits (SyncRooms) until the bus listens to the
// rooms it created (adapter.RoomSyncer), so that a broadcast published
// after Join returns reaches the socket.
type RoomSubscriber interface {
	// RoomsChanged receives the changes of the local room index
	// (adapter.RoomObserver's), in order, RoomCreated and RoomDeleted
	// among them. It runs under the local adapter's lock: it must only
	// queue the work, not block.
	RoomsChanged(changes []adapter.RoomChange)
	// SyncRooms waits until the subscriptions queued so far are in place,
	// or can be no sooner (the backend is unreachable), or ctx ends.
	SyncRooms(ctx context.Context)
}

// Transport connects the adapter of namespace nsp, known to the cluster as
// uid, and delivers what other servers publish to rcv. It returns once
// the subscriptions are in place, so that nothing published after it
// returns is missed.
type Transport func(ctx context.Context, nsp, uid string, rcv Receiver) (Bus, error)

// Config configures New.
type Config struct {
	Transport Transport
	// RequestTimeout bounds requests that wait for answers (FetchSockets,
	// ServerSideEmit with acks) and the setup of a namespace's bus;
	// default 5 s, as Node.
	RequestTimeout time.Duration
	// Logger receives the errors no caller can see (a message that does
	// not decode, a response that cannot be published); default
	// slog.Default().
	Logger *slog.Logger
	// OnError, when set, hears every failure of the adapter, for counting
	// (prommetrics counts them by namespace and kind): those its callers
	// see as errors and those only logged. It is called on the failing
	// goroutine and must not block.
	OnError func(Error)
	// Local makes the local part; default adapter.NewInMemory, or
	// adapter.NewInMemoryWithRecovery when the namespace's server has
	// connection state recovery on (adapter.RecoveryHost). When the local
	// part keeps sessions (adapter.SessionAware), so does the cluster
	// adapter: see RecoveringAdapter.
	Local adapter.Factory
}

// ErrTimeout is returned by a request not answered by every server
// within Config.RequestTimeout.
var ErrTimeout = errors.New("cluster: timeout reached while waiting for responses")

// Adapter is the cluster adapter of one namespace.
type Adapter struct {
	adapter.Adapter // the local sockets
	host            adapter.Host
	uid             string
	bus             Bus
	busErr          error // why there is no bus: every cluster operation returns it
	timeout         time.Duration
	log             *slog.Logger
	onError         func(Error) // nil: not counted

	mu       sync.Mutex
	pending  map[string]*pending    // requests waiting for answers
	ackReqs  map[string]*ackRequest // broadcasts with acks waiting for answers
	closed   bool
	remoteID atomic.Uint64 // ack ids of broadcasts from other servers

	// Room changes go to a RoomSubscriber bus once it is known: until the
	// Factory returns, the local index has no socket, and no message can
	// change its rooms.
	roomMode atomic.Int32
	roomSub  RoomSubscriber // under mu
}

const (
	roomsUnknown int32 = iota // the bus is being set up
	roomsWanted               // the bus is a RoomSubscriber
	roomsNone                 // it is not
)

type pending struct {
	typ  RequestType
	want int // answers awaited
	got  int
	resp []*Response
	done chan struct{}
}

type ackRequest struct {
	onClientCount func(int)
	onAck         func(adapter.Args)
	timer         *time.Timer
}

// remoteAckBase starts the ack ids this server gives to broadcasts it
// relays for another server: the namespace numbers its own from 0 on the
// same sockets, and 2^48 of them will not be reached, while every id stays
// exact in a JavaScript number.
const remoteAckBase = 1 << 48

// New returns the Factory of cluster adapters over cfg.Transport.
func New(cfg Config) adapter.Factory {
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = 5 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return func(host adapter.Host) adapter.Adapter {
		local := cfg.Local
		if local == nil {
			local = adapter.NewInMemory
			if rh, ok := host.(adapter.RecoveryHost); ok {
				if rc, on := rh.Recovery(); on {
					local = adapter.NewInMemoryWithRecovery(rc)
				}
			}
		}
		a := &Adapter{
			host:    host,
			uid:     newUID(),
			timeout: cfg.RequestTimeout,
			log:     cfg.Logger.With("namespace", host.Name()),
			onError: cfg.OnError,
			pending: make(map[string]*pending),
			ackReqs: make(map[string]*ackRequest),
		}
		a.remoteID.Store(remoteAckBase)
		a.Adapter = local(roomHost{host, a})
		ctx, cancel := context.WithTimeout(context.Background(), cfg.RequestTimeout)
		defer cancel()
		// The Factory cannot fail: a namespace whose bus cannot be set up
		// still serves its local sockets, and every cluster operation
		// reports why it cannot reach the others.
		a.bus, a.busErr = cfg.Transport(ctx, host.Name(), a.uid, receiver{a})
		if a.busErr != nil {
			a.busErr = fmt.Errorf("cluster: namespace %s is not connected to the cluster: %w", host.Name(), a.busErr)
			a.log.Error("socketio cluster adapter", "err", a.busErr)
			a.failed(ErrorSetup, a.busErr)
		}
		a.mu.Lock()
		if rs, ok := a.bus.(RoomSubscriber); ok {
			a.roomSub = rs
			a.roomMode.Store(roomsWanted)
		} else {
			a.roomMode.Store(roomsNone)
		}
		a.mu.Unlock()
		if sa, ok := a.Adapter.(adapter.SessionAware); ok {
			return &RecoveringAdapter{Adapter: a, sessions: sa}
		}
		return a
	}
}

// RecoveringAdapter is the cluster adapter of a namespace whose local part
// keeps sessions for connection state recovery: it is SessionAware, per
// server. What other servers broadcast reaches this server's sockets
// through its local part (Broadcast with their rooms), which logs it with
// an offset of this server's log like its own broadcasts; so a client
// that reconnects to the same server is given what every server sent it
// while it was away, in the order this server delivered it. Sessions are
// not shared: a client that reconnects to another server gets a new
// socket there. Node's classic Redis adapter recovers no session at all.
type RecoveringAdapter struct {
	*Adapter
	sessions adapter.SessionAware
}

var _ adapter.SessionAware = (*RecoveringAdapter)(nil)

// PersistSession implements adapter.SessionAware.
func (r *RecoveringAdapter) PersistSession(s adapter.Session) { r.sessions.PersistSession(s) }

// SessionSID implements adapter.SessionAware.
func (r *RecoveringAdapter) SessionSID(pid string) (string, bool) { return r.sessions.SessionSID(pid) }

// RestoreSession implements adapter.SessionAware.
func (r *RecoveringAdapter) RestoreSession(pid, offset string) (adapter.Restored, bool) {
	return r.sessions.RestoreSession(pid, offset)
}

// roomHost is the Host the local adapter sees: the namespace's, with the
// room changes also reported to a RoomSubscriber bus. The local adapter
// sees no other optional interface of the namespace's Host.
type roomHost struct {
	adapter.Host
	a *Adapter
}

func (h roomHost) inner() adapter.RoomObserver {
	if o, ok := h.Host.(adapter.RoomObserver); ok && o.ObservingRooms() {
		return o
	}
	return nil
}

func (h roomHost) ObservingRooms() bool {
	return h.a.roomMode.Load() == roomsWanted || h.inner() != nil
}

func (h roomHost) RoomsChanged(changes []adapter.RoomChange) {
	a := h.a
	if a.roomMode.Load() == roomsWanted {
		a.mu.Lock()
		a.roomSub.RoomsChanged(changes)
		a.mu.Unlock()
	}
	if o := h.inner(); o != nil {
		o.RoomsChanged(changes)
	}
}

// SyncRooms waits, on a RoomSubscriber bus, until the bus listens to the
// rooms the joins so far created (bounded by the request timeout); it
// implements adapter.RoomSyncer.
func (a *Adapter) SyncRooms() {
	if a.roomMode.Load() != roomsWanted {
		return
	}
	a.mu.Lock()
	rs := a.roomSub
	a.mu.Unlock()
	ctx, cancel := a.ctx()
	defer cancel()
	rs.SyncRooms(ctx)
}

var _ adapter.RoomSyncer = (*Adapter)(nil)

// UID is the adapter's name in the cluster.
func (a *Adapter) UID() string { return a.uid }

func newUID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// failed reports a failure to Config.OnError.
func (a *Adapter) failed(kind ErrorKind, err error) {
	if a.onError != nil {
		a.onError(Error{Namespace: a.host.Name(), Kind: kind, Err: err})
	}
}

// malformed logs and counts a message from the cluster dropped because it
// does not decode.
func (a *Adapter) malformed(what string, err error) {
	a.log.Warn("socketio cluster adapter: dropping "+what, "err", err)
	a.failed(ErrorMalformed, err)
}

func (a *Adapter) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), a.timeout)
}

// publish runs fn with the bus, or returns why there is none.
func (a *Adapter) publish(fn func(ctx context.Context) error) error {
	if a.busErr != nil {
		return a.busErr
	}
	ctx, cancel := a.ctx()
	defer cancel()
	err := fn(ctx)
	if err != nil {
		a.failed(ErrorPublish, err)
	}
	return err
}

func (a *Adapter) Broadcast(pkt *parser.Packet, opts adapter.Options) error {
	err := a.Adapter.Broadcast(pkt, opts)
	if opts.Flags.Local || err != nil {
		return err
	}
	cp, err := ToPacket(pkt)
	if err != nil {
		return err
	}
	b := &Broadcast{UID: a.uid, Packet: cp, Rooms: opts.Rooms, Except: opts.Except, Flags: flagsOf(opts.Flags)}
	return a.publish(func(ctx context.Context) error { return a.bus.PublishBroadcast(ctx, b) })
}

func flagsOf(f adapter.Flags) Flags {
	return Flags{Volatile: f.Volatile, NoCompress: f.NoCompress, Local: f.Local, Timeout: f.Timeout}
}

func optsOf(rooms, except []string, f Flags) adapter.Options {
	return adapter.Options{Rooms: rooms, Except: except, Flags: adapter.Flags{Volatile: f.Volatile, NoCompress: f.NoCompress, Timeout: f.Timeout}}
}

func (a *Adapter) BroadcastWithAck(pkt *parser.Packet, opts adapter.Options, onClientCount func(int), onAck func(adapter.Args)) error {
	if !opts.Flags.Local {
		cp, err := ToPacket(pkt)
		if err != nil {
			return err
		}
		req := &Request{UID: a.uid, RequestID: newUID(), Type: BroadcastWithAck, Packet: &cp,
			Rooms: opts.Rooms, Except: opts.Except, Flags: flagsOf(opts.Flags)}
		// Answers may come as soon as the request is out: register first.
		// Node keeps the request for the broadcast's timeout; without one
		// the request timeout bounds how long answers are taken.
		keep := opts.Flags.Timeout
		if keep <= 0 {
			keep = a.timeout
		}
		ar := &ackRequest{onClientCount: onClientCount, onAck: onAck}
		a.mu.Lock()
		a.ackReqs[req.RequestID] = ar
		ar.timer = time.AfterFunc(keep, func() {
			a.mu.Lock()
			delete(a.ackReqs, req.RequestID)
			a.mu.Unlock()
		})
		a.mu.Unlock()
		if err := a.publish(func(ctx context.Context) error { return a.bus.PublishRequest(ctx, req) }); err != nil {
			a.mu.Lock()
			delete(a.ackReqs, req.RequestID)
			a.mu.Unlock()
			ar.timer.Stop()
			return err
		}
	}
	return a.Adapter.BroadcastWithAck(pkt, opts, onClientCount, onAck)
}

func (a *Adapter) ServerCount(ctx context.Context) (int, error) {
	if a.busErr != nil {
		return 0, a.busErr
	}
	return a.bus.ServerCount(ctx)
}

func (a *Adapter) AddSockets(opts adapter.Options, rooms []string) error {
	return a.remote(opts, func() error { return a.Adapter.AddSockets(opts, rooms) },
		&Request{Type: RemoteJoin, JoinRooms: rooms})
}

func (a *Adapter) DelSockets(opts adapter.Options, rooms []string) error {
	return a.remote(opts, func() error { return a.Adapter.DelSockets(opts, rooms) },
		&Request{Type: RemoteLeave, JoinRooms: rooms})
}

func (a *Adapter) DisconnectSockets(opts adapter.Options, close bool) error {
	return a.remote(opts, func() error { return a.Adapter.DisconnectSockets(opts, close) },
		&Request{Type: RemoteDisconnect, Close: close})
}

// remote applies an operation locally, then asks the others to apply it
// unless it is local only. Node answers no such request, so neither waits.
func (a *Adapter) remote(opts adapter.Options, local func() error, req *Request) error {
	if err := local(); err != nil || opts.Flags.Local {
		return err
	}
	req.UID, req.Rooms, req.Except = a.uid, opts.Rooms, opts.Except
	return a.publish(func(ctx context.Context) error { return a.bus.PublishRequest(ctx, req) })
}

func (a *Adapter) ServerSideEmit(ctx context.Context, args []any) error {
	data, err := PlainValues(args)
	if err != nil {
		return err
	}
	if a.busErr != nil {
		return a.busErr
	}
	return a.bus.PublishRequest(ctx, &Request{UID: a.uid, Type: ServerSideEmit, Data: data})
}

// ServerSideEmitWithAck sends an event to the other servers and gathers
// one answer from each within the request timeout (or ctx). On timeout it
// returns the answers received and an error wrapping ErrTimeout.
func (a *Adapter) ServerSideEmitWithAck(ctx context.Context, args []any) ([]adapter.Args, error) {
	data, err := PlainValues(args)
	if err != nil {
		return nil, err
	}
	rs, err := a.request(ctx, &Request{Type: ServerSideEmit, Data: data}, -1)
	out := make([]adapter.Args, 0, len(rs))
	for _, r := range rs {
		args, aerr := ValueArgs(r.Data)
		if aerr != nil {
			a.malformed("an acknowledgement", aerr)
			continue
		}
		out = append(out, args)
	}
	return out, err
}

var _ adapter.ServerSideAcker = (*Adapter)(nil)

func (a *Adapter) FetchSockets(ctx context.Context, opts adapter.Options) ([]adapter.SocketDetails, error) {
	local, err := a.Adapter.FetchSockets(ctx, opts)
	if err != nil || opts.Flags.Local {
		return local, err
	}
	rs, err := a.request(ctx, &Request{Type: RemoteFetch, Rooms: opts.Rooms, Except: opts.Except}, -1)
	for _, r := range rs {
		local = append(local, r.Sockets...)
	}
	return local, err
}

// AllRooms returns the rooms of every server.
func (a *Adapter) AllRooms(ctx context.Context) ([]string, error) {
	seen := map[string]bool{}
	var out []string
	add := func(rooms []string) {
		for _, r := range rooms {
			if !seen[r] {
				seen[r] = true
				out = append(out, r)
			}
		}
	}
	add(a.Adapter.Rooms())
	rs, err := a.request(ctx, &Request{Type: AllRooms}, -1)
	for _, r := range rs {
		add(r.Rooms)
	}
	return out, err
}

// request publishes req and waits for want answers (-1: one per other
// server, as the bus counts them).
func (a *Adapter) request(ctx context.Context, req *Request, want int) ([]*Response, error) {
	if a.busErr != nil {
		return nil, a.busErr
	}
	ctx, cancel := context.WithTimeout(ctx, a.timeout)
	defer cancel()
	if want < 0 {
		n, err := a.bus.ServerCount(ctx)
		if err != nil {
			a.failed(ErrorPublish, err)
			return nil, err
		}
		want = n - 1
	}
	if want <= 0 {
		return nil, nil
	}
	req.UID, req.RequestID = a.uid, newUID()
	p := &pending{typ: req.Type, want: want, done: make(chan struct{})}
	a.mu.Lock()
	a.pending[req.RequestID] = p
	a.mu.Unlock()
	defer func() {
		a.mu.Lock()
		delete(a.pending, req.RequestID)
		a.mu.Unlock()
	}()
	if err := a.bus.PublishRequest(ctx, req); err != nil {
		a.failed(ErrorPublish, err)
		return nil, err
	}
	select {
	case <-p.done:
		a.mu.Lock()
		defer a.mu.Unlock()
		return p.resp, nil
	case <-ctx.Done():
		a.mu.Lock()
		got := append([]*Response(nil), p.resp...)
		a.mu.Unlock()
		err := fmt.Errorf("%w: %d of %d servers answered", ErrTimeout, len(got), p.want)
		a.failed(ErrorTimeout, err)
		return got, err
	}
}

func (a *Adapter) Close() error {
	a.mu.Lock()
	a.closed = true
	for id, ar := range a.ackReqs {
		ar.timer.Stop()
		delete(a.ackReqs, id)
	}
	a.mu.Unlock()
	var err error
	if a.bus != nil {
		err = a.bus.Close()
	}
	return errors.Join(err, a.Adapter.Close())
}

// receiver keeps the Receiver methods off the Adapter's API.
type receiver struct{ a *Adapter }

func (r receiver) OnBroadcast(b *Broadcast) {
	a := r.a
	if b.UID == a.uid || b.Packet.Nsp != a.host.Name() {
		return
	}
	pkt, err := FromPacket(&b.Packet)
	if err != nil {
		a.malformed("a broadcast", err)
		return
	}
	_ = a.Adapter.Broadcast(&pkt, optsOf(b.Rooms, b.Except, b.Flags))
}

func (r receiver) OnRequest(req *Request) {
	a := r.a
	if req.UID == a.uid {
		return
	}
	opts := optsOf(req.Rooms, req.Except, Flags{})
	switch req.Type {
	case RemoteJoin:
		_ = a.Adapter.AddSockets(opts, req.JoinRooms)
	case RemoteLeave:
		_ = a.Adapter.DelSockets(opts, req.JoinRooms)
	case RemoteDisconnect:
		_ = a.Adapter.DisconnectSockets(opts, req.Close)
	case AllRooms:
		a.respond(req, &Response{RequestID: req.RequestID, Type: AllRooms, Rooms: a.Adapter.Rooms()})
	case RemoteFetch:
		ctx, cancel := a.ctx()
		defer cancel()
		socks, _ := a.Adapter.FetchSockets(ctx, opts)
		a.respond(req, &Response{RequestID: req.RequestID, Type: RemoteFetch, Sockets: socks})
	case ServerSideEmit:
		sr, ok := a.host.(adapter.ServerSideReceiver)
		if !ok {
			return
		}
		args, err := valuesArgs(req.Data)
		if err != nil {
			a.malformed("a server-side event", err)
			return
		}
		var ack func(any)
		if req.RequestID != "" {
			var once sync.Once
			ack = func(v any) {
				once.Do(func() {
					a.respond(req, &Response{RequestID: req.RequestID, Type: ServerSideEmit, Data: v})
				})
			}
		}
		sr.ServerSideEvent(args, ack)
	case BroadcastWithAck:
		if req.Packet == nil || req.Packet.Nsp != a.host.Name() {
			return
		}
		pkt, err := FromPacket(req.Packet)
		if err != nil {
			a.malformed("a broadcast", err)
			return
		}
		// The sender's ack id is its namespace's: give the packet one of
		// ours that no local emit uses.
		pkt.ID, pkt.HasID = a.remoteID.Add(1), true
		opts.Flags = adapter.Flags{Volatile: req.Flags.Volatile, NoCompress: req.Flags.NoCompress, Timeout: req.Flags.Timeout}
		if opts.Flags.Timeout <= 0 {
			opts.Flags.Timeout = a.timeout
		}
		_ = a.Adapter.BroadcastWithAck(&pkt, opts,
			func(n int) {
				a.respond(req, &Response{RequestID: req.RequestID, Type: BroadcastClientCount, ClientCount: n})
			},
			func(args adapter.Args) {
				a.respond(req, &Response{RequestID: req.RequestID, Type: BroadcastAck, Data: args.Value(0)})
			})
	}
}

// respond publishes an answer off the reading goroutine's back: a slow
// publish must not hold up the messages behind it.
func (a *Adapter) respond(req *Request, resp *Response) {
	go func() {
		ctx, cancel := a.ctx()
		defer cancel()
		if err := a.bus.PublishResponse(ctx, req, resp); err != nil {
			a.log.Warn("socketio cluster adapter: cannot answer a request", "type", req.Type, "err", err)
			a.failed(ErrorRespond, err)
		}
	}()
}

// Malformed implements Receiver.
func (r receiver) Malformed(err error) { r.a.failed(ErrorMalformed, err) }

func (r receiver) Awaits(requestID string) bool {
	a := r.a
	a.mu.Lock()
	defer a.mu.Unlock()
	_, ack := a.ackReqs[requestID]
	_, req := a.pending[requestID]
	return ack || req
}

func (r receiver) OnResponse(resp *Response) {
	a := r.a
	a.mu.Lock()
	if ar, ok := a.ackReqs[resp.RequestID]; ok {
		a.mu.Unlock()
		// The callbacks take the caller's lock only: call them here, in
		// the order the answers came.
		switch resp.Type {
		case BroadcastClientCount:
			ar.onClientCount(resp.ClientCount)
		case BroadcastAck:
			args, err := ValueArgs(resp.Data)
			if err != nil {
				a.malformed("an acknowledgement", err)
				return
			}
			ar.onAck(args)
		}
		return
	}
	defer a.mu.Unlock()
	p, ok := a.pending[resp.RequestID]
	if !ok || p.got >= p.want {
		return
	}
	p.got++
	p.resp = append(p.resp, resp)
	if p.got == p.want {
		close(p.done)
	}
}
