package msgpackparser

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/switchboard-go/socketio/parser"
)

func mustHex(s string) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		panic(err)
	}
	return b
}

// Messages the npm parser refuses (or that the default decoder's rules
// refuse), each with why.
var invalidMessages = []struct {
	name, hex string
}{
	{"empty", ""},
	{"not a map", "92 00 a1 2f"},
	{"nil", "c0"},
	{"no type", "81 a3 6e7370 a1 2f"},
	{"no nsp", "81 a4 74797065 00"},
	{"type 5 (BINARY_EVENT is not used)", "83 a4 74797065 05 a4 64617461 91 a1 61 a3 6e7370 a1 2f"},
	{"type 6", "83 a4 74797065 06 a4 64617461 91 a1 61 a3 6e7370 a1 2f"},
	{"type -1", "82 a4 74797065 ff a3 6e7370 a1 2f"},
	{"type 1.5", "82 a4 74797065 cb 3ff8000000000000 a3 6e7370 a1 2f"},
	{"type a string", "82 a4 74797065 a1 30 a3 6e7370 a1 2f"},
	{"nsp not a string", "82 a4 74797065 00 a3 6e7370 01"},
	{"nsp without slash", "82 a4 74797065 00 a3 6e7370 a4 63686174"},
	{"nsp with a control character", "82 a4 74797065 00 a3 6e7370 a2 2f 1e"},
	{"event without data", "82 a4 74797065 02 a3 6e7370 a1 2f"},
	{"event data not an array", "83 a4 74797065 02 a4 64617461 a1 61 a3 6e7370 a1 2f"},
	{"event with an empty array", "83 a4 74797065 02 a4 64617461 90 a3 6e7370 a1 2f"},
	{"event named disconnect", "83 a4 74797065 02 a4 64617461 91 aa 646973636f6e6e656374 a3 6e7370 a1 2f"},
	{"event named by a map", "83 a4 74797065 02 a4 64617461 91 80 a3 6e7370 a1 2f"},
	{"connect data an array", "83 a4 74797065 00 a4 64617461 90 a3 6e7370 a1 2f"},
	{"disconnect with data", "83 a4 74797065 01 a4 64617461 80 a3 6e7370 a1 2f"},
	{"connect_error data a number", "83 a4 74797065 04 a4 64617461 01 a3 6e7370 a1 2f"},
	{"ack without id", "83 a4 74797065 03 a4 64617461 90 a3 6e7370 a1 2f"},
	{"id a string", "84 a4 74797065 02 a4 64617461 91 a1 61 a2 6964 a1 31 a3 6e7370 a1 2f"},
	{"negative id", "84 a4 74797065 02 a4 64617461 91 a1 61 a2 6964 ff a3 6e7370 a1 2f"},
	{"id on connect", "83 a4 74797065 00 a2 6964 01 a3 6e7370 a1 2f"},
	{"type twice", "83 a4 74797065 00 a4 74797065 00 a3 6e7370 a1 2f"},
	{"trailing byte", "82 a4 74797065 00 a3 6e7370 a1 2f 00"},
	{"truncated", "82 a4 74797065 00 a3 6e7370 a1"},
	{"bin longer than the message", "83 a4 74797065 02 a4 64617461 92 a1 61 c6 ffffffff a3 6e7370 a1 2f"},
	{"str longer than the message", "83 a4 74797065 02 a4 64617461 92 a1 61 db ffffffff a3 6e7370 a1 2f"},
	{"array longer than the message", "83 a4 74797065 02 a4 64617461 dd ffffffff a1 61"},
	{"ext longer than the message", "83 a4 74797065 02 a4 64617461 92 a1 61 c9 ffffffff 00"},
	{"binary in connect", "83 a4 74797065 00 a4 64617461 81 a1 61 c4 01 00 a3 6e7370 a1 2f"},
	{"map key a map", "83 a4 74797065 02 a4 64617461 92 a1 61 81 80 01 a3 6e7370 a1 2f"},
	{"unused code 0xc1", "83 a4 74797065 02 a4 64617461 92 a1 61 c1 a3 6e7370 a1 2f"},
	{"placeholder beside a binary value", "83 a4 74797065 02 a4 64617461 93 a1 61 c4 01 00 82 ac 5f706c616365686f6c646572 c3 a3 6e756d 00 a3 6e7370 a1 2f"},
}

