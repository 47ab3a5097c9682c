package engineio

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
)

// An HTTP long-polling body ("payload") carries one or more packets as
// records joined by the ASCII record separator. Engine.IO v4 replaced the
// length prefixes of v3 with this separator because v3 lengths counted
// UTF-16 code units, which other languages cannot compute cheaply. The
// price is that a text record cannot contain 0x1e: the protocol assumes
// it never appears in data, and nothing escapes it.
//
// Binary messages are written as 'b' followed by standard, padded base64
// of the data. The record has no type digit, because only messages can be
// binary.
const (
	payloadSeparator    = 0x1e
	payloadBinaryPrefix = 'b'
)

// payloadBase64 decodes binary records. Strict mode rejects non-zero
// padding bits, and [decodeBinaryRecord] rejects the CR and LF that the
// encoding/base64 decoder would otherwise skip. Together they allow exactly
// one spelling of each byte string: the one [AppendPayload] writes (and
// that every Engine.IO client sends), so a decoded payload re-encodes to
// the identical bytes.
var payloadBase64 = base64.StdEncoding.Strict()

// ErrInvalidPayload is returned, wrapped with detail, when a polling body
// cannot be decoded. When the cause is a bad record the error also wraps
// [ErrInvalidPacket]. The reference server closes the session that sent
// such a body.
var ErrInvalidPayload = errors.New("engineio: invalid payload")

// PayloadLen returns the number of bytes the record for p takes in a
// polling payload, not counting the separator. AppendPayload of n packets
// adds the sum of their PayloadLen plus n-1 separators. It lets the server
// choose how many queued packets fit a GET response's byte budget before
// encoding any of them.
//
// PayloadLen panics on the packets [AppendPayload] panics on.
func PayloadLen(p Packet) int {
	mustBeEncodable(p)
	if p.Binary {
		return 1 + base64.StdEncoding.EncodedLen(len(p.Data))
	}
	return 1 + len(p.Data)
}

// AppendPayload appends the HTTP long-polling encoding of packets to dst
// and returns the extended slice. Records are joined by 0x1e; a text
// packet is written as by [AppendText], a binary one as "b" plus padded
// standard base64 of its Data. An empty list appends nothing.
//
// Text data is written verbatim, as the reference implementation does. If
// it contains 0x1e the receiver splits the record there, so such data
// cannot be sent over polling intact; callers that cannot rule it out
// must check for it (or send over WebSocket, where frames delimit
// packets). Data produced by Socket.IO is JSON, in which 0x1e is always
// escaped.
//
// AppendPayload panics if a packet has an unknown type or is binary
// without being a message, since such a packet has no encoding.
func AppendPayload(dst []byte, packets []Packet) []byte {
	if len(packets) == 0 {
		return dst
	}
	// Size the whole payload first so that dst grows at most once, even
	// for a long queue of small packets.
	n := len(packets) - 1
	for _, p := range packets {
		n += PayloadLen(p)
	}
	dst = slices.Grow(dst, n)
	for i, p := range packets {
		if i > 0 {
			dst = append(dst, payloadSeparator)
		}
		if p.Binary {
			dst = append(dst, payloadBinaryPrefix)
			dst = base64.StdEncoding.AppendEncode(dst, p.Data)
		} else {
			dst = AppendText(dst, p)
		}
	}
	return dst
}

// DecodePayload decodes the body of a polling POST request and calls fn
// with each packet, in order. It stops at, and returns, the first error
// from fn (unchanged, so the caller can recognise its own errors) or from
// decoding (wrapping [ErrInvalidPayload]).
//
// Records are decoded one at a time, so fn may already have received the
// packets before a malformed record. This matches the reference server,
// which acts on those packets and then closes the session with a parse
// error.
//
// A record starting with 'b' is a base64 binary message; its Data is
// newly allocated. Any other record is decoded as by [DecodeText], and its
// Data aliases body: callers reusing body must copy Data first.
//
// A body that is empty, has an empty record (for example a trailing
// separator), an unknown type digit or malformed base64 is invalid; the
// reference parser turns all of these into a parse error too. The body
// size limit is not checked here: the caller enforces it while reading.
func DecodePayload(body []byte, fn func(Packet) error) error {
	if len(body) == 0 {
		return fmt.Errorf("%w: empty body", ErrInvalidPayload)
	}
	for i := 0; ; i++ {
		record, rest, more := body, []byte(nil), false
		if j := bytes.IndexByte(body, payloadSeparator); j >= 0 {
			record, rest, more = body[:j], body[j+1:], true
		}
		var p Packet
		var err error
		if len(record) > 0 && record[0] == payloadBinaryPrefix {
			p, err = decodeBinaryRecord(record[1:])
		} else {
			p, err = DecodeText(record)
		}
		if err != nil {
			return fmt.Errorf("%w: record %d: %w", ErrInvalidPayload, i, err)
		}
		if err := fn(p); err != nil {
			return err
		}
		if !more {
			return nil
		}
		body = rest
	}
}

// decodeBinaryRecord decodes the base64 text of a binary record (after
// the 'b'). An empty text is a valid empty message: the reference encodes
// an empty buffer as a lone "b".
func decodeBinaryRecord(enc []byte) (Packet, error) {
	if bytes.IndexByte(enc, '\n') >= 0 || bytes.IndexByte(enc, '\r') >= 0 {
		return Packet{}, fmt.Errorf("%w: line break in base64 data", ErrInvalidPacket)
	}
	// Never nil: an empty message is []byte{}, as on WebSocket, so that
	// the layers above see the same value whichever transport carried it.
	data, err := payloadBase64.AppendDecode(make([]byte, 0, payloadBase64.DecodedLen(len(enc))), enc)
	if err != nil {
		return Packet{}, fmt.Errorf("%w: bad base64 data: %w", ErrInvalidPacket, err)
	}
	return Packet{Type: PacketMessage, Data: data, Binary: true}, nil
}

func mustBeEncodable(p Packet) {
	mustBeValidType(p.Type)
	if p.Binary && p.Type != PacketMessage {
		panic("engineio: cannot encode binary packet of type " + p.Type.String() + "; only messages can be binary")
	}
}
