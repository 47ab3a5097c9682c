package msgpackparser

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/switchboard-go/socketio/parser"
	"github.com/vmihailenco/msgpack/v5"
	"github.com/vmihailenco/msgpack/v5/msgpcode"
)

// decoder turns one msgpack message into a packet in the parser package's
// form. It is used by one connection at a time.
type decoder struct {
	maxAttachments int
	maxDepth       int

	r   bytes.Reader
	dec *msgpack.Decoder
	msg []byte // the message being decoded

	// Per value being converted: its JSON and binary values.
	out  []byte
	atts [][]byte
}

// invalidf builds an error that matches parser.ErrInvalidPacket.
func invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: msgpack: "+format, append([]any{parser.ErrInvalidPacket}, args...)...)
}

// wrap turns an error of the msgpack library (a truncated message, an
// unexpected code) into one that matches parser.ErrInvalidPacket.
func wrap(err error) error {
	if errors.Is(err, parser.ErrInvalidPacket) {
		return err
	}
	return invalidf("%v", err)
}

func (d *decoder) Reset() {}

func (d *decoder) Add(msg []byte, binary bool) (*parser.Packet, error) {
	if !binary {
		return nil, invalidf("text message: every packet is a binary message")
	}
	d.msg = msg
	d.r.Reset(msg)
	if d.dec == nil {
		d.dec = msgpack.NewDecoder(&d.r)
	} else {
		d.dec.Reset(&d.r)
	}
	p, err := d.packet()
	d.msg, d.out, d.atts = nil, nil, nil
	if err != nil {
		return nil, wrap(err)
	}
	return p, nil
}

// pos is the offset of the next byte to read in d.msg.
func (d *decoder) pos() int { return len(d.msg) - d.r.Len() }

// take returns the next n bytes of the message, without copying (a binary
// message belongs to its decoder), after checking that the message holds
// them, so that a huge announced length allocates nothing.
func (d *decoder) take(n int) ([]byte, error) {
	if n < 0 || n > d.r.Len() {
		return nil, invalidf("length %d past the end of the message", n)
	}
	start := d.pos()
	if _, err := d.r.Seek(int64(n), 1); err != nil {
		return nil, err
	}
	return d.msg[start : start+n : start+n], nil
}

func (d *decoder) packet() (*parser.Packet, error) {
	n, err := d.dec.DecodeMapLen()
	if err != nil {
		return nil, err
	}
	if n < 0 {
		return nil, invalidf("packet is nil, not a map")
	}
	var (
		typ, nsp, data, id bool
		p                  parser.Packet
		rawType            int64
	)
	for range n {
		c, err := d.dec.PeekCode()
		if err != nil {
			return nil, err
		}
		if !msgpcode.IsString(c) {
			// A key the reference would turn into a string that is none
			// of its four: skipped with its value.
			if err := d.skip(); err != nil {
				return nil, err
			}
			if err := d.skip(); err != nil {
				return nil, err
			}
			continue
		}
		key, err := d.dec.DecodeString()
		if err != nil {
			return nil, err
		}
		var seen *bool
		switch key {
		case "type":
			seen = &typ
		case "nsp":
			seen = &nsp
		case "data":
			seen = &data
		case "id":
			seen = &id
		}
		if seen != nil {
			if *seen {
				return nil, invalidf("key %q twice", key)
			}
			*seen = true
		}
		switch key {
		case "type":
			if rawType, err = d.integer("type"); err != nil {
				return nil, err
			}
		case "nsp":
			if c, err := d.dec.PeekCode(); err != nil {
				return nil, err
			} else if !msgpcode.IsString(c) {
				return nil, invalidf("invalid namespace")
			}
			if p.Namespace, err = d.dec.DecodeString(); err != nil {
				return nil, err
			}
		case "data":
			d.out, d.atts = nil, nil
			undefined, err := d.value(0)
			if err != nil {
				return nil, err
			}
			if !undefined { // data: undefined is no data
				p.Data, p.Attachments = d.out, d.atts
			}
		case "id":
			if d.undefinedNext() { // id: undefined is no id
				if _, err := d.take(3); err != nil {
					return nil, err
				}
				continue
			}
			v, err := d.integer("packet id")
			if err != nil {
				return nil, err
			}
			if v < 0 {
				return nil, invalidf("negative packet id")
			}
			p.ID, p.HasID = uint64(v), true
		default:
			if err := d.skip(); err != nil {
				return nil, err
			}
		}
	}
	if d.r.Len() != 0 {
		return nil, invalidf("%d trailing bytes", d.r.Len())
	}
	if !typ || rawType < int64(parser.Connect) || rawType > int64(parser.ConnectError) {
		return nil, invalidf("invalid packet type")
	}
	if !nsp {
		return nil, invalidf("invalid namespace")
	}
	p.Type = parser.PacketType(rawType)
	if len(p.Attachments) > 0 {
		switch p.Type {
		case parser.Event:
			p.Type = parser.BinaryEvent
		case parser.Ack:
			p.Type = parser.BinaryAck
		default:
			return nil, invalidf("binary data in a %s packet", p.Type)
		}
	}
	if err := p.Check(); err != nil {
		return nil, err
	}
	return &p, nil
}

