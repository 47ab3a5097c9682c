package parser

import (
	"bytes"
	"encoding/json"
	"math"
)

// maxIDDigits bounds the ack id. Any 19-digit number fits in a uint64, so
// the bound alone rules out overflow; the reference accepts any length and
// silently loses precision past 2^53.
const maxIDDigits = 19

// Decoder reassembles packets from Engine.IO messages. A binary packet spans
// several messages (its text part, then one binary message per attachment),
// so the decoder keeps the partially received packet between calls.
//
// Decoder is not safe for concurrent use; use one per connection. The zero
// value is ready to use. After any error the partial packet is dropped: the
// message stream is out of sync and the connection should be closed.
type Decoder struct {
	// MaxAttachments bounds the number of attachments a packet may
	// announce; a header announcing more is rejected with
	// ErrTooManyAttachments before anything is buffered. Zero or a negative
	// value means DefaultMaxAttachments.
	MaxAttachments int

	pending *Packet // binary packet waiting for its attachments
	want    int     // number of attachments pending needs in total
}

// AddText feeds one text Engine.IO message. It returns the complete packet,
// or (nil, nil) when the packet announced attachments and is waiting for
// them. Feeding text while attachments are still awaited is an error.
//
// AddText does not retain msg: the returned packet's Data is a copy, so the
// caller may reuse its buffer.
//
// Validation follows socket.io-parser v4.2.6:
//   - the type is one digit 0-6;
//   - BINARY_EVENT and BINARY_ACK carry a decimal attachment count followed
//     by '-', between 1 and MaxAttachments; other types carry none;
//   - a namespace starts with '/' and ends at the first ',' (or at the end
//     of the message, as the reference also accepts "1/admin");
//   - an ack id is a run of decimal digits right after the namespace;
//   - the payload, if any, must be valid JSON with nothing after it (JSON
//     whitespace aside) and be, per type: CONNECT an object or absent;
//     DISCONNECT absent; EVENT and BINARY_EVENT a non-empty array whose first
//     element is a string or, as the reference allows, a number, and not one
//     of the names the reference reserves ("connect", "connect_error",
//     "disconnect", "disconnecting", "newListener", "removeListener");
//     ACK and BINARY_ACK an array; CONNECT_ERROR an object or a string;
//   - the placeholders of a binary packet are objects whose "_placeholder"
//     member is true and whose "num" is an integer in [0, count); a
//     placeholder nested inside another one is ignored, as the reference
//     never looks inside a placeholder.
//
// It is stricter than the reference, which would otherwise hand the layers
// above packets they cannot use or would misread:
//   - an empty message is rejected (the reference reads it as CONNECT);
//   - an ack id is limited to 19 digits, is required on ACK and BINARY_ACK,
//     and is refused on CONNECT, DISCONNECT and CONNECT_ERROR;
//   - a payload is required for EVENT, ACK and CONNECT_ERROR (the reference
//     only validates a payload that is present);
//   - the payload must start right after the header: leading whitespace is
//     refused, because the reference would read it as part of the ack id;
//   - a binary packet must contain exactly as many placeholders as it
//     announces, each attachment referenced exactly once (the reference
//     tolerates unused or shared attachments, and lets a fractional "num"
//     through as undefined).
func (d *Decoder) AddText(msg []byte) (*Packet, error) {
	if d.pending != nil {
		want, got := d.want, len(d.pending.Attachments)
		d.Reset()
		return nil, invalidf("text message received while %d of %d attachments are still awaited", want-got, want)
	}
	p, err := decodeText(msg, d.limit())
	if err != nil {
		return nil, err
	}
	if p.Type.isBinary() {
		d.pending, d.want = p, cap(p.Attachments)
		return nil, nil
	}
	return p, nil
}

// AddBinary feeds one binary Engine.IO message, the next attachment of the
// packet announced by the last text message. It returns the complete packet
// once the last attachment has arrived, (nil, nil) before that, and an error
// if no binary packet is awaiting attachments.
//
// The caller gives ownership of msg to the decoder: the slice is stored in
// the packet's Attachments as is, without copying, because attachments can
// be large. The caller must not modify or reuse msg afterwards.
func (d *Decoder) AddBinary(msg []byte) (*Packet, error) {
	p := d.pending
	if p == nil {
		return nil, invalidf("binary message received while no attachment is awaited")
	}
	p.Attachments = append(p.Attachments, msg)
	if len(p.Attachments) < d.want {
		return nil, nil
	}
	d.Reset()
	return p, nil
}

// Reset drops any partially received packet, for instance when the
// underlying transport is replaced.
func (d *Decoder) Reset() {
	d.pending, d.want = nil, 0
}

func (d *Decoder) limit() int {
	if d.MaxAttachments <= 0 {
		return DefaultMaxAttachments
	}
	return d.MaxAttachments
}

