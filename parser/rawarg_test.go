package parser

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// received decodes a whole packet as a peer would send it, and returns its
// arguments after the event name.
func received(t *testing.T, text string, attachments ...[]byte) Args {
	t.Helper()
	var d Decoder
	p := decodeAll(t, &d, []byte(text), attachments)
	elems, err := SplitArray(p.Data)
	if err != nil {
		t.Fatal(err)
	}
	return Args{Raw: elems[1:], Attachments: p.Attachments}
}

// reencode encodes args as an event and decodes the result as a peer would,
// failing the test if the packet is one the decoder refuses.
func reencode(t *testing.T, args []any) (data string, atts [][]byte, p *Packet) {
	t.Helper()
	d, a, err := EncodeArgs(args)
	if err != nil {
		t.Fatalf("EncodeArgs: %v", err)
	}
	// As an acknowledgement, which unlike an event may start with any
	// argument.
	typ := Ack
	if len(a) > 0 {
		typ = BinaryAck
	}
	var dec Decoder
	p = decodeAll(t, &dec, (&Packet{Type: typ, ID: 1, HasID: true, Data: d, Attachments: a}).Encode(), a)
	return string(d), a, p
}

func TestRawArgForwardsVerbatim(t *testing.T) {
	// Key order, spacing and number spelling as the sender wrote them.
	args := received(t, `2["chat",{"z":1,"a":{"y":[1.50,2e3],"b":"\u00e9"}},"x"]`)
	data, atts, _ := reencode(t, []any{"relay", args.Arg(0), args.Arg(1)})
	if want := `["relay",{"z":1,"a":{"y":[1.50,2e3],"b":"\u00e9"}},"x"]`; data != want || atts != nil {
		t.Fatalf("got %s %v, want %s", data, atts, want)
	}
	data, _, _ = reencode(t, append([]any{"relay"}, args.RawArgs()...))
	if want := `["relay",{"z":1,"a":{"y":[1.50,2e3],"b":"\u00e9"}},"x"]`; data != want {
		t.Fatalf("RawArgs: got %s, want %s", data, want)
	}
}

func TestRawArgRenumbersAttachments(t *testing.T) {
	a, b, c := []byte("AAA"), []byte("BBB"), []byte("CCC")
	args := received(t, `52-["up",{"_placeholder":true,"num":1},{"x":[{"_placeholder":true,"num":0}],"n":"t"}]`, a, b)

	// A new attachment first, then the two received ones in the other
	// order, one nested in a map and a slice: every num changes.
	data, atts, p := reencode(t, []any{"relay", c, map[string]any{"in": []any{args.Arg(1)}}, args.Arg(0)})
	want := `["relay",{"_placeholder":true,"num":0},{"in":[{"x":[{"_placeholder":true,"num":1}],"n":"t"}]},{"_placeholder":true,"num":2}]`
	if data != want {
		t.Fatalf("got  %s\nwant %s", data, want)
	}
	if !reflect.DeepEqual(atts, [][]byte{c, a, b}) {
		t.Fatalf("attachments %q", atts)
	}
	// Not copied: the new packet refers to the received attachments.
	if &atts[1][0] != &a[0] || &atts[2][0] != &b[0] {
		t.Fatal("attachments were copied")
	}
	v, err := Reconstruct(p.Data, p.Attachments)
	if err != nil {
		t.Fatal(err)
	}
	wantV := []any{"relay", c, map[string]any{"in": []any{map[string]any{"x": []any{a}, "n": "t"}}}, b}
	if !reflect.DeepEqual(v, wantV) {
		t.Fatalf("peer reads %#v", v)
	}

	// An argument that refers to none of the packet's attachments stays a
	// text argument.
	args = received(t, `51-["up","plain",{"_placeholder":true,"num":0}]`, a)
	data, atts, _ = reencode(t, []any{"relay", args.Arg(0)})
	if data != `["relay","plain"]` || len(atts) != 0 {
		t.Fatalf("got %s %q", data, atts)
	}

	// A hand-built RawArg may refer to one attachment twice: each
	// placeholder gets an attachment of its own, as the decoder requires.
	dup := RawArg{Raw: json.RawMessage(`[{"_placeholder":true,"num":0},{"_placeholder":true,"num":0}]`), Attachments: [][]byte{a}}
	data, atts, _ = reencode(t, []any{"relay", dup})
	if data != `["relay",[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]]` || len(atts) != 2 {
		t.Fatalf("got %s %q", data, atts)
	}
}

