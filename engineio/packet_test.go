package engineio_test

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/switchboard-go/socketio/engineio"
)

// codecTextVectors are single packets as WebSocket text frames, taken from
// the examples of the Engine.IO v4 protocol document (handshake, heartbeat,
// upgrade, message sections) and the engine.io-parser tests.
var codecTextVectors = []struct {
	frame string
	p     engineio.Packet
}{
	{`0{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`,
		engineio.Packet{Type: engineio.PacketOpen, Data: []byte(`{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`)}},
	{"0", engineio.Packet{Type: engineio.PacketOpen}},
	{"1", engineio.Packet{Type: engineio.PacketClose}},
	{"2", engineio.Packet{Type: engineio.PacketPing}},
	{"3", engineio.Packet{Type: engineio.PacketPong}},
	{"2probe", engineio.Packet{Type: engineio.PacketPing, Data: []byte("probe")}},
	{"3probe", engineio.Packet{Type: engineio.PacketPong, Data: []byte("probe")}},
	{"4hello", engineio.Packet{Type: engineio.PacketMessage, Data: []byte("hello")}},
	{"4HelloWorld", engineio.Packet{Type: engineio.PacketMessage, Data: []byte("HelloWorld")}},
	{"4test", engineio.Packet{Type: engineio.PacketMessage, Data: []byte("test")}},
	// UTF-8 is carried as bytes; "€" is 3 bytes, the case that made v4 drop
	// v3's UTF-16 length prefixes.
	{"4€", engineio.Packet{Type: engineio.PacketMessage, Data: []byte{0xe2, 0x82, 0xac}}},
	{"41€", engineio.Packet{Type: engineio.PacketMessage, Data: []byte("1€")}},
	{"4", engineio.Packet{Type: engineio.PacketMessage}},
	{"5", engineio.Packet{Type: engineio.PacketUpgrade}},
	{"6", engineio.Packet{Type: engineio.PacketNoop}},
	// A WebSocket frame delimits the packet itself, so 0x1e is plain data.
	{"4a\x1eb", engineio.Packet{Type: engineio.PacketMessage, Data: []byte("a\x1eb")}},
	{"4\x00\xff", engineio.Packet{Type: engineio.PacketMessage, Data: []byte{0, 0xff}}},
}

// codecInvalidTexts must all fail DecodeText.
var codecInvalidTexts = []string{
	"",
	"a123", // engine.io-parser test
	"abc",  // engine.io-protocol test suite
	"7", "8hello", "9",
	"b", "bAQIDBA==", // base64 records exist only inside polling payloads
	"/", ":", " 4hello", "\x1e4", "\x00", "\xff", "€",
	"{", "{}", `["a123", "a456"]`,
}

func codecSamePacket(a, b engineio.Packet) bool {
	return a.Type == b.Type && a.Binary == b.Binary && bytes.Equal(a.Data, b.Data)
}

func codecFmtPacket(p engineio.Packet) string {
	return fmt.Sprintf("{%v %q binary=%v}", p.Type, p.Data, p.Binary)
}

func TestPacketTypeString(t *testing.T) {
	want := map[engineio.PacketType]string{
		engineio.PacketOpen:    "open",
		engineio.PacketClose:   "close",
		engineio.PacketPing:    "ping",
		engineio.PacketPong:    "pong",
		engineio.PacketMessage: "message",
		engineio.PacketUpgrade: "upgrade",
		engineio.PacketNoop:    "noop",
		7:                      "PacketType(7)",
		255:                    "PacketType(255)",
	}
	for typ, s := range want {
		if got := typ.String(); got != s {
			t.Errorf("PacketType(%d).String() = %q, want %q", byte(typ), got, s)
		}
	}
	// The constants are the wire digits minus '0'.
	if engineio.PacketOpen != 0 || engineio.PacketNoop != 6 {
		t.Errorf("constants moved: open=%d noop=%d", engineio.PacketOpen, engineio.PacketNoop)
	}
}

