package adaptertest

import (
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/switchboard-go/socketio/adapter"
)

// Delivery is one call of Host.Deliver as the host received it.
type Delivery struct {
	// IDs is a copy of the ids argument, in the adapter's order, including
	// ids that were not local sockets of the host.
	IDs []string
	// Frames is the frames argument itself, not a copy, so that tests can
	// check that every target shares the same encoded bytes.
	Frames []adapter.Frame
	Opts   adapter.DeliverOptions
}

// Disconnect is one call of Host.DisconnectSocket.
type Disconnect struct {
	ID    string
	Close bool
}

// pendingAck is an acknowledgement registered through DeliverOptions.OnAck
// and not yet answered.
type pendingAck struct {
	id    uint64
	onAck func(socketID string, args adapter.Args)
}

type socket struct {
	details adapter.SocketDetails
	acks    []pendingAck
}

// Host is a fake adapter.Host for tests of adapters and of code built on
// them. It keeps a set of local sockets, records every Deliver and
// DisconnectSocket call, and lets a test answer the acknowledgements that
// deliveries register, as a client would.
//
// Bound to its adapter (Bind), it calls back into it the way the
// namespace of the root package does: SocketDetails reports the rooms from
// Adapter.SocketRooms, DisconnectSocket removes the socket with
// Adapter.DelAll, Connect and Disconnect maintain the room index. These
// calls happen while the adapter is inside Deliver, FetchSockets or
// DisconnectSockets, so an adapter that holds its lock while calling the
// host deadlocks here rather than in production.
//
// A Host is safe for concurrent use. Its methods never hold the host's
// own lock while calling the adapter, an ack callback or the deliver hook.
type Host struct {
	name string

	mu          sync.Mutex
	adapter     adapter.Adapter
	sockets     map[string]*socket
	deliveries  []Delivery
	disconnects []Disconnect
	hooks       Hooks
	observing   bool
	roomChanges []adapter.RoomChange
}

// Hooks are functions a Host runs at the end of the adapter.Host method
// they are named after, on the adapter's goroutine, with no host lock
// held. They may call back into the adapter and answer acks (Host.Ack), to
// check that the adapter holds no lock while it calls its host.
type Hooks struct {
	// Deliver runs after the delivery is recorded and its acks
	// registered.
	Deliver func(d Delivery)
	// SocketDetails runs for every call, known socket or not.
	SocketDetails func(id string)
	// DisconnectSocket runs after the socket is disconnected.
	DisconnectSocket func(id string, close bool)
}

var (
	_ adapter.Host         = (*Host)(nil)
	_ adapter.RoomObserver = (*Host)(nil)
)

// ObserveRooms makes the host an observer of room changes from now on
// (adapter.RoomObserver); RoomChanges returns what it heard.
func (h *Host) ObserveRooms() {
	h.mu.Lock()
	h.observing = true
	h.mu.Unlock()
}

// ObservingRooms implements adapter.RoomObserver: false until
// ObserveRooms.
func (h *Host) ObservingRooms() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.observing
}

// RoomsChanged implements adapter.RoomObserver: it records changes.
func (h *Host) RoomsChanged(changes []adapter.RoomChange) {
	h.mu.Lock()
	h.roomChanges = append(h.roomChanges, changes...)
	h.mu.Unlock()
}

// RoomChanges returns a copy of the room changes heard so far.
func (h *Host) RoomChanges() []adapter.RoomChange {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.roomChanges)
}

// NewHost returns a Host for the namespace name with no sockets.
func NewHost(name string) *Host {
	return &Host{name: name, sockets: make(map[string]*socket)}
}

// Bind sets the adapter the host calls back into. Call it once the
// adapter is made and before sockets connect.
func (h *Host) Bind(a adapter.Adapter) {
	h.mu.Lock()
	h.adapter = a
	h.mu.Unlock()
}

// Adapter returns the bound adapter (nil before Bind).
func (h *Host) Adapter() adapter.Adapter {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.adapter
}

// SetHooks replaces the host's hooks (zero Hooks: none).
func (h *Host) SetHooks(hk Hooks) {
	h.mu.Lock()
	h.hooks = hk
	h.mu.Unlock()
}

// Details returns the SocketDetails Connect gives socket id: a fixed
// handshake whose Address and Query name the socket, and Data "data:"+id.
func Details(id string) adapter.SocketDetails {
	return adapter.SocketDetails{
		ID: id,
		Handshake: adapter.Handshake{
			Headers: http.Header{"X-Socket": {id}},
			Time:    time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC),
			Address: "addr:" + id,
			Issued:  1704164645000,
			URL:     "/socket.io/?EIO=4&transport=websocket&id=" + url.QueryEscape(id),
			Query:   url.Values{"id": {id}},
		},
		Data: "data:" + id,
	}
}

// Connect adds a local socket with Details(id) and, like the root package
// on a connection, makes it join its own room id plus rooms through the
// bound adapter.
func (h *Host) Connect(id string, rooms ...string) {
	h.ConnectWith(Details(id), rooms...)
}