func TestDecodeInvalid(t *testing.T) {
	for _, tc := range invalidMessages {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Parser{}.NewDecoder(0).Add(mustHex(tc.hex), true)
			if err == nil {
				t.Fatalf("accepted: %+v (data %s)", p, p.Data)
			}
			if p != nil || !errors.Is(err, parser.ErrInvalidPacket) {
				t.Fatalf("got %v, %v; want nil and an error matching parser.ErrInvalidPacket", p, err)
			}
		})
	}
}

func TestDecodeTextMessage(t *testing.T) {
	_, err := Parser{}.NewDecoder(0).Add([]byte(`2["a"]`), false)
	if !errors.Is(err, parser.ErrInvalidPacket) {
		t.Fatalf("text message: %v, want parser.ErrInvalidPacket", err)
	}
}

// event builds the message of an EVENT whose data array holds elems
// (already encoded).
func event(elems ...string) []byte {
	data := strings.Join(append([]string{"a1 61"}, elems...), " ")
	n := len(elems) + 1
	return mustHex("83 a4 74797065 02 a4 64617461 " + hex.EncodeToString([]byte{0x90 | byte(n)}) + data + " a3 6e7370 a1 2f")
}

func TestDecodeMaxAttachments(t *testing.T) {
	bins := []string{"c4 01 00", "c4 01 01", "c4 01 02"}
	if _, err := (Parser{}).NewDecoder(3).Add(event(bins...), true); err != nil {
		t.Fatalf("3 binary values, limit 3: %v", err)
	}
	_, err := Parser{}.NewDecoder(2).Add(event(bins...), true)
	if !errors.Is(err, parser.ErrTooManyAttachments) || !errors.Is(err, parser.ErrInvalidPacket) {
		t.Fatalf("3 binary values, limit 2: %v, want ErrTooManyAttachments and ErrInvalidPacket", err)
	}
	// The default is parser.DefaultMaxAttachments.
	many := make([]string, parser.DefaultMaxAttachments+1)
	for i := range many {
		many[i] = "c4 00"
	}
	if _, err := (Parser{}).NewDecoder(0).Add(event(many[:parser.DefaultMaxAttachments]...), true); err != nil {
		t.Fatalf("%d binary values by default: %v", parser.DefaultMaxAttachments, err)
	}
	if _, err := (Parser{}).NewDecoder(0).Add(event(many...), true); !errors.Is(err, parser.ErrTooManyAttachments) {
		t.Fatalf("%d binary values by default: %v, want ErrTooManyAttachments", len(many), err)
	}
}

func TestDecodeMaxDepth(t *testing.T) {
	nested := func(depth int) []byte {
		// data = [ "a", [[[...]]] ] with depth arrays in all, data included
		return event(strings.Repeat("91 ", depth-2) + "90")
	}
	p := Parser{MaxDepth: 5}
	if _, err := p.NewDecoder(0).Add(nested(5), true); err != nil {
		t.Fatalf("depth 5, limit 5: %v", err)
	}
	if _, err := p.NewDecoder(0).Add(nested(6), true); !errors.Is(err, parser.ErrInvalidPacket) {
		t.Fatalf("depth 6, limit 5: %v, want ErrInvalidPacket", err)
	}
	// The default: 1000, and a message of a million nested arrays is
	// refused without exhausting the stack.
	if _, err := (Parser{}).NewDecoder(0).Add(nested(DefaultMaxDepth), true); err != nil {
		t.Fatalf("depth %d by default: %v", DefaultMaxDepth, err)
	}
	if _, err := (Parser{}).NewDecoder(0).Add(nested(1_000_000), true); !errors.Is(err, parser.ErrInvalidPacket) {
		t.Fatalf("depth 1e6: %v, want ErrInvalidPacket", err)
	}
	// An ignored key's value is bounded too.
	deep := mustHex("83 a4 74797065 00 a1 78 " + strings.Repeat("91 ", 2000) + "90 a3 6e7370 a1 2f")
	if _, err := (Parser{}).NewDecoder(0).Add(deep, true); !errors.Is(err, parser.ErrInvalidPacket) {
		t.Fatalf("deep ignored value: %v, want ErrInvalidPacket", err)
	}
}

