package sioclient

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/switchboard-go/socketio/engineio"
)

// Disconnect reasons passed to OnDisconnect: the strings of the reference
// client, because applications (and their logs) act on them. Only after
// ReasonIOServerDisconnect and ReasonIOClientDisconnect does the socket
// stay disconnected; after the others it reconnects unless reconnection is
// disabled.
const (
	// ReasonIOServerDisconnect: the server disconnected the socket
	// (socket.disconnect() in Node, Socket.Disconnect on our server). The
	// socket does not reconnect; call Connect to try again.
	ReasonIOServerDisconnect = "io server disconnect"
	// ReasonIOClientDisconnect: Socket.Disconnect was called.
	ReasonIOClientDisconnect = "io client disconnect"
	// ReasonPingTimeout: the server fell silent for longer than its
	// pingInterval + pingTimeout.
	ReasonPingTimeout = engineio.ReasonPingTimeout
	// ReasonTransportClose: the server closed the connection (or it was
	// lost in a way that looks like a close).
	ReasonTransportClose = engineio.ReasonTransportClose
	// ReasonTransportError: the connection failed.
	ReasonTransportError = engineio.ReasonTransportError
	// ReasonParseError: the server sent a packet that does not decode.
	ReasonParseError = engineio.ReasonParseError
	// ReasonForcedClose: Manager.Close was called.
	ReasonForcedClose = engineio.ReasonForcedClose
)

// Errors returned by the socket API.
var (
	// ErrReservedEvent: the event name is reserved ("connect",
	// "connect_error", "disconnect", "disconnecting", "newListener",
	// "removeListener") and cannot be emitted.
	ErrReservedEvent = errors.New("sioclient: reserved event name")
	// ErrDisconnected: the socket disconnected before the acknowledgement
	// arrived (only for emits that had been sent; buffered ones wait for
	// the reconnection), or Event.Ack was called on a disconnected socket.
	ErrDisconnected = errors.New("sioclient: socket has been disconnected")
	// ErrTimeout: an acknowledgement did not arrive in time.
	ErrTimeout = errors.New("sioclient: operation has timed out")
	// ErrBufferFull: the socket is disconnected and its buffer
	// (Options.MaxBufferBytes) cannot take the emit.
	ErrBufferFull = errors.New("sioclient: send buffer full")
	// ErrAlreadyAcked: Event.Ack was called twice.
	ErrAlreadyAcked = errors.New("sioclient: already acknowledged")
	// ErrNoAck: Event.Ack was called on an event that asked for none.
	ErrNoAck = errors.New("sioclient: the event did not ask for an acknowledgement")
	// ErrQueueOverflow: the connection's outbound queue is full (the
	// server reads too slowly); see Options.MaxQueueBytes.
	ErrQueueOverflow = engineio.ErrQueueOverflow
	// ErrRefused: the socket's connection to its namespace was refused —
	// the server answered CONNECT_ERROR (the namespace does not exist, a
	// middleware failed) or the socket's AuthFunc failed — so an
	// acknowledgement cannot come. It fails the acknowledgements awaited
	// at the refusal and every emit asking for one until Connect is called
	// again. The error wraps it and the *ConnectError (errors.Is,
	// errors.As). The reference client has no such error: its emits wait
	// in the buffer and their acknowledgements time out.
	ErrRefused = errors.New("sioclient: connection to the namespace refused")
)

// refusedError is the error of ErrRefused: which namespace refused, and
// why.
type refusedError struct {
	nsp string
	ce  *ConnectError
}

func (e *refusedError) Error() string {
	return fmt.Sprintf("sioclient: connection to namespace %s refused: %s", e.nsp, e.ce.Message)
}

func (e *refusedError) Unwrap() []error { return []error{ErrRefused, e.ce} }

// errNoConn: the manager has no open connection at the moment.
var errNoConn = errors.New("sioclient: not connected")

func isReserved(event string) bool {
	switch event {
	case "connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener":
		return true
	}
	return false
}

// ConnectError is what OnConnectError receives: the server refused the
// socket (its middleware failed, the namespace does not exist), or the
// connection could not be established.
type ConnectError struct {
	// Message is the server's message ("Invalid namespace", the text of
	// the middleware's error), or a description of the failure.
	Message string
	// Data is the data the server attached to the refusal (Node:
	// err.data), as raw JSON; nil when there is none.
	Data json.RawMessage
	// Err is the underlying error when the connection itself failed (an
	// *engineio.StatusError for an HTTP refusal, a network error, a
	// timeout); nil for a refusal by the server's Socket.IO layer.
	Err error
}

func (e *ConnectError) Error() string { return "sioclient: connect error: " + e.Message }

// Unwrap returns Err.
func (e *ConnectError) Unwrap() error { return e.Err }

// FromServer reports whether the Socket.IO server refused the socket (a
// CONNECT_ERROR packet), as opposed to the connection failing. After a
// refusal the socket does not retry by itself, as in the reference client;
// after a connection failure the manager keeps reconnecting.
func (e *ConnectError) FromServer() bool { return e.Err == nil }
