package socketio

import (
	"sync/atomic"

	"github.com/switchboard-go/socketio/parser"
)

// Args is a received argument list. Decode(i, &v) decodes the i-th
// argument like encoding/json (a binary attachment decodes into []byte),
// Value(i) returns it as a generic value.
type Args = parser.Args

// RawArg is one received argument kept as it arrived, to pass on
// unchanged: e.Arg(i) returns one, e.RawArgs() all of them, ready to
// spread into an emit,
//
//	s.To(room).Emit("message", e.RawArgs()...)
//
// Every emit, broadcast and acknowledgement writes a RawArg's JSON as the
// client sent it (no decoding and re-encoding, object keys in the
// client's order) and carries the binary attachments it refers to,
// renumbered for the new packet. It may be nested in []any and
// map[string]any arguments. See parser.RawArg for the checks made on one
// built by hand.
type RawArg = parser.RawArg

// Event is one received event: its name, its arguments (without the
// name), and the acknowledgement the client may be waiting for.
type Event struct {
	Name string
	Args
	socket *Socket
	ackID  uint64
	hasAck bool
	acked  atomic.Bool
}

// Socket returns the socket that received the event.
func (e *Event) Socket() *Socket { return e.socket }

// WantsAck reports whether the client waits for an acknowledgement.
func (e *Event) WantsAck() bool { return e.hasAck }

// Ack answers the client's acknowledgement callback with args. It may be
// called later and from any goroutine, at most once; []byte arguments
// travel as binary attachments.
func (e *Event) Ack(args ...any) error {
	if !e.hasAck {
		return ErrNoAck
	}
	if !e.acked.CompareAndSwap(false, true) {
		return ErrAlreadyAcked
	}
	return e.socket.sendAck(e.ackID, args)
}

// AckFunc, given as the last argument of Socket.Emit, is called once with
// the client's answer, or with an error: ErrTimeout after the emitter's
// Timeout, ErrDisconnected when the socket disconnects first. It is not
// called when Emit returns an error: each emit is reported once, by one or
// the other. It runs on the socket's dispatch goroutine (or the timer's)
// and must not block.
type AckFunc func(args Args, err error)

// Middleware runs before a socket joins a namespace; an error refuses the
// connection (see ConnectError). Middleware runs on the connection's
// dispatch goroutine, one at a time, in the order given to Use.
type Middleware func(s *Socket) error

// The methods below are those of the embedded Args, declared again so
// that go doc lists them with Event.

// Len returns the number of arguments.
func (e *Event) Len() int { return e.Args.Len() }

// Decode decodes argument i into v like encoding/json; a binary
// attachment decodes into a []byte variable or field.
func (e *Event) Decode(i int, v any) error { return e.Args.Decode(i, v) }

// Value returns argument i as a generic value (string, float64, bool,
// nil, []any, map[string]any, or []byte for an attachment); nil when out
// of range or invalid.
func (e *Event) Value(i int) any { return e.Args.Value(i) }

// Values returns every argument as Value does.
func (e *Event) Values() []any { return e.Args.Values() }

// Arg returns argument i as received, to pass on unchanged (see RawArg).
func (e *Event) Arg(i int) RawArg { return e.Args.Arg(i) }

// RawArgs returns every argument as received, to spread into an emit:
// s.To(room).Emit("message", e.RawArgs()...).
func (e *Event) RawArgs() []any { return e.Args.RawArgs() }
