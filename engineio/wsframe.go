package engineio

import (
	"encoding/binary"
	"errors"
	"math/bits"
	"strconv"
	"unicode/utf8"
)

// An incremental reader of the frames a WebSocket client sends (RFC 6455
// §5), written for an event-driven server: the bytes of a connection come
// in whatever pieces the kernel hands over, usually out of a read buffer
// shared by many connections, so the parser can neither block for more
// input nor keep a pointer into the caller's buffer between calls.
//
// Most frames arrive whole in one read. Those are unmasked where they lie
// and handed to the caller as a sub-slice of its own buffer: no copy, no
// allocation. Only what must outlive a feed call is copied: the tail of a
// frame cut by the end of a read, and the fragments of a message still
// missing its final frame. Once nothing is left over, the buffer is
// dropped, so an idle connection costs just the struct below.
//
// Every WebSocket the server reads goes through this parser, on the poller
// (wspoll.go) and on a reader goroutine (websocket.go), so each rule of
// the protocol is checked in one place. The only extension is
// permessage-deflate (RFC 7692), on every path where it was negotiated
// (fpDeflate): the first frame of a data message may then set RSV1, and
// the reassembled message is inflated (wsinflate.go) within maxPayload
// before it is checked and handed out. Any other reserved bit is an error.

// wsCloseError is a protocol failure found while reading; Code is the close
// status to send (RFC 6455 §7.4.1).
type wsCloseError struct {
	Code int
	Text string
}

func (e *wsCloseError) Error() string {
	return "websocket: " + e.Text + " (close " + strconv.Itoa(e.Code) + ")"
}

// Close status codes (RFC 6455 §7.4.1).
const (
	closeNormal          = 1000
	closeGoingAway       = 1001
	closeProtocolError   = 1002
	closeUnsupportedData = 1003
	closeInvalidPayload  = 1007
	closePolicyViolation = 1008
	closeMessageTooBig   = 1009
)

// Opcodes besides opText and opBinary, which wswrite.go declares.
const (
	opContinuation = 0x0
	opClose        = 0x8
	opPing         = 0x9
	opPong         = 0xA
)

const (
	rsvBits  = 0x70 // RSV1-3, meaningful only to a negotiated extension
	opMask   = 0x0f
	maskBit  = 0x80 // second header byte: the payload is masked
	len7Mask = 0x7f

	maxControlPayload = 125
	// maxFrameHeader is the longest client header: 2 bytes, a 64-bit
	// length and the 4-byte masking key.
	maxFrameHeader = 2 + 8 + 4
	// minFrameBuffer is the smallest buffer allocated for a split frame,
	// so that a frame trickling in a few bytes at a time is not
	// reallocated on every read.
	minFrameBuffer = 512
)

// errFrameParserBroken is what feed returns when called again after it
// failed: the stream position is lost by then, so nothing it would parse
// could be trusted.
var errFrameParserBroken = errors.New("engineio: websocket frame parser fed after an error")

// frameParser reads the client-to-server frames of one connection. It
// lives in every connection, so it is kept to a few words, and it holds a
// buffer only while a frame or message is unfinished.
type frameParser struct {
	maxPayload int // largest message (reassembled data frames) accepted; >0

	// buf[:msgLen] is the payload received so far of a fragmented data
	// message (msgOp != 0). buf[msgLen:] is the unfinished frame: its
	// header bytes while hlen == 0, its payload (already unmasked) after.
	// nil whenever both parts are empty at the end of a feed.
	buf    []byte
	msgLen int

	remaining int    // payload bytes of the current frame still to come (hlen > 0)
	key       uint32 // the current frame's mask, rotated to line up with the next payload byte
	hlen      uint8  // header length of the frame whose payload is awaited; 0 between frames
	frame     byte   // first header byte (FIN, opcode) of that frame
	msgOp     byte   // opText or opBinary while a data message is open, else 0
	flags     uint8  // fpBroken, fpDeflate, fpCompressed: one byte, so the struct stays 7 words
}

// Bits of frameParser.flags.
const (
	// fpBroken: an error was returned; see errFrameParserBroken.
	fpBroken = 1 << iota
	// fpDeflate: permessage-deflate was negotiated (set before the first
	// feed).
	fpDeflate
	// fpCompressed: the open data message set RSV1, so it inflates.
	fpCompressed
)

// pending reports how many bytes the parser holds: a partial frame (the
// bytes of its header included, even once parsed) and the payload of a
// partial fragmented message. It is 0 exactly when the parser is between
// frames with no message data kept; the one state it does not count is an
// open fragmented message whose fragments so far were all empty, which
// holds no bytes at all.
func (p *frameParser) pending() int {
	return len(p.buf) + int(p.hlen)
}

