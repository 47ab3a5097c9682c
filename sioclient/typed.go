package sioclient

import (
	"context"
	"log/slog"

	"github.com/switchboard-go/socketio/internal/typedarg"
)

// ArgError is the error of a typed handler whose argument did not decode
// into the declared type; its message, without the "sioclient: " prefix,
// is what the server's acknowledgement carries, as {"error": message}.
type ArgError struct {
	Event string // the event's name
	Index int    // the argument's position, 0 for the first after the name
	Err   error  // the decoding error
}

func (e *ArgError) Error() string { return "sioclient: " + e.message() }

// Unwrap returns the decoding error, such as a *json.UnmarshalTypeError.
func (e *ArgError) Unwrap() error { return e.Err }

func (e *ArgError) message() string { return typedarg.Message(e.Event, e.Index, e.Err) }

// errorAck is the acknowledgement of a failed typed handler.
type errorAck struct {
	Error string `json:"error"`
}

// Typed1 returns a handler, for Socket.On or Socket.Once, that decodes
// the event's first argument into an A and calls fn with it: a typed
// handler, which declares its arguments' types once, in its signature,
// instead of decoding each one with Event.Decode.
//
//	s.On("score", sioclient.Typed2(func(e *sioclient.Event, team string, points int) {
//		...
//	}))
//
// The rules are the server's: each argument decodes as Event.Decode does
// (a RawArg as received), a missing argument is an error, and so is null
// unless the type can hold it; extra arguments are ignored. When an
// argument does not decode the handler is not called: a server waiting
// for an acknowledgement gets {"error": "<message>"}, and the *ArgError
// is logged (Options.Logger), at debug level when the server got it, else
// at info level.
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

// TypedAck1 is Typed1 for a handler that answers the server's
// acknowledgement by returning: the result becomes the acknowledgement's
// only argument, an error becomes {"error": err.Error()}. When the server
// asked for no acknowledgement, the result is dropped and an error is
// logged.
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

func eventArgs(e *Event) Args { return e.Args }

func (e *Event) argFailed(index int, err error) {
	ae := &ArgError{Event: e.Name, Index: index, Err: err}
	if e.WantsAck() {
		_ = e.Ack(errorAck{ae.message()})
	}
	e.logFailure(ae, e.WantsAck())
}

func (e *Event) answer(r any, err error) {
	switch {
	case !e.WantsAck():
		if err != nil {
			e.logFailure(err, false)
		}
	case err != nil:
		_ = e.Ack(errorAck{err.Error()})
	default:
		_ = e.Ack(r)
	}
}

// logFailure logs a typed handler's failure: at debug level when the
// server was told, at info level when nobody else hears of it.
func (e *Event) logFailure(err error, answered bool) {
	if e.socket == nil {
		return
	}
	level := slog.LevelInfo
	if answered {
		level = slog.LevelDebug
	}
	e.socket.m.cfg.Logger.Log(context.Background(), level, "sioclient: event handler failed", "namespace", e.socket.nsp, "event", e.Name, "err", err)
}
