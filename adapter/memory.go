package adapter

import (
	"context"
	"slices"
	"sync"

	"github.com/switchboard-go/socketio/parser"
)

// InMemory is the single-server adapter: two indexes, room → sockets and
// socket → rooms, behind one RWMutex. Broadcasts compute their target list
// under the read lock and deliver after releasing it.
//
// A socket's own room (named by its id, joined on connecting) is kept in
// sids only: room id holds socket id when sids[id] holds id. Storing it in
// rooms too cost a map slot per connection (about 110 bytes of an idle
// connection's 2 KB) for a room that nearly always has that one member.
// Other sockets that join it are stored in rooms as usual.
type InMemory struct {
	host Host

	mu    sync.RWMutex
	rooms map[string]set // room → its sockets but the room's own; no empty sets
	sids  map[string]set // every socket → its rooms

	rec      *recoveryLog // nil unless made by NewInMemoryWithRecovery
	observer RoomObserver // host, when it wants room changes
}

// NewInMemory returns the in-memory adapter for host. It has the Factory
// signature.
func NewInMemory(host Host) Adapter {
	a := &InMemory{
		host:  host,
		rooms: make(map[string]set),
		sids:  make(map[string]set),
	}
	a.observer, _ = host.(RoomObserver)
	return a
}

// changeLog collects the room changes of one operation for the observer;
// nil, and free, when nobody observes.
type changeLog []RoomChange

func (c *changeLog) add(kind RoomChangeKind, room, id string) {
	if c != nil {
		*c = append(*c, RoomChange{Kind: kind, Room: room, ID: id})
	}
}

// observe returns a log for the changes of one operation, or nil.
func (a *InMemory) observe() *changeLog {
	if a.observer == nil || !a.observer.ObservingRooms() {
		return nil
	}
	return new(changeLog)
}

// report hands the changes to the observer. It is called with a.mu held
// for writing, so that the observer hears changes in the order the index
// made them (RoomObserver says what it may do meanwhile).
func (a *InMemory) report(c *changeLog) {
	if c != nil && len(*c) > 0 {
		a.observer.RoomsChanged(*c)
	}
}

var _ Factory = NewInMemory

func (a *InMemory) AddAll(id string, rooms []string) {
	c := a.observe()
	a.mu.Lock()
	a.addLocked(id, rooms, c)
	a.report(c)
	a.mu.Unlock()
}

// ownIn reports whether room is a socket's own room with that socket in
// it. It requires a.mu held, for reading at least.
func (a *InMemory) ownIn(room string) bool { return a.sids[room].contains(room) }

// size returns how many sockets room holds. It requires a.mu held, for
// reading at least.
func (a *InMemory) size(room string) int {
	n := a.rooms[room].len()
	if a.ownIn(room) {
		n++
	}
	return n
}

// isIn reports whether socket id is in room. It requires a.mu held, for
// reading at least.
func (a *InMemory) isIn(id, room string) bool {
	if id == room {
		return a.ownIn(room)
	}
	return a.rooms[room].contains(id)
}

// members yields room's sockets, each once. It requires a.mu held, for
// reading at least.
func (a *InMemory) members(room string) func(func(string) bool) {
	return func(yield func(string) bool) {
		if a.ownIn(room) && !yield(room) {
			return
		}
		a.rooms[room].all(yield)
	}
}

// requires a.mu held for writing
func (a *InMemory) addLocked(id string, rooms []string, c *changeLog) {
	mine := a.sids[id]
	for _, r := range rooms {
		if mine.contains(r) {
			continue
		}
		// Counted before mine, which may be sids[id]'s next value, is stored.
		if a.size(r) == 0 {
			c.add(RoomCreated, r, "")
		}
		mine.add(r)
		if r != id {
			members := a.rooms[r]
			members.add(id)
			a.rooms[r] = members
		}
		c.add(RoomJoined, r, id)
	}
	a.sids[id] = mine
}

