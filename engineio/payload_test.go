package engineio_test

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/switchboard-go/socketio/engineio"
)

func codecText(t engineio.PacketType, data string) engineio.Packet {
	p := engineio.Packet{Type: t}
	if data != "" {
		p.Data = []byte(data)
	}
	return p
}

func codecBinary(data ...byte) engineio.Packet {
	return engineio.Packet{Type: engineio.PacketMessage, Data: data, Binary: true}
}

// codecPayloadVectors are HTTP long-polling bodies from the Engine.IO v4
// protocol document, its test suite and the engine.io-parser tests.
var codecPayloadVectors = []struct {
	body    string
	packets []engineio.Packet
}{
	// protocol document, "Packet encoding / HTTP long-polling"
	{"4hello\x1e2\x1e4world", []engineio.Packet{
		codecText(engineio.PacketMessage, "hello"), codecText(engineio.PacketPing, ""), codecText(engineio.PacketMessage, "world")}},
	{"4hello\x1ebAQIDBA==", []engineio.Packet{codecText(engineio.PacketMessage, "hello"), codecBinary(1, 2, 3, 4)}},
	// protocol document, "From v3 to v4": "€" is 3 bytes, kept as bytes
	{"4hello\x1e4€", []engineio.Packet{codecText(engineio.PacketMessage, "hello"), codecText(engineio.PacketMessage, "€")}},
	{"4€", []engineio.Packet{codecText(engineio.PacketMessage, "\xe2\x82\xac")}},
	// engine.io-parser: binary as base64, all packet types
	{"bAQIDBA==", []engineio.Packet{codecBinary(1, 2, 3, 4)}},
	{"0\x1e1\x1e2probe\x1e3probe\x1e4test", []engineio.Packet{
		codecText(engineio.PacketOpen, ""), codecText(engineio.PacketClose, ""),
		codecText(engineio.PacketPing, "probe"), codecText(engineio.PacketPong, "probe"),
		codecText(engineio.PacketMessage, "test")}},
	// engine.io-parser: an empty buffer is a lone "b"
	{"b", []engineio.Packet{codecBinary()}},
	// protocol test suite
	{"4test1\x1e4test2\x1e4test3", []engineio.Packet{
		codecText(engineio.PacketMessage, "test1"), codecText(engineio.PacketMessage, "test2"), codecText(engineio.PacketMessage, "test3")}},
	// handshake and upgrade packets as a poll would carry them
	{`0{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`,
		[]engineio.Packet{codecText(engineio.PacketOpen, `{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`)}},
	{"6", []engineio.Packet{codecText(engineio.PacketNoop, "")}},
	{"1", []engineio.Packet{codecText(engineio.PacketClose, "")}},
	// mixed, binary first, padding variants
	{"bAQIDBA==\x1e4hello\x1eb\x1ebAQ==\x1ebAQI=\x1ebAQID\x1e5", []engineio.Packet{
		codecBinary(1, 2, 3, 4), codecText(engineio.PacketMessage, "hello"), codecBinary(),
		codecBinary(1), codecBinary(1, 2), codecBinary(1, 2, 3), codecText(engineio.PacketUpgrade, "")}},
	{"b/w==", []engineio.Packet{codecBinary(0xff)}},
	{"4\x1e4", []engineio.Packet{codecText(engineio.PacketMessage, ""), codecText(engineio.PacketMessage, "")}},
}

// codecInvalidPayloads must all fail DecodePayload.
var codecInvalidPayloads = []string{
	"",                         // the reference parser yields an error packet for an empty body
	"\x1e", "4a\x1e", "\x1e4a", // empty records
	"4a\x1e\x1e4b",                // empty record in the middle
	"abc",                         // protocol test suite: closes the session
	"{", "{}", `["a123", "a456"]`, // engine.io-parser malformed payloads
	"7", "4a\x1e9", "4a\x1e7b", // unknown types
	"b!!!!", "bAQID*A==", "b€", // not base64
	"bAQIDBA=", "bAQIDBA", "bA", // bad or missing padding
	"bAQIDBB==",                  // non-zero padding bits
	"bAQIDBA==AAAA", "bAQ==AQ==", // data after padding
	"b====", "b=", // padding only
	"bAQID\nBA==", "bAQIDBA==\r\n", // line breaks, which encoding/base64 would skip
	"b4AQIDBA==", // v3 style with a type digit: decodes to garbage length
	"4hello\x1ebAQIDBA=",
}

