package parser

import (
	"errors"
	"strings"
	"testing"
)

const ph0 = `{"_placeholder":true,"num":0}`

var invalidTexts = []struct {
	name string
	in   string
}{
	{"empty", ``},
	{"unknown type 7", `7`},
	{"unknown type 9", `9["a"]`},
	{"letter type", `a`},
	{"negative type", `-1`},
	{"space before type", ` 2["a"]`},
	{"engine.io prefix left on", `42["a"]x`},
	{"record separator in namespace", "0/a\x1e4x,"},
	{"control character in namespace", "2/a\nb,[\"a\"]"},

	{"binary without count", `5["a",` + ph0 + `]`},
	{"binary count without dash", `51["a",` + ph0 + `]`},
	{"binary count not decimal", `5a-["a",` + ph0 + `]`},
	{"binary count only dash", `5-["a",` + ph0 + `]`},
	{"binary count signed", `5+1-["a",` + ph0 + `]`},
	{"binary zero attachments", `50-["a"]`},
	{"binary header only", `51`},
	{"binary header truncated", `51-`},
	{"dash on non-binary", `21-["a"]`},

	{"event without payload", `2`},
	{"event namespace without payload", `2/admin,`},
	{"event namespace no comma", `2/admin["a"]`},
	{"event id without payload", `212`},
	{"event empty array", `2[]`},
	{"event object", `2{"a":1}`},
	{"event string", `2"a"`},
	{"event null name", `2[null]`},
	{"event bool name", `2[true]`},
	{"event array name", `2[["a"]]`},
	{"event object name", `2[{"a":1}]`},
	{"event reserved connect", `2["connect"]`},
	{"event reserved connect_error", `2["connect_error",1]`},
	{"event reserved disconnect", `2["disconnect"]`},
	{"event reserved disconnecting", `2["disconnecting"]`},
	{"event reserved newListener", `2["newListener"]`},
	{"event reserved removeListener", `2["removeListener"]`},
	{"event reserved escaped", `2["\u0063onnect"]`},
	{"event leading whitespace", `2 ["a"]`},
	{"event id then whitespace", `212 ["a"]`},
	{"event trailing garbage", `2["a"]x`},
	{"event two arrays", `2["a"]["b"]`},
	{"event unterminated", `2["a"`},
	{"event bad string", `2["a]`},
	{"event bad escape", `2["\x"]`},
	{"event raw control char", "2[\"a\tb\"]"},
	{"event trailing comma", `2["a",]`},
	{"event bad number", `2["a",01]`},
	{"event NaN", `2["a",NaN]`},
	{"event single quotes", `2['a']`},
	{"event id 20 digits", `212345678901234567890["a"]`},
	{"event id overflowing", `218446744073709551616["a"]`},
	{"event deep nesting", `2["a",` + strings.Repeat("[", maxNesting) + strings.Repeat("]", maxNesting) + `]`},

	{"ack without id", `3[]`},
	{"ack without payload", `312`},
	{"ack object", `312{}`},
	{"ack string", `312"a"`},
	{"ack namespace without id", `3/admin,["a"]`},

	{"connect array", `0[]`},
	{"connect string", `0"a"`},
	{"connect null", `0null`},
	{"connect number", `0/admin,x`},
	{"connect unterminated", `0{"a":1`},
	{"connect with id", `01`},
	{"connect with id and payload", `0/admin,12{}`},
	{"connect trailing garbage", `0{}}`},
	{"connect double comma", `0/admin,,{}`},

	{"disconnect with payload", `1{}`},
	{"disconnect namespace with payload", `1/admin,{}`},
	{"disconnect with id", `10`},
	{"disconnect with space", `1 `},

	{"connect error without payload", `4`},
	{"connect error array", `4[]`},
	{"connect error null", `4null`},
	{"connect error number", `4/a,x1`},
	{"connect error with id", `412{}`},

	{"placeholder missing", `51-["a"]`},
	{"placeholder num out of range", `51-["a",{"_placeholder":true,"num":1}]`},
	{"placeholder num negative", `51-["a",{"_placeholder":true,"num":-1}]`},
	{"placeholder num fraction", `51-["a",{"_placeholder":true,"num":0.5}]`},
	{"placeholder num huge", `51-["a",{"_placeholder":true,"num":1e400}]`},
	{"placeholder num string", `51-["a",{"_placeholder":true,"num":"0"}]`},
	{"placeholder num null", `51-["a",{"_placeholder":true,"num":null}]`},
	{"placeholder without num", `51-["a",{"_placeholder":true}]`},
	{"placeholder num overwritten by string", `51-["a",{"_placeholder":true,"num":0,"num":"0"}]`},
	{"placeholder duplicated", `52-["a",` + ph0 + `,` + ph0 + `]`},
	{"more placeholders than announced", `51-["a",` + ph0 + `,{"_placeholder":true,"num":1}]`},
	{"fewer placeholders than announced", `52-["a",` + ph0 + `]`},
	{"binary event empty array", `51-[]`},
	{"binary event reserved name", `51-["disconnect",` + ph0 + `]`},
	{"binary ack without id", `61-[` + ph0 + `]`},
	{"binary ack object", `61-1{"a":` + ph0 + `}`},
	{"binary invalid JSON", `51-["a",` + ph0},
	{"too many attachments", `511-["a"]`},
	{"attachment count overflow", `5184467440737095516160-["a"]`},
}

