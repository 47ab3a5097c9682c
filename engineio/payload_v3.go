package engineio

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// Engine.IO v3 framing, served to clients that connect with EIO=3 when
// Options.AllowEIO3 is set (Socket.IO v2 clients). It differs from v4 in
// three places:
//
//   - A text polling payload is a run of "<length>:<packet>" records, the
//     length counted in UTF-16 code units (the length of a JavaScript
//     string), e.g. `6:4hello2:4€`. A binary message in it is written as
//     "b4" plus padded standard base64 of its data, and the length counts
//     those characters.
//   - A client that can take binary (no "b64" query parameter) gets a
//     binary payload whenever a response holds a binary message: each
//     record is a flag byte (0 text, 1 binary), the decimal digits of the
//     record's length as bytes 0-9, a 0xFF byte, then the record: a text
//     packet in UTF-8 (length in bytes) or the type byte 4 followed by the
//     message's data. Clients post binary payloads the same way, as
//     application/octet-stream.
//   - A WebSocket binary frame starts with the type byte 4.

// eio3Base64Prefix starts a base64 binary message in v3 text: "b" and the
// message type digit.
const eio3Base64Prefix = "b4"

// maxV3LengthDigits bounds the length field of a v3 record: more digits
// than any body the server reads could need.
const maxV3LengthDigits = 10

// utf16Len returns the number of UTF-16 code units of the valid UTF-8 text
// b: one per character, two for a character outside the BMP (a 4-byte
// sequence). It counts lead bytes rather than decoding runes.
func utf16Len(b []byte) int {
	n := 0
	for _, c := range b {
		switch {
		case c < 0x80 || c >= 0xc0 && c < 0xf0:
			n++
		case c >= 0xf0:
			n += 2
		}
	}
	return n
}

// v3TextLen returns the length, in UTF-16 code units, of p's v3 text form.
func v3TextLen(p Packet) int {
	if p.Binary {
		return len(eio3Base64Prefix) + base64.StdEncoding.EncodedLen(len(p.Data))
	}
	return 1 + utf16Len(p.Data)
}

// appendV3Text appends p's v3 text form: as AppendText, or "b4" and base64
// for a binary message.
func appendV3Text(dst []byte, p Packet) []byte {
	if p.Binary {
		mustBeEncodable(p)
		dst = append(dst, eio3Base64Prefix...)
		return base64.StdEncoding.AppendEncode(dst, p.Data)
	}
	return AppendText(dst, p)
}

// hasBinary reports whether any of packets is a binary message.
func hasBinary(packets []Packet) bool {
	for _, p := range packets {
		if p.Binary {
			return true
		}
	}
	return false
}

// appendPayloadV3 appends the v3 polling payload of packets to dst: the
// binary form when binary is set (see the comment at the top), else the
// text form. An empty list is "0:" in text, nothing in binary.
func appendPayloadV3(dst []byte, packets []Packet, binary bool) []byte {
	if binary {
		for _, p := range packets {
			mustBeEncodable(p)
			n, flag := 1+len(p.Data), byte(0)
			if p.Binary {
				flag = 1
			}
			dst = append(dst, flag)
			var digits [20]byte
			for _, d := range strconv.AppendInt(digits[:0], int64(n), 10) {
				dst = append(dst, d-'0')
			}
			if p.Binary {
				dst = append(dst, 0xff, byte(p.Type))
			} else {
				dst = append(dst, 0xff, '0'+byte(p.Type))
			}
			dst = append(dst, p.Data...)
		}
		return dst
	}
	if len(packets) == 0 {
		return append(dst, "0:"...)
	}
	for _, p := range packets {
		dst = strconv.AppendInt(dst, int64(v3TextLen(p)), 10)
		dst = append(dst, ':')
		dst = appendV3Text(dst, p)
	}
	return dst
}

// decodeV3Text decodes one v3 packet in text form: as DecodeText, or a
// base64 binary message ("b4..."). Data aliases text except for base64.
func decodeV3Text(text []byte) (Packet, error) {
	if len(text) > 0 && text[0] == 'b' {
		if len(text) < 2 || text[1] != '0'+byte(PacketMessage) {
			return Packet{}, fmt.Errorf("%w: base64 packet that is not a message", ErrInvalidPacket)
		}
		return decodeBinaryRecord(text[2:])
	}
	return DecodeText(text)
}

