package parser

import (
	"bytes"
	"encoding/json"
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
