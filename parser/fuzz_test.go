package parser

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// splitChunks cuts b into n consecutive chunks (none when n == 0), so that
// one fuzz input can describe a whole sequence of binary messages.
func splitChunks(b []byte, n int) [][]byte {
	out := make([][]byte, n)
	for i := range n {
		out[i] = b[i*len(b)/n : (i+1)*len(b)/n]
	}
	return out
}

func addDecoderSeeds(f *testing.F) {
	for _, g := range golden {
		f.Add([]byte(g.text), bytes.Join(g.packet.Attachments, nil), uint8(len(g.packet.Attachments)))
	}
	for _, tc := range invalidTexts {
		if len(tc.in) < 300 {
			f.Add([]byte(tc.in), []byte{1, 2, 3}, uint8(1))
		}
	}
	f.Add([]byte(`2["a",1e700]`), []byte(nil), uint8(0))
}

// FuzzDecoder feeds one text message, then the binary messages described by
// bin and nbin. Decoding must never panic; whatever is accepted must satisfy
// the documented invariants and survive an encode/decode round trip
// unchanged.
func FuzzDecoder(f *testing.F) {
	addDecoderSeeds(f)
	f.Fuzz(func(t *testing.T, text, bin []byte, nbin uint8) {
		d := Decoder{MaxAttachments: 16}
		p, err := d.AddText(text)
		if err != nil {
			if p != nil {
				t.Fatal("packet and error together")
			}
			// The decoder must stay usable after an error.
			if q, err := d.AddText([]byte(`2["a"]`)); err != nil || q == nil {
				t.Fatalf("decoder unusable after error: %v", err)
			}
			return
		}
		for _, c := range splitChunks(bin, int(nbin%20)) {
			if p != nil {
				if _, err := d.AddBinary(c); err == nil {
					t.Fatal("binary message accepted with no packet pending")
				}
				break
			}
			if p, err = d.AddBinary(c); err != nil {
				t.Fatalf("AddBinary: %v", err)
			}
		}
		if p == nil {
			return // still waiting for attachments
		}

		checkInvariants(t, p)

		enc := p.Encode()
		var d2 Decoder
		d2.MaxAttachments = 16
		q, err := d2.AddText(enc)
		for i := 0; err == nil && q == nil && i < len(p.Attachments); i++ {
			q, err = d2.AddBinary(p.Attachments[i])
		}
		if err != nil || q == nil {
			t.Fatalf("re-encoded %q does not decode: %v", enc, err)
		}
		if !reflect.DeepEqual(p, q) {
			t.Fatalf("round trip changed the packet:\n%+v\n%+v", p, q)
		}
		if enc2 := q.Encode(); !bytes.Equal(enc, enc2) {
			t.Fatalf("encoding not stable: %q then %q", enc, enc2)
		}
		checkForward(t, p)
	})
}

func checkInvariants(t *testing.T, p *Packet) {
	t.Helper()
	if p.Type > BinaryAck {
		t.Fatalf("type %d", p.Type)
	}
	if !strings.HasPrefix(p.Namespace, "/") || strings.Contains(p.Namespace, ",") {
		t.Fatalf("namespace %q", p.Namespace)
	}
	if p.Data != nil && !json.Valid(p.Data) {
		t.Fatalf("invalid JSON payload %q", p.Data)
	}
	if p.Data != nil && len(p.Data) == 0 {
		t.Fatal("empty non-nil Data")
	}
	if p.Type.isBinary() != (len(p.Attachments) > 0) {
		t.Fatalf("%v with %d attachments", p.Type, len(p.Attachments))
	}
	switch p.Type {
	case Event, BinaryEvent, Ack, BinaryAck:
		// The payload is an array whose elements, attachments resolved,
		// must be usable by the layers above without further errors.
		elems, err := SplitArray(p.Data)
		if err != nil {
			t.Fatalf("SplitArray: %v", err)
		}
		if (p.Type == Event || p.Type == BinaryEvent) && len(elems) == 0 {
			t.Fatal("event without a name")
		}
		if (p.Type == Ack || p.Type == BinaryAck) && !p.HasID {
			t.Fatal("ack without id")
		}
		v, err := Reconstruct(p.Data, p.Attachments)
		if errors.As(err, new(*json.UnmarshalTypeError)) {
			return // a number beyond float64, valid JSON that encoding/json cannot hold
		}
		if err != nil {
			t.Fatalf("Reconstruct of an accepted packet: %v", err)
		}
		if n := countBytes(v); n != len(p.Attachments) {
			t.Fatalf("%d attachments resolved, want %d", n, len(p.Attachments))
		}
	}
}

