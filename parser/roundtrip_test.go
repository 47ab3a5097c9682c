package parser

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// randArgs generates event arguments: JSON-compatible values with []byte
// scattered at every level EncodeArgs walks.
type randArgs struct{ r *rand.Rand }

func (g randArgs) value(depth int) any {
	max := 9
	if depth > 3 {
		max = 6 // leaves only, to keep values small
	}
	switch g.r.IntN(max) {
	case 0:
		return nil
	case 1:
		return g.r.IntN(2) == 0
	case 2:
		return float64(g.r.IntN(2000)-1000) / 8
	case 3:
		return g.str()
	case 4, 5:
		b := make([]byte, g.r.IntN(5))
		for i := range b {
			b[i] = byte(g.r.IntN(256))
		}
		return b
	case 6:
		n := g.r.IntN(4)
		a := make([]any, n)
		for i := range a {
			a[i] = g.value(depth + 1)
		}
		return a
	case 7:
		m := map[string]any{}
		for range g.r.IntN(4) {
			m[g.str()] = g.value(depth + 1)
		}
		return m
	default:
		return json.RawMessage(`{"raw":[1,"two",null]}`)
	}
}

func (g randArgs) str() string {
	const alphabet = "ab_\"\\/\n\x01é€😀<>&\u2028"
	runes := []rune(alphabet)
	var sb strings.Builder
	for range g.r.IntN(6) {
		sb.WriteRune(runes[g.r.IntN(len(runes))])
	}
	return sb.String()
}

// generic converts a value to what Reconstruct returns for it: encoding/json
// generic values, with []byte kept as []byte (non-nil).
func generic(t *testing.T, v any) any {
	switch x := v.(type) {
	case []byte:
		if x == nil {
			return []byte{}
		}
		return x
	case []any:
		if x == nil {
			return nil
		}
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = generic(t, e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = generic(t, e)
		}
		return out
	default:
		b, err := json.Marshal(x)
		if err != nil {
			t.Fatal(err)
		}
		var g any
		if err := json.Unmarshal(b, &g); err != nil {
			t.Fatal(err)
		}
		return g
	}
}

// normBytes replaces nil []byte with empty ones, since an attachment sent
// as an empty Engine.IO message comes back as whatever the transport makes
// of it.
func normBytes(v any) any {
	switch x := v.(type) {
	case []byte:
		if x == nil {
			return []byte{}
		}
	case []any:
		for i, e := range x {
			x[i] = normBytes(e)
		}
	case map[string]any:
		for k, e := range x {
			x[k] = normBytes(e)
		}
	}
	return v
}

func TestRoundTripArgs(t *testing.T) {
	g := randArgs{rand.New(rand.NewPCG(1, 2))}
	namespaces := []string{"/", "/admin", "/a"}
	for iter := range 3000 {
		args := []any{"event"}
		for range g.r.IntN(5) {
			args = append(args, g.value(0))
		}
		data, atts, err := EncodeArgs(args)
		if err != nil {
			t.Fatalf("EncodeArgs(%#v): %v", args, err)
		}
		if !json.Valid(data) {
			t.Fatalf("EncodeArgs produced invalid JSON %s", data)
		}
		p := Packet{Type: Event, Namespace: namespaces[iter%len(namespaces)], Data: data}
		if len(atts) > 0 {
			p.Type, p.Attachments = BinaryEvent, atts
		}
		if iter%3 == 0 {
			p.HasID, p.ID = true, g.r.Uint64()>>g.r.IntN(64)
			if p.ID > 9999999999999999999 {
				p.ID /= 10
			}
		}
		d := Decoder{MaxAttachments: 1 << 20}
		got := decodeAll(t, &d, p.Encode(), atts)
		if !packetsEqual(got, &p) {
			t.Fatalf("round trip of %s\n got %+v\nwant %+v", p.Encode(), got, p)
		}

		// And the arguments themselves come back.
		v, err := Reconstruct(got.Data, got.Attachments)
		if err != nil {
			t.Fatalf("Reconstruct(%s): %v", got.Data, err)
		}
		if want := generic(t, args); !reflect.DeepEqual(normBytes(v), want) {
			t.Fatalf("Reconstruct(%s)\n got %#v\nwant %#v", got.Data, v, want)
		}
	}
}

// packetsEqual compares packets, treating nil and empty attachments alike.
func packetsEqual(a, b *Packet) bool {
	if a.Type != b.Type || a.Namespace != b.Namespace || a.HasID != b.HasID ||
		(a.HasID && a.ID != b.ID) || !bytes.Equal(a.Data, b.Data) ||
		len(a.Attachments) != len(b.Attachments) {
		return false
	}
	for i := range a.Attachments {
		if !bytes.Equal(a.Attachments[i], b.Attachments[i]) {
			return false
		}
	}
	return true
}

