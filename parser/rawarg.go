package parser

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"strconv"
)

var errPlaceholderShaped = errors.New("parser: an argument holds an object shaped like a binary placeholder, which a packet with attachments cannot carry")

func appendInt(b []byte, n int) []byte { return strconv.AppendInt(b, int64(n), 10) }

// RawArg is one received argument kept as it arrived, to be passed on
// unchanged: its JSON text and the binary attachments of the packet it came
// in. Args.Arg and Args.RawArgs return them.
//
// EncodeArgs, and so every emit and acknowledgement built on it, writes a
// RawArg's JSON verbatim: no decoding and re-encoding, the object keys stay
// in the sender's order. Its placeholders {"_placeholder":true,"num":N}
// refer to Attachments[N]; each is rewritten with the number of the
// attachment in the new packet, and the attachment is carried over without
// copying. A RawArg may also be nested inside []any and map[string]any
// arguments.
//
// A RawArg built by hand is checked when it is encoded: JSON that is not
// valid, or a placeholder that refers to no attachment, is an error rather
// than a malformed packet. With no attachments, placeholder-shaped objects
// are ordinary data (as in a non-binary packet, where the sender meant
// them as such); EncodeArgs refuses to put such a RawArg in a packet that
// has attachments, where the peer would read them as placeholders. A nil
// Raw is sent as null.
//
// Neither field is copied: both alias the received packet, so do not
// modify them.
type RawArg struct {
	Raw         json.RawMessage
	Attachments [][]byte
}

// Decode decodes the argument into v, as Args.Decode does.
func (r RawArg) Decode(v any) error { return Unmarshal(r.Raw, r.Attachments, v) }

// Value returns the argument as a generic Go value, as Args.Value does; nil
// when it does not decode.
func (r RawArg) Value() any {
	v, err := Reconstruct(r.Raw, r.Attachments)
	if err != nil {
		return nil
	}
	return v
}

// MarshalJSON implements json.Marshaler, for a RawArg that encoding/json
// writes (inside a struct, a []RawArg, any type EncodeArgs does not walk
// itself): the JSON as it is, except that each placeholder becomes the
// base64 string of its attachment, as encoding/json writes a []byte there.
func (r RawArg) MarshalJSON() ([]byte, error) {
	if r.Raw == nil {
		return []byte("null"), nil
	}
	if len(r.Attachments) == 0 {
		// encoding/json validates what a Marshaler returns.
		return r.Raw, nil
	}
	return inlineAttachments(r.Raw, r.Attachments)
}

// inlineAttachments returns raw with every placeholder replaced by the
// base64 JSON string of its attachment; raw itself when it has none.
func inlineAttachments(raw []byte, attachments [][]byte) ([]byte, error) {
	holes, err := placeholders(raw, len(attachments))
	if err != nil {
		return nil, err
	}
	if len(holes) == 0 {
		return raw, nil
	}
	size := len(raw)
	for _, h := range holes {
		n, _ := holeIndex(h, len(attachments)) // checked by placeholders
		size += base64.StdEncoding.EncodedLen(len(attachments[n])) + 2 - (h.end - h.start)
	}
	buf := make([]byte, 0, size)
	last := 0
	for _, h := range holes {
		n, _ := holeIndex(h, len(attachments))
		buf = append(buf, raw[last:h.start]...)
		buf = append(buf, '"')
		buf = base64.StdEncoding.AppendEncode(buf, attachments[n])
		buf = append(buf, '"')
		last = h.end
	}
	return append(buf, raw[last:]...), nil
}

// rawArg writes r into the payload: checked, verbatim, with its
// placeholders renumbered for the new packet. depth is the nesting depth r
// sits at, so that the whole payload stays within what the decoder
// accepts.
func (e *argEncoder) rawArg(r *RawArg, depth int) error {
	if r.Raw == nil {
		e.buf = append(e.buf, "null"...)
		return nil
	}
	if len(r.Attachments) == 0 {
		// The common case, a relayed text event: one validating pass and
		// one copy. Placeholder-shaped objects are data here; see check.
		return e.plain(r.Raw, depth)
	}
	s := scanner{data: r.Raw, depth: depth, collect: true}
	if err := s.whole(); err != nil {
		return err
	}
	last := 0
	for _, h := range s.holes {
		n, err := holeIndex(h, len(r.Attachments))
		if err != nil {
			return err
		}
		e.buf = append(e.buf, r.Raw[last:h.start]...)
		e.placeholder(r.Attachments[n])
		last = h.end
	}
	e.buf = append(e.buf, r.Raw[last:]...)
	return nil
}

// plain writes raw JSON that carries no attachments of its own, after
// checking that it is valid JSON and not nested too deeply.
func (e *argEncoder) plain(raw []byte, depth int) error {
	s := scanner{data: raw, depth: depth}
	if err := s.whole(); err != nil {
		return err
	}
	e.buf = append(e.buf, raw...)
	e.unchecked = true
	return nil
}

// placeholder writes the placeholder of a new attachment.
func (e *argEncoder) placeholder(b []byte) {
	e.buf = append(e.buf, `{"_placeholder":true,"num":`...)
	e.buf = appendInt(e.buf, len(e.attachments))
	e.buf = append(e.buf, '}')
	e.attachments = append(e.attachments, b)
}

// check runs once the payload is complete. Text the encoder did not write
// itself (raw JSON, encoding/json's output, a map with a "_placeholder"
// key) may hold objects shaped like placeholders. Harmless in a packet
// without attachments, they would be read as placeholders in one with
// attachments: the peer would then see the wrong attachments, or reject
// the packet. So a binary payload with such text must contain exactly the
// placeholders the encoder wrote, byte for byte, and nothing else a
// decoder would take for one.
func (e *argEncoder) check() error {
	if !e.unchecked || len(e.attachments) == 0 {
		return nil
	}
	s := scanner{data: e.buf, collect: true}
	if err := s.whole(); err != nil {
		return err // cannot happen: every part was checked
	}
	ok := len(s.holes) == len(e.attachments)
	var want []byte
	for i := 0; ok && i < len(s.holes); i++ {
		want = append(want[:0], `{"_placeholder":true,"num":`...)
		want = appendInt(want, i)
		want = append(want, '}')
		h := s.holes[i]
		ok = string(e.buf[h.start:h.end]) == string(want)
	}
	if !ok {
		return errPlaceholderShaped
	}
	return nil
}
