package parser

// Frame is one Engine.IO message of an encoded packet. In this package's
// encoding a packet is its text part (Packet.Encode) followed by one
// binary frame per attachment; another Codec may use other frames.
type Frame struct {
	Data   []byte
	Binary bool
}

// Codec is a packet encoding other than this package's own: what the
// reference implementation calls a custom parser (socket.io-msgpack-parser,
// say; the module msgpackparser implements it). The server
// (socketio.Options.Parser) and the Go client (sioclient.Options.Parser)
// take one; a nil Codec means this package's encoding, which every
// official client speaks by default. Both peers must use the same one.
//
// A Codec converts at the wire boundary between Engine.IO messages and
// the form the layers above work with: a Packet whose Data is JSON and
// whose binary values are Attachments behind placeholders
// ({"_placeholder":true,"num":N}, in BinaryEvent and BinaryAck packets
// only), exactly as Decoder would produce. A Codec must be safe for
// concurrent use; its decoders need not be.
type Codec interface {
	// Encode returns the Engine.IO messages of p. p is built by the
	// layers above and follows Check's rules; Encode must not keep or
	// modify it. A broadcast is encoded once and the frames are shared by
	// every receiver, so they must not be modified afterwards either.
	Encode(p *Packet) ([]Frame, error)
	// NewDecoder returns the decoder of one connection. maxAttachments
	// bounds the binary values of one packet (at least 1: the caller
	// applies the default).
	NewDecoder(maxAttachments int) PacketDecoder
}

// PacketDecoder decodes the Engine.IO messages of one connection into
// packets. *Decoder is one.
type PacketDecoder interface {
	// Add feeds one Engine.IO message. It returns the complete packet,
	// (nil, nil) while a packet waits for more messages, or an error
	// wrapping ErrInvalidPacket for malformed input, after which the
	// connection is closed. Add may keep msg.
	Add(msg []byte, binary bool) (*Packet, error)
	// Reset drops any partially received packet.
	Reset()
}

// Add feeds one message to AddText or AddBinary, so that *Decoder is a
// PacketDecoder.
func (d *Decoder) Add(msg []byte, binary bool) (*Packet, error) {
	if binary {
		return d.AddBinary(msg)
	}
	return d.AddText(msg)
}

// Check reports whether p is a packet Decoder could have produced: the
// rules listed on Decoder.AddText, applied to p's fields instead of a text
// message. The namespace must start with '/' and hold no control
// character; BinaryEvent and BinaryAck need at least one attachment and
// exactly one placeholder for each; other types carry none. The number of
// attachments is not bounded here: a decoder bounds it as it reads them.
//
// A Codec's decoder calls it on every packet it builds, so that the layers
// above rely on the same invariants whatever the encoding on the wire.
func (p *Packet) Check() error {
	if len(p.Namespace) == 0 || p.Namespace[0] != '/' {
		return invalidf("namespace %q does not start with '/'", p.Namespace)
	}
	for i := 0; i < len(p.Namespace); i++ {
		if b := p.Namespace[i]; b < 0x20 || b == 0x7f {
			return invalidf("control character in namespace")
		}
	}
	if p.Type > BinaryAck {
		return invalidf("unknown packet type %d", p.Type)
	}
	count := 0
	if p.Type.isBinary() {
		count = len(p.Attachments)
		if count == 0 {
			return invalidf("%s announces no attachments", p.Type)
		}
	} else if len(p.Attachments) > 0 {
		return invalidf("%s cannot carry attachments", p.Type)
	}
	return checkPacket(p.Type, p.HasID, p.Data, count)
}