// integer reads a number that must be an integer, as the reference's
// Number.isInteger: an integral float counts.
func (d *decoder) integer(what string) (int64, error) {
	c, err := d.dec.PeekCode()
	if err != nil {
		return 0, err
	}
	switch {
	case c == msgpcode.Uint64:
		v, err := d.dec.DecodeUint64()
		if err != nil {
			return 0, err
		}
		if v > math.MaxInt64 {
			return 0, invalidf("%s out of range", what)
		}
		return int64(v), nil
	case isInt(c):
		return d.dec.DecodeInt64()
	case c == msgpcode.Float || c == msgpcode.Double:
		f, err := d.dec.DecodeFloat64()
		if err != nil {
			return 0, err
		}
		if f != math.Trunc(f) || math.Abs(f) > 1<<62 {
			return 0, invalidf("invalid %s", what)
		}
		return int64(f), nil
	}
	return 0, invalidf("invalid %s", what)
}

func isInt(c byte) bool {
	return msgpcode.IsFixedNum(c) ||
		c == msgpcode.Uint8 || c == msgpcode.Uint16 || c == msgpcode.Uint32 || c == msgpcode.Uint64 ||
		c == msgpcode.Int8 || c == msgpcode.Int16 || c == msgpcode.Int32 || c == msgpcode.Int64
}

// undefinedNext reports whether the next value is notepack.io's undefined,
// the fixext 1 of type 0.
func (d *decoder) undefinedNext() bool {
	i := d.pos()
	return i+3 <= len(d.msg) && d.msg[i] == msgpcode.FixExt1 && d.msg[i+1] == 0
}

// skip converts the next value into a scratch state and drops it, so that
// an ignored value is bounded like any other.
func (d *decoder) skip() error {
	out, atts := d.out, d.atts
	d.out, d.atts = nil, nil
	_, err := d.value(0)
	d.out, d.atts = out, atts
	return err
}

// value appends the next value to d.out as JSON, its binary values to
// d.atts behind placeholders. It reports whether the value was undefined,
// which is written as null.
func (d *decoder) value(depth int) (undefined bool, err error) {
	c, err := d.dec.PeekCode()
	if err != nil {
		return false, err
	}
	switch {
	case c == msgpcode.Nil:
		d.out = append(d.out, "null"...)
		return false, d.dec.Skip()
	case c == msgpcode.True || c == msgpcode.False:
		b, err := d.dec.DecodeBool()
		d.out = strconv.AppendBool(d.out, b)
		return false, err
	case c == msgpcode.Uint64:
		v, err := d.dec.DecodeUint64()
		d.out = strconv.AppendUint(d.out, v, 10)
		return false, err
	case isInt(c):
		v, err := d.dec.DecodeInt64()
		d.out = strconv.AppendInt(d.out, v, 10)
		return false, err
	case c == msgpcode.Float || c == msgpcode.Double:
		f, err := d.dec.DecodeFloat64()
		if c == msgpcode.Float {
			// The float32 widened, written as the shortest float32 text
			// so that 0.1f reads 0.1 rather than 0.10000000149011612.
			d.out = appendFloat(d.out, f, 32)
		} else {
			d.out = appendFloat(d.out, f, 64)
		}
		return false, err
	case msgpcode.IsString(c):
		s, err := d.dec.DecodeString()
		d.out = appendString(d.out, s)
		return false, err
	case msgpcode.IsBin(c):
		n, err := d.dec.DecodeBytesLen()
		if err != nil {
			return false, err
		}
		b, err := d.take(n)
		if err != nil {
			return false, err
		}
		return false, d.binary(b)
	case msgpcode.IsExt(c):
		return d.ext(depth)
	case msgpcode.IsFixedArray(c) || c == msgpcode.Array16 || c == msgpcode.Array32:
		if depth >= d.maxDepth {
			return false, invalidf("arrays and maps nested deeper than %d", d.maxDepth)
		}
		n, err := d.dec.DecodeArrayLen()
		if err != nil {
			return false, err
		}
		d.out = append(d.out, '[')
		for i := range n {
			if i > 0 {
				d.out = append(d.out, ',')
			}
			if _, err := d.value(depth + 1); err != nil {
				return false, err
			}
		}
		d.out = append(d.out, ']')
		return false, nil
	case msgpcode.IsFixedMap(c) || c == msgpcode.Map16 || c == msgpcode.Map32:
		if depth >= d.maxDepth {
			return false, invalidf("arrays and maps nested deeper than %d", d.maxDepth)
		}
		return false, d.object(depth)
	}
	return false, invalidf("unknown code 0x%02x", c)
}

