package socketio

import (
	"time"

	"github.com/switchboard-go/socketio/adapter"
	"github.com/switchboard-go/socketio/engineio"
	"github.com/switchboard-go/socketio/parser"
)

// Observer hears what a server does, for metrics (Options.Observer; the
// module github.com/switchboard-go/socketio/prommetrics exports it for
// Prometheus). It adds the Socket.IO layer's events to those of the
// Engine.IO layer (engineio.Observer: connections, upgrades, refused
// handshakes, closes with their reason and queue high-water mark, dropped
// volatile messages).
//
// The server calls it from many goroutines at once, some of them holding
// locks (RoomsChanged runs under the adapter's): a method must only
// count and return, never block or call back into the server. A nil
// Observer, the default, costs nothing: the server checks for it before
// building any argument, and a broadcast reports once, not once per
// socket it reaches.
type Observer interface {
	engineio.Observer
	// SocketConnected: a socket joined a namespace (a recovered one
	// included).
	SocketConnected(SocketConnect)
	// SocketDisconnected: a socket reported by SocketConnected left its
	// namespace; exactly once for each.
	SocketDisconnected(SocketDisconnect)
	// MiddlewareRefused: a namespace's middleware refused a socket.
	MiddlewareRefused(MiddlewareRefusal)
	// RoomsChanged: rooms of a namespace were created or deleted on
	// this server. Only the rooms sockets join: the room named after each
	// socket's id is left out.
	RoomsChanged(RoomsChange)
	// PacketIn: a complete packet arrived from a client.
	PacketIn(PacketStat)
	// PacketOut: a packet was queued for one client: handshake answers,
	// acknowledgements, disconnections and single-socket emits. Broadcast
	// deliveries are reported by Broadcast instead.
	PacketOut(PacketStat)
	// Broadcast: a packet was delivered to the local sockets of a
	// broadcast (from this server or, with a cluster adapter, another
	// one). With connection state recovery on, a socket's own emit goes
	// through the adapter and counts as a broadcast to one socket.
	Broadcast(BroadcastStat)
	// AckReceived: a client answered an emit that asked for an
	// acknowledgement.
	AckReceived(AckStat)
	// EventRateLimited: an event over its namespace's RateLimits was
	// refused.
	EventRateLimited(RateLimitStat)
}

// SocketConnect describes a socket that joined a namespace.
type SocketConnect struct {
	Namespace string
	Recovered bool // connection state recovery gave it back
}

// SocketDisconnect describes a socket that left its namespace.
type SocketDisconnect struct {
	Namespace string
	Reason    Reason
}

// MiddlewareRefusal describes a connection refused by middleware.
type MiddlewareRefusal struct {
	Namespace string
}

// RoomsChange is the change of the number of rooms of a namespace.
type RoomsChange struct {
	Namespace string
	Delta     int // rooms created minus rooms deleted
}

// PacketStat describes one packet received or queued.
type PacketStat struct {
	Type      parser.PacketType
	Namespace string // as the packet names it; a client may send any
	Bytes     int    // its text and binary attachments
	// Messages is the number of Engine.IO messages it took: one for its
	// text and one for each binary attachment (with Options.Parser, one
	// for each frame the codec made).
	Messages int
}

// BroadcastStat describes one packet delivered to many sockets.
type BroadcastStat struct {
	Namespace  string
	Type       parser.PacketType
	Deliveries int // local sockets it was queued for
	Bytes      int // per delivery: text and binary attachments
	Messages   int // per delivery: Engine.IO messages, as PacketStat.Messages
}

// RateLimitStat describes an event refused by RateLimits.
type RateLimitStat struct {
	Namespace string
	// Event is the event's name when its own limit (RateLimits.PerEvent)
	// refused it, and empty when the socket's (PerSocket) did: so the
	// names reported are those the server configured, never a client's
	// choice.
	Event        string
	Disconnected bool // the socket was disconnected (RateLimits.Disconnect)
}

// AckStat describes an acknowledgement received.
type AckStat struct {
	Namespace string
	RTT       time.Duration // from the emit to the answer's arrival
}

// roomsDelta counts the rooms one operation of the adapter created and
// deleted, leaving out each socket's own room (it joins the room named
// by its id, which is created then, and leaves it last).
func roomsDelta(changes []adapter.RoomChange) int {
	d := 0
	for _, c := range changes {
		switch c.Kind {
		case adapter.RoomCreated:
			d++
		case adapter.RoomDeleted:
			d--
		case adapter.RoomJoined:
			if c.Room == c.ID {
				d--
			}
		case adapter.RoomLeft:
			if c.Room == c.ID {
				d++
			}
		}
	}
	return d
}

// framesBytes is the size of a packet's frames.
func framesBytes(frames []adapter.Frame) int {
	n := 0
	for _, f := range frames {
		n += len(f.Data)
	}
	return n
}

// packetBytes is the size of an encoded packet.
func packetBytes(text []byte, atts [][]byte) int {
	n := len(text)
	for _, a := range atts {
		n += len(a)
	}
	return n
}