// decodeText parses and validates one text message. For a binary packet the
// returned Attachments is empty with capacity equal to the announced count.
func decodeText(msg []byte, maxAttachments int) (*Packet, error) {
	if len(msg) == 0 {
		return nil, invalidf("empty message")
	}
	if msg[0] < '0' || msg[0] > '6' {
		return nil, invalidf("unknown packet type %q", msg[0])
	}
	t := PacketType(msg[0] - '0')
	i := 1

	count := 0
	if t.isBinary() {
		start := i
		var n uint64
		for ; i < len(msg) && isDigit(msg[i]); i++ {
			// Saturate instead of overflowing: any value this large is
			// rejected below anyway.
			if n <= math.MaxInt32 {
				n = n*10 + uint64(msg[i]-'0')
			}
		}
		if i == start || i == len(msg) || msg[i] != '-' {
			return nil, invalidf("%s needs an attachment count followed by '-'", t)
		}
		i++
		if n == 0 {
			return nil, invalidf("%s announces no attachments", t)
		}
		if n > uint64(maxAttachments) {
			return nil, &tooManyError{announced: n, limit: maxAttachments}
		}
		count = int(n)
	}

	nsp := "/"
	if i < len(msg) && msg[i] == '/' {
		raw := msg[i:]
		if j := bytes.IndexByte(raw, ','); j >= 0 {
			raw = raw[:j]
			i += j + 1
		} else {
			i = len(msg)
		}
		for _, b := range raw {
			// Stricter than the reference: a control character in a
			// namespace is never legitimate, and the server echoes the
			// name back (CONNECT_ERROR), where a record separator (0x1e)
			// would split a long-polling payload.
			if b < 0x20 || b == 0x7f {
				return nil, invalidf("control character in namespace")
			}
		}
		if len(raw) > 1 { // "/" itself keeps the constant and saves an allocation
			nsp = string(raw)
		}
	}

	var id uint64
	hasID := false
	for start := i; i < len(msg) && isDigit(msg[i]); i++ {
		if i-start == maxIDDigits {
			return nil, invalidf("ack id longer than %d digits", maxIDDigits)
		}
		digit := uint64(msg[i] - '0')
		if id > (math.MaxUint64-digit)/10 {
			return nil, invalidf("ack id overflows uint64")
		}
		id = id*10 + digit
		hasID = true
	}

	payload := msg[i:]
	if err := checkPacket(t, hasID, payload, count); err != nil {
		return nil, err
	}

	p := &Packet{Type: t, Namespace: nsp, ID: id, HasID: hasID}
	if len(payload) > 0 {
		p.Data = make(json.RawMessage, len(payload))
		copy(p.Data, payload)
	}
	if count > 0 {
		p.Attachments = make([][]byte, 0, count)
	}
	return p, nil
}

// checkPacket applies the per-type rules on the ack id and the payload.
func checkPacket(t PacketType, hasID bool, payload []byte, count int) error {
	switch t {
	case Connect, Disconnect, ConnectError:
		if hasID {
			return invalidf("%s cannot carry an ack id", t)
		}
	case Ack, BinaryAck:
		if !hasID {
			return invalidf("%s requires an ack id", t)
		}
	}

	if len(payload) == 0 {
		switch t {
		case Connect, Disconnect:
			return nil
		}
		return invalidf("%s requires a payload", t)
	}

	// Check the kind of the payload from its first byte before scanning it,
	// so that a payload of the wrong kind is refused without reading it all.
	switch c := payload[0]; t {
	case Disconnect:
		return invalidf("DISCONNECT cannot carry a payload")
	case Connect:
		if c != '{' {
			return invalidf("CONNECT payload must be a JSON object")
		}
	case ConnectError:
		if c != '{' && c != '"' {
			return invalidf("CONNECT_ERROR payload must be a JSON object or string")
		}
	case Event, BinaryEvent, Ack, BinaryAck:
		if c != '[' {
			return invalidf("%s payload must be a JSON array", t)
		}
	}

	s := scanner{data: payload, collect: t.isBinary()}
	if s.collect {
		// A valid packet has exactly count placeholders, so size the list
		// once rather than growing it; the payload length bounds the
		// allocation, however high MaxAttachments is set.
		s.holes = make([]hole, 0, min(count, len(payload)/len(`{"_placeholder":true,"num":0}`)))
	}
	if err := s.whole(); err != nil {
		return err
	}

	if t == Event || t == BinaryEvent {
		if s.firstEnd == 0 {
			return invalidf("%s payload must not be an empty array", t)
		}
		if err := checkEventName(payload[s.firstStart:s.firstEnd]); err != nil {
			return err
		}
	}
	if t.isBinary() {
		return checkHoles(s.holes, count)
	}
	return nil
}

// checkEventName applies the reference's rule on the first element of an
// event: a number, or a string that is not a reserved name. The reserved
// names would collide with events the libraries emit themselves, so a peer
// sending them could impersonate, say, a disconnection.
func checkEventName(raw []byte) error {
	c := raw[0]
	if c == '-' || isDigit(c) {
		return nil
	}
	if c != '"' {
		return invalidf("event name must be a string or a number")
	}
	inner := raw[1 : len(raw)-1]
	if bytes.IndexByte(inner, '\\') < 0 {
		// The length guard keeps the conversion on the stack.
		if len(inner) <= len("removeListener") && isReservedEvent(string(inner)) {
			return invalidf("event name %s is reserved", raw)
		}
		return nil
	}
	var name string
	if err := json.Unmarshal(raw, &name); err != nil {
		return invalidf("event name: %v", err)
	}
	if isReservedEvent(name) {
		return invalidf("event name %s is reserved", raw)
	}
	return nil
}

func isReservedEvent(name string) bool {
	switch name {
	case "connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener":
		return true
	}
	return false
}