// ConnectWith is Connect with the given details (d.Rooms is ignored: the
// rooms come from the adapter).
func (h *Host) ConnectWith(d adapter.SocketDetails, rooms ...string) {
	h.mu.Lock()
	h.sockets[d.ID] = &socket{details: d}
	a := h.adapter
	h.mu.Unlock()
	if a != nil {
		a.AddAll(d.ID, append([]string{d.ID}, rooms...))
		// As the root package does after a join.
		if rs, ok := a.(adapter.RoomSyncer); ok {
			rs.SyncRooms()
		}
	}
}

// Disconnect removes local socket id, forgets its pending acks and, like
// the root package, removes it from every room with Adapter.DelAll. It
// reports whether the socket was connected.
func (h *Host) Disconnect(id string) bool {
	h.mu.Lock()
	_, ok := h.sockets[id]
	delete(h.sockets, id)
	a := h.adapter
	h.mu.Unlock()
	if ok && a != nil {
		a.DelAll(id)
	}
	return ok
}

// Sockets returns the ids of the local sockets, sorted.
func (h *Host) Sockets() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]string, 0, len(h.sockets))
	for id := range h.sockets {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}

// Has reports whether id is a local socket.
func (h *Host) Has(id string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	_, ok := h.sockets[id]
	return ok
}

// Name implements adapter.Host.
func (h *Host) Name() string { return h.name }

// Deliver implements adapter.Host: it records the call and registers the
// acknowledgement of opts on every target that is a local socket.
func (h *Host) Deliver(ids []string, frames []adapter.Frame, opts adapter.DeliverOptions) {
	d := Delivery{IDs: slices.Clone(ids), Frames: frames, Opts: opts}
	h.mu.Lock()
	h.deliveries = append(h.deliveries, d)
	if opts.OnAck != nil {
		for _, id := range ids {
			if s := h.sockets[id]; s != nil {
				s.acks = append(s.acks, pendingAck{id: opts.AckID, onAck: opts.OnAck})
			}
		}
	}
	hook := h.hooks.Deliver
	h.mu.Unlock()
	if hook != nil {
		hook(d)
	}
}

// SocketDetails implements adapter.Host. Rooms come from the bound
// adapter's SocketRooms, sorted, as the root package's do.
func (h *Host) SocketDetails(id string) (adapter.SocketDetails, bool) {
	h.mu.Lock()
	s := h.sockets[id]
	a := h.adapter
	hook := h.hooks.SocketDetails
	var d adapter.SocketDetails
	if s != nil {
		d = s.details
	}
	h.mu.Unlock()
	if hook != nil {
		hook(id)
	}
	if s == nil {
		return adapter.SocketDetails{}, false
	}
	if a != nil {
		d.Rooms = a.SocketRooms(id)
		slices.Sort(d.Rooms)
	}
	return d, true
}

// DisconnectSocket implements adapter.Host: it records the call and, when
// id is a local socket, disconnects it as Disconnect does.
func (h *Host) DisconnectSocket(id string, close bool) {
	h.mu.Lock()
	h.disconnects = append(h.disconnects, Disconnect{ID: id, Close: close})
	hook := h.hooks.DisconnectSocket
	h.mu.Unlock()
	h.Disconnect(id)
	if hook != nil {
		hook(id, close)
	}
}

// Deliveries returns the Deliver calls recorded so far, oldest first.
func (h *Host) Deliveries() []Delivery {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.deliveries)
}

// Delivered returns the ids of every Deliver call so far, flattened in
// call order; an id appears once per delivery it was a target of.
func (h *Host) Delivered() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, d := range h.deliveries {
		out = append(out, d.IDs...)
	}
	return out
}

// Disconnects returns the DisconnectSocket calls recorded so far.
func (h *Host) Disconnects() []Disconnect {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.disconnects)
}

// Reset forgets the recorded deliveries and disconnections; sockets and
// pending acks stay.
func (h *Host) Reset() {
	h.mu.Lock()
	h.deliveries = nil
	h.disconnects = nil
	h.mu.Unlock()
}

// PendingAcks returns the ack ids socket id has not answered yet, in
// registration order.
func (h *Host) PendingAcks(id string) []uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	s := h.sockets[id]
	if s == nil {
		return nil
	}
	out := make([]uint64, len(s.acks))
	for i, p := range s.acks {
		out[i] = p.id
	}
	return out
}

// Ack simulates socket id answering acknowledgement ackID with args: the
// OnAck callback of the delivery that registered it runs on the calling
// goroutine, without the host's lock held. It reports whether such an
// acknowledgement was pending; each is answered at most once.
func (h *Host) Ack(id string, ackID uint64, args adapter.Args) bool {
	h.mu.Lock()
	s := h.sockets[id]
	var fn func(string, adapter.Args)
	if s != nil {
		for i, p := range s.acks {
			if p.id == ackID {
				fn = p.onAck
				s.acks = slices.Delete(s.acks, i, i+1)
				break
			}
		}
	}
	h.mu.Unlock()
	if fn == nil {
		return false
	}
	fn(id, args)
	return true
}