func (a *InMemory) Del(id, room string) {
	c := a.observe()
	a.mu.Lock()
	a.delLocked(id, room, c)
	a.report(c)
	a.mu.Unlock()
}

// requires a.mu held for writing
func (a *InMemory) delLocked(id, room string, c *changeLog) {
	a.leaveLocked(id, room, c)
	if mine, ok := a.sids[id]; ok {
		mine.del(room)
		a.sids[id] = mine
	}
}

// leaveLocked removes id from room's members only: the caller then
// removes room from sids[id], which is what takes id out of its own room.
// requires a.mu held for writing
func (a *InMemory) leaveLocked(id, room string, c *changeLog) {
	if !a.isIn(id, room) {
		return
	}
	left := a.size(room) - 1
	members := a.rooms[room] // without id when room is its own
	members.del(id)
	if members.len() == 0 {
		delete(a.rooms, room)
	} else {
		a.rooms[room] = members
	}
	c.add(RoomLeft, room, id)
	if left == 0 {
		c.add(RoomDeleted, room, "")
	}
}

func (a *InMemory) DelAll(id string) {
	c := a.observe()
	a.mu.Lock()
	for r := range a.sids[id].all {
		a.leaveLocked(id, r, c)
	}
	delete(a.sids, id)
	a.report(c)
	a.mu.Unlock()
}

func (a *InMemory) SocketRooms(id string) []string {
	a.mu.RLock()
	defer a.mu.RUnlock()
	mine, ok := a.sids[id]
	if !ok {
		return nil
	}
	out := make([]string, 0, mine.len())
	for r := range mine.all {
		out = append(out, r)
	}
	return out
}

func (a *InMemory) Sockets(rooms []string) []string {
	return a.targets(Options{Rooms: rooms})
}

func (a *InMemory) Rooms() []string {
	a.mu.RLock()
	defer a.mu.RUnlock()
	out := make([]string, 0, len(a.rooms)+len(a.sids))
	for r := range a.rooms {
		out = append(out, r)
	}
	for id, mine := range a.sids {
		if _, listed := a.rooms[id]; !listed && mine.contains(id) {
			out = append(out, id)
		}
	}
	return out
}

// targets lists the local sockets opts selects.
func (a *InMemory) targets(opts Options) []string {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.targetsLocked(nil, opts)
}

// idLists recycles the target lists of broadcasts: Host.Deliver does not
// keep the list, and a fresh one per broadcast (16 KiB for 1,000 sockets)
// was a quarter of the bytes a light broadcast load allocated, and so of
// its garbage collections (BENCHMARKS.md).
var idLists sync.Pool // of *[]string

// broadcastTargets is targets for a delivery: the list comes from idLists
// and goes back with putTargets once Deliver has returned. With logged
// set (recovery on), the packet is logged under the same read lock, even
// when it has no target now, and the frames returned carry its offset.
func (a *InMemory) broadcastTargets(opts Options, logged *parser.Packet) (*[]string, []Frame) {
	p, _ := idLists.Get().(*[]string)
	if p == nil {
		p = new([]string)
	}
	var frames []Frame
	a.mu.RLock()
	*p = a.targetsLocked((*p)[:0], opts)
	if logged != nil {
		frames = a.rec.log(logged, opts)
	}
	a.mu.RUnlock()
	return p, frames
}

// maxPooledTargets bounds the lists kept for reuse (64 KiB of headers).
const maxPooledTargets = 4096

func putTargets(p *[]string) {
	if cap(*p) > maxPooledTargets {
		return
	}
	clear(*p)
	*p = (*p)[:0]
	idLists.Put(p)
}

