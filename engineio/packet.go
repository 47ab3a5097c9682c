// The wire codec (this file and payload.go). It is pure: no I/O, no
// goroutines, no shared state, so every function is safe for concurrent use.
//
// An Engine.IO packet is a type digit ('0'..'6') optionally followed by data.
// How it travels depends on the transport:
//
//   - WebSocket text frame: the packet as is, e.g. "4hello" or "2probe".
//     Use [AppendText] and [DecodeText].
//   - WebSocket binary frame: always a message packet, sent without a type
//     byte. A received binary frame is therefore simply
//     Packet{Type: PacketMessage, Data: frame, Binary: true}, and a binary
//     packet is sent by writing its Data as a binary frame. No helper exists
//     because there is nothing to encode.
//   - HTTP long-polling: several packets joined by the record separator 0x1e,
//     binary messages written as "b" plus base64. Use [AppendPayload],
//     [PayloadLen] and [DecodePayload].
//
// The codec does not look inside Data: the JSON handshake carried by an open
// packet, for instance, is built and parsed by the caller.

package engineio

import (
	"errors"
	"fmt"
	"strconv"
)

// PacketType is the Engine.IO packet type, sent as a single ASCII digit.
type PacketType byte

// The packet types of Engine.IO v4. The values are the digits on the wire,
// minus '0'.
const (
	PacketOpen    PacketType = iota // handshake, data is a JSON object
	PacketClose                     // the transport may be closed
	PacketPing                      // heartbeat (server to client) and upgrade probe (client to server)
	PacketPong                      // answer to a ping, echoing its data
	PacketMessage                   // application data, text or binary
	PacketUpgrade                   // client switches to the new transport
	PacketNoop                      // forces a pending poll to return during an upgrade
)

// packetTypeNames is indexed by PacketType; the names are the ones the
// reference implementation uses, so logs read the same on both sides.
var packetTypeNames = [...]string{
	PacketOpen:    "open",
	PacketClose:   "close",
	PacketPing:    "ping",
	PacketPong:    "pong",
	PacketMessage: "message",
	PacketUpgrade: "upgrade",
	PacketNoop:    "noop",
}

// String returns the protocol name of t ("open", "message", ...), or
// "PacketType(n)" for a value outside the protocol, so that a bad value is
// visible in logs instead of printing as an empty string.
func (t PacketType) String() string {
	if t.valid() {
		return packetTypeNames[t]
	}
	return "PacketType(" + strconv.Itoa(int(t)) + ")"
}

func (t PacketType) valid() bool { return t <= PacketNoop }

// Packet is one Engine.IO packet.
//
// Binary is true for a binary message. Only PacketMessage may be binary: the
// protocol has no way to send the type of a binary packet, neither in a
// WebSocket binary frame nor in a "b" polling record, so any binary packet
// arrives as a message.
type Packet struct {
	Type   PacketType
	Data   []byte
	Binary bool
}

// ErrInvalidPacket is returned, wrapped with detail, when a single packet
// cannot be decoded. Test for it with [errors.Is].
var ErrInvalidPacket = errors.New("engineio: invalid packet")

// AppendText appends the text encoding of the non-binary packet p to dst and
// returns the extended slice: the type digit followed by the data, such as
// "4hello", "2probe" or "6". This is the content of a WebSocket text frame
// and of a text record in a polling payload.
//
// AppendText panics if p.Binary is set or p.Type is not a protocol type.
// Both are bugs in the caller, and writing them anyway would put a frame on
// the wire that the peer rejects as a parse error, closing the session far
// from the cause.
func AppendText(dst []byte, p Packet) []byte {
	if p.Binary {
		panic("engineio: AppendText called with a binary packet; send its Data as a binary frame or use AppendPayload")
	}
	mustBeValidType(p.Type)
	dst = append(dst, '0'+byte(p.Type))
	return append(dst, p.Data...)
}

// DecodeText decodes a WebSocket text frame, or one record of a polling
// payload that is not base64: a type digit followed by optional data.
//
// The returned Packet.Data aliases frame (it is frame[1:], or nil when
// empty) rather than being copied, so that the common case allocates
// nothing. A caller that reuses the frame buffer must copy Data first.
//
// The data is not checked for valid UTF-8. It fails with an error wrapping
// [ErrInvalidPacket] if frame is empty or does not start with a known type
// digit; in particular the "b" prefix of base64 records is rejected here,
// since it is only meaningful inside a polling payload (see [DecodePayload]).
func DecodeText(frame []byte) (Packet, error) {
	if len(frame) == 0 {
		return Packet{}, fmt.Errorf("%w: empty", ErrInvalidPacket)
	}
	t := PacketType(frame[0] - '0') // bytes below '0' wrap around and fail valid()
	if !t.valid() {
		return Packet{}, fmt.Errorf("%w: unknown packet type %q", ErrInvalidPacket, frame[0])
	}
	p := Packet{Type: t}
	if len(frame) > 1 {
		// Cap the slice at its length: a consumer appending to Data must
		// get a fresh array, not overwrite whatever follows in the
		// caller's buffer (for a payload, the records not yet decoded).
		p.Data = frame[1:len(frame):len(frame)]
	}
	return p, nil
}

func mustBeValidType(t PacketType) {
	if !t.valid() {
		panic("engineio: cannot encode packet of unknown type " + t.String())
	}
}