func TestRawArgNullAndRange(t *testing.T) {
	args := received(t, `2["ev",1]`)
	data, _, _ := reencode(t, []any{RawArg{}, (*RawArg)(nil), args.Arg(5), args.Arg(-1), &RawArg{Raw: json.RawMessage(`true`)}})
	if data != `[null,null,null,null,true]` {
		t.Fatal(data)
	}
}

func TestRawArgErrors(t *testing.T) {
	atts := [][]byte{{1}}
	tests := map[string][]any{
		"invalid JSON":        {RawArg{Raw: json.RawMessage(`{"a":`)}},
		"invalid JSON binary": {RawArg{Raw: json.RawMessage(`{"a":`), Attachments: atts}},
		"trailing data":       {RawArg{Raw: json.RawMessage(`1 2`)}},
		"empty":               {RawArg{Raw: json.RawMessage(``)}},
		"dangling num":        {RawArg{Raw: json.RawMessage(`{"_placeholder":true,"num":1}`), Attachments: atts}},
		"negative num":        {RawArg{Raw: json.RawMessage(`{"_placeholder":true,"num":-1}`), Attachments: atts}},
		"fractional num":      {RawArg{Raw: json.RawMessage(`{"_placeholder":true,"num":0.5}`), Attachments: atts}},
		"missing num":         {RawArg{Raw: json.RawMessage(`[{"_placeholder":true}]`), Attachments: atts}},
		"nested too deep":     {[]any{RawArg{Raw: json.RawMessage(strings.Repeat("[", maxNesting-1) + strings.Repeat("]", maxNesting-1))}}},
		// Without attachments of its own a placeholder-shaped object is
		// data, which a packet with attachments cannot carry: the peer
		// would take it for a placeholder.
		"placeholder-shaped data beside binary": {RawArg{Raw: json.RawMessage(`{"_placeholder":true,"num":0}`)}, []byte{1}},
		"placeholder-shaped raw message":        {[]byte{1}, json.RawMessage(`{"_placeholder":true,"num":0}`)},
		"placeholder-shaped map":                {map[string]any{"_placeholder": true, "num": 0}, []byte{1}},
		"placeholder-shaped map holding binary": {map[string]any{"_placeholder": true, "b": []byte{1}}},
		"placeholder-shaped struct": {struct {
			P bool `json:"_placeholder"`
			N int  `json:"num"`
		}{true, 1}, []byte{1}, []byte{2}},
	}
	for name, args := range tests {
		data, atts, err := EncodeArgs(args)
		if err == nil {
			t.Errorf("%s: no error, encoded %s %q", name, data, atts)
		}
	}
	if _, _, err := EncodeArgs([]any{RawArg{Raw: json.RawMessage(`{"_placeholder":true,"num":0}`)}, []byte{1}}); !errors.Is(err, errPlaceholderShaped) {
		t.Errorf("got %v", err)
	}

	// Alone, placeholder-shaped data travels as it came, in a text packet.
	data, atts2, _ := reencode(t, []any{RawArg{Raw: json.RawMessage(`{"_placeholder":true,"num":0}`)}})
	if data != `[{"_placeholder":true,"num":0}]` || atts2 != nil {
		t.Fatalf("got %s", data)
	}
	// The deepest nesting the decoder accepts still passes.
	deep := strings.Repeat("[", maxNesting-1) + strings.Repeat("]", maxNesting-1)
	reencode(t, []any{RawArg{Raw: json.RawMessage(deep)}})
}