// feed consumes data, which it may modify in place (unmasking), and calls
// emit once per complete data message (opText or opBinary, fragments
// reassembled) and once per control frame (opClose, opPing, opPong), in
// order. The payload passed to emit is valid only during the call (it may
// alias data or the parser's buffers). If emit returns an error, feed stops
// and returns it. A protocol violation returns a *wsCloseError; after any
// error the parser must not be fed again.
func (p *frameParser) feed(data []byte, emit func(op byte, payload []byte) error) error {
	if p.flags&fpBroken != 0 {
		return errFrameParserBroken
	}
	if err := p.parse(data, emit); err != nil {
		// The connection is going away: keep nothing for it.
		p.flags |= fpBroken
		p.buf, p.msgLen, p.msgOp, p.hlen, p.remaining = nil, 0, 0, 0, 0
		return err
	}
	if len(p.buf) == 0 {
		// Nothing is held, so let the (possibly message-sized) buffer go:
		// idle connections must not pin memory. It is kept while a new
		// partial frame already sits in it, which saves reallocating it
		// when a client streams large messages back to back.
		p.buf = nil
	}
	return nil
}

func (p *frameParser) parse(data []byte, emit func(op byte, payload []byte) error) error {
	for {
		if p.hlen == 0 {
			// Between frames, or inside a header cut by a previous read.
			var h []byte
			if len(p.buf) == p.msgLen {
				// Fast path: the header is parsed where it lies.
				need, err := p.headerLen(data)
				if err != nil {
					return err
				}
				if need == 0 || len(data) < need {
					if len(data) == 0 {
						return nil
					}
					p.grow(len(data))
					p.buf = append(p.buf, data...)
					return nil
				}
				h, data = data[:need], data[need:]
			} else {
				// Complete the saved header: first up to the two bytes
				// that tell its length, then the rest.
				for {
					part := p.buf[p.msgLen:]
					need, err := p.headerLen(part)
					if err != nil {
						return err
					}
					if need == 0 {
						need = 2
					}
					if len(part) == need {
						h = part
						break
					}
					if len(data) == 0 {
						return nil
					}
					n := min(need-len(part), len(data))
					p.grow(n)
					p.buf = append(p.buf, data[:n]...)
					data = data[n:]
				}
			}
			if err := p.startFrame(h); err != nil {
				return err
			}
			// h may alias buf[msgLen:]; startFrame has read all of it,
			// and the payload takes its place from here on.
			p.buf = p.buf[:p.msgLen]

			op := p.frame & opMask
			n := p.remaining
			whole := op >= opClose || (p.frame&finBit != 0 && op != opContinuation)
			if whole && len(data) >= n {
				// The common case: a frame that is a whole message (or a
				// control frame) and is all here. Unmask in place and hand
				// out the caller's own bytes.
				payload := data[:n:n]
				data = data[n:]
				maskBytes(payload, p.key)
				p.hlen, p.remaining = 0, 0
				compressed := false
				if op < opClose {
					p.msgOp = 0
					compressed = p.endMessage()
				}
				if err := p.deliver(op, payload, compressed, emit); err != nil {
					return err
				}
				continue
			}
		}

		// Payload of a frame that cannot be handed out from data: copy
		// what is here, unmasking the copy.
		if n := min(p.remaining, len(data)); n > 0 {
			p.grow(n)
			start := len(p.buf)
			p.buf = append(p.buf, data[:n]...)
			data = data[n:]
			p.key = maskBytes(p.buf[start:], p.key)
			p.remaining -= n
		}
		if p.remaining > 0 {
			return nil // data is used up
		}

		// The frame is complete.
		op := p.frame & opMask
		p.hlen = 0
		if op >= opClose {
			err := p.deliver(op, p.buf[p.msgLen:len(p.buf):len(p.buf)], false, emit)
			p.buf = p.buf[:p.msgLen]
			if err != nil {
				return err
			}
			continue
		}
		if p.frame&finBit == 0 {
			p.msgLen = len(p.buf)
			continue
		}
		op = p.msgOp
		p.msgOp, p.msgLen = 0, 0
		err := p.deliver(op, p.buf[:len(p.buf):len(p.buf)], p.endMessage(), emit)
		// Keep the storage for the rest of this feed; feed drops it if
		// nothing else lands in it.
		p.buf = p.buf[:0]
		if err != nil {
			return err
		}
	}
}

