package redisadapter

import (
	"context"
	"errors"
	"slices"

	"github.com/redis/go-redis/v9"
	"github.com/switchboard-go/socketio/adapter/cluster"
)

// emitterUID is the UID every emitter publishes under, as Node's
// @socket.io/redis-emitter does: no server has it, so every server takes
// the emitter's messages.
const emitterUID = "emitter"

// Emitter publishes to a cluster of Socket.IO servers (Go or Node.js, with
// the Redis adapter) without being one, as Node's @socket.io/redis-emitter:
// broadcasts, SocketsJoin, SocketsLeave, DisconnectSockets and
// ServerSideEmit. Acknowledgements need a server: there are none here.
//
// An Emitter is immutable: To, Except, Of, … return a new one, so one
// value can be shared by goroutines.
type Emitter struct {
	c      redis.UniversalClient
	key    string
	nsp    string
	rooms  []string
	except []string
	flags  cluster.Flags
	// sharded: the servers use the sharded adapter (NewShardedEmitter),
	// listening as mode says.
	sharded bool
	mode    SubscriptionMode
}

// NewEmitter returns an emitter for the namespace "/" of the servers using
// opts.Key (default "socket.io"; the other options do not apply).
func NewEmitter(c redis.UniversalClient, opts *Options) *Emitter {
	key := "socket.io"
	if opts != nil && opts.Key != "" {
		key = opts.Key
	}
	return &Emitter{c: c, key: key, nsp: "/"}
}

// NewShardedEmitter returns an emitter for the namespace "/" of servers
// using the sharded adapter (NewSharded) with opts' ChannelPrefix and
// SubscriptionMode (the other options do not apply): it publishes with
// SPUBLISH in that adapter's format, on the channels its servers listen
// to in that mode. Node has no such emitter; Node servers with
// createShardedAdapter take its messages as they take a Go server's.
func NewShardedEmitter(c redis.UniversalClient, opts *ShardedOptions) *Emitter {
	e := &Emitter{c: c, key: "socket.io", nsp: "/", sharded: true, mode: SubscriptionDynamic}
	if opts != nil {
		if opts.ChannelPrefix != "" {
			e.key = opts.ChannelPrefix
		}
		switch opts.SubscriptionMode {
		case "":
		case SubscriptionDynamic, SubscriptionStatic, SubscriptionDynamicPrivate:
			e.mode = opts.SubscriptionMode
		default:
			panic("redisadapter: unknown subscription mode " + string(opts.SubscriptionMode))
		}
	}
	return e
}

func (e *Emitter) clone() *Emitter {
	c := *e
	c.rooms, c.except = slices.Clone(e.rooms), slices.Clone(e.except)
	return &c
}

// Of returns an emitter for namespace nsp, without rooms or flags.
func (e *Emitter) Of(nsp string) *Emitter {
	if nsp == "" || nsp[0] != '/' {
		nsp = "/" + nsp
	}
	return &Emitter{c: e.c, key: e.key, nsp: nsp, sharded: e.sharded, mode: e.mode}
}

// To selects the sockets in any of rooms (added to those already chosen).
func (e *Emitter) To(rooms ...string) *Emitter {
	c := e.clone()
	for _, r := range rooms {
		if !slices.Contains(c.rooms, r) {
			c.rooms = append(c.rooms, r)
		}
	}
	return c
}

// In is To.
func (e *Emitter) In(rooms ...string) *Emitter { return e.To(rooms...) }

// Except leaves out the sockets in any of rooms.
func (e *Emitter) Except(rooms ...string) *Emitter {
	c := e.clone()
	for _, r := range rooms {
		if !slices.Contains(c.except, r) {
			c.except = append(c.except, r)
		}
	}
	return c
}

// Volatile lets servers drop the event for clients that are not ready.
func (e *Emitter) Volatile() *Emitter {
	c := e.clone()
	c.flags.Volatile = true
	return c
}

// Compress(false) sends the event without compression.
func (e *Emitter) Compress(compress bool) *Emitter {
	c := e.clone()
	c.flags.NoCompress = !compress
	return c
}

// ErrReservedEvent is returned for the event names Socket.IO keeps for
// itself.
var ErrReservedEvent = errors.New("redisadapter: reserved event name")

func reserved(event string) bool {
	switch event {
	case "connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener":
		return true
	}
	return false
}

// Emit broadcasts an event to the selected sockets of every server.
func (e *Emitter) Emit(ctx context.Context, event string, args ...any) error {
	if reserved(event) {
		return ErrReservedEvent
	}
	data, err := cluster.PlainValues(append([]any{event}, args...))
	if err != nil {
		return err
	}
	br := &cluster.Broadcast{UID: emitterUID, Rooms: e.rooms, Except: e.except, Flags: e.flags,
		Packet: cluster.Packet{Type: 2, Nsp: e.nsp, Data: data}}
	ch := e.key + "#" + e.nsp + "#"
	if e.sharded {
		msg, err := encodeShardedBroadcast(e.nsp, br)
		if err != nil {
			return err
		}
		return e.c.SPublish(ctx, broadcastChannel(ch, e.mode, e.rooms), msg).Err()
	}
	msg, err := encodeBroadcast(br)
	if err != nil {
		return err
	}
	if len(e.rooms) == 1 {
		ch += e.rooms[0] + "#"
	}
	return e.c.Publish(ctx, ch, msg).Err()
}

func (e *Emitter) request(ctx context.Context, r *cluster.Request) error {
	r.UID, r.Rooms, r.Except = emitterUID, e.rooms, e.except
	if e.sharded {
		msg, err := encodeShardedRequest(e.nsp, r)
		if err != nil {
			return err
		}
		return e.c.SPublish(ctx, e.key+"#"+e.nsp+"#", msg).Err()
	}
	msg, err := encodeRequest(r)
	if err != nil {
		return err
	}
	return e.c.Publish(ctx, e.key+"-request#"+e.nsp+"#", msg).Err()
}

// SocketsJoin makes the selected sockets of every server join rooms.
func (e *Emitter) SocketsJoin(ctx context.Context, rooms ...string) error {
	return e.request(ctx, &cluster.Request{Type: cluster.RemoteJoin, JoinRooms: rooms})
}

// SocketsLeave makes the selected sockets of every server leave rooms.
func (e *Emitter) SocketsLeave(ctx context.Context, rooms ...string) error {
	return e.request(ctx, &cluster.Request{Type: cluster.RemoteLeave, JoinRooms: rooms})
}

// DisconnectSockets disconnects the selected sockets of every server
// (close: their underlying connections too).
func (e *Emitter) DisconnectSockets(ctx context.Context, close bool) error {
	return e.request(ctx, &cluster.Request{Type: cluster.RemoteDisconnect, Close: close})
}

// ServerSideEmit sends an event to every server's OnServerSideEmit
// handlers (Node: io.on(event)), without acknowledgement.
func (e *Emitter) ServerSideEmit(ctx context.Context, event string, args ...any) error {
	if reserved(event) {
		return ErrReservedEvent
	}
	data, err := cluster.PlainValues(append([]any{event}, args...))
	if err != nil {
		return err
	}
	return e.request(ctx, &cluster.Request{Type: cluster.ServerSideEmit, Data: data})
}
