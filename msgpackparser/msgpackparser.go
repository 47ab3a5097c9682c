// Package msgpackparser is the packet encoding of socket.io-msgpack-parser
// (npm, v3), for a server (socketio.Options.Parser) or a Go client
// (sioclient.Options.Parser) that talks to official clients or servers
// created with parser: require("socket.io-msgpack-parser"), or to the
// browser build socket.io.msgpack.min.js:
//
//	srv := socketio.NewServer(&socketio.Options{Parser: msgpackparser.Parser{}})
//	s, err := sioclient.New(url, &sioclient.Options{Parser: msgpackparser.Parser{}})
//
// # The wire format
//
// Each Socket.IO packet is one Engine.IO binary message: a msgpack map
// with the keys "type" (0 CONNECT, 1 DISCONNECT, 2 EVENT, 3 ACK,
// 4 CONNECT_ERROR; BINARY_EVENT and BINARY_ACK do not exist here), "nsp"
// (the namespace, always present), "data" when the packet has a payload,
// and "id" when it carries an acknowledgement id. Binary values are msgpack
// bin values where they stand in the arguments: there are no attachments
// and no placeholders. It is encoded as notepack.io (the library the npm
// parser uses) encodes the same JavaScript values: integral numbers as the
// smallest msgpack integer, other numbers as float64, strings as str,
// []byte as bin (a Buffer in Node, an ArrayBuffer in a browser); a Go
// server or client's packets are byte for byte those of the reference for
// the same values and key order (the keys are written in the order type,
// data, id, nsp). Where notepack.io loses precision Go does not: integers
// past 2^53 keep their exact value, and an integral number past 2^64 is
// written as a float64 (notepack.io writes a wrong uint64).
//
// # Decoding
//
// A message is checked as the npm parser checks it (a map whose "type" is
// an integer 0-4, "nsp" a string, "data" of the type's kind: CONNECT an
// object or absent, DISCONNECT absent, CONNECT_ERROR an object or a
// string, EVENT and ACK an array; "id" absent or an integer; other keys
// ignored, as the official client sends "options" with its events), and
// then by the rules the default decoder applies to text packets
// (parser.Packet.Check: an event's name is a string or a number and not a
// reserved one, an ACK carries an id, CONNECT, DISCONNECT and
// CONNECT_ERROR none, a namespace starts with '/'). Anything else, a text
// message included, is an error wrapping parser.ErrInvalidPacket, and the
// server closes that connection with "parse error" (the Go client, its
// connection, with ReasonParseError). The layers above see the packet in
// the parser package's form: arguments as JSON, bin values as attachments
// behind placeholders, counted against MaxAttachments (socketio.Options,
// default 10; more is parser.ErrTooManyAttachments).
//
// Values JSON cannot hold are read as JSON.stringify would write what
// notepack.io decodes: NaN and ±Infinity are null, undefined (notepack's
// fixext 1 of type 0) is null in an array and leaves its key out of a map,
// a Date (fixext 8 of type 0) is its ISO 8601 string in UTC (null past year 9999), an
// ArrayBuffer (ext of type 0, what notepack.io writes for one in Node) is
// binary like bin, another extension value is the array [type, binary].
// Map keys must be strings or integers (an integer key becomes its decimal
// string, as in JavaScript). Limits: arrays and maps nest at most
// MaxDepth deep (default 1000), and a message is at most the Engine.IO
// payload limit (socketio's Engine.MaxPayload) long; a length that
// announces more bytes than the message holds is refused before anything
// is allocated. A map in the arguments that looks like a placeholder
// ({"_placeholder": true, "num": n}) is taken for one in a packet that
// also carries binary values, where it fails the placeholder count and
// closes the connection; binary values are taken only in EVENT and ACK
// packets.
package msgpackparser

import (
	"github.com/switchboard-go/socketio/parser"
)

// DefaultMaxDepth is the nesting bound of arrays and maps in a received
// packet when Parser.MaxDepth is not set.
const DefaultMaxDepth = 1000

// Parser is the socket.io-msgpack-parser encoding, a parser.Codec. The
// zero value is ready to use and safe for concurrent use.
type Parser struct {
	// MaxDepth bounds how deeply arrays and maps of a received packet may
	// nest; zero or less means DefaultMaxDepth. Deeper packets are refused
	// as invalid.
	MaxDepth int
}

var _ parser.Codec = Parser{}

// NewDecoder implements parser.Codec. The decoder keeps no state between
// messages: each message is a whole packet.
func (p Parser) NewDecoder(maxAttachments int) parser.PacketDecoder {
	if maxAttachments <= 0 {
		maxAttachments = parser.DefaultMaxAttachments
	}
	depth := p.MaxDepth
	if depth <= 0 {
		depth = DefaultMaxDepth
	}
	return &decoder{maxAttachments: maxAttachments, maxDepth: depth}
}
