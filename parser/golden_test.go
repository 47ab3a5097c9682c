package parser

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
)

// golden lists every encoding example of the Socket.IO v5 specification
// (socket.io-protocol, "Packet encoding" and "Sample session"), plus a few
// combinations of namespace, ack id and attachments that the spec
// describes in prose. Each must encode to exactly text and decode back to
// exactly packet.
var golden = []struct {
	name   string
	text   string
	packet Packet
}{
	{"connect main namespace", `0`,
		Packet{Type: Connect, Namespace: "/"}},
	{"connect custom namespace", `0/admin,`,
		Packet{Type: Connect, Namespace: "/admin"}},
	{"connect with auth", `0/admin,{"token":"123"}`,
		Packet{Type: Connect, Namespace: "/admin", Data: json.RawMessage(`{"token":"123"}`)}},
	{"connect main namespace with auth", `0{"token":"123"}`,
		Packet{Type: Connect, Namespace: "/", Data: json.RawMessage(`{"token":"123"}`)}},
	{"connect answer", `0{"sid":"wZX3oN0bSVIhsaknAAAI"}`,
		Packet{Type: Connect, Namespace: "/", Data: json.RawMessage(`{"sid":"wZX3oN0bSVIhsaknAAAI"}`)}},
	{"connect answer custom namespace", `0/admin,{"sid":"oSO0OpakMV_3jnilAAAA"}`,
		Packet{Type: Connect, Namespace: "/admin", Data: json.RawMessage(`{"sid":"oSO0OpakMV_3jnilAAAA"}`)}},
	{"connect answer sample session", `0/admin,{"sid":"-G5j-67EZFp-q59rADQM"}`,
		Packet{Type: Connect, Namespace: "/admin", Data: json.RawMessage(`{"sid":"-G5j-67EZFp-q59rADQM"}`)}},
	{"connect error", `4{"message":"Not authorized"}`,
		Packet{Type: ConnectError, Namespace: "/", Data: json.RawMessage(`{"message":"Not authorized"}`)}},
	{"connect error with data", `4/admin,{"message":"Not authorized","data":{"code":7}}`,
		Packet{Type: ConnectError, Namespace: "/admin", Data: json.RawMessage(`{"message":"Not authorized","data":{"code":7}}`)}},
	{"connect error as string (v4 peers)", `4"Not authorized"`,
		Packet{Type: ConnectError, Namespace: "/", Data: json.RawMessage(`"Not authorized"`)}},
	{"disconnect", `1`,
		Packet{Type: Disconnect, Namespace: "/"}},
	{"disconnect custom namespace", `1/admin,`,
		Packet{Type: Disconnect, Namespace: "/admin"}},
	{"event", `2["foo"]`,
		Packet{Type: Event, Namespace: "/", Data: json.RawMessage(`["foo"]`)}},
	{"event custom namespace", `2/admin,["bar"]`,
		Packet{Type: Event, Namespace: "/admin", Data: json.RawMessage(`["bar"]`)}},
	{"event with argument", `2["hey","Jude"]`,
		Packet{Type: Event, Namespace: "/", Data: json.RawMessage(`["hey","Jude"]`)}},
	{"event numeric name", `2[42,"x"]`,
		Packet{Type: Event, Namespace: "/", Data: json.RawMessage(`[42,"x"]`)}},
	{"event with ack id", `212["foo"]`,
		Packet{Type: Event, Namespace: "/", ID: 12, HasID: true, Data: json.RawMessage(`["foo"]`)}},
	{"event with ack id custom namespace", `2/admin,13["foo"]`,
		Packet{Type: Event, Namespace: "/admin", ID: 13, HasID: true, Data: json.RawMessage(`["foo"]`)}},
	{"event sample session", `2/admin,1["tellme"]`,
		Packet{Type: Event, Namespace: "/admin", ID: 1, HasID: true, Data: json.RawMessage(`["tellme"]`)}},
	{"event namespace and id", `2/admin,456["project:delete",123]`,
		Packet{Type: Event, Namespace: "/admin", ID: 456, HasID: true, Data: json.RawMessage(`["project:delete",123]`)}},
	{"event ack id zero", `20["foo"]`,
		Packet{Type: Event, Namespace: "/", ID: 0, HasID: true, Data: json.RawMessage(`["foo"]`)}},
	{"event largest ack id", `29999999999999999999["foo"]`,
		Packet{Type: Event, Namespace: "/", ID: 9999999999999999999, HasID: true, Data: json.RawMessage(`["foo"]`)}},
	{"ack empty", `312[]`,
		Packet{Type: Ack, Namespace: "/", ID: 12, HasID: true, Data: json.RawMessage(`[]`)}},
	{"ack", `314["bar"]`,
		Packet{Type: Ack, Namespace: "/", ID: 14, HasID: true, Data: json.RawMessage(`["bar"]`)}},
	{"ack custom namespace", `3/admin,13["bar"]`,
		Packet{Type: Ack, Namespace: "/admin", ID: 13, HasID: true, Data: json.RawMessage(`["bar"]`)}},
	{"binary event", `51-["baz",{"_placeholder":true,"num":0}]`,
		Packet{Type: BinaryEvent, Namespace: "/", Data: json.RawMessage(`["baz",{"_placeholder":true,"num":0}]`),
			Attachments: [][]byte{{1, 2, 3, 4}}}},
	{"binary event hello", `51-["hello",{"_placeholder":true,"num":0}]`,
		Packet{Type: BinaryEvent, Namespace: "/", Data: json.RawMessage(`["hello",{"_placeholder":true,"num":0}]`),
			Attachments: [][]byte{{0xde, 0xad, 0xbe, 0xef}}}},
	{"binary event multiple attachments", `52-/admin,["baz",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`,
		Packet{Type: BinaryEvent, Namespace: "/admin",
			Data:        json.RawMessage(`["baz",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`),
			Attachments: [][]byte{{1, 2}, {3, 4}}}},
	{"binary event with ack id", `51-14["foo",{"_placeholder":true,"num":0}]`,
		Packet{Type: BinaryEvent, Namespace: "/", ID: 14, HasID: true,
			Data: json.RawMessage(`["foo",{"_placeholder":true,"num":0}]`), Attachments: [][]byte{{1, 2, 3, 4}}}},
	{"binary event nested placeholder", `51-/chat,7["upload",{"name":"a.png","file":{"_placeholder":true,"num":0}}]`,
		Packet{Type: BinaryEvent, Namespace: "/chat", ID: 7, HasID: true,
			Data:        json.RawMessage(`["upload",{"name":"a.png","file":{"_placeholder":true,"num":0}}]`),
			Attachments: [][]byte{{0x89, 'P', 'N', 'G'}}}},
	{"binary event empty attachment", `51-["x",{"_placeholder":true,"num":0}]`,
		Packet{Type: BinaryEvent, Namespace: "/", Data: json.RawMessage(`["x",{"_placeholder":true,"num":0}]`),
			Attachments: [][]byte{{}}}},
	{"binary ack", `61-15["bar",{"_placeholder":true,"num":0}]`,
		Packet{Type: BinaryAck, Namespace: "/", ID: 15, HasID: true,
			Data: json.RawMessage(`["bar",{"_placeholder":true,"num":0}]`), Attachments: [][]byte{{1, 2, 3, 4}}}},
	{"binary ack sample session", `61-/admin,1[{"_placeholder":true,"num":0}]`,
		Packet{Type: BinaryAck, Namespace: "/admin", ID: 1, HasID: true,
			Data: json.RawMessage(`[{"_placeholder":true,"num":0}]`), Attachments: [][]byte{{9, 8, 7}}}},
	{"binary ack attachments out of order", `62-/admin,3[{"_placeholder":true,"num":1},{"_placeholder":true,"num":0}]`,
		Packet{Type: BinaryAck, Namespace: "/admin", ID: 3, HasID: true,
			Data:        json.RawMessage(`[{"_placeholder":true,"num":1},{"_placeholder":true,"num":0}]`),
			Attachments: [][]byte{{1}, {2}}}},
}

