// Package typedarg decodes received arguments into the types a handler
// declares, for the typed handlers of the server's and the client's
// Socket (socketio.Typed1, sioclient.Typed1, ...), which share the rules
// and the wording of their errors.
package typedarg

import (
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"

	"github.com/switchboard-go/socketio/parser"
)

// ErrMissing: the peer sent fewer arguments than the handler declares.
var ErrMissing = errors.New("missing")

// For returns the decoder of argument i into a T, worked out once per
// handler so that each event costs only the decoding itself.
//
// It is stricter than encoding/json at the top level, where a mistake
// would otherwise go unnoticed: a missing argument is an error (JavaScript
// would pass undefined), and so is null unless T can hold it (a pointer,
// interface, map or slice, or a type that decodes JSON itself). A
// parser.RawArg is handed over as received, without decoding.
func For[T any]() func(args parser.Args, i int) (T, error) {
	if _, ok := any((*T)(nil)).(*parser.RawArg); ok {
		return func(args parser.Args, i int) (T, error) {
			var v T
			if i >= args.Len() {
				return v, ErrMissing
			}
			*any(&v).(*parser.RawArg) = args.Arg(i)
			return v, nil
		}
	}
	t := reflect.TypeFor[T]()
	nullable := acceptsNull(t)
	return func(args parser.Args, i int) (T, error) {
		var v T
		if i >= args.Len() {
			return v, ErrMissing
		}
		if !nullable && string(args.Raw[i]) == "null" {
			return v, &json.UnmarshalTypeError{Value: "null", Type: t}
		}
		err := args.Decode(i, &v)
		return v, err
	}
}

var (
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// acceptsNull reports whether null is a meaningful value of t: one it
// can tell apart from its zero value, or one it decodes itself.
func acceptsNull(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Pointer, reflect.Interface, reflect.Map, reflect.Slice:
		return true
	}
	return reflect.PointerTo(t).Implements(jsonUnmarshaler)
}

// Describe says what is wrong with an argument, in terms of JSON rather
// than Go, for the peer's developer: "expected string, got number",
// "user.age: expected integer, got string", "missing".
func Describe(err error) string {
	if errors.Is(err, ErrMissing) {
		return "missing"
	}
	if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok && te.Type != nil {
		got := te.Value
		if got == "bool" {
			got = "boolean"
		}
		s := "expected " + jsonKind(te.Type) + ", got " + got
		if te.Field != "" {
			s = te.Field + ": " + s
		}
		return s
	}
	return err.Error()
}

// jsonKind names the JSON that t decodes from.
func jsonKind(t reflect.Type) string {
	if t.Kind() != reflect.Pointer && reflect.PointerTo(t).Implements(textUnmarshaler) {
		return "string"
	}
	switch t.Kind() {
	case reflect.Pointer:
		return jsonKind(t.Elem())
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return "integer"
	case reflect.Float32, reflect.Float64:
		return "number"
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return "binary or base64 string"
		}
		return "array"
	case reflect.Array:
		return "array"
	case reflect.Map, reflect.Struct:
		return "object"
	}
	return t.String()
}

// Message is the text of the error of argument index of event: what the
// peer's acknowledgement carries.
func Message(event string, index int, err error) string {
	return fmt.Sprintf("invalid argument %d of %q: %s", index, event, Describe(err))
}

// Wrap1 returns a handler of events E that decodes the first argument
// (found by args) into an A and calls fn, or calls fail with the
// argument's index and error.
func Wrap1[E, A any](args func(E) parser.Args, fail func(E, int, error), fn func(E, A)) func(E) {
	da := For[A]()
	return func(e E) {
		a, err := da(args(e), 0)
		if err != nil {
			fail(e, 0, err)
			return
		}
		fn(e, a)
	}
}

// Wrap2 is Wrap1 for two arguments.
func Wrap2[E, A, B any](args func(E) parser.Args, fail func(E, int, error), fn func(E, A, B)) func(E) {
	da, db := For[A](), For[B]()
	return func(e E) {
		all := args(e)
		a, err := da(all, 0)
		if err != nil {
			fail(e, 0, err)
			return
		}
		b, err := db(all, 1)
		if err != nil {
			fail(e, 1, err)
			return
		}
		fn(e, a, b)
	}
}

// Wrap3 is Wrap1 for three arguments.
func Wrap3[E, A, B, C any](args func(E) parser.Args, fail func(E, int, error), fn func(E, A, B, C)) func(E) {
	da, db, dc := For[A](), For[B](), For[C]()
	return func(e E) {
		all := args(e)
		a, err := da(all, 0)
		if err != nil {
			fail(e, 0, err)
			return
		}
		b, err := db(all, 1)
		if err != nil {
			fail(e, 1, err)
			return
		}
		c, err := dc(all, 2)
		if err != nil {
			fail(e, 2, err)
			return
		}
		fn(e, a, b, c)
	}
}