// Values JSON cannot hold, read as JSON.stringify writes what notepack.io
// decodes.
func TestDecodeValues(t *testing.T) {
	for _, tc := range []struct{ name, elem, want string }{
		{"NaN", "cb 7ff8000000000001", "null"},
		{"Infinity", "cb 7ff0000000000000", "null"},
		{"float32", "ca 3dcccccd", "0.1"},
		{"1e20", "cb 4415af1d78b58c40", "100000000000000000000"},
		{"1e21", "cb 444b1ae4d6e2ef50", "1e+21"},
		{"undefined", "d4 00 00", "null"},
		{"undefined in a map", "82 a1 78 d4 00 00 a1 79 01", `{"y":1}`},
		{"integer keys", "82 01 a1 61 ff a1 62", `{"1":"a","-1":"b"}`},
		{"uint64 key", "81 cf ffffffffffffffff c0", `{"18446744073709551615":null}`},
		{"int64", "d3 8000000000000000", "-9223372036854775808"},
		{"other extension", "d5 05 0102", `[5,{"_placeholder":true,"num":0}]`},
		{"date before 1970", "d7 00 ffffffff ffffffff", `"1969-12-31T23:59:59.999Z"`},
		{"invalid UTF-8", "a3 61 ff 62", "\"a\ufffdb\""},
		{"escapes", "a4 22 5c 0a 01", `"\"\\\n\u0001"`},
		{"fixext 1 of another type", "d4 07 01", `[7,{"_placeholder":true,"num":0}]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Parser{}.NewDecoder(0).Add(event(tc.elem), true)
			if err != nil {
				t.Fatal(err)
			}
			if want := `["a",` + tc.want + `]`; string(p.Data) != want {
				t.Fatalf("data %s, want %s", p.Data, want)
			}
			var v any
			if err := json.Unmarshal(p.Data, &v); err != nil {
				t.Fatalf("not JSON: %v", err)
			}
		})
	}
}

// An ignored key, an id of undefined and a data of undefined are left out,
// as the npm parser's checks see them.
func TestDecodeIgnoredKeys(t *testing.T) {
	msg := mustHex("85 a4 74797065 00 a7 6f7074696f6e73 81 a8 636f6d7072657373 c3 a2 6964 d4 00 00 a4 64617461 d4 00 00 a3 6e7370 a1 2f")
	p, err := Parser{}.NewDecoder(0).Add(msg, true)
	if err != nil {
		t.Fatal(err)
	}
	if p.Type != parser.Connect || p.HasID || p.Data != nil || p.Namespace != "/" {
		t.Fatalf("got %+v", p)
	}
}

// A binary value is taken from the message without a copy: the engine
// hands binary messages over.
func TestDecodeBinaryNoCopy(t *testing.T) {
	msg := event("c4 03 010203")
	p, err := Parser{}.NewDecoder(0).Add(msg, true)
	if err != nil {
		t.Fatal(err)
	}
	if p.Type != parser.BinaryEvent || len(p.Attachments) != 1 || !bytes.Equal(p.Attachments[0], []byte{1, 2, 3}) {
		t.Fatalf("got %+v", p)
	}
	if &p.Attachments[0][0] != &msg[bytes.Index(msg, []byte{1, 2, 3})] {
		t.Fatal("the attachment is a copy")
	}
	if cap(p.Attachments[0]) != 3 {
		t.Fatalf("attachment capacity %d: appending to it would overwrite the message", cap(p.Attachments[0]))
	}
}
