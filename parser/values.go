package parser

import (
	"encoding/json"
	"fmt"
)

// Args is a received argument list (of an event or an acknowledgement):
// the raw JSON elements, decoded lazily, and the binary attachments their
// placeholders refer to. It is read-only and safe to share.
type Args struct {
	Raw         []json.RawMessage
	Attachments [][]byte
}

// Len returns the number of arguments.
func (a Args) Len() int { return len(a.Raw) }

// Decode decodes argument i into v, as encoding/json does; a binary
// placeholder decodes into a []byte variable or field (inside a
// map[string]any it stays a base64 string: use Value for generic data).
func (a Args) Decode(i int, v any) error {
	if i < 0 || i >= len(a.Raw) {
		return fmt.Errorf("parser: argument %d out of range (have %d)", i, len(a.Raw))
	}
	return Unmarshal(a.Raw[i], a.Attachments, v)
}

// Value returns argument i as a generic Go value (string, float64, bool,
// nil, []any, map[string]any, and []byte for binary); nil when i is out of
// range or the argument does not decode.
func (a Args) Value(i int) any {
	if i < 0 || i >= len(a.Raw) {
		return nil
	}
	v, err := Reconstruct(a.Raw[i], a.Attachments)
	if err != nil {
		return nil
	}
	return v
}

// Values returns every argument as Value does.
func (a Args) Values() []any {
	out := make([]any, len(a.Raw))
	for i := range a.Raw {
		out[i] = a.Value(i)
	}
	return out
}

// Arg returns argument i as received, to pass on unchanged: emitting it
// sends the same JSON, its attachments included (see RawArg). Out of
// range, it returns the zero RawArg, which is sent as null.
func (a Args) Arg(i int) RawArg {
	if i < 0 || i >= len(a.Raw) {
		return RawArg{}
	}
	return RawArg{Raw: a.Raw[i], Attachments: a.Attachments}
}

// RawArgs returns every argument as received, ready to be spread into an
// emit that forwards them all unchanged:
//
//	s.To(room).Emit("message", e.RawArgs()...)
//
// The values are *RawArg (pointers, so that the list costs two
// allocations however many arguments there are).
func (a Args) RawArgs() []any {
	raws := make([]RawArg, len(a.Raw))
	out := make([]any, len(a.Raw))
	for i, r := range a.Raw {
		raws[i] = RawArg{Raw: r, Attachments: a.Attachments}
		out[i] = &raws[i]
	}
	return out
}
