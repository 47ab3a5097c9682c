package parser

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"reflect"
	"slices"
	"strconv"
	"unicode/utf8"
)

// maxArgDepth bounds the []any / map[string]any nesting EncodeArgs walks
// itself. Its main purpose is to turn a cyclic value into an error instead
// of a stack overflow; the outer array takes one level, so the output never
// nests deeper than the decoder accepts.
const maxArgDepth = maxNesting - 1

// EncodeArgs marshals event arguments to a JSON array.
//
// Every value of type []byte (exactly that type, including nil and empty
// slices) found at the top level or nested inside []any and map[string]any
// is replaced with a placeholder {"_placeholder":true,"num":N}, and returned
// in attachments, in placeholder order, without copying. A []byte inside
// any other type (a struct field, a []string, a named type such as
// json.RawMessage or type Blob []byte) is left to encoding/json, which
// writes it as a base64 string. When len(attachments) > 0, the packet
// carrying data must be a BinaryEvent or BinaryAck.
//
// A json.RawMessage argument is inserted verbatim after checking that it is
// valid JSON (a nil one becomes null). A RawArg (or *RawArg) is inserted
// verbatim too, its placeholders renumbered and its attachments appended
// (see RawArg). Text the encoder did not produce itself may hold objects
// shaped like placeholders; in a payload with attachments that is an
// error, since the peer would take them for placeholders. Maps are written
// with sorted keys, as encoding/json does. HTML characters are not escaped: the output goes to a
// Socket.IO peer, not into a web page, and JSON.stringify in the reference
// does not escape them either.
func EncodeArgs(args []any) (data []byte, attachments [][]byte, err error) {
	size, binaries := estimateArgs(args)
	e := argEncoder{buf: make([]byte, 0, size)}
	if binaries > 0 {
		e.attachments = make([][]byte, 0, binaries)
	}
	e.buf = append(e.buf, '[')
	for i, a := range args {
		if i > 0 {
			e.buf = append(e.buf, ',')
		}
		if err := e.value(a, 1); err != nil {
			return nil, nil, fmt.Errorf("parser: encoding argument %d: %w", i, err)
		}
	}
	e.buf = append(e.buf, ']')
	if err := e.check(); err != nil {
		return nil, nil, err
	}
	return e.buf, e.attachments, nil
}

// estimateArgs guesses the output size, and counts the top-level
// attachments, so that typical events are encoded with a single allocation
// for the payload and one for the attachment list.
func estimateArgs(args []any) (size, binaries int) {
	n := 2
	rawBinaries := 0 // forwarded arguments usually share one attachment list
	for _, a := range args {
		switch v := a.(type) {
		case string:
			n += len(v) + 3
		case json.RawMessage:
			n += len(v) + 1
		case RawArg:
			n += len(v.Raw) + 1
			rawBinaries = max(rawBinaries, len(v.Attachments))
		case *RawArg:
			if v != nil {
				n += len(v.Raw) + 1
				rawBinaries = max(rawBinaries, len(v.Attachments))
			}
		case []byte:
			n += len(`{"_placeholder":true,"num":}`) + 3
			binaries++
		default:
			n += 24
		}
	}
	return n, binaries + rawBinaries
}

type argEncoder struct {
	buf         []byte
	attachments [][]byte

	// unchecked is set once buf holds text that may contain objects
	// shaped like placeholders (see check).
	unchecked bool

	// A json.Encoder, created on first use, for values of other types. An
	// Encoder rather than json.Marshal so that HTML escaping can be turned
	// off, keeping one escaping policy for the whole payload.
	tmp *bytes.Buffer
	enc *json.Encoder
}

