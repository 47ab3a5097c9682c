package socketio

import (
	"context"
	"log/slog"

	"github.com/switchboard-go/socketio/internal/typedarg"
)

// ArgError is the error of a typed handler whose argument did not decode
// into the declared type; its message, without the "socketio: " prefix,
// is what the client's acknowledgement carries, as {"error": message}.
type ArgError struct {
	Event string // the event's name
	Index int    // the argument's position, 0 for the first after the name
	Err   error  // the decoding error
}

func (e *ArgError) Error() string { return "socketio: " + e.message() }

// Unwrap returns the decoding error, such as a *json.UnmarshalTypeError.
func (e *ArgError) Unwrap() error { return e.Err }

func (e *ArgError) message() string {
	return typedarg.Message(e.Event, e.Index, e.Err)
}

// errorAck is the acknowledgement of a failed typed handler.
type errorAck struct {
	Error string `json:"error"`
}

// Typed1 returns a handler, for Socket.On or Socket.Once, that decodes
// the event's first argument into an A and calls fn with it: a typed
// handler, which declares its arguments' types once, in its signature,
// instead of decoding each one with Event.Decode.
//
//	s.On("join", socketio.Typed1(func(e *socketio.Event, room string) {
//		s.Join(room)
//	}))
//
// Each argument is decoded as Event.Decode does (a binary attachment into
// []byte, a RawArg as received, without decoding), a little more strictly:
// a missing argument is an error, and so is null unless the type can hold
// it (a pointer, interface, map or slice, or a type that decodes JSON
// itself). Extra arguments are ignored, as in JavaScript.
//
// When an argument does not decode, the handler is not called: a client
// waiting for an acknowledgement gets {"error": "<message>"} as its only
// argument — the shape Socket.IO applications commonly answer failures
// with, callback({ error }) — and the *ArgError goes to the socket's
// OnError handlers. Without one it is logged, at debug level when the
// client got the error, else at info level. Nothing is ignored silently.
//
// These are functions rather than methods of Socket because Go methods
// cannot have type parameters. Keep func(*Event) itself for events whose
// arguments vary.
func Typed1[A any](fn func(e *Event, a A)) func(*Event) {
	return typedarg.Wrap1(eventArgs, (*Event).argFailed, fn)
}

// Typed2 is Typed1 for events with two arguments.
func Typed2[A, B any](fn func(e *Event, a A, b B)) func(*Event) {
	return typedarg.Wrap2(eventArgs, (*Event).argFailed, fn)
}

// Typed3 is Typed1 for events with three arguments.
func Typed3[A, B, C any](fn func(e *Event, a A, b B, c C)) func(*Event) {
	return typedarg.Wrap3(eventArgs, (*Event).argFailed, fn)
}

func eventArgs(e *Event) Args { return e.Args }

// TypedAck1 is Typed1 for a handler that answers the client's
// acknowledgement by returning: the result r becomes the acknowledgement's
// only argument, an error becomes {"error": err.Error()} (so return errors
// whose message is meant for the client). When the client asked for no
// acknowledgement, r is dropped and an error goes to OnError. To answer
// later, from another goroutine, use Typed1 and Event.Ack instead.
func TypedAck1[A, R any](fn func(e *Event, a A) (R, error)) func(*Event) {
	return Typed1(func(e *Event, a A) {
		r, err := fn(e, a)
		e.answer(r, err)
	})
}

// TypedAck2 is TypedAck1 for events with two arguments.
func TypedAck2[A, B, R any](fn func(e *Event, a A, b B) (R, error)) func(*Event) {
	return Typed2(func(e *Event, a A, b B) {
		r, err := fn(e, a, b)
		e.answer(r, err)
	})
}

// TypedAck3 is TypedAck1 for events with three arguments.
func TypedAck3[A, B, C, R any](fn func(e *Event, a A, b B, c C) (R, error)) func(*Event) {
	return Typed3(func(e *Event, a A, b B, c C) {
		r, err := fn(e, a, b, c)
		e.answer(r, err)
	})
}

// argFailed answers and reports an argument that did not decode.
func (e *Event) argFailed(index int, err error) {
	ae := &ArgError{Event: e.Name, Index: index, Err: err}
	if e.WantsAck() {
		_ = e.Ack(errorAck{ae.message()})
	}
	if e.socket != nil {
		e.socket.reportError(ae, e.Name, e.WantsAck())
	}
}

// answer sends a TypedAck handler's result.
func (e *Event) answer(r any, err error) {
	switch {
	case !e.WantsAck():
		if err != nil && e.socket != nil {
			e.socket.reportError(err, e.Name, false)
		}
	case err != nil:
		_ = e.Ack(errorAck{err.Error()})
	default:
		_ = e.Ack(r)
	}
}

// reportError passes err, about event, to the socket's OnError handlers.
// When there is none it is logged: at info level, or at debug level when
// the client was told (answered) and the server can do nothing about it.
func (s *Socket) reportError(err error, event string, answered bool) {
	s.mu.Lock()
	var onErr []func(error)
	if s.hooks != nil {
		onErr = s.hooks.onError
	}
	s.mu.Unlock()
	if len(onErr) == 0 {
		level := slog.LevelInfo
		if answered {
			level = slog.LevelDebug
		}
		s.ns.srv.logger.Log(context.Background(), level, "socketio: event handler failed", "nsp", s.ns.name, "socket", s.id, "event", event, "err", err)
		return
	}
	for _, fn := range onErr {
		s.safely(func() { fn(err) })
	}
}
