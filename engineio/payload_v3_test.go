package engineio

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
)

// Golden v3 payloads, worked out from the reference's v3 parser
// (engine.io lib/parser-v3, imported from engine.io-parser 2.2.x): text
// records are "<length>:<packet>" with the length in UTF-16 code units,
// binary messages in text are "b4" and base64; binary payloads are
// <0 text | 1 binary> <length digits as bytes 0-9> 0xFF <record>, a text
// record in UTF-8 (length in bytes), a binary one the type byte 4 and the
// data.
var v3PayloadVectors = []struct {
	name    string
	packets []Packet
	text    string // the text payload
	binary  []byte // the binary payload
}{
	{
		name:    "message",
		packets: []Packet{{Type: PacketMessage, Data: []byte("hello")}},
		text:    "6:4hello",
		binary:  append([]byte{0, 6, 0xff}, "4hello"...),
	},
	{
		name:    "two packets, one outside ASCII",
		packets: []Packet{{Type: PacketMessage, Data: []byte("hello")}, {Type: PacketMessage, Data: []byte("€")}},
		text:    "6:4hello2:4€",
		// "4€" is 4 bytes of UTF-8.
		binary: append(append([]byte{0, 6, 0xff}, "4hello"...), append([]byte{0, 4, 0xff}, "4€"...)...),
	},
	{
		name:    "a character outside the BMP counts two",
		packets: []Packet{{Type: PacketMessage, Data: []byte("😀!")}},
		text:    "4:4😀!",
		binary:  append([]byte{0, 6, 0xff}, "4😀!"...),
	},
	{
		name:    "control packets without data",
		packets: []Packet{{Type: PacketPing}, {Type: PacketPong}, {Type: PacketNoop}, {Type: PacketClose}},
		text:    "1:21:31:61:1",
		binary:  []byte{0, 1, 0xff, '2', 0, 1, 0xff, '3', 0, 1, 0xff, '6', 0, 1, 0xff, '1'},
	},
	{
		name:    "binary message",
		packets: []Packet{{Type: PacketMessage, Data: []byte{1, 2, 3}, Binary: true}},
		text:    "6:b4AQID",
		binary:  []byte{1, 4, 0xff, 4, 1, 2, 3},
	},
	{
		name:    "empty binary message",
		packets: []Packet{{Type: PacketMessage, Data: []byte{}, Binary: true}},
		text:    "2:b4",
		binary:  []byte{1, 1, 0xff, 4},
	},
	{
		name: "text and binary, two-digit lengths",
		packets: []Packet{
			{Type: PacketMessage, Data: []byte(`2["ev",{"_placeholder":true,"num":0}]`)},
			{Type: PacketMessage, Data: bytes.Repeat([]byte{0xab}, 11), Binary: true},
		},
		text: `38:42["ev",{"_placeholder":true,"num":0}]18:b4q6urq6urq6urq6s=`,
		binary: append(append([]byte{0, 3, 8, 0xff}, `42["ev",{"_placeholder":true,"num":0}]`...),
			append([]byte{1, 1, 2, 0xff, 4}, bytes.Repeat([]byte{0xab}, 11)...)...),
	},
}

func TestPayloadV3Encode(t *testing.T) {
	for _, v := range v3PayloadVectors {
		if got := string(appendPayloadV3(nil, v.packets, false)); got != v.text {
			t.Errorf("%s: text payload %q, want %q", v.name, got, v.text)
		}
		if got := appendPayloadV3(nil, v.packets, true); !bytes.Equal(got, v.binary) {
			t.Errorf("%s: binary payload %v, want %v", v.name, got, v.binary)
		}
	}
	if got := string(appendPayloadV3(nil, nil, false)); got != "0:" {
		t.Errorf("empty text payload %q, want \"0:\"", got)
	}
}

func TestPayloadV3Decode(t *testing.T) {
	for _, v := range v3PayloadVectors {
		for _, binary := range []bool{false, true} {
			body := []byte(v.text)
			if binary {
				body = v.binary
			}
			got, err := collectV3(body, binary)
			if err != nil {
				t.Errorf("%s (binary %v): %v", v.name, binary, err)
				continue
			}
			if want := fmtPackets(v.packets); fmtPackets(got) != want {
				t.Errorf("%s (binary %v): decoded %s, want %s", v.name, binary, fmtPackets(got), want)
			}
		}
	}
	// "0:" records carry nothing and are skipped, as by the reference; a
	// length may have leading zeros (the reference compares numerically).
	got, err := collectV3([]byte("0:06:4hello0:"), false)
	if err != nil || fmtPackets(got) != `[message "hello"]` {
		t.Errorf("0: records: %s, %v", fmtPackets(got), err)
	}
}