func codecCollect(body []byte) ([]engineio.Packet, error) {
	var got []engineio.Packet
	err := engineio.DecodePayload(body, func(p engineio.Packet) error {
		got = append(got, p)
		return nil
	})
	return got, err
}

func codecSamePackets(a, b []engineio.Packet) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !codecSamePacket(a[i], b[i]) {
			return false
		}
	}
	return true
}

func codecFmtPackets(ps []engineio.Packet) string {
	var s []string
	for _, p := range ps {
		s = append(s, codecFmtPacket(p))
	}
	return "[" + strings.Join(s, " ") + "]"
}

func codecPayloadLen(ps []engineio.Packet) int {
	if len(ps) == 0 {
		return 0
	}
	n := len(ps) - 1
	for _, p := range ps {
		n += engineio.PayloadLen(p)
	}
	return n
}

func TestAppendPayloadGolden(t *testing.T) {
	for _, v := range codecPayloadVectors {
		got := engineio.AppendPayload(nil, v.packets)
		if string(got) != v.body {
			t.Errorf("AppendPayload(%s) = %q, want %q", codecFmtPackets(v.packets), got, v.body)
		}
		if n := codecPayloadLen(v.packets); n != len(v.body) {
			t.Errorf("PayloadLen sum for %q = %d, want %d", v.body, n, len(v.body))
		}
	}
}

func TestDecodePayloadGolden(t *testing.T) {
	for _, v := range codecPayloadVectors {
		got, err := codecCollect([]byte(v.body))
		if err != nil {
			t.Errorf("DecodePayload(%q): %v", v.body, err)
			continue
		}
		if !codecSamePackets(got, v.packets) {
			t.Errorf("DecodePayload(%q) = %s, want %s", v.body, codecFmtPackets(got), codecFmtPackets(v.packets))
		}
	}
}

func TestDecodePayloadInvalid(t *testing.T) {
	for _, in := range codecInvalidPayloads {
		_, err := codecCollect([]byte(in))
		if err == nil {
			t.Errorf("DecodePayload(%q) succeeded, want error", in)
			continue
		}
		if !errors.Is(err, engineio.ErrInvalidPayload) {
			t.Errorf("DecodePayload(%q) error %v does not wrap ErrInvalidPayload", in, err)
		}
		// Every failure except the empty body is a bad record.
		if in != "" && !errors.Is(err, engineio.ErrInvalidPacket) {
			t.Errorf("DecodePayload(%q) error %v does not wrap ErrInvalidPacket", in, err)
		}
	}
	if err := engineio.DecodePayload(nil, func(engineio.Packet) error { return nil }); !errors.Is(err, engineio.ErrInvalidPayload) {
		t.Errorf("DecodePayload(nil) = %v", err)
	}
}

func TestDecodePayloadErrorNamesRecord(t *testing.T) {
	_, err := codecCollect([]byte("4a\x1e4b\x1e9"))
	if err == nil || !strings.Contains(err.Error(), "record 2") || !strings.Contains(err.Error(), `'9'`) {
		t.Errorf("error = %v, want it to name record 2 and type '9'", err)
	}
}

// Records before a malformed one are delivered, as the reference server
// acts on them before closing the session.
func TestDecodePayloadDeliversRecordsBeforeError(t *testing.T) {
	got, err := codecCollect([]byte("4a\x1ebAQ==\x1ex\x1e4never"))
	if !errors.Is(err, engineio.ErrInvalidPayload) {
		t.Fatalf("err = %v", err)
	}
	want := []engineio.Packet{codecText(engineio.PacketMessage, "a"), codecBinary(1)}
	if !codecSamePackets(got, want) {
		t.Errorf("delivered %s, want %s", codecFmtPackets(got), codecFmtPackets(want))
	}
}

func TestDecodePayloadStopsOnCallbackError(t *testing.T) {
	stop := errors.New("stop")
	calls := 0
	err := engineio.DecodePayload([]byte("4a\x1e1\x1e4b\x1ex"), func(p engineio.Packet) error {
		calls++
		if p.Type == engineio.PacketClose {
			return stop
		}
		return nil
	})
	if err != stop { // returned as is, not wrapped
		t.Errorf("err = %v, want the callback's error itself", err)
	}
	if calls != 2 {
		t.Errorf("callback ran %d times, want 2", calls)
	}
}

