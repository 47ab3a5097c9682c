package msgpackparser

import (
	"strings"
	"testing"

	"github.com/switchboard-go/socketio/parser"
)

// benchPacket is an event of about 1 KiB: a nested object, a string and a
// binary value, as parser.EncodeArgs builds it.
func benchPacket(b *testing.B) *parser.Packet {
	data, atts, err := parser.EncodeArgs([]any{"message", map[string]any{
		"user": "ann", "room": "lobby", "n": 12345, "ok": true,
		"tags": []any{"a", "b", "c", 1.5}, "text": strings.Repeat("héllo ", 100),
	}, []byte(strings.Repeat("\x01", 256))})
	if err != nil {
		b.Fatal(err)
	}
	return &parser.Packet{Type: parser.BinaryEvent, Namespace: "/", Data: data, Attachments: atts}
}

// One broadcast's conversion: the cost a msgpack server pays once per
// broadcast (per emit for a single socket), on top of the default path.
func BenchmarkEncode(b *testing.B) {
	p := benchPacket(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := (Parser{}).Encode(p); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecode(b *testing.B) {
	frames, err := Parser{}.Encode(benchPacket(b))
	if err != nil {
		b.Fatal(err)
	}
	d := Parser{}.NewDecoder(0)
	b.SetBytes(int64(len(frames[0].Data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := d.Add(frames[0].Data, true); err != nil {
			b.Fatal(err)
		}
	}
}