func (e *argEncoder) value(v any, depth int) error {
	if depth > maxArgDepth {
		return fmt.Errorf("nesting deeper than %d levels (cyclic value?)", maxArgDepth)
	}
	switch x := v.(type) {
	case nil:
		e.buf = append(e.buf, "null"...)
	case []byte:
		e.placeholder(x)
	case RawArg:
		return e.rawArg(&x, depth)
	case *RawArg:
		if x == nil {
			e.buf = append(e.buf, "null"...)
			return nil
		}
		return e.rawArg(x, depth)
	case json.RawMessage:
		if x == nil {
			e.buf = append(e.buf, "null"...)
			return nil
		}
		return e.plain(x, depth)
	case string:
		e.buf = appendString(e.buf, x)
	case bool:
		e.buf = strconv.AppendBool(e.buf, x)
	case int:
		e.buf = strconv.AppendInt(e.buf, int64(x), 10)
	case int8:
		e.buf = strconv.AppendInt(e.buf, int64(x), 10)
	case int16:
		e.buf = strconv.AppendInt(e.buf, int64(x), 10)
	case int32:
		e.buf = strconv.AppendInt(e.buf, int64(x), 10)
	case int64:
		e.buf = strconv.AppendInt(e.buf, x, 10)
	case uint:
		e.buf = strconv.AppendUint(e.buf, uint64(x), 10)
	case uint8:
		e.buf = strconv.AppendUint(e.buf, uint64(x), 10)
	case uint16:
		e.buf = strconv.AppendUint(e.buf, uint64(x), 10)
	case uint32:
		e.buf = strconv.AppendUint(e.buf, uint64(x), 10)
	case uint64:
		e.buf = strconv.AppendUint(e.buf, x, 10)
	case float64:
		return e.float(x, 64)
	case float32:
		return e.float(float64(x), 32)
	case []any:
		if x == nil {
			e.buf = append(e.buf, "null"...) // as encoding/json writes a nil slice
			return nil
		}
		e.buf = append(e.buf, '[')
		for i, el := range x {
			if i > 0 {
				e.buf = append(e.buf, ',')
			}
			if err := e.value(el, depth+1); err != nil {
				return err
			}
		}
		e.buf = append(e.buf, ']')
	case map[string]any:
		if x == nil {
			e.buf = append(e.buf, "null"...)
			return nil
		}
		e.buf = append(e.buf, '{')
		for i, k := range slices.Sorted(maps.Keys(x)) {
			if i > 0 {
				e.buf = append(e.buf, ',')
			}
			if k == "_placeholder" {
				e.unchecked = true
			}
			e.buf = appendString(e.buf, k)
			e.buf = append(e.buf, ':')
			if err := e.value(x[k], depth+1); err != nil {
				return err
			}
		}
		e.buf = append(e.buf, '}')
	default:
		return e.marshal(v)
	}
	return nil
}

func (e *argEncoder) marshal(v any) error {
	if e.enc == nil {
		e.tmp = new(bytes.Buffer)
		e.enc = json.NewEncoder(e.tmp)
		e.enc.SetEscapeHTML(false)
	}
	e.tmp.Reset()
	if err := e.enc.Encode(v); err != nil {
		return err
	}
	e.buf = append(e.buf, bytes.TrimSuffix(e.tmp.Bytes(), []byte{'\n'})...)
	e.unchecked = true
	return nil
}

// float writes f the way encoding/json (and JavaScript) do: the shortest
// representation that reads back exactly, in plain notation for "human"
// magnitudes and exponent notation outside [1e-6, 1e21).
func (e *argEncoder) float(f float64, bits int) error {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return &json.UnsupportedValueError{
			Value: reflect.ValueOf(f),
			Str:   strconv.FormatFloat(f, 'g', -1, bits),
		}
	}
	format := byte('f')
	if a := math.Abs(f); a != 0 {
		// For float32 the cut-offs are compared in float32, so the
		// boundary values format as encoding/json formats them.
		if bits == 64 && (a < 1e-6 || a >= 1e21) ||
			bits == 32 && (float32(a) < 1e-6 || float32(a) >= 1e21) {
			format = 'e'
		}
	}
	start := len(e.buf)
	e.buf = strconv.AppendFloat(e.buf, f, format, -1, bits)
	if format == 'e' {
		// strconv pads the exponent to two digits ("1e-07"); JavaScript
		// and encoding/json do not ("1e-7").
		b := e.buf[start:]
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			e.buf = e.buf[:len(e.buf)-1]
		}
	}
	return nil
}

const hexDigits = "0123456789abcdef"

// appendString writes s as a JSON string. Invalid UTF-8 becomes U+FFFD, as
// with encoding/json, so the output is always valid UTF-8; U+2028 and
// U+2029 are escaped because older JavaScript engines treat them as line
// terminators inside string literals.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// SplitArray splits a JSON array into its raw elements without decoding
// them, so that a dispatcher can look at the event name (element 0) and
// hand the remaining elements to Unmarshal one by one. The elements alias
// data, without surrounding whitespace. It returns an error wrapping
// ErrInvalidPacket if data is not a valid JSON array.
func SplitArray(data []byte) ([]json.RawMessage, error) {
	s := scanner{data: data, split: true}
	s.skipSpace()
	if s.pos >= len(data) || data[s.pos] != '[' {
		return nil, invalidf("payload is not a JSON array")
	}
	s.elems = make([]json.RawMessage, 0, 8)
	if err := s.whole(); err != nil {
		return nil, err
	}
	return s.elems, nil
}