func TestAppendTextGolden(t *testing.T) {
	for _, v := range codecTextVectors {
		if got := engineio.AppendText(nil, v.p); string(got) != v.frame {
			t.Errorf("AppendText(%s) = %q, want %q", codecFmtPacket(v.p), got, v.frame)
		}
	}
}

func TestAppendTextAppends(t *testing.T) {
	dst := []byte("prefix:")
	got := engineio.AppendText(dst, engineio.Packet{Type: engineio.PacketPing, Data: []byte("probe")})
	if string(got) != "prefix:2probe" {
		t.Errorf("got %q", got)
	}
}

func TestDecodeTextGolden(t *testing.T) {
	for _, v := range codecTextVectors {
		got, err := engineio.DecodeText([]byte(v.frame))
		if err != nil {
			t.Errorf("DecodeText(%q): %v", v.frame, err)
			continue
		}
		if !codecSamePacket(got, v.p) {
			t.Errorf("DecodeText(%q) = %s, want %s", v.frame, codecFmtPacket(got), codecFmtPacket(v.p))
		}
	}
}

func TestDecodeTextInvalid(t *testing.T) {
	for _, in := range codecInvalidTexts {
		p, err := engineio.DecodeText([]byte(in))
		if err == nil {
			t.Errorf("DecodeText(%q) = %s, want error", in, codecFmtPacket(p))
			continue
		}
		if !errors.Is(err, engineio.ErrInvalidPacket) {
			t.Errorf("DecodeText(%q) error %v does not wrap ErrInvalidPacket", in, err)
		}
		if !strings.HasPrefix(err.Error(), "engineio: invalid packet: ") {
			t.Errorf("DecodeText(%q) error %q lacks detail", in, err)
		}
	}
	if _, err := engineio.DecodeText(nil); !errors.Is(err, engineio.ErrInvalidPacket) {
		t.Errorf("DecodeText(nil) = %v", err)
	}
}

func TestDecodeTextAliasesFrame(t *testing.T) {
	frame := []byte("4hello, world")
	p, err := engineio.DecodeText(frame[:6])
	if err != nil {
		t.Fatal(err)
	}
	frame[1] = 'H'
	if string(p.Data) != "Hello" {
		t.Errorf("Data = %q, want it to alias the frame", p.Data)
	}
	// Appending to Data must not write into the rest of the caller's buffer.
	if cap(p.Data) != len(p.Data) {
		t.Errorf("cap(Data) = %d, want %d", cap(p.Data), len(p.Data))
	}
	_ = append(p.Data, '!')
	if string(frame) != "4Hello, world" {
		t.Errorf("append to Data changed the frame: %q", frame)
	}
}

func TestDecodeTextNoDataIsNil(t *testing.T) {
	p, err := engineio.DecodeText([]byte("6"))
	if err != nil || p.Data != nil {
		t.Errorf("DecodeText(\"6\") = %s, %v; want nil Data", codecFmtPacket(p), err)
	}
}

func TestDecodeTextDoesNotAllocate(t *testing.T) {
	codecSkipIfRace(t)
	frame := []byte("4hello")
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := engineio.DecodeText(frame); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("DecodeText allocates %v times, want 0", allocs)
	}
}

func codecMustPanic(t *testing.T, name string, f func()) {
	t.Helper()
	defer func() {
		if recover() == nil {
			t.Errorf("%s did not panic", name)
		}
	}()
	f()
}

func TestAppendTextPanicsOnUnencodable(t *testing.T) {
	codecMustPanic(t, "AppendText(binary)", func() {
		engineio.AppendText(nil, engineio.Packet{Type: engineio.PacketMessage, Data: []byte{1}, Binary: true})
	})
	codecMustPanic(t, "AppendText(type 7)", func() {
		engineio.AppendText(nil, engineio.Packet{Type: 7})
	})
}