func TestPayloadV3DecodeInvalid(t *testing.T) {
	texts := []string{
		"",              // empty body
		"abc",           // no length
		":4hi",          // empty length
		"5:4hi",         // shorter than its length
		"2:4hello",      // longer: the rest is no record
		"1:",            // nothing after the length
		"3",             // length without ':'
		"-1:4",          // not a number
		"1 :4",          // not digits only
		"99999999999:4", // more digits than any body
		"2:9x",          // unknown type
		"2:4😀",          // the length ends inside the character
		"3:4\xffx",      // invalid UTF-8
		"3:b5A",         // base64 that is not a message
		"5:b4A=!",       // bad base64
		"1:b",           // "b" without a type
		"6:4hello2",     // trailing length
	}
	for _, s := range texts {
		if _, err := collectV3([]byte(s), false); !errors.Is(err, ErrInvalidPayload) {
			t.Errorf("text %q: err %v, want ErrInvalidPayload", s, err)
		}
	}
	binaries := [][]byte{
		{},                                      // empty
		{2, 1, 0xff, '4'},                       // bad flag
		{2, 2, 0xff, 4, 1},                      // bad flag, before a valid binary record
		{0, 0xff, '4'},                          // no length digits
		{0, 1, '4'},                             // no 0xFF
		{0, 10, 0xff, '4'},                      // a "digit" above 9
		{0, 5, 0xff, '4', 'x'},                  // shorter than its length
		{1, 2, 0xff, 2, 1},                      // binary record that is not a message
		{1, 0, 0xff},                            // empty binary record: no type byte
		{0, 2, 0xff, '4', 0xff},                 // invalid UTF-8 in a text record
		{0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0xff}, // too many digits
		{0, 2, 0xff, '9', 'x'},                  // unknown type
	}
	for _, b := range binaries {
		if _, err := collectV3(b, true); !errors.Is(err, ErrInvalidPayload) {
			t.Errorf("binary %v: err %v, want ErrInvalidPayload", b, err)
		}
	}
}

// The packets before a malformed record are delivered, as the reference
// parser calls back for each before it meets the bad one.
func TestPayloadV3DecodeDeliversUpToTheError(t *testing.T) {
	var got []Packet
	err := decodePayloadV3([]byte("2:4a2:4b5:4c"), false, func(p Packet) error {
		got = append(got, p)
		return nil
	})
	if !errors.Is(err, ErrInvalidPayload) || fmtPackets(got) != `[message "a" message "b"]` {
		t.Fatalf("got %s, %v", fmtPackets(got), err)
	}
}

func TestUTF16Len(t *testing.T) {
	for s, want := range map[string]int{"": 0, "abc": 3, "€": 1, "é": 1, "😀": 2, "a😀b€": 5} {
		if got := utf16Len([]byte(s)); got != want {
			t.Errorf("utf16Len(%q) = %d, want %d", s, got, want)
		}
	}
}

// FuzzDecodePayloadV3 checks that the v3 decoder never panics, fails only
// with ErrInvalidPayload, and that what it accepts survives a round trip
// through the encoder (of the same kind) unchanged.
func FuzzDecodePayloadV3(f *testing.F) {
	for _, v := range v3PayloadVectors {
		f.Add([]byte(v.text), false)
		f.Add(v.binary, true)
	}
	f.Add([]byte("0:06:4hello0:"), false)
	f.Add([]byte("2:4😀"), false)
	f.Add([]byte{1, 2, 0xff, 2, 1}, true)
	f.Fuzz(func(t *testing.T, body []byte, binary bool) {
		got, err := collectV3(body, binary)
		if err != nil {
			if !errors.Is(err, ErrInvalidPayload) {
				t.Fatalf("decode(%q, %v): error %v does not wrap ErrInvalidPayload", body, binary, err)
			}
			return
		}
		again := appendPayloadV3(nil, got, binary)
		back, err := collectV3(again, binary)
		if err != nil && len(got) > 0 {
			t.Fatalf("decode(%q, %v) = %s re-encodes as %q, which does not decode: %v", body, binary, fmtPackets(got), again, err)
		}
		if fmtPackets(back) != fmtPackets(got) {
			t.Fatalf("decode(%q, %v) = %s, round trip %s", body, binary, fmtPackets(got), fmtPackets(back))
		}
	})
}

func collectV3(body []byte, binary bool) ([]Packet, error) {
	var got []Packet
	err := decodePayloadV3(body, binary, func(p Packet) error {
		got = append(got, Packet{Type: p.Type, Data: bytes.Clone(p.Data), Binary: p.Binary})
		return nil
	})
	return got, err
}

func fmtPackets(ps []Packet) string {
	var b bytes.Buffer
	b.WriteByte('[')
	for i, p := range ps {
		if i > 0 {
			b.WriteByte(' ')
		}
		if p.Binary {
			fmt.Fprintf(&b, "%s bin%x", p.Type, p.Data)
		} else if p.Data == nil {
			b.WriteString(p.Type.String())
		} else {
			fmt.Fprintf(&b, "%s %q", p.Type, p.Data)
		}
	}
	b.WriteByte(']')
	return b.String()
}