// targetsLocked appends the local sockets opts selects to out (which may
// be nil). It requires a.mu held, for reading at least.
func (a *InMemory) targetsLocked(out []string, opts Options) []string {
	excluded := func(id string) bool {
		for _, r := range opts.Except {
			if a.isIn(id, r) {
				return true
			}
		}
		return false
	}
	if len(opts.Rooms) == 0 {
		out = slices.Grow(out, len(a.sids))
		for id := range a.sids {
			if !excluded(id) {
				out = append(out, id)
			}
		}
		return out
	}
	if len(opts.Rooms) == 1 {
		r := opts.Rooms[0]
		out = slices.Grow(out, a.size(r))
		for id := range a.members(r) {
			if !excluded(id) {
				out = append(out, id)
			}
		}
		return out
	}
	n := 0
	for _, r := range opts.Rooms {
		n += a.size(r)
	}
	seen := make(map[string]struct{}, n)
	out = slices.Grow(out, n)
	for _, r := range opts.Rooms {
		for id := range a.members(r) {
			if _, dup := seen[id]; dup || excluded(id) {
				continue
			}
			seen[id] = struct{}{}
			out = append(out, id)
		}
	}
	return out
}

func (a *InMemory) Broadcast(pkt *parser.Packet, opts Options) error {
	var logged *parser.Packet
	if a.rec != nil && loggable(pkt, opts) {
		logged = pkt
		a.rec.order.Lock()
		defer a.rec.order.Unlock()
	}
	ids, frames := a.broadcastTargets(opts, logged)
	defer putTargets(ids)
	if len(*ids) == 0 {
		return nil
	}
	if frames == nil {
		frames = EncodeFrames(pkt)
	}
	a.host.Deliver(*ids, frames, DeliverOptions{Volatile: opts.Flags.Volatile, NoCompress: opts.Flags.NoCompress})
	return nil
}

func (a *InMemory) BroadcastWithAck(pkt *parser.Packet, opts Options, onClientCount func(int), onAck func(Args)) error {
	ids, _ := a.broadcastTargets(opts, nil)
	defer putTargets(ids)
	onClientCount(len(*ids))
	if len(*ids) == 0 {
		return nil
	}
	a.host.Deliver(*ids, EncodeFrames(pkt), DeliverOptions{
		Volatile:   opts.Flags.Volatile,
		NoCompress: opts.Flags.NoCompress,
		AckID:      pkt.ID,
		OnAck:      func(_ string, args Args) { onAck(args) },
		AckTimeout: opts.Flags.Timeout,
	})
	return nil
}

func (a *InMemory) ServerCount(context.Context) (int, error) { return 1, nil }

func (a *InMemory) FetchSockets(_ context.Context, opts Options) ([]SocketDetails, error) {
	ids := a.targets(opts)
	out := make([]SocketDetails, 0, len(ids))
	for _, id := range ids {
		if d, ok := a.host.SocketDetails(id); ok {
			out = append(out, d)
		}
	}
	return out, nil
}

// AddSockets selects the targets and adds them under one write lock: a
// socket removed by DelAll (disconnected) between the two steps would
// otherwise be added back to the index, for good.
func (a *InMemory) AddSockets(opts Options, rooms []string) error {
	c := a.observe()
	a.mu.Lock()
	for _, id := range a.targetsLocked(nil, opts) {
		a.addLocked(id, rooms, c)
	}
	a.report(c)
	a.mu.Unlock()
	return nil
}

func (a *InMemory) DelSockets(opts Options, rooms []string) error {
	c := a.observe()
	a.mu.Lock()
	for _, id := range a.targetsLocked(nil, opts) {
		for _, r := range rooms {
			a.delLocked(id, r, c)
		}
	}
	a.report(c)
	a.mu.Unlock()
	return nil
}

func (a *InMemory) DisconnectSockets(opts Options, close bool) error {
	for _, id := range a.targets(opts) {
		a.host.DisconnectSocket(id, close)
	}
	return nil
}

func (a *InMemory) ServerSideEmit(context.Context, []any) error { return nil }

func (a *InMemory) Close() error {
	if a.rec != nil {
		a.rec.close()
	}
	return nil
}