func TestDecodePayloadAliasing(t *testing.T) {
	body := []byte("4hello\x1ebAQIDBA==\x1e4world")
	got, err := codecCollect(body)
	if err != nil {
		t.Fatal(err)
	}
	// Text data aliases the body, capped so appends cannot clobber the
	// following records.
	if &got[0].Data[0] != &body[1] {
		t.Error("text Data does not alias body")
	}
	if cap(got[0].Data) != len(got[0].Data) {
		t.Errorf("cap(text Data) = %d, want %d", cap(got[0].Data), len(got[0].Data))
	}
	_ = append(got[0].Data, "XXXXXX"...)
	if string(body) != "4hello\x1ebAQIDBA==\x1e4world" {
		t.Errorf("append to Data changed body: %q", body)
	}
	// Binary data is fresh memory.
	for i := range body {
		body[i] = 0
	}
	if !bytes.Equal(got[1].Data, []byte{1, 2, 3, 4}) {
		t.Errorf("binary Data changed with body: %v", got[1].Data)
	}
}

// 0x1e in text data is written verbatim, as the reference does, and the
// receiver splits there: such data does not survive polling.
func TestAppendPayloadSeparatorInTextData(t *testing.T) {
	body := engineio.AppendPayload(nil, []engineio.Packet{codecText(engineio.PacketMessage, "a\x1e1")})
	if string(body) != "4a\x1e1" {
		t.Fatalf("body = %q", body)
	}
	got, err := codecCollect(body)
	if err != nil {
		t.Fatal(err)
	}
	want := []engineio.Packet{codecText(engineio.PacketMessage, "a"), codecText(engineio.PacketClose, "")}
	if !codecSamePackets(got, want) {
		t.Errorf("decoded %s, want %s", codecFmtPackets(got), codecFmtPackets(want))
	}
}

func TestAppendPayloadEdges(t *testing.T) {
	if got := engineio.AppendPayload(nil, nil); got != nil {
		t.Errorf("AppendPayload(nil, nil) = %q, want nil", got)
	}
	dst := []byte("keep")
	if got := engineio.AppendPayload(dst, nil); string(got) != "keep" {
		t.Errorf("AppendPayload(dst, nil) = %q", got)
	}
	got := engineio.AppendPayload(dst, []engineio.Packet{codecText(engineio.PacketPing, ""), codecBinary(1)})
	if string(got) != "keep2\x1ebAQ==" {
		t.Errorf("AppendPayload onto prefix = %q", got)
	}
}

// codecSkipIfRace skips allocation checks in race builds, whose
// instrumentation disables the compiler's append(s, make(...)...)
// optimisation and so adds allocations the real build does not have.
func codecSkipIfRace(t *testing.T) {
	t.Helper()
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "-race" && s.Value == "true" {
				t.Skip("allocation counts differ under the race detector")
			}
		}
	}
}

func TestAppendPayloadGrowsOnce(t *testing.T) {
	codecSkipIfRace(t)
	packets := []engineio.Packet{
		codecText(engineio.PacketMessage, strings.Repeat("x", 100)),
		codecBinary(bytes.Repeat([]byte{7}, 300)...),
		codecText(engineio.PacketPing, ""),
	}
	allocs := testing.AllocsPerRun(100, func() { engineio.AppendPayload(nil, packets) })
	if allocs != 1 {
		t.Errorf("AppendPayload(nil, …) allocates %v times, want 1", allocs)
	}
	buf := make([]byte, 0, 1024)
	allocs = testing.AllocsPerRun(100, func() { engineio.AppendPayload(buf[:0], packets) })
	if allocs != 0 {
		t.Errorf("AppendPayload into a large enough buffer allocates %v times, want 0", allocs)
	}
}