func TestRoundTripPackets(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	payloads := map[PacketType][]string{
		Connect:      {``, `{}`, `{"token":"abc","n":[1,2]}`},
		Disconnect:   {``},
		Event:        {`["a"]`, `[1,{"x":null}]`, `["a b",[],{},"\u00e9"]`},
		Ack:          {`[]`, `[null]`, `["ok",{"n":1.5e-7}]`},
		ConnectError: {`"nope"`, `{"message":"Not authorized","data":{"x":1}}`},
	}
	for range 2000 {
		t0 := PacketType(r.IntN(7))
		var p Packet
		p.Type = t0
		p.Namespace = []string{"/", "/admin", "/x/y", "/é"}[r.IntN(4)]
		switch t0 {
		case BinaryEvent, BinaryAck:
			n := 1 + r.IntN(DefaultMaxAttachments)
			var sb strings.Builder
			sb.WriteString(`["bin"`)
			for _, k := range r.Perm(n) {
				fmt.Fprintf(&sb, `,{"k":{"_placeholder":true,"num":%d}}`, k)
			}
			sb.WriteString(`]`)
			p.Data = json.RawMessage(sb.String())
			for i := range n {
				p.Attachments = append(p.Attachments, bytes.Repeat([]byte{byte(i)}, i))
			}
		default:
			list := payloads[t0]
			if s := list[r.IntN(len(list))]; s != "" {
				p.Data = json.RawMessage(s)
			}
		}
		switch t0 {
		case Ack, BinaryAck:
			p.HasID, p.ID = true, r.Uint64N(1e15)
		case Event, BinaryEvent:
			if r.IntN(2) == 0 {
				p.HasID, p.ID = true, r.Uint64N(1e15)
			}
		}
		var d Decoder
		got := decodeAll(t, &d, p.Encode(), p.Attachments)
		if !reflect.DeepEqual(*got, p) {
			t.Fatalf("round trip of %s\n got %+v\nwant %+v", p.Encode(), *got, p)
		}
	}
}

func TestRoundTripUnmarshalIntoTypes(t *testing.T) {
	type file struct {
		Name string `json:"name"`
		Body []byte `json:"body"`
	}
	type upload struct {
		Files []file          `json:"files"`
		Meta  map[string]any  `json:"meta"`
		Thumb []byte          `json:"thumb"`
		Raw   json.RawMessage `json:"raw"`
	}
	args := []any{
		"upload",
		map[string]any{
			"files": []any{
				map[string]any{"name": "a.txt", "body": []byte("hello")},
				map[string]any{"name": "b.bin", "body": []byte{0, 1, 2, 255}},
			},
			"meta":  map[string]any{"n": 2},
			"thumb": []byte{},
			"raw":   json.RawMessage(`[1, 2]`),
		},
		[]byte("second"),
	}
	data, atts, err := EncodeArgs(args)
	if err != nil {
		t.Fatal(err)
	}
	if len(atts) != 4 {
		t.Fatalf("got %d attachments, want 4", len(atts))
	}
	p := &Packet{Type: BinaryEvent, Namespace: "/files", HasID: true, ID: 99, Data: data, Attachments: atts}
	var d Decoder
	got := decodeAll(t, &d, p.Encode(), atts)

	elems, err := SplitArray(got.Data)
	if err != nil || len(elems) != 3 {
		t.Fatalf("SplitArray = %d elems, %v", len(elems), err)
	}
	var name string
	if err := Unmarshal(elems[0], got.Attachments, &name); err != nil || name != "upload" {
		t.Fatalf("name = %q, %v", name, err)
	}
	var u upload
	if err := Unmarshal(elems[1], got.Attachments, &u); err != nil {
		t.Fatal(err)
	}
	want := upload{
		Files: []file{{"a.txt", []byte("hello")}, {"b.bin", []byte{0, 1, 2, 255}}},
		Meta:  map[string]any{"n": float64(2)},
		Thumb: []byte{},
		Raw:   json.RawMessage(`[1, 2]`),
	}
	if !reflect.DeepEqual(u, want) {
		t.Errorf("Unmarshal:\n got %#v\nwant %#v", u, want)
	}
	var second []byte
	if err := Unmarshal(elems[2], got.Attachments, &second); err != nil || string(second) != "second" {
		t.Errorf("second = %q, %v", second, err)
	}
}