func TestGoldenEncode(t *testing.T) {
	for _, tc := range golden {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.packet
			if got := string(p.Encode()); got != tc.text {
				t.Errorf("Encode() = %q, want %q", got, tc.text)
			}
			prefix := []byte("4")
			if got := string(AppendEncode(prefix, &p)); got != "4"+tc.text {
				t.Errorf("AppendEncode(\"4\") = %q, want %q", got, "4"+tc.text)
			}
		})
	}
}

func TestGoldenDecode(t *testing.T) {
	for _, tc := range golden {
		t.Run(tc.name, func(t *testing.T) {
			got := decodeAll(t, &Decoder{}, []byte(tc.text), tc.packet.Attachments)
			if !reflect.DeepEqual(*got, tc.packet) {
				t.Errorf("decoded %+v\nwant    %+v", *got, tc.packet)
			}
		})
	}
}

// decodeAll feeds a text message and its attachments, checking that the
// packet only comes out with the last message.
func decodeAll(t *testing.T, d *Decoder, text []byte, attachments [][]byte) *Packet {
	t.Helper()
	p, err := d.AddText(text)
	if err != nil {
		t.Fatalf("AddText(%q): %v", text, err)
	}
	if len(attachments) == 0 {
		if p == nil {
			t.Fatalf("AddText(%q) returned no packet", text)
		}
		return p
	}
	if p != nil {
		t.Fatalf("AddText(%q) returned a packet before its attachments", text)
	}
	for i, a := range attachments {
		p, err = d.AddBinary(a)
		if err != nil {
			t.Fatalf("AddBinary #%d: %v", i, err)
		}
		if (p != nil) != (i == len(attachments)-1) {
			t.Fatalf("AddBinary #%d returned packet %v", i, p)
		}
	}
	return p
}