// headerLen checks the first two bytes of a frame header, the ones that do
// not depend on its length, and returns the full header length, or 0 if
// h is shorter than two bytes. These checks run as soon as two bytes are
// in, whether the header came whole or in pieces, so the verdict never
// depends on how the stream was cut.
func (p *frameParser) headerLen(h []byte) (int, error) {
	if len(h) < 2 {
		return 0, nil
	}
	b0, b1 := h[0], h[1]
	op := b0 & opMask
	if rsv := b0 & rsvBits; rsv != 0 {
		// RSV1 marks a compressed message, on its first frame only
		// (RFC 7692 §6): never on a continuation or a control frame.
		if rsv != rsv1Bit || p.flags&fpDeflate == 0 {
			return 0, &wsCloseError{closeProtocolError, "reserved bits set without a negotiated extension"}
		}
		if op != opText && op != opBinary {
			return 0, &wsCloseError{closeProtocolError, "RSV1 set on a frame that does not start a message"}
		}
	}
	switch op {
	case opContinuation:
		if p.msgOp == 0 {
			return 0, &wsCloseError{closeProtocolError, "continuation frame without a message to continue"}
		}
	case opText, opBinary:
		if p.msgOp != 0 {
			return 0, &wsCloseError{closeProtocolError, "new data frame inside a fragmented message"}
		}
	case opClose, opPing, opPong:
		if b0&finBit == 0 {
			return 0, &wsCloseError{closeProtocolError, "fragmented control frame"}
		}
	default:
		return 0, &wsCloseError{closeProtocolError, "unknown opcode " + strconv.Itoa(int(op))}
	}
	if b1&maskBit == 0 {
		return 0, &wsCloseError{closeProtocolError, "unmasked client frame"}
	}
	switch b1 & len7Mask {
	case 126:
		return 2 + 2 + 4, nil
	case 127:
		return 2 + 8 + 4, nil
	}
	return 2 + 4, nil
}

// startFrame reads a complete header, whose first two bytes headerLen has
// already accepted, and sets up the reception of its payload.
func (p *frameParser) startFrame(h []byte) error {
	var n uint64
	switch h[1] & len7Mask {
	case 126:
		n = uint64(binary.BigEndian.Uint16(h[2:]))
	case 127:
		// A length with the top bit set (which RFC 6455 forbids) is
		// refused below like any length over the limit, with 1009, as
		// Node's ws refuses lengths over 2^53-1.
		n = binary.BigEndian.Uint64(h[2:])
	default:
		n = uint64(h[1] & len7Mask)
	}
	// Non-minimal length encodings are accepted: RFC 6455 only says they
	// SHOULD not be used, and rejecting them gains nothing.
	op := h[0] & opMask
	if op >= opClose {
		if n > maxControlPayload {
			return &wsCloseError{closeProtocolError, "control frame payload over 125 bytes"}
		}
	} else if n > uint64(max(p.maxPayload-p.msgLen, 0)) {
		// Refused on the header alone, before a byte of it is buffered.
		// (A maxPayload of 0 or less refuses every non-empty message
		// rather than wrapping around to no limit at all.)
		return &wsCloseError{closeMessageTooBig, "message larger than " + strconv.Itoa(p.maxPayload) + " bytes"}
	}
	if op == opText || op == opBinary {
		p.msgOp = op
		if h[0]&rsv1Bit != 0 {
			p.flags |= fpCompressed
		}
	}
	p.frame = h[0]
	p.hlen = uint8(len(h))
	p.remaining = int(n)
	p.key = binary.LittleEndian.Uint32(h[len(h)-4:])
	return nil
}

// grow makes room in buf for n more bytes. Capacity doubles, so a frame or
// message arriving in many pieces is copied O(1) times per byte, but it
// follows the bytes actually received rather than the announced length: a
// client announcing a huge frame and sending it slowly gets no huge buffer
// up front. When what is being received ends the held data (a
// single-frame message, a last fragment, a header or control frame with no
// message open), capacity stops at its end, since nothing follows it; and
// once doubling would reach half of that end, the buffer gets the whole
// of it at once rather than one more reallocation for the last bytes.
func (p *frameParser) grow(n int) {
	need := len(p.buf) + n
	if need <= cap(p.buf) {
		return
	}
	c := max(2*cap(p.buf), need, minFrameBuffer)
	end := -1
	switch {
	case p.hlen == 0 && p.msgOp == 0:
		end = p.msgLen + maxFrameHeader
	case p.hlen != 0 && (p.msgOp == 0 || p.frame&opMask < opClose && p.frame&finBit != 0):
		end = len(p.buf) + p.remaining
	}
	if end >= 0 {
		if c >= end/2 {
			c = end
		}
	} else {
		// A fragmented message: it can still grow up to maxPayload, plus
		// a header or control frame received after it.
		c = min(c, max(p.maxPayload, need))
	}
	c = max(c, need)
	nb := make([]byte, len(p.buf), c)
	copy(nb, p.buf)
	p.buf = nb
}