func TestDecodePayloadTextDoesNotAllocate(t *testing.T) {
	codecSkipIfRace(t)
	body := []byte("4hello\x1e2\x1e4world\x1e3probe")
	n := 0
	allocs := testing.AllocsPerRun(100, func() {
		if err := engineio.DecodePayload(body, func(engineio.Packet) error { n++; return nil }); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("DecodePayload of text records allocates %v times, want 0", allocs)
	}
}

func TestPayloadUnencodablePanics(t *testing.T) {
	bad := []engineio.Packet{
		{Type: engineio.PacketPing, Data: []byte{1}, Binary: true}, // only messages can be binary
		{Type: 7},
		{Type: 200, Binary: true},
	}
	for _, p := range bad {
		codecMustPanic(t, "AppendPayload("+codecFmtPacket(p)+")", func() {
			engineio.AppendPayload(nil, []engineio.Packet{codecText(engineio.PacketNoop, ""), p})
		})
		codecMustPanic(t, "PayloadLen("+codecFmtPacket(p)+")", func() { engineio.PayloadLen(p) })
	}
}

// codecRandomPackets returns 1 to 20 random encodable packets. Text data
// avoids 0x1e, the one byte polling cannot carry in text.
func codecRandomPackets(r *rand.Rand) []engineio.Packet {
	alphabet := []string{"a", "Z", "0", "b", "=", "\x00", "\x1f", "\xff", "é", "€", "😀", "\n", `"`, "\x1d"}
	ps := make([]engineio.Packet, 1+r.IntN(20))
	for i := range ps {
		if r.IntN(3) == 0 {
			data := make([]byte, r.IntN(64))
			for j := range data {
				data[j] = byte(r.UintN(256)) // any byte, 0x1e included
			}
			ps[i] = engineio.Packet{Type: engineio.PacketMessage, Data: data, Binary: true}
			continue
		}
		var sb strings.Builder
		for range r.IntN(16) {
			sb.WriteString(alphabet[r.IntN(len(alphabet))])
		}
		ps[i] = codecText(engineio.PacketType(r.IntN(7)), sb.String())
	}
	return ps
}

func TestPayloadRoundTripProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2)) // fixed seed: failures reproduce
	for iter := range 5000 {
		ps := codecRandomPackets(r)
		body := engineio.AppendPayload(nil, ps)
		if len(body) != codecPayloadLen(ps) {
			t.Fatalf("iter %d: len %d, PayloadLen sum %d", iter, len(body), codecPayloadLen(ps))
		}
		got, err := codecCollect(body)
		if err != nil {
			t.Fatalf("iter %d: DecodePayload(%q): %v", iter, body, err)
		}
		if !codecSamePackets(got, ps) {
			t.Fatalf("iter %d: round trip of %s gave %s", iter, codecFmtPackets(ps), codecFmtPackets(got))
		}
		// Each text packet alone also round-trips as a WebSocket frame.
		for _, p := range ps {
			if p.Binary {
				continue
			}
			q, err := engineio.DecodeText(engineio.AppendText(nil, p))
			if err != nil || !codecSamePacket(p, q) {
				t.Fatalf("iter %d: text round trip of %s gave %s, %v", iter, codecFmtPacket(p), codecFmtPacket(q), err)
			}
		}
	}
}

func BenchmarkAppendPayload(b *testing.B) {
	for _, bc := range codecBenchCases() {
		b.Run(bc.name, func(b *testing.B) {
			buf := engineio.AppendPayload(nil, bc.packets)
			b.SetBytes(int64(len(buf)))
			b.ReportAllocs()
			for b.Loop() {
				buf = engineio.AppendPayload(buf[:0], bc.packets)
			}
		})
	}
}

func BenchmarkDecodePayload(b *testing.B) {
	for _, bc := range codecBenchCases() {
		b.Run(bc.name, func(b *testing.B) {
			body := engineio.AppendPayload(nil, bc.packets)
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			n := 0
			count := func(engineio.Packet) error { n++; return nil }
			for b.Loop() {
				if err := engineio.DecodePayload(body, count); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

type codecBenchCase struct {
	name    string
	packets []engineio.Packet
}

// codecBenchCases: a poll's worth of Socket.IO-sized events, as text, as
// binary, and mixed.
func codecBenchCases() []codecBenchCase {
	event := `2["chat message",{"user":"alice","text":"hello there, how are you today?"}]`
	blob := bytes.Repeat([]byte{0, 1, 2, 0xfe, 0xff}, 20) // 100 bytes
	var text, bin, mixed []engineio.Packet
	for i := range 16 {
		text = append(text, codecText(engineio.PacketMessage, event))
		bin = append(bin, codecBinary(blob...))
		if i%2 == 0 {
			mixed = append(mixed, codecText(engineio.PacketMessage, event))
		} else {
			mixed = append(mixed, codecBinary(blob...))
		}
	}
	return []codecBenchCase{{"text", text}, {"binary", bin}, {"mixed", mixed}}
}
