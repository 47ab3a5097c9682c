package parser

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

var (
	benchEventData = json.RawMessage(`["chat message",{"user":"alice","text":"hello world","room":"lobby","ts":1700000000000}]`)
	benchEventText = []byte(`242["chat message",{"user":"alice","text":"hello world","room":"lobby","ts":1700000000000}]`)
	benchImage     = bytes.Repeat([]byte{0xab}, 4096)
	benchThumb     = bytes.Repeat([]byte{0xcd}, 512)
)

func BenchmarkEncodeEvent(b *testing.B) {
	b.ReportAllocs()
	p := &Packet{Type: Event, Namespace: "/", ID: 42, HasID: true, Data: benchEventData}
	b.SetBytes(int64(len(p.Encode())))
	for b.Loop() {
		p.Encode()
	}
}

func BenchmarkDecodeEvent(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(benchEventText)))
	var d Decoder
	for b.Loop() {
		if _, err := d.AddText(benchEventText); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeArgs(b *testing.B) {
	b.ReportAllocs()
	args := []any{"chat message", "alice", "hello world", 1700000000000, 3.25, true, nil}
	for b.Loop() {
		if _, _, err := EncodeArgs(args); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncodeBinaryEvent measures the whole emit path of an event with
// two attachments: arguments to payload, then packet to text.
func BenchmarkEncodeBinaryEvent(b *testing.B) {
	b.ReportAllocs()
	args := []any{"upload", "photo.png", benchImage, benchThumb}
	for b.Loop() {
		data, atts, err := EncodeArgs(args)
		if err != nil {
			b.Fatal(err)
		}
		p := Packet{Type: BinaryEvent, Namespace: "/", Data: data, Attachments: atts}
		p.Encode()
	}
}

func BenchmarkDecodeBinaryEvent(b *testing.B) {
	b.ReportAllocs()
	text := []byte(`52-["upload","photo.png",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`)
	var d Decoder
	for b.Loop() {
		if _, err := d.AddText(text); err != nil {
			b.Fatal(err)
		}
		if _, err := d.AddBinary(benchImage); err != nil {
			b.Fatal(err)
		}
		if p, err := d.AddBinary(benchThumb); err != nil || p == nil {
			b.Fatal(err)
		}
	}
}

// relayText is a received chat message of about 1 KiB: the payload of
// the relay benchmarks.
var relayText = func() []byte {
	var b bytes.Buffer
	b.WriteString(`2["message",{"room":"lobby","user":{"id":"u-42","name":"alice","avatar":"https://example.com/a/42.png"},"ts":1732700000000,"text":"`)
	b.WriteString(strings.Repeat("lorem ipsum dolor sit amet ", 20))
	b.WriteString(`","tags":["go","socket.io","relay"],"reactions":[`)
	for i := range 6 {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"emoji":"+1","count":%d,"by":["u-%d","u-%d"]}`, i, i, i+1)
	}
	b.WriteString(`],"edited":false}]`)
	return b.Bytes()
}()

// BenchmarkRelay compares the two ways of passing on a received 1 KiB
// object: decoding it to a generic value and encoding that again, and
// forwarding it as a RawArg. Each op starts from the decoded packet
// (split into arguments, as the server hands them to a handler) and ends
// with the payload of the packet to send.
func BenchmarkRelay(b *testing.B) {
	var d Decoder
	p, err := d.AddText(relayText)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("decode-reencode", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(p.Data)))
		for b.Loop() {
			elems, _ := SplitArray(p.Data)
			args := Args{Raw: elems[1:], Attachments: p.Attachments}
			if _, _, err := EncodeArgs([]any{"message", args.Value(0)}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("rawarg", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(p.Data)))
		for b.Loop() {
			elems, _ := SplitArray(p.Data)
			args := Args{Raw: elems[1:], Attachments: p.Attachments}
			if _, _, err := EncodeArgs([]any{"message", args.Arg(0)}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