// endMessage reports whether the data message just completed was
// compressed, and forgets it.
func (p *frameParser) endMessage() bool {
	compressed := p.flags&fpCompressed != 0
	p.flags &^= fpCompressed
	return compressed
}

// deliver checks what RFC 6455 requires of a complete message or control
// frame payload, inflating a compressed message first, then passes it on.
func (p *frameParser) deliver(op byte, payload []byte, compressed bool, emit func(op byte, payload []byte) error) error {
	if compressed {
		inflated, err := inflateMessage(payload, p.maxPayload)
		if err != nil {
			return err
		}
		defer inflated.release()
		payload = inflated.b
	}
	switch op {
	case opText:
		// Checked on the whole message: a fragment may end inside a
		// multi-byte character.
		if !utf8.Valid(payload) {
			return &wsCloseError{closeInvalidPayload, "text message is not valid UTF-8"}
		}
	case opClose:
		if err := checkClosePayload(payload); err != nil {
			return err
		}
	}
	return emit(op, payload)
}

// checkClosePayload validates a close frame body (RFC 6455 §5.5.1): empty,
// or a status code a peer may send followed by a UTF-8 reason.
func checkClosePayload(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	if len(b) == 1 {
		return &wsCloseError{closeProtocolError, "close frame payload of 1 byte"}
	}
	if code := int(binary.BigEndian.Uint16(b)); !validCloseCode(code) {
		return &wsCloseError{closeProtocolError, "invalid close status code " + strconv.Itoa(code)}
	}
	if !utf8.Valid(b[2:]) {
		return &wsCloseError{closeInvalidPayload, "close reason is not valid UTF-8"}
	}
	return nil
}

// validCloseCode reports whether a peer may put code in a close frame:
// the codes RFC 6455 and IANA's registry define for the wire (up to 1014,
// as Node's ws accepts), minus 1004 (reserved) and 1005, 1006, 1015 (only
// ever reported locally), plus the ranges left to libraries (3000-3999)
// and applications (4000-4999).
func validCloseCode(code int) bool {
	switch {
	case code >= 1000 && code <= 1003, code >= 1007 && code <= 1014:
		return true
	case code >= 3000 && code <= 4999:
		return true
	}
	return false
}

// maskBytes XORs b with the masking key and returns the key rotated for
// the byte that follows b, so that a payload unmasked in pieces gets the
// same result as in one go. key holds the four key bytes in wire order,
// lowest byte first.
func maskBytes(b []byte, key uint32) uint32 {
	if len(b) >= 8 {
		// Eight bytes hold the key exactly twice, so the key lines up
		// again after every word and needs no rotation in this loop.
		k := uint64(key) | uint64(key)<<32
		for len(b) >= 32 {
			binary.LittleEndian.PutUint64(b, binary.LittleEndian.Uint64(b)^k)
			binary.LittleEndian.PutUint64(b[8:], binary.LittleEndian.Uint64(b[8:])^k)
			binary.LittleEndian.PutUint64(b[16:], binary.LittleEndian.Uint64(b[16:])^k)
			binary.LittleEndian.PutUint64(b[24:], binary.LittleEndian.Uint64(b[24:])^k)
			b = b[32:]
		}
		for len(b) >= 8 {
			binary.LittleEndian.PutUint64(b, binary.LittleEndian.Uint64(b)^k)
			b = b[8:]
		}
	}
	for i := range b {
		b[i] ^= byte(key)
		key = bits.RotateLeft32(key, -8)
	}
	return key
}

// appendControlFrame appends an unmasked server control frame (FIN set)
// with payload, which must not exceed 125 bytes: a longer one is cut,
// since a control frame announcing more would not be valid at all.
func appendControlFrame(dst []byte, op byte, payload []byte) []byte {
	if len(payload) > maxControlPayload {
		payload = payload[:maxControlPayload]
	}
	dst = appendFrameHeader(dst, op, len(payload))
	return append(dst, payload...)
}

// appendCloseFrame appends an unmasked close frame with status code and
// reason text, the text cut so that the payload fits in 125 bytes. The cut
// falls on a character boundary: the peer must reject a reason that is not
// valid UTF-8, which would turn our orderly close into a protocol error.
func appendCloseFrame(dst []byte, code int, text string) []byte {
	if len(text) > maxControlPayload-2 {
		cut := maxControlPayload - 2
		for cut > 0 && !utf8.RuneStart(text[cut]) {
			cut--
		}
		text = text[:cut]
	}
	dst = appendFrameHeader(dst, opClose, 2+len(text))
	dst = append(dst, byte(code>>8), byte(code))
	return append(dst, text...)
}
