package parser

import (
	"encoding/json"
	"errors"
	"math"
	"strconv"
)

// checkHoles enforces the decoder's rule on a binary packet: exactly count
// placeholders, referring to each attachment exactly once. The reference is
// laxer, but a mismatch can only come from a broken or hostile peer, and
// refusing it here means the layers above never see an attachment that no
// argument refers to, nor one shared by several.
func checkHoles(holes []hole, count int) error {
	if len(holes) != count {
		return invalidf("packet announces %d attachments but its payload has %d placeholders", count, len(holes))
	}
	var small uint64 // enough for the usual limit, without allocating
	var large []uint64
	if count > 64 {
		// count is bounded by the number of placeholders actually present,
		// hence by the message size, so this cannot be inflated by a header.
		large = make([]uint64, (count+63)/64)
	}
	for _, h := range holes {
		n, err := holeIndex(h, count)
		if err != nil {
			return err
		}
		word, bit := &small, uint64(1)<<(n%64)
		if large != nil {
			word = &large[n/64]
		}
		if *word&bit != 0 {
			return invalidf("attachment %d is referenced by more than one placeholder", n)
		}
		*word |= bit
	}
	return nil
}

// holeIndex returns the attachment a placeholder refers to, which must be an
// integer in [0, count). The number is read as a float64, as JSON.parse in
// the reference and encoding/json into an interface both do, so "1.0" and
// "1e0" mean 1 everywhere.
func holeIndex(h hole, count int) (int, error) {
	if h.num == nil {
		return 0, invalidf("placeholder without a numeric \"num\"")
	}
	var f float64
	if len(h.num) <= 9 && allDigits(h.num) {
		// Fast path for the form every encoder produces, avoiding the
		// string conversion ParseFloat needs.
		for _, c := range h.num {
			f = f*10 + float64(c-'0')
		}
	} else {
		var err error
		f, err = strconv.ParseFloat(string(h.num), 64)
		if err != nil {
			return 0, invalidf("placeholder num %s out of range", h.num)
		}
	}
	if f < 0 || f >= float64(count) || f != math.Trunc(f) {
		return 0, invalidf("placeholder num %s is not an attachment index in [0, %d)", h.num, count)
	}
	return int(f), nil
}

func allDigits(b []byte) bool {
	for _, c := range b {
		if !isDigit(c) {
			return false
		}
	}
	return true
}

// placeholders validates raw as JSON and returns its placeholders after
// checking that each refers to one of count attachments.
func placeholders(raw []byte, count int) ([]hole, error) {
	s := scanner{data: raw, collect: true}
	if err := s.whole(); err != nil {
		return nil, err
	}
	for _, h := range s.holes {
		if _, err := holeIndex(h, count); err != nil {
			return nil, err
		}
	}
	return s.holes, nil
}

// Reconstruct decodes raw JSON into a generic Go value (as encoding/json
// does into an interface: map[string]any, []any, float64, string, bool, nil)
// with every placeholder replaced by its attachment. The []byte values in
// the result alias the attachments; they are not copied.
//
// Placeholders are only interpreted when attachments is non-empty. A
// non-binary packet has no attachments, and the reference leaves
// placeholder-shaped objects in such packets alone, so they decode as
// ordinary maps here too. Unlike the decoder, Reconstruct accepts
// attachments that are unused or referenced several times; a placeholder
// whose num is out of range is an error.
//
// Malformed JSON and bad placeholders yield errors wrapping ErrInvalidPacket,
// and so do values encoding/json cannot hold (a number beyond the float64
// range such as 1e400, which JavaScript reads as Infinity); the latter also
// match *json.UnmarshalTypeError. Decode such payloads with Unmarshal into a
// json.Number or json.RawMessage instead.
func Reconstruct(raw json.RawMessage, attachments [][]byte) (any, error) {
	var holes []hole
	if len(attachments) > 0 {
		var err error
		if holes, err = placeholders(raw, len(attachments)); err != nil {
			return nil, err
		}
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, invalidf("%w", err)
	}
	if len(holes) == 0 {
		return v, nil
	}
	return fill(v, attachments), nil
}

// fill substitutes attachments for placeholders in a decoded value, in
// place. The scanner has already checked every placeholder it saw, and the
// decoded value can only contain fewer (a repeated key drops the earlier
// value), so the range check below is defensive: it never panics, it leaves
// the map as it is.
func fill(v any, attachments [][]byte) any {
	switch x := v.(type) {
	case []any:
		for i, e := range x {
			x[i] = fill(e, attachments)
		}
	case map[string]any:
		if x["_placeholder"] == true {
			if f, ok := x["num"].(float64); ok && f >= 0 && f < float64(len(attachments)) && f == math.Trunc(f) {
				return attachments[int(f)]
			}
			return x
		}
		for k, e := range x {
			x[k] = fill(e, attachments)
		}
	}
	return v
}

// Unmarshal decodes raw JSON into v, like json.Unmarshal, after resolving
// placeholders so that a placeholder decodes into a []byte field or
// variable. It does so by replacing each placeholder with the base64 JSON
// string of its attachment, which is how encoding/json represents []byte.
// The same substitution means a placeholder decoded into an interface nested
// inside v becomes a base64 string; when v itself is a *any, Unmarshal uses
// Reconstruct instead, so the caller gets []byte values.
//
// With no attachments this is exactly json.Unmarshal (placeholders are then
// plain objects, as for Reconstruct). With attachments, the rules on
// placeholders are those of Reconstruct.
//
// Malformed JSON and bad placeholders yield errors wrapping ErrInvalidPacket;
// errors about v itself (such as *json.UnmarshalTypeError) are returned as
// encoding/json reports them.
func Unmarshal(raw json.RawMessage, attachments [][]byte, v any) error {
	if len(attachments) == 0 {
		return wrapSyntax(json.Unmarshal(raw, v))
	}
	if pv, ok := v.(*any); ok && pv != nil {
		r, err := Reconstruct(raw, attachments)
		if err != nil {
			return err
		}
		*pv = r
		return nil
	}
	buf, err := inlineAttachments(raw, attachments)
	if err != nil {
		return err
	}
	return wrapSyntax(json.Unmarshal(buf, v))
}

// wrapSyntax marks malformed JSON as ErrInvalidPacket while keeping the
// *json.SyntaxError reachable through errors.As.
func wrapSyntax(err error) error {
	if _, ok := errors.AsType[*json.SyntaxError](err); ok {
		return invalidf("%w", err)
	}
	return err
}