func countBytes(v any) int {
	switch x := v.(type) {
	case []byte:
		return 1
	case []any:
		n := 0
		for _, e := range x {
			n += countBytes(e)
		}
		return n
	case map[string]any:
		n := 0
		for _, e := range x {
			n += countBytes(e)
		}
		return n
	}
	return 0
}

func addPayloadSeeds(f *testing.F) {
	for _, g := range golden {
		if g.packet.Data != nil {
			f.Add([]byte(g.packet.Data), uint8(len(g.packet.Attachments)))
		}
	}
	for _, in := range scanCases {
		f.Add([]byte(in), uint8(0))
	}
	f.Add([]byte(`{"a":{"_placeholder":true,"num":0},"a":1}`), uint8(1))
	f.Add([]byte(`[{"_placeholder":true,"num":1e0,"x":{"_placeholder":true,"num":7}}]`), uint8(2))
	f.Add([]byte(`{"\u005fplaceholder":true,"num":0}`), uint8(1))
}

func fuzzAttachments(n uint8) [][]byte {
	atts := make([][]byte, n%12)
	for i := range atts {
		atts[i] = bytes.Repeat([]byte{byte(i)}, i)
	}
	return atts
}

// FuzzReconstruct checks that Reconstruct and SplitArray never panic, and
// that the package's JSON scanner accepts exactly what encoding/json does.
func FuzzReconstruct(f *testing.F) {
	addPayloadSeeds(f)
	f.Fuzz(func(t *testing.T, raw []byte, n uint8) {
		valid := json.Valid(raw)
		s := scanner{data: raw, collect: true}
		if scanOK := s.whole() == nil; scanOK != valid {
			t.Fatalf("scanner valid=%v, json.Valid=%v for %q", scanOK, valid, raw)
		}

		atts := fuzzAttachments(n)
		v, err := Reconstruct(raw, atts)
		if err == nil && !valid {
			t.Fatalf("Reconstruct accepted invalid JSON %q", raw)
		}
		if err == nil && len(atts) > 0 && countBytes(v) > len(s.holes) {
			t.Fatalf("more attachments resolved than placeholders found")
		}
		if len(atts) == 0 && valid && err != nil && !errors.As(err, new(*json.UnmarshalTypeError)) {
			t.Fatalf("Reconstruct without attachments rejected valid JSON: %v", err)
		}

		elems, err := SplitArray(raw)
		isArray := valid && bytes.HasPrefix(bytes.TrimLeft(raw, " \t\r\n"), []byte("["))
		if (err == nil) != isArray {
			t.Fatalf("SplitArray(%q) error %v, array %v", raw, err, isArray)
		}
		if err == nil {
			joined := append([]byte("["), bytes.Join(toBytes(elems), []byte(","))...)
			joined = append(joined, ']')
			var a, b any
			if json.Unmarshal(raw, &a) != nil || json.Unmarshal(joined, &b) != nil || !reflect.DeepEqual(a, b) {
				t.Fatalf("SplitArray(%q) elements %q do not rebuild the array", raw, elems)
			}
		}
	})
}

func toBytes(elems []json.RawMessage) [][]byte {
	out := make([][]byte, len(elems))
	for i, e := range elems {
		out[i] = e
	}
	return out
}

// FuzzUnmarshal checks that Unmarshal (text substitution of placeholders)
// and Reconstruct (substitution in the decoded tree) agree: same errors,
// and same values once attachments are spelled in base64.
func FuzzUnmarshal(f *testing.F) {
	addPayloadSeeds(f)
	f.Fuzz(func(t *testing.T, raw []byte, n uint8) {
		atts := fuzzAttachments(n)
		// Wrapping in an array lets the same input be decoded into []any
		// whatever its top-level kind.
		wrapped := append(append([]byte("["), raw...), ']')

		r, errR := Reconstruct(wrapped, atts)
		var u []any
		errU := Unmarshal(wrapped, atts, &u)
		if (errR == nil) != (errU == nil) {
			t.Fatalf("Reconstruct error %v, Unmarshal error %v for %q", errR, errU, raw)
		}
		if errR == nil && !reflect.DeepEqual(toBase64(r), any(u)) {
			t.Fatalf("Reconstruct %#v\nUnmarshal %#v", r, u)
		}

		// Typed targets must not panic either.
		var target struct {
			A []byte
			B []any
			C map[string][]byte
		}
		_ = Unmarshal(raw, atts, &target)
		var g any
		_ = Unmarshal(raw, atts, &g)
	})
}

func toBase64(v any) any {
	switch x := v.(type) {
	case []byte:
		return base64.StdEncoding.EncodeToString(x)
	case []any:
		for i, e := range x {
			x[i] = toBase64(e)
		}
	case map[string]any:
		for k, e := range x {
			x[k] = toBase64(e)
		}
	}
	return v
}
