// Package adapter keeps the room index of one namespace and broadcasts
// packets to its sockets. The in-memory Adapter serves a single server; a
// cluster adapter (Redis, NATS, …) implements the same interface and
// forwards what is not local over its bus.
//
// The adapter never reaches into the socket layer: it calls back through
// Host, which the namespace implements.
package adapter

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"time"

	"github.com/switchboard-go/socketio/parser"
)

// Frame is one Engine.IO message of an encoded packet: the text part first,
// then each binary attachment (EncodeFrames). A server whose clients use
// another packet encoding (socketio.Options.Parser) converts the frames
// an adapter delivers once per delivery, not once per receiver.
type Frame = parser.Frame

// Flags modify a broadcast, as the flags of the reference server do.
type Flags struct {
	Volatile bool // may be dropped for clients that are behind
	// NoCompress sends the packet uncompressed even where the client
	// negotiated compression (Node: compress(false); the zero value is
	// Node's default, compress(true)).
	NoCompress bool
	Local      bool // this server only, even with a cluster adapter
	// Timeout of a broadcast with acknowledgements (zero: none).
	Timeout time.Duration
}

// Options select the targets of a broadcast: the sockets in any of Rooms
// (all sockets when empty), minus those in any of Except.
type Options struct {
	Rooms  []string
	Except []string
	Flags  Flags
}

// DeliverOptions go with a delivery to local sockets.
type DeliverOptions struct {
	Volatile   bool
	NoCompress bool // see Flags.NoCompress
	// AckID and OnAck, when OnAck is set, register a pending
	// acknowledgement on each target socket before the packet is queued.
	// OnAck is called with the socket id and the client's answer.
	AckID uint64
	OnAck func(socketID string, args Args)
	// AckTimeout, when positive, forgets an unanswered acknowledgement
	// after this long.
	AckTimeout time.Duration
}

// Args is an acknowledgement's arguments as received.
type Args = parser.Args

// Handshake describes how a socket connected (the Node handshake object).
type Handshake struct {
	Headers http.Header
	Time    time.Time
	Address string
	XDomain bool
	Secure  bool
	Issued  int64 // milliseconds since the epoch
	URL     string
	Query   url.Values
	Auth    json.RawMessage
}

// SocketDetails is what FetchSockets returns for each socket; a cluster
// adapter serializes it for sockets on other servers.
type SocketDetails struct {
	ID        string
	Handshake Handshake
	Rooms     []string
	Data      any
}

// Host is implemented by the namespace the adapter serves.
type Host interface {
	// Name is the namespace name, e.g. "/" or "/chat".
	Name() string
	// Deliver queues the encoded packet to each local socket in ids that
	// still exists. It must not block, and must not keep ids after it
	// returns: adapters reuse the list.
	Deliver(ids []string, frames []Frame, opts DeliverOptions)
	// SocketDetails describes a local socket.
	SocketDetails(id string) (SocketDetails, bool)
	// DisconnectSocket disconnects a local socket (close: also its
	// underlying connection).
	DisconnectSocket(id string, close bool)
}

// Adapter is the room index and broadcaster of one namespace. Its methods
// are safe for concurrent use and never call Host while holding a lock,
// but for RoomObserver.RoomsChanged.
type Adapter interface {
	// AddAll adds socket id to rooms.
	AddAll(id string, rooms []string)
	// Del removes socket id from room.
	Del(id, room string)
	// DelAll removes socket id from every room.
	DelAll(id string)
	// SocketRooms returns the rooms of socket id (nil when unknown).
	SocketRooms(id string) []string
	// Sockets returns the ids of the local sockets in any of rooms (all
	// when rooms is empty).
	Sockets(rooms []string) []string
	// Rooms returns every room name known locally.
	Rooms() []string

	// Broadcast sends pkt to the targets of opts.
	Broadcast(pkt *parser.Packet, opts Options) error
	// BroadcastWithAck sends pkt (whose ID is set) and reports answers:
	// onClientCount once per server with how many clients were sent to,
	// onAck for every answer.
	// Options.Flags.Timeout bounds how long sockets keep waiting.
	BroadcastWithAck(pkt *parser.Packet, opts Options, onClientCount func(n int), onAck func(args Args)) error
	// ServerCount is the number of servers sharing this namespace.
	ServerCount(ctx context.Context) (int, error)

	// FetchSockets describes the targets of opts.
	FetchSockets(ctx context.Context, opts Options) ([]SocketDetails, error)
	// AddSockets makes the targets of opts join rooms.
	AddSockets(opts Options, rooms []string) error
	// DelSockets makes the targets of opts leave rooms.
	DelSockets(opts Options, rooms []string) error
	// DisconnectSockets disconnects the targets of opts.
	DisconnectSockets(opts Options, close bool) error
	// ServerSideEmit sends an event to the other servers of the cluster;
	// without a cluster there is nobody to tell and it returns nil.
	ServerSideEmit(ctx context.Context, args []any) error

	// Close releases the adapter's resources.
	Close() error
}