func TestDecodeAcceptsReferenceVariants(t *testing.T) {
	// Inputs the reference accepts that Encode never produces: they decode,
	// but re-encode to the canonical form.
	tests := []struct {
		in, canonical string
	}{
		{`1/admin`, `1/admin,`},                         // namespace ended by the end of the message
		{`0/admin`, `0/admin,`},                         // same for CONNECT
		{`0/,{"a":1}`, `0{"a":1}`},                      // explicit main namespace
		{`2007["a"]`, `27["a"]`},                        // leading zeros in the ack id
		{`501-["a",{"_placeholder":true,"num":0}]`, ``}, // leading zero in the count
		{`2["a"] `, ``},                                 // trailing JSON whitespace
		{`2[ "a" , 1 ]`, ``},                            // inner JSON whitespace
		{`2[-1.5e3]`, ``},                               // numeric event name
		{`2["connected"]`, ``},                          // only exact reserved names are refused
		{`2["caf\u00e9"]`, ``},                          // escaped, and not reserved once decoded
		{`2["\u0063onnected"]`, ``},
		{`4"boom"`, ``},
		{`2[""]`, ``},
		{`2/a/b.c~d,["x"]`, ``}, // namespaces are opaque
		{`2/a b,["x"]`, ``},     // a space is no control character
		{`51-["a",{"num":0,"_placeholder":true,"extra":[{"_placeholder":true,"num":9}]}]`, ``},
		{`51-["a",{"\u005fplaceholder":true,"num":0}]`, ``}, // escaped key, as JSON.parse reads it
		{`51-["a",{"_placeholder":true,"num":0.0}]`, ``},
		{`51-["a",{"_placeholder":true,"num":0},{"_placeholder":false,"num":5}]`, ``},
		{`51-["a",{"_placeholder":true,"_placeholder":false},{"_placeholder":true,"num":0}]`, ``}, // last key wins
	}
	for _, tc := range tests {
		d := Decoder{}
		p, err := d.AddText([]byte(tc.in))
		if err != nil {
			t.Errorf("AddText(%q): %v", tc.in, err)
			continue
		}
		if p == nil {
			if p, err = d.AddBinary([]byte{1}); p == nil || err != nil {
				t.Errorf("AddBinary after %q = %v, %v", tc.in, p, err)
				continue
			}
		}
		want := tc.canonical
		if want == "" {
			want = tc.in
			if tc.in[0] == '5' && tc.in[1] == '0' {
				want = "5" + tc.in[2:]
			}
		}
		if got := string(p.Encode()); got != want {
			t.Errorf("%q re-encodes as %q, want %q", tc.in, got, want)
		}
	}
}

