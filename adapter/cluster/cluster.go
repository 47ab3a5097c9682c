// Package cluster is the logic of a multi-server adapter, written once for
// every backend (Redis, NATS, PostgreSQL, …). A backend only moves
// messages: it implements Bus, encodes Broadcast, Request and Response in
// its wire format and hands what it receives to a Receiver.
//
// # Design
//
// The cluster Adapter wraps the in-memory adapter of package adapter, which
// stays the index of the local sockets, and adds the cluster on top: an
// operation runs locally first (synchronously, so a caller sees its own
// server's effects at once) and is then published for the other servers,
// which apply it to their local sockets. Messages a server published come
// back to it on most buses; they carry the publisher's UID and the
// Adapter drops them, so nothing is applied twice.
//
// The message types mirror the ones of Node's socket.io-adapter family
// (the Redis adapter's RequestType numbers included), so that a backend
// can be wire-compatible with a Node.js cluster by encoding them field by
// field. Packets travel as Node's parser objects do: event arguments as
// plain values with binary attachments in place ([]byte), not as encoded
// Socket.IO text, because a Node server re-encodes them for its clients.
//
// Values are the generic ones of encoding/json plus []byte: nil, bool,
// float64 (backends may also hand int64 or uint64), string, []byte, []any
// and map[string]any.
//
// A bus that listens to a channel per room (Redis's sharded adapter in
// its dynamic modes) also implements RoomSubscriber: the Adapter reports
// the rooms its local index creates and deletes, and a join waits
// (adapter.RoomSyncer) until the bus listens to the new rooms.
//
// The adapter.Adapter interface is unchanged: what the cluster needs of
// the namespace beyond adapter.Host is asked through optional interfaces
// (adapter.ServerSideReceiver), so the in-memory path pays nothing.
package cluster

import (
	"time"

	"github.com/switchboard-go/socketio/adapter"
)

// RequestType numbers the requests between servers and their responses,
// with the values of Node's @socket.io/redis-adapter.
type RequestType int

const (
	Sockets              RequestType = 0 // socket ids of rooms (Node's allSockets; unused by this server's API)
	AllRooms             RequestType = 1 // every room name
	RemoteJoin           RequestType = 2 // SocketsJoin
	RemoteLeave          RequestType = 3 // SocketsLeave
	RemoteDisconnect     RequestType = 4 // DisconnectSockets
	RemoteFetch          RequestType = 5 // FetchSockets
	ServerSideEmit       RequestType = 6 // ServerSideEmit, and its acknowledgements
	BroadcastWithAck     RequestType = 7 // a broadcast whose clients answer
	BroadcastClientCount RequestType = 8 // response: how many clients a server sent to
	BroadcastAck         RequestType = 9 // response: one client's answer
)

// Packet is a Socket.IO packet as servers exchange it: Node's parser
// object ({type, data, nsp, id}).
type Packet struct {
	Type  int    // 2 (EVENT) for events, binary or not: the receiver re-encodes
	Nsp   string // namespace
	Data  []any  // the event name, then its arguments, binary as []byte
	ID    uint64 // ack id, when HasID
	HasID bool
}

// Flags are the flags of a broadcast that matter to the receiving server.
type Flags struct {
	Volatile   bool
	NoCompress bool // Node: compress false
	Local      bool
	Timeout    time.Duration // of a broadcast with acknowledgements
}

// Broadcast is a packet for the sockets of other servers.
type Broadcast struct {
	UID    string // the publishing server's adapter
	Packet Packet
	Rooms  []string
	Except []string
	Flags  Flags
}

// Request asks the other servers to do something, and, when RequestID is
// set, to answer.
type Request struct {
	UID       string
	RequestID string
	Type      RequestType
	Rooms     []string // target selection (opts.rooms)
	Except    []string // target selection (opts.except)
	// JoinRooms are the rooms to join or leave (RemoteJoin, RemoteLeave).
	JoinRooms []string
	Close     bool    // RemoteDisconnect: close the underlying connection
	Data      []any   // ServerSideEmit: event name and arguments
	Packet    *Packet // BroadcastWithAck
	Flags     Flags   // BroadcastWithAck
}

// Response answers a Request.
type Response struct {
	RequestID   string
	Type        RequestType // set for ServerSideEmit, BroadcastClientCount and BroadcastAck
	Sockets     []adapter.SocketDetails
	Rooms       []string
	ClientCount int
	// Data is ServerSideEmit's acknowledgement argument, or the client's
	// first answer of a BroadcastAck.
	Data any
	// From is the UID of the answering server when the wire carries it
	// (the Redis protocol does not).
	From string
}

// Receiver gets what the other servers publish. Its methods must not
// block for long: a backend may call them on its one reading goroutine.
type Receiver interface {
	OnBroadcast(b *Broadcast)
	OnRequest(r *Request)
	OnResponse(r *Response)
	// Malformed tells the adapter of a message the bus dropped because it
	// did not decode (the bus logs it): it is counted (Config.OnError).
	Malformed(err error)
	// Awaits reports whether this server waits for answers to requestID.
	// Where responses to every server share a channel (Redis by default),
	// a bus can read a response's id, ask, and skip decoding the rest:
	// FetchSockets answers run to kilobytes.
	Awaits(requestID string) bool
}

// ErrorKind classifies the failures of a cluster adapter, for counting
// (Config.OnError).
type ErrorKind string

const (
	// ErrorSetup: the namespace's bus could not be set up; every cluster
	// operation of the namespace then fails with that error.
	ErrorSetup ErrorKind = "setup"
	// ErrorPublish: the backend refused a publication or a server count;
	// the operation's caller got the error.
	ErrorPublish ErrorKind = "publish"
	// ErrorTimeout: a request was not answered by every server within the
	// request timeout; the caller got ErrTimeout with the answers that came.
	ErrorTimeout ErrorKind = "timeout"
	// ErrorRespond: an answer to another server's request could not be
	// published (logged; that server times out).
	ErrorRespond ErrorKind = "respond"
	// ErrorMalformed: a message from the cluster did not decode and was
	// dropped (logged).
	ErrorMalformed ErrorKind = "malformed"
)

// Error is one failure of a cluster adapter, as Config.OnError hears it.
type Error struct {
	Namespace string
	Kind      ErrorKind
	Err       error
}