// decodePayloadV3 decodes a v3 POST body, binary (application/octet-stream)
// or text, calling fn with each packet in order, as DecodePayload does
// (same errors, same aliasing). Stricter than the reference, which passes
// some malformed bodies on mangled: text must be valid UTF-8, a length
// must be plain decimal digits, a record must not end inside a character,
// and a binary record must be a message.
func decodePayloadV3(body []byte, binary bool, fn func(Packet) error) error {
	if len(body) == 0 {
		return fmt.Errorf("%w: empty body", ErrInvalidPayload)
	}
	if binary {
		return decodeBinaryPayloadV3(body, fn)
	}
	for i := 0; len(body) > 0; i++ {
		n, rest, err := v3Length(body, ':')
		if err != nil {
			return fmt.Errorf("%w: record %d: %w", ErrInvalidPayload, i, err)
		}
		// Advance n UTF-16 code units.
		end, units := 0, 0
		for units < n {
			if end >= len(rest) {
				return fmt.Errorf("%w: record %d: shorter than its length %d", ErrInvalidPayload, i, n)
			}
			r, size := utf8.DecodeRune(rest[end:])
			if r == utf8.RuneError && size <= 1 {
				return fmt.Errorf("%w: record %d: invalid UTF-8", ErrInvalidPayload, i)
			}
			end += size
			units++
			if size == 4 {
				units++
			}
		}
		if units != n {
			return fmt.Errorf("%w: record %d: length %d ends inside a character", ErrInvalidPayload, i, n)
		}
		record := rest[:end:end]
		body = rest[end:]
		if n == 0 {
			continue // "0:" carries nothing; the reference skips it
		}
		p, err := decodeV3Text(record)
		if err != nil {
			return fmt.Errorf("%w: record %d: %w", ErrInvalidPayload, i, err)
		}
		if err := fn(p); err != nil {
			return err
		}
	}
	return nil
}

// v3Length reads a record's decimal length up to the terminator term (':'
// in text; in binary payloads the digits are bytes 0-9 ended by 0xFF,
// which the caller maps). It returns the length and what follows term.
func v3Length(b []byte, term byte) (int, []byte, error) {
	n := 0
	for i, c := range b {
		if c == term {
			if i == 0 {
				return 0, nil, fmt.Errorf("%w: empty length", ErrInvalidPacket)
			}
			return n, b[i+1:], nil
		}
		if c < '0' || c > '9' || i == maxV3LengthDigits {
			return 0, nil, fmt.Errorf("%w: bad length", ErrInvalidPacket)
		}
		n = n*10 + int(c-'0')
	}
	return 0, nil, fmt.Errorf("%w: length without its terminator", ErrInvalidPacket)
}

func decodeBinaryPayloadV3(body []byte, fn func(Packet) error) error {
	for i := 0; len(body) > 0; i++ {
		flag := body[0]
		if flag > 1 {
			return fmt.Errorf("%w: record %d: bad flag byte %d", ErrInvalidPayload, i, flag)
		}
		n, j := 0, 1
		for ; j < len(body) && body[j] != 0xff; j++ {
			d := body[j]
			if d > 9 || j > maxV3LengthDigits {
				return fmt.Errorf("%w: record %d: bad length", ErrInvalidPayload, i)
			}
			n = n*10 + int(d)
		}
		if j == 1 || j == len(body) {
			return fmt.Errorf("%w: record %d: bad length", ErrInvalidPayload, i)
		}
		rest := body[j+1:]
		if n > len(rest) {
			return fmt.Errorf("%w: record %d: shorter than its length %d", ErrInvalidPayload, i, n)
		}
		record := rest[:n:n]
		body = rest[n:]
		var p Packet
		var err error
		if flag == 0 {
			if !utf8.Valid(record) {
				err = fmt.Errorf("%w: invalid UTF-8", ErrInvalidPacket)
			} else {
				p, err = decodeV3Text(record)
			}
		} else {
			p, err = decodeV3Binary(record)
		}
		if err != nil {
			return fmt.Errorf("%w: record %d: %w", ErrInvalidPayload, i, err)
		}
		if err := fn(p); err != nil {
			return err
		}
	}
	return nil
}

// decodeV3Binary decodes a v3 binary packet (a binary payload record or a
// WebSocket binary frame): the type byte 4 and the message's data, which
// aliases b.
func decodeV3Binary(b []byte) (Packet, error) {
	if len(b) == 0 || b[0] != byte(PacketMessage) {
		return Packet{}, fmt.Errorf("%w: binary packet that is not a message", ErrInvalidPacket)
	}
	return Packet{Type: PacketMessage, Data: b[1:len(b):len(b)], Binary: true}, nil
}