// Factory makes the adapter of a namespace; Options of the root package
// takes one so every namespace gets its own adapter.
type Factory func(host Host) Adapter

// EncodeFrames encodes pkt once into the Engine.IO messages every target
// receives.
func EncodeFrames(pkt *parser.Packet) []Frame {
	frames := make([]Frame, 1, 1+len(pkt.Attachments))
	frames[0] = Frame{Data: pkt.Encode()}
	for _, a := range pkt.Attachments {
		frames = append(frames, Frame{Data: a, Binary: true})
	}
	return frames
}

// RoomChangeKind names a change of the room index, with the name of the
// reference adapter's event for it.
type RoomChangeKind string

const (
	RoomCreated RoomChangeKind = "create-room" // a room got its first socket
	RoomDeleted RoomChangeKind = "delete-room" // a room lost its last socket
	RoomJoined  RoomChangeKind = "join-room"   // a socket joined a room
	RoomLeft    RoomChangeKind = "leave-room"  // a socket left a room
)

// RoomChange is one change of the room index. Every socket is in the room
// named by its own id, so connecting and disconnecting change rooms too.
type RoomChange struct {
	Kind RoomChangeKind
	Room string
	ID   string // the socket; "" for RoomCreated and RoomDeleted
}

// RoomObserver is implemented by a Host that wants to hear of changes of
// the room index (Node: the adapter's create-room, delete-room, join-room
// and leave-room events). An adapter reports the changes of each
// operation in the order it made them, and operations in the order they
// changed the index: RoomsChanged is the one Host method an adapter calls
// with its lock held.
type RoomObserver interface {
	// ObservingRooms reports whether anyone listens: when nobody does the
	// adapter does not collect the changes.
	ObservingRooms() bool
	// RoomsChanged receives the changes of one operation (a fresh slice
	// it may keep). It runs under the adapter's lock, and possibly the
	// caller's (the root package joins a socket under the socket's lock):
	// it must only record the changes, not block, call the adapter or run
	// user code.
	RoomsChanged(changes []RoomChange)
}

// RoomSyncer is implemented by an adapter whose joins reach the other
// servers of a cluster some time after AddAll returns: a cluster bus that
// listens to a channel per room subscribes when a room is created. The
// root package calls SyncRooms after each join (Socket.Join, and the
// socket's own room at connect), holding no lock, so that a broadcast
// published by any server after Join returns reaches the socket. It
// returns at once when nothing is pending, and waits a bounded time
// otherwise.
type RoomSyncer interface {
	SyncRooms()
}

// ServerSideReceiver is implemented by a Host that takes the events other
// servers of a cluster send with ServerSideEmit (the root package's
// namespaces do). args holds the event name first. ack is nil unless the
// sender waits for an answer; only its first call counts.
type ServerSideReceiver interface {
	ServerSideEvent(args Args, ack func(answer any))
}

// ServerSideAcker is implemented by a cluster adapter that can wait for
// the answers of the other servers to a server-side emit: one per server,
// or an error once its timeout has passed (with the answers that came).
type ServerSideAcker interface {
	ServerSideEmitWithAck(ctx context.Context, args []any) ([]Args, error)
}
