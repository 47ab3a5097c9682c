package socketio

import (
	"errors"

	"github.com/switchboard-go/socketio/engineio"
)

// Reason says why a socket disconnected. The values are the exact strings
// of the reference server, because clients and logs act on them.
type Reason string

const (
	// ReasonServerNamespaceDisconnect: Socket.Disconnect(false) was called.
	ReasonServerNamespaceDisconnect Reason = "server namespace disconnect"
	// ReasonClientNamespaceDisconnect: the client disconnected the socket.
	ReasonClientNamespaceDisconnect Reason = "client namespace disconnect"
	// ReasonServerShuttingDown: Server.Shutdown or Server.Close.
	ReasonServerShuttingDown Reason = "server shutting down"
	// ReasonPingTimeout: the client did not answer a ping in time.
	ReasonPingTimeout Reason = engineio.ReasonPingTimeout
	// ReasonTransportClose: the client closed the connection.
	ReasonTransportClose Reason = engineio.ReasonTransportClose
	// ReasonTransportError: the connection failed.
	ReasonTransportError Reason = engineio.ReasonTransportError
	// ReasonParseError: the client sent a malformed packet.
	ReasonParseError Reason = engineio.ReasonParseError
	// ReasonForcedClose: the server closed the underlying connection
	// (Socket.Disconnect(true)).
	ReasonForcedClose Reason = engineio.ReasonForcedClose
	// ReasonForcedServerClose: the engine closed every connection.
	ReasonForcedServerClose Reason = engineio.ReasonForcedServerClose
	// ReasonQueueOverflow: the client read too slowly and its outbound
	// queue overflowed (this implementation's bound; Node has none).
	ReasonQueueOverflow Reason = engineio.ReasonQueueOverflow
	// ReasonWriteTimeout: a write to the client did not finish in time.
	ReasonWriteTimeout Reason = engineio.ReasonWriteTimeout
	// ReasonRateLimited: the socket sent events over its namespace's
	// RateLimits, which disconnect (RateLimits.Disconnect). The client
	// sees a server disconnect ("io server disconnect").
	ReasonRateLimited Reason = "rate limit exceeded"
)

// Errors returned by the socket API.
var (
	// ErrReservedEvent: the event name is reserved ("connect",
	// "connect_error", "disconnect", "disconnecting", "newListener",
	// "removeListener") and cannot be emitted.
	ErrReservedEvent = errors.New("socketio: reserved event name")
	// ErrDisconnected: the socket is not connected; pending acks fail with
	// it when the socket disconnects.
	ErrDisconnected = errors.New("socketio: socket disconnected")
	// ErrTimeout: an acknowledgement did not arrive in time.
	ErrTimeout = errors.New("socketio: operation has timed out")
	// ErrAlreadyAcked: Event.Ack was called twice.
	ErrAlreadyAcked = errors.New("socketio: already acknowledged")
	// ErrNoAck: Event.Ack was called on an event that asked for none.
	ErrNoAck = errors.New("socketio: the event did not ask for an acknowledgement")
)

// errMiddlewarePanicked is the error of a middleware that panicked (the
// panic is logged): a check that could not finish refuses, it does not
// let through. Clients see its text in CONNECT_ERROR.
var errMiddlewarePanicked = errors.New("middleware error")

func isReserved(event string) bool {
	switch event {
	case "connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener":
		return true
	}
	return false
}

// ConnectError is returned by middleware to refuse a connection with a
// message and extra data: the client receives CONNECT_ERROR
// {"message": Message, "data": Data}. Any other error refuses with its
// text as the message.
type ConnectError struct {
	Message string
	Data    any
}

func (e *ConnectError) Error() string { return e.Message }