// object converts a map into a JSON object.
func (d *decoder) object(depth int) error {
	n, err := d.dec.DecodeMapLen()
	if err != nil {
		return err
	}
	d.out = append(d.out, '{')
	first := true
	for range n {
		c, err := d.dec.PeekCode()
		if err != nil {
			return err
		}
		var key string
		switch {
		case msgpcode.IsString(c):
			key, err = d.dec.DecodeString()
		case c == msgpcode.Uint64:
			var v uint64
			v, err = d.dec.DecodeUint64()
			key = strconv.FormatUint(v, 10)
		case isInt(c):
			var v int64
			v, err = d.dec.DecodeInt64()
			key = strconv.FormatInt(v, 10)
		default:
			return invalidf("map key of code 0x%02x: keys are strings or integers", c)
		}
		if err != nil {
			return err
		}
		if d.undefinedNext() {
			// JSON.stringify leaves out a key whose value is undefined.
			if _, err := d.take(3); err != nil {
				return err
			}
			continue
		}
		if !first {
			d.out = append(d.out, ',')
		}
		first = false
		d.out = appendString(d.out, key)
		d.out = append(d.out, ':')
		if _, err := d.value(depth + 1); err != nil {
			return err
		}
	}
	d.out = append(d.out, '}')
	return nil
}

// ext converts an extension value as notepack.io decodes it: undefined,
// a Date, an ArrayBuffer, or [type, binary].
func (d *decoder) ext(depth int) (bool, error) {
	c, _ := d.dec.PeekCode()
	typ, n, err := d.dec.DecodeExtHeader()
	if err != nil {
		return false, err
	}
	b, err := d.take(n)
	if err != nil {
		return false, err
	}
	switch {
	case typ == 0 && c == msgpcode.FixExt1:
		d.out = append(d.out, "null"...)
		return true, nil
	case typ == 0 && c == msgpcode.FixExt8:
		hi := int64(int32(uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])))
		lo := int64(uint32(b[4])<<24 | uint32(b[5])<<16 | uint32(b[6])<<8 | uint32(b[7]))
		d.out = appendDate(d.out, hi*(1<<32)+lo)
		return false, nil
	case typ == 0 && (c == msgpcode.Ext8 || c == msgpcode.Ext16 || c == msgpcode.Ext32):
		return false, d.binary(b)
	}
	if depth >= d.maxDepth {
		return false, invalidf("arrays and maps nested deeper than %d", d.maxDepth)
	}
	d.out = append(d.out, '[')
	d.out = strconv.AppendInt(d.out, int64(typ), 10)
	d.out = append(d.out, ',')
	if err := d.binary(b); err != nil {
		return false, err
	}
	d.out = append(d.out, ']')
	return false, nil
}

// binary writes a placeholder for b and keeps b as the next attachment.
func (d *decoder) binary(b []byte) error {
	if len(d.atts) >= d.maxAttachments {
		return fmt.Errorf("%w: %w: msgpack: more than %d binary values", parser.ErrInvalidPacket, parser.ErrTooManyAttachments, d.maxAttachments)
	}
	d.out = append(d.out, `{"_placeholder":true,"num":`...)
	d.out = strconv.AppendInt(d.out, int64(len(d.atts)), 10)
	d.out = append(d.out, '}')
	d.atts = append(d.atts, b)
	return nil
}

// appendDate writes a Date as JSON.stringify does: its ISO string, or
// null when it is out of JavaScript's range or past year 9999.
func appendDate(b []byte, ms int64) []byte {
	t := time.UnixMilli(ms).UTC()
	if y := t.Year(); y < 0 || y > 9999 {
		return append(b, "null"...)
	}
	b = append(b, '"')
	b = t.AppendFormat(b, "2006-01-02T15:04:05.000Z")
	return append(b, '"')
}

// appendFloat writes f as JSON.stringify would: NaN and infinities as
// null, other numbers in the shortest form that reads back the same.
func appendFloat(b []byte, f float64, bits int) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(b, "null"...)
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, bits)
	if format == 'e' {
		// 1e-07 is 1e-7 in JavaScript.
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

// appendString writes s as a JSON string; invalid UTF-8 becomes U+FFFD,
// as Node's Buffer.toString("utf8") reads it.
//
// Not a copy to merge with the parser package's encoder: that one escapes
// the U+FFFD it writes (and U+2028, U+2029), so a packet decoded, encoded
// and decoded again would no longer be the same bytes; FuzzDecode checks
// that round trip.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
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
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, "\ufffd"...)
			i++
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