func TestRawArgDecodeValueMarshal(t *testing.T) {
	args := received(t, `51-["ev",{"name":"pic","data":{"_placeholder":true,"num":0}}]`, []byte{1, 2, 3})
	var v struct {
		Name string
		Data []byte
	}
	if err := args.Arg(0).Decode(&v); err != nil || v.Name != "pic" || !bytes.Equal(v.Data, []byte{1, 2, 3}) {
		t.Fatalf("Decode: %+v %v", v, err)
	}
	if got := args.Arg(0).Value(); !reflect.DeepEqual(got, map[string]any{"name": "pic", "data": []byte{1, 2, 3}}) {
		t.Fatalf("Value: %#v", got)
	}
	// Inside a type encoding/json writes, the attachment is base64, as a
	// []byte field is.
	data, atts, _ := reencode(t, []any{struct{ Fwd RawArg }{args.Arg(0)}})
	if data != `[{"Fwd":{"name":"pic","data":"AQID"}}]` || atts != nil {
		t.Fatalf("got %s %q", data, atts)
	}
	data, _, _ = reencode(t, []any{[]RawArg{{Raw: json.RawMessage(`{"b":1,"a":2}`)}, {}}})
	if data != `[[{"b":1,"a":2},null]]` {
		t.Fatalf("got %s", data)
	}
}

// TestRawArgAllocations: forwarding a text argument costs the payload
// buffer and nothing else.
func TestRawArgAllocations(t *testing.T) {
	args := received(t, `2["chat",{"user":"alice","text":"hello","tags":["a","b"]}]`)
	fwd := []any{"chat", args.Arg(0)}
	if n := testing.AllocsPerRun(100, func() {
		if _, _, err := EncodeArgs(fwd); err != nil {
			t.Fatal(err)
		}
	}); n != 1 {
		t.Fatalf("%v allocations, want 1", n)
	}
}

// checkForward is part of FuzzDecoder: every accepted event, forwarded
// with RawArgs after a new attachment of ours, must encode to a packet the
// decoder accepts and that means the same.
func checkForward(t *testing.T, p *Packet) {
	t.Helper()
	if p.Type != Event && p.Type != BinaryEvent {
		return
	}
	elems, err := SplitArray(p.Data)
	if err != nil || len(elems) == 0 {
		t.Fatalf("SplitArray: %v", err)
	}
	args := Args{Raw: elems, Attachments: p.Attachments}
	mine := []byte("mine")
	out := append([]any{mine}, args.RawArgs()...)
	data, atts, err := EncodeArgs(out)
	if errors.Is(err, errPlaceholderShaped) && len(p.Attachments) == 0 {
		return // placeholder-shaped data in a text packet, beside our binary
	}
	if err != nil {
		t.Fatalf("forwarding %s: %v", p.Data, err)
	}
	var d Decoder
	d.MaxAttachments = 32
	q, err := d.AddText((&Packet{Type: BinaryAck, ID: 1, HasID: true, Data: data, Attachments: atts}).Encode())
	for i := 0; err == nil && q == nil && i < len(atts); i++ {
		q, err = d.AddBinary(atts[i])
	}
	if err != nil || q == nil {
		t.Fatalf("forwarded %s as %s: %v", p.Data, data, err)
	}
	before, err1 := Reconstruct(p.Data, p.Attachments)
	after, err2 := Reconstruct(q.Data, q.Attachments)
	if err1 != nil || err2 != nil {
		if (err1 == nil) != (err2 == nil) {
			t.Fatalf("Reconstruct: %v / %v", err1, err2)
		}
		return
	}
	if !reflect.DeepEqual(append([]any{mine}, before.([]any)...), after) {
		t.Fatalf("forwarding changed the meaning:\n%#v\n%#v", before, after)
	}
}
