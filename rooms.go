package socketio

import (
	"runtime/debug"
	"sync"
	"sync/atomic"

	"github.com/switchboard-go/socketio/adapter"
)

// RoomEvent is a change of a namespace's rooms: see Namespace.OnRoom.
type RoomEvent = adapter.RoomChange

// The kinds of RoomEvent, named after the reference adapter's events.
const (
	RoomCreated = adapter.RoomCreated
	RoomDeleted = adapter.RoomDeleted
	RoomJoined  = adapter.RoomJoined
	RoomLeft    = adapter.RoomLeft
)

// OnRoom registers fn for the changes of the namespace's rooms on this
// server (Node: the adapter's "create-room", "delete-room", "join-room"
// and "leave-room" events): a room created by its first socket, deleted
// with its last, a socket joining or leaving. Every socket is in the room
// named by its id, so connections and disconnections show too.
//
// The handlers run one at a time, in the order of the changes, on a
// goroutine of the namespace that exists while there are changes to
// report, never on the goroutine that made the change (which may hold
// locks). At most maxRoomEvents changes wait for them; beyond that the
// newest are dropped and logged, so a slow handler cannot grow the
// server's memory.
func (ns *Namespace) OnRoom(fn func(RoomEvent)) {
	ns.rooms.mu.Lock()
	ns.rooms.handlers = append(ns.rooms.handlers[:len(ns.rooms.handlers):len(ns.rooms.handlers)], fn)
	ns.rooms.mu.Unlock()
	ns.rooms.observed.Store(true)
}

// OnRoom is OnRoom of the main namespace.
func (s *Server) OnRoom(fn func(RoomEvent)) { s.root.OnRoom(fn) }

// maxRoomEvents bounds the room changes waiting for the OnRoom handlers.
const maxRoomEvents = 1 << 16

// roomEvents queues a namespace's room changes for its OnRoom handlers.
type roomEvents struct {
	observed atomic.Bool // a handler is registered

	mu       sync.Mutex
	handlers []func(RoomEvent) // copied on write
	queue    []RoomEvent
	running  bool // a goroutine is delivering the queue
}

func (h nsHost) ObservingRooms() bool {
	return h.ns.rooms.observed.Load() || h.ns.srv.observer() != nil
}

func (h nsHost) RoomsChanged(changes []adapter.RoomChange) {
	if o := h.ns.srv.observer(); o != nil {
		if d := roomsDelta(changes); d != 0 {
			o.RoomsChanged(RoomsChange{Namespace: h.ns.name, Delta: d})
		}
		if !h.ns.rooms.observed.Load() {
			return
		}
	}
	r := &h.ns.rooms
	r.mu.Lock()
	if len(r.queue)+len(changes) > maxRoomEvents {
		r.mu.Unlock()
		h.ns.srv.logger.Error("socketio: OnRoom handlers are behind: room changes dropped", "nsp", h.ns.name, "dropped", len(changes))
		return
	}
	r.queue = append(r.queue, changes...)
	start := !r.running
	r.running = true
	r.mu.Unlock()
	if start {
		go h.ns.deliverRoomEvents()
	}
}

// deliverRoomEvents runs the OnRoom handlers until the queue is empty.
func (ns *Namespace) deliverRoomEvents() {
	r := &ns.rooms
	for {
		r.mu.Lock()
		batch, fns := r.queue, r.handlers
		r.queue = nil
		if len(batch) == 0 {
			r.running = false
			r.mu.Unlock()
			return
		}
		r.mu.Unlock()
		for _, ev := range batch {
			for _, fn := range fns {
				ns.safely("", func() { fn(ev) })
			}
		}
	}
}

// safely runs user code for the namespace (for socket, when not ""); a
// panic is logged and contained to this call so it never takes the
// server down.
func (ns *Namespace) safely(socket string, fn func()) {
	defer func() {
		if r := recover(); r != nil {
			ns.srv.logger.Error("socketio: handler panicked", "nsp", ns.name, "socket", socket, "panic", r, "stack", string(debug.Stack()))
		}
	}()
	fn()
}
