package parser

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// PacketType is the Socket.IO packet type, sent on the wire as one decimal
// digit.
type PacketType byte

// Packet types, numbered as on the wire.
const (
	Connect      PacketType = iota // join a namespace (client) or accept the join (server)
	Disconnect                     // leave a namespace
	Event                          // an event: payload is ["name", args...]
	Ack                            // the answer to an event that carried an ack id
	ConnectError                   // the server refused the join
	BinaryEvent                    // an Event whose payload refers to attachments
	BinaryAck                      // an Ack whose payload refers to attachments
)

// String returns the name used by the protocol specification, e.g.
// "CONNECT_ERROR", so logs can be compared with the spec directly.
func (t PacketType) String() string {
	switch t {
	case Connect:
		return "CONNECT"
	case Disconnect:
		return "DISCONNECT"
	case Event:
		return "EVENT"
	case Ack:
		return "ACK"
	case ConnectError:
		return "CONNECT_ERROR"
	case BinaryEvent:
		return "BINARY_EVENT"
	case BinaryAck:
		return "BINARY_ACK"
	}
	return "PacketType(" + strconv.Itoa(int(t)) + ")"
}

// isBinary reports whether packets of this type carry an attachment count
// and are followed by binary messages.
func (t PacketType) isBinary() bool {
	return t == BinaryEvent || t == BinaryAck
}

// Packet is one Socket.IO packet.
//
// Data holds the raw JSON payload exactly as on the wire (placeholders
// {"_placeholder":true,"num":N} left in place for binary packets); nil when
// the packet has none. Keeping the raw bytes lets the layers above decide
// how, and whether, to decode them.
type Packet struct {
	Type        PacketType
	Namespace   string // "/" when absent on the wire
	ID          uint64 // ack id, meaningful only when HasID
	HasID       bool
	Data        json.RawMessage
	Attachments [][]byte // binary attachments in order, len == number of placeholders, for BinaryEvent/BinaryAck
}

// DefaultMaxAttachments is the attachment limit used when
// Decoder.MaxAttachments is not set. It matches the default of the reference
// server, which introduced the limit because every announced attachment
// makes the receiver buffer one more message.
const DefaultMaxAttachments = 10

// ErrInvalidPacket is wrapped by every error caused by malformed input:
// a text message that is not a valid packet, a message arriving out of
// sequence, or a payload whose JSON or placeholders are malformed. Callers
// that only need to know "the peer is broken, close the connection" can test
// for it with errors.Is.
var ErrInvalidPacket = errors.New("parser: invalid packet")

// ErrTooManyAttachments is reported when a binary packet announces more
// attachments than Decoder.MaxAttachments allows. Errors matching it also
// match ErrInvalidPacket.
var ErrTooManyAttachments = errors.New("parser: too many attachments")

// invalidf builds an error wrapping ErrInvalidPacket with a detail message.
func invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidPacket}, args...)...)
}

// tooManyError is a distinct type (rather than fmt.Errorf) so that it can
// match both sentinels without repeating the "parser:" prefix twice in its
// message.
type tooManyError struct {
	announced uint64
	limit     int
}

func (e *tooManyError) Error() string {
	return fmt.Sprintf("parser: too many attachments: packet announces %d, limit is %d", e.announced, e.limit)
}

func (e *tooManyError) Is(target error) bool {
	return target == ErrTooManyAttachments || target == ErrInvalidPacket
}
