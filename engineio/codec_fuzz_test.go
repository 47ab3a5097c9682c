package engineio_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/switchboard-go/socketio/engineio"
)

// FuzzDecodeText checks that DecodeText never panics, fails only with
// ErrInvalidPacket, and that whatever it accepts is in canonical form:
// AppendText gives back the very same frame.
func FuzzDecodeText(f *testing.F) {
	for _, v := range codecTextVectors {
		f.Add([]byte(v.frame))
	}
	for _, s := range codecInvalidTexts {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, frame []byte) {
		p, err := engineio.DecodeText(frame)
		if err != nil {
			if !errors.Is(err, engineio.ErrInvalidPacket) {
				t.Fatalf("DecodeText(%q): error %v does not wrap ErrInvalidPacket", frame, err)
			}
			return
		}
		if p.Binary || p.Type > engineio.PacketNoop {
			t.Fatalf("DecodeText(%q) = %s", frame, codecFmtPacket(p))
		}
		again := engineio.AppendText(nil, p)
		if !bytes.Equal(again, frame) {
			t.Fatalf("DecodeText(%q) re-encodes as %q", frame, again)
		}
		q, err := engineio.DecodeText(again)
		if err != nil || !codecSamePacket(p, q) {
			t.Fatalf("re-decoding %q gave %s, %v; want %s", again, codecFmtPacket(q), err, codecFmtPacket(p))
		}
	})
}

// FuzzDecodePayload checks that DecodePayload never panics, fails only with
// ErrInvalidPayload, and that an accepted body re-encodes to the same
// bytes (strict base64 leaves one spelling per record) and decodes again
// to the same packets.
func FuzzDecodePayload(f *testing.F) {
	for _, v := range codecPayloadVectors {
		f.Add([]byte(v.body))
	}
	for _, s := range codecInvalidPayloads {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		orig := bytes.Clone(body)
		got, err := codecCollect(body)
		if !bytes.Equal(body, orig) {
			t.Fatalf("DecodePayload modified its input: %q became %q", orig, body)
		}
		if err != nil {
			if !errors.Is(err, engineio.ErrInvalidPayload) {
				t.Fatalf("DecodePayload(%q): error %v does not wrap ErrInvalidPayload", body, err)
			}
			return
		}
		if len(got) == 0 {
			t.Fatalf("DecodePayload(%q) succeeded with no packets", body)
		}
		again := engineio.AppendPayload(nil, got)
		if !bytes.Equal(again, body) {
			t.Fatalf("DecodePayload(%q) = %s re-encodes as %q", body, codecFmtPackets(got), again)
		}
		if n := codecPayloadLen(got); n != len(body) {
			t.Fatalf("PayloadLen sum %d, body length %d", n, len(body))
		}
		got2, err := codecCollect(again)
		if err != nil || !codecSamePackets(got, got2) {
			t.Fatalf("re-decoding %q gave %s, %v; want %s", again, codecFmtPackets(got2), err, codecFmtPackets(got))
		}
	})
}

func BenchmarkDecodeText(b *testing.B) {
	frame := []byte(`42["chat message",{"user":"alice","text":"hello there, how are you today?"}]`)
	b.SetBytes(int64(len(frame)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := engineio.DecodeText(frame); err != nil {
			b.Fatal(err)
		}
	}
}
