package msgpackparser

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/switchboard-go/socketio/parser"
)

// Arguments as the server and the Go client encode them (parser.EncodeArgs)
// come back from Encode and the decoder as the same JSON and attachments.
func TestEncodeArgsRoundTrip(t *testing.T) {
	for _, args := range [][]any{
		{"ev"},
		{"ev", 1, -2, 3.25, "s", true, false, nil},
		{"ev", []byte{1, 2}, map[string]any{"b": []byte("x"), "list": []any{[]byte{}, 1}}},
		{"ev", map[string]any{"_placeholder": true, "num": 0}}, // no binary: an ordinary map
		{"ev", strings.Repeat("é", 100), []any{[]any{[]any{}}}, map[string]any{}},
		{"ev", json.RawMessage(` { "k" : [ 1 , 2.5e3 , "\u00e9\"" ] } `)},
		{"ev", 1e300, -1e19, uint64(1) << 63, int64(-1) << 63},
	} {
		data, atts, err := parser.EncodeArgs(args)
		if err != nil {
			t.Fatal(err)
		}
		typ := parser.Event
		if len(atts) > 0 {
			typ = parser.BinaryEvent
		}
		in := parser.Packet{Type: typ, Namespace: "/x", ID: 5, HasID: true, Data: data, Attachments: atts}
		frames, err := Parser{}.Encode(&in)
		if err != nil {
			t.Fatalf("%s: %v", data, err)
		}
		out, err := Parser{}.NewDecoder(0).Add(frames[0].Data, true)
		if err != nil {
			t.Fatalf("%s: %v", data, err)
		}
		// Compare as values: the decoder writes JSON compactly.
		var a, b any
		_ = json.Unmarshal(in.Data, &a)
		_ = json.Unmarshal(out.Data, &b)
		aj, _ := json.Marshal(a)
		bj, _ := json.Marshal(b)
		if out.Type != in.Type || out.Namespace != in.Namespace || out.ID != 5 || !out.HasID || !bytes.Equal(aj, bj) || len(out.Attachments) != len(atts) {
			t.Fatalf("in %+v (data %s)\nout %+v (data %s)", in, in.Data, out, out.Data)
		}
		for i := range atts {
			if !bytes.Equal(atts[i], out.Attachments[i]) {
				t.Fatalf("%s: attachment %d differs", data, i)
			}
		}
	}
}

// The placeholders of a binary packet become bin values where they stand;
// in a packet without attachments a placeholder-shaped map stays a map.
func TestEncodePlaceholders(t *testing.T) {
	p := parser.Packet{Type: parser.BinaryAck, Namespace: "/", ID: 1, HasID: true,
		Data:        json.RawMessage(`[{"num":1,"_placeholder":true},{"x":{"\u005fplaceholder":true,"num":0}}]`),
		Attachments: [][]byte{{0xaa}, {0xbb, 0xcc}}}
	frames, err := Parser{}.Encode(&p)
	if err != nil {
		t.Fatal(err)
	}
	// {type: 3, data: [<bb cc>, {x: <aa>}], id: 1, nsp: "/"}
	want := mustHex("84 a4 74797065 03 a4 64617461 92 c4 02 bbcc 81 a1 78 c4 01 aa a2 6964 01 a3 6e7370 a1 2f")
	if !bytes.Equal(frames[0].Data, want) {
		t.Fatalf("got  %x\nwant %x", frames[0].Data, want)
	}
	p = parser.Packet{Type: parser.Event, Namespace: "/", Data: json.RawMessage(`["e",{"_placeholder":true,"num":0}]`)}
	frames, err = Parser{}.Encode(&p)
	if err != nil {
		t.Fatal(err)
	}
	want = mustHex("83 a4 74797065 02 a4 64617461 92 a1 65 82 ac 5f706c616365686f6c646572 c3 a3 6e756d 00 a3 6e7370 a1 2f")
	if !bytes.Equal(frames[0].Data, want) {
		t.Fatalf("got  %x\nwant %x", frames[0].Data, want)
	}
}

func TestEncodeInvalidJSON(t *testing.T) {
	for _, data := range []string{`[1`, `[1]]`, `{"a"}`, `[tru]`, `["a",]x`, `[1 2]`, `]`, `[{"_placeholder":true,"num":3}]`} {
		typ := parser.Event
		var atts [][]byte
		if strings.Contains(data, "_placeholder") {
			typ, atts = parser.BinaryEvent, [][]byte{{1}}
		}
		p := parser.Packet{Type: typ, Namespace: "/", Data: json.RawMessage(data), Attachments: atts}
		if frames, err := (Parser{}).Encode(&p); err == nil {
			t.Errorf("%s encoded: %x", data, frames[0].Data)
		}
	}
}