func TestInvalidText(t *testing.T) {
	for _, tc := range invalidTexts {
		t.Run(tc.name, func(t *testing.T) {
			var d Decoder
			p, err := d.AddText([]byte(tc.in))
			if err == nil {
				t.Fatalf("AddText(%.80q) = %+v, want an error", tc.in, p)
			}
			if p != nil {
				t.Errorf("AddText returned both a packet and an error")
			}
			if !errors.Is(err, ErrInvalidPacket) {
				t.Errorf("error %q does not wrap ErrInvalidPacket", err)
			}
			if d.pending != nil {
				t.Errorf("decoder kept a partial packet after an error")
			}
		})
	}
}

func TestTooManyAttachments(t *testing.T) {
	for _, tc := range []struct {
		max  int
		in   string
		fail bool
	}{
		{0, `511-["a"]`, true},
		{0, `510-["a"]`, false}, // passes the header check, fails later on placeholders
		{-3, `511-["a"]`, true},
		{2, `53-["a"]`, true},
		{100, `5184467440737095516160-["a"]`, true},
	} {
		d := Decoder{MaxAttachments: tc.max}
		_, err := d.AddText([]byte(tc.in))
		if got := errors.Is(err, ErrTooManyAttachments); got != tc.fail {
			t.Errorf("max %d, %q: error %v, want ErrTooManyAttachments: %v", tc.max, tc.in, err, tc.fail)
		}
		if !errors.Is(err, ErrInvalidPacket) {
			t.Errorf("max %d, %q: error %v does not wrap ErrInvalidPacket", tc.max, tc.in, err)
		}
	}

	// A raised limit admits the packet.
	d := Decoder{MaxAttachments: 11}
	text := `511-["a"`
	for i := range 11 {
		text += `,{"_placeholder":true,"num":` + string(rune('0'+i%10)) + `}`
	}
	_, err := d.AddText([]byte(text + `]`))
	if err == nil || errors.Is(err, ErrTooManyAttachments) {
		// nums repeat after 9, so the placeholder check must catch it, not the limit
		t.Errorf("duplicate num with raised limit: %v", err)
	}
}

func TestDecoderSequenceErrors(t *testing.T) {
	binary := []byte(`52-["a",` + ph0 + `,{"_placeholder":true,"num":1}]`)

	t.Run("binary without packet", func(t *testing.T) {
		var d Decoder
		if p, err := d.AddBinary([]byte{1}); err == nil || !errors.Is(err, ErrInvalidPacket) || p != nil {
			t.Errorf("AddBinary on idle decoder = %v, %v", p, err)
		}
	})
	t.Run("binary after complete packet", func(t *testing.T) {
		var d Decoder
		if _, err := d.AddText([]byte(`2["a"]`)); err != nil {
			t.Fatal(err)
		}
		if _, err := d.AddBinary([]byte{1}); err == nil {
			t.Error("AddBinary after a text-only packet succeeded")
		}
	})
	t.Run("one attachment too many", func(t *testing.T) {
		var d Decoder
		decodeAll(t, &d, binary, [][]byte{{1}, {2}})
		if _, err := d.AddBinary([]byte{3}); err == nil {
			t.Error("extra attachment accepted")
		}
	})
	t.Run("text while awaiting attachments", func(t *testing.T) {
		var d Decoder
		if p, err := d.AddText(binary); p != nil || err != nil {
			t.Fatalf("AddText = %v, %v", p, err)
		}
		if _, err := d.AddBinary([]byte{1}); err != nil {
			t.Fatal(err)
		}
		p, err := d.AddText([]byte(`2["a"]`))
		if err == nil || !errors.Is(err, ErrInvalidPacket) || p != nil {
			t.Fatalf("AddText while awaiting = %v, %v", p, err)
		}
		if !strings.Contains(err.Error(), "1 of 2 attachments") {
			t.Errorf("error %q does not say how many attachments are awaited", err)
		}
		// The partial packet is gone: the next attachment is unexpected.
		if _, err := d.AddBinary([]byte{2}); err == nil {
			t.Error("decoder still awaiting after error")
		}
		// And the decoder works again for a fresh packet.
		decodeAll(t, &d, binary, [][]byte{{1}, {2}})
	})
	t.Run("reset", func(t *testing.T) {
		var d Decoder
		if _, err := d.AddText(binary); err != nil {
			t.Fatal(err)
		}
		d.Reset()
		p := decodeAll(t, &d, []byte(`2["a"]`), nil)
		if p.Type != Event {
			t.Errorf("got %v", p.Type)
		}
	})
	t.Run("interleaved packets", func(t *testing.T) {
		var d Decoder
		for range 3 {
			decodeAll(t, &d, binary, [][]byte{{1}, {2}})
			decodeAll(t, &d, []byte(`2["a"]`), nil)
		}
	})
}

func TestInvalidNeverPanics(t *testing.T) {
	// Every prefix of every golden and invalid message: truncation is the
	// most common way for a message to be malformed.
	var inputs []string
	for _, g := range golden {
		inputs = append(inputs, g.text)
	}
	for _, tc := range invalidTexts {
		if len(tc.in) < 200 {
			inputs = append(inputs, tc.in)
		}
	}
	for _, in := range inputs {
		for i := range len(in) + 1 {
			var d Decoder
			p, err := d.AddText([]byte(in[:i]))
			if p == nil && err == nil {
				for range 11 {
					if p, err = d.AddBinary(nil); p != nil || err != nil {
						break
					}
				}
			}
		}
	}
}