func TestEncodeDetails(t *testing.T) {
	tests := []struct {
		name string
		p    Packet
		want string
	}{
		{"zero namespace means main", Packet{Type: Event, Data: json.RawMessage(`["a"]`)}, `2["a"]`},
		{"id ignored without HasID", Packet{Type: Event, ID: 5, Data: json.RawMessage(`["a"]`)}, `2["a"]`},
		{"empty data omitted", Packet{Type: Connect, Data: json.RawMessage{}}, `0`},
		{"attachments ignored on non-binary", Packet{Type: Event, Data: json.RawMessage(`["a"]`), Attachments: [][]byte{{1}}}, `2["a"]`},
		{"binary without attachments", Packet{Type: BinaryEvent, Data: json.RawMessage(`["a"]`)}, `50-["a"]`},
		{"many attachments", Packet{Type: BinaryAck, HasID: true, ID: 1, Attachments: make([][]byte, 12), Data: json.RawMessage(`[]`)}, `612-1[]`},
		{"invalid type", Packet{Type: 42}, `42`},
		{"invalid type 10", Packet{Type: 10}, `10`},
	}
	for _, tc := range tests {
		if got := string(tc.p.Encode()); got != tc.want {
			t.Errorf("%s: Encode() = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestEncodeAllocatesExactly(t *testing.T) {
	for _, tc := range golden {
		out := tc.packet.Encode()
		if len(out) != cap(out) {
			t.Errorf("%s: len %d, cap %d", tc.name, len(out), cap(out))
		}
	}
	p := golden[len(golden)-1].packet
	if n := testing.AllocsPerRun(100, func() { p.Encode() }); n != 1 {
		t.Errorf("Encode allocates %v times, want 1", n)
	}
	buf := make([]byte, 0, 256)
	if n := testing.AllocsPerRun(100, func() { buf = AppendEncode(buf[:0], &p) }); n != 0 {
		t.Errorf("AppendEncode into a large enough buffer allocates %v times", n)
	}
}

func TestPacketTypeString(t *testing.T) {
	want := []string{"CONNECT", "DISCONNECT", "EVENT", "ACK", "CONNECT_ERROR", "BINARY_EVENT", "BINARY_ACK"}
	for i, w := range want {
		if got := PacketType(i).String(); got != w {
			t.Errorf("PacketType(%d).String() = %q, want %q", i, got, w)
		}
	}
	if got := PacketType(9).String(); got != "PacketType(9)" {
		t.Errorf("PacketType(9).String() = %q", got)
	}
}

func TestDecodedDataIsCopied(t *testing.T) {
	msg := []byte(`2/room,["a",1]`)
	p, err := new(Decoder).AddText(msg)
	if err != nil {
		t.Fatal(err)
	}
	for i := range msg {
		msg[i] = 'x'
	}
	if string(p.Data) != `["a",1]` || p.Namespace != "/room" {
		t.Errorf("packet changed with the input buffer: %+v", p)
	}
	if len(p.Data) != cap(p.Data) {
		t.Errorf("Data has spare capacity %d", cap(p.Data)-len(p.Data))
	}
}

func TestAddBinaryTakesOwnership(t *testing.T) {
	var d Decoder
	if _, err := d.AddText([]byte(`51-["a",{"_placeholder":true,"num":0}]`)); err != nil {
		t.Fatal(err)
	}
	att := []byte{1, 2, 3}
	p, err := d.AddBinary(att)
	if err != nil {
		t.Fatal(err)
	}
	if &p.Attachments[0][0] != &att[0] {
		t.Error("attachment was copied; the documented contract is to keep the caller's slice")
	}
	if !bytes.Equal(p.Attachments[0], []byte{1, 2, 3}) {
		t.Error("attachment content changed")
	}
}
