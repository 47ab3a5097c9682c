package engineio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
	"unsafe"
)

// fpEvent is one call of the emit callback, with the payload copied out
// (it is only valid during the call).
type fpEvent struct {
	op      byte
	payload string
}

func (e fpEvent) String() string {
	if len(e.payload) > 24 {
		return fmt.Sprintf("{op %#x, %d bytes}", e.op, len(e.payload))
	}
	return fmt.Sprintf("{op %#x, %q}", e.op, e.payload)
}

// fpFrame builds a client frame. b0 is the first header byte (FIN, RSV,
// opcode); key nil sends the payload unmasked; ext forces the length
// encoding: 0 the shortest, 2 the 16-bit form, 8 the 64-bit form.
func fpFrame(b0 byte, payload []byte, key []byte, ext int) []byte {
	n := len(payload)
	b := []byte{b0}
	var mask byte
	if key != nil {
		mask = maskBit
	}
	switch {
	case ext == 8 || ext == 0 && n > 0xffff:
		b = append(b, mask|127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	case ext == 2 || ext == 0 && n > 125:
		b = append(b, mask|126)
		b = binary.BigEndian.AppendUint16(b, uint16(n))
	default:
		b = append(b, mask|byte(n))
	}
	if key == nil {
		return append(b, payload...)
	}
	b = append(b, key...)
	for i, c := range payload {
		b = append(b, c^key[i%4])
	}
	return b
}

// fpBuilder makes masked frames with random keys from a fixed seed, so
// that the table is the same on every run and for every test using it.
type fpBuilder struct{ r *rand.Rand }

func newFPBuilder() *fpBuilder { return &fpBuilder{rand.New(rand.NewPCG(6455, 1))} }

func (fb *fpBuilder) key() []byte {
	k := make([]byte, 4)
	binary.LittleEndian.PutUint32(k, fb.r.Uint32())
	return k
}

// m is a masked frame with minimal length encoding.
func (fb *fpBuilder) m(b0 byte, payload string) []byte {
	return fpFrame(b0, []byte(payload), fb.key(), 0)
}

func fpCat(frames ...[]byte) []byte { return bytes.Join(frames, nil) }

func fpClose(code int, reason string) string {
	return string(binary.BigEndian.AppendUint16(nil, uint16(code))) + reason
}

func fpPattern(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i>>8)
	}
	return string(b)
}

type fpCase struct {
	name string
	in   []byte
	max  int // maxPayload; 0 means fpDefaultMax
	want []fpEvent
	code int // expected close code of the error; 0 for success
}

const fpDefaultMax = 1 << 20

func fpCases() []fpCase {
	fb := newFPBuilder()
	ev := func(op byte, s string) fpEvent { return fpEvent{op, s} }
	fin := func(op byte) byte { return finBit | op }
	hello := ev(opText, "Hello")
	b256, b64k := fpPattern(256), fpPattern(64<<10)
	// "é" is 0xC3 0xA9: split across fragments it is invalid in each.
	e := "é"

	cases := []fpCase{
		// RFC 6455 §5.7.
		{name: "rfc/masked-hello", in: []byte{0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}, want: []fpEvent{hello}},
		{name: "rfc/fragmented-hello", in: fpCat(fb.m(opText, "Hel"), fb.m(fin(opContinuation), "lo")), want: []fpEvent{hello}},
		{name: "rfc/masked-ping", in: fb.m(fin(opPing), "Hello"), want: []fpEvent{ev(opPing, "Hello")}},
		{name: "rfc/masked-pong", in: []byte{0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}, want: []fpEvent{ev(opPong, "Hello")}},
		{name: "rfc/binary-256", in: fpFrame(0x82, []byte(b256), []byte{1, 2, 3, 4}, 0), want: []fpEvent{ev(opBinary, b256)}},
		{name: "rfc/binary-64KiB", in: fb.m(fin(opBinary), b64k), want: []fpEvent{ev(opBinary, b64k)}},

		// Valid streams.
		{name: "empty-text", in: fb.m(fin(opText), ""), want: []fpEvent{ev(opText, "")}},
		{name: "empty-binary", in: fb.m(fin(opBinary), ""), want: []fpEvent{ev(opBinary, "")}},
		{name: "empty-ping", in: fb.m(fin(opPing), ""), want: []fpEvent{ev(opPing, "")}},
		{name: "close-empty", in: fb.m(fin(opClose), ""), want: []fpEvent{ev(opClose, "")}},
		{name: "close-normal-reason", in: fb.m(fin(opClose), fpClose(closeNormal, "bye "+e)), want: []fpEvent{ev(opClose, fpClose(closeNormal, "bye "+e))}},
		{name: "ping-125", in: fb.m(fin(opPing), strings.Repeat("p", 125)), want: []fpEvent{ev(opPing, strings.Repeat("p", 125))}},
		{name: "text-125-126-127", in: fpCat(fb.m(fin(opText), strings.Repeat("a", 125)), fb.m(fin(opText), strings.Repeat("b", 126)), fb.m(fin(opText), strings.Repeat("c", 127))),
			want: []fpEvent{ev(opText, strings.Repeat("a", 125)), ev(opText, strings.Repeat("b", 126)), ev(opText, strings.Repeat("c", 127))}},
		{name: "binary-65535-65536", in: fpCat(fb.m(fin(opBinary), b64k[:65535]), fb.m(fin(opBinary), b64k)),
			want: []fpEvent{ev(opBinary, b64k[:65535]), ev(opBinary, b64k)}},
		{name: "several-messages", in: fpCat(fb.m(fin(opText), "one"), fb.m(fin(opBinary), "\x00\xff"), fb.m(fin(opPing), "p"), fb.m(fin(opText), "two")),
			want: []fpEvent{ev(opText, "one"), ev(opBinary, "\x00\xff"), ev(opPing, "p"), ev(opText, "two")}},
		{name: "non-minimal-16", in: fpFrame(fin(opText), []byte("Hello"), fb.key(), 2), want: []fpEvent{hello}},
		{name: "non-minimal-64", in: fpFrame(fin(opText), []byte("Hello"), fb.key(), 8), want: []fpEvent{hello}},
		{name: "non-minimal-control", in: fpFrame(fin(opPing), []byte("Hello"), fb.key(), 2), want: []fpEvent{ev(opPing, "Hello")}},
		{name: "zero-key", in: fpFrame(fin(opText), []byte("Hello"), []byte{0, 0, 0, 0}, 0), want: []fpEvent{hello}},
		{name: "control-inside-fragments", in: fpCat(fb.m(opText, "Hel"), fb.m(fin(opPing), "x"), fb.m(opContinuation, "l"), fb.m(fin(opPong), ""), fb.m(fin(opPing), "yz"), fb.m(fin(opContinuation), "o")),
			want: []fpEvent{ev(opPing, "x"), ev(opPong, ""), ev(opPing, "yz"), hello}},
		{name: "close-inside-fragments", in: fpCat(fb.m(opBinary, "ab"), fb.m(fin(opClose), fpClose(closeGoingAway, "")), fb.m(fin(opContinuation), "cd")),
			want: []fpEvent{ev(opClose, fpClose(closeGoingAway, "")), ev(opBinary, "abcd")}},
		{name: "empty-fragments", in: fpCat(fb.m(opText, ""), fb.m(opContinuation, ""), fb.m(fin(opContinuation), "x"), fb.m(opBinary, ""), fb.m(fin(opContinuation), "")),
			want: []fpEvent{ev(opText, "x"), ev(opBinary, "")}},
		{name: "utf8-split-across-fragments", in: fpCat(fb.m(opText, e[:1]), fb.m(fin(opContinuation), e[1:])), want: []fpEvent{ev(opText, e)}},
		{name: "large-fragments", in: fpCat(fb.m(opBinary, b64k[:300]), fb.m(opContinuation, b64k[300:70000%len(b64k)]), fb.m(fin(opContinuation), b64k[70000%len(b64k):])),
			want: []fpEvent{ev(opBinary, b64k)}},
		{name: "at-max-single", in: fb.m(fin(opText), "12345"), max: 5, want: []fpEvent{ev(opText, "12345")}},
		{name: "at-max-fragmented", in: fpCat(fb.m(opText, "12"), fb.m(fin(opPing), strings.Repeat("p", 125)), fb.m(fin(opContinuation), "345")), max: 5,
			want: []fpEvent{ev(opPing, strings.Repeat("p", 125)), ev(opText, "12345")}},
		{name: "control-not-counted-in-max", in: fb.m(fin(opPing), "1234567"), max: 1, want: []fpEvent{ev(opPing, "1234567")}},

		// Errors. Events before the error are still delivered.
		{name: "unmasked", in: fpFrame(fin(opText), []byte("Hello"), nil, 0), code: closeProtocolError},
		{name: "unmasked-rfc", in: []byte{0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}, code: closeProtocolError},
		{name: "unmasked-after-valid", in: fpCat(fb.m(fin(opText), "ok"), fpFrame(fin(opPing), nil, nil, 0)), want: []fpEvent{ev(opText, "ok")}, code: closeProtocolError},
		{name: "rsv1", in: fb.m(fin(opText)|0x40, "x"), code: closeProtocolError},
		{name: "rsv2", in: fb.m(fin(opText)|0x20, "x"), code: closeProtocolError},
		{name: "rsv3", in: fb.m(fin(opBinary)|0x10, "x"), code: closeProtocolError},
		{name: "rsv-on-control", in: fb.m(fin(opPing)|0x40, "x"), code: closeProtocolError},
		{name: "control-not-fin", in: fb.m(opPing, "x"), code: closeProtocolError},
		{name: "control-126", in: fb.m(fin(opPing), strings.Repeat("p", 126)), code: closeProtocolError},
		{name: "close-126", in: fb.m(fin(opClose), fpClose(closeNormal, strings.Repeat("r", 124))), code: closeProtocolError},
		{name: "continuation-without-message", in: fb.m(fin(opContinuation), "x"), code: closeProtocolError},
		{name: "continuation-after-complete", in: fpCat(fb.m(fin(opText), "a"), fb.m(fin(opContinuation), "b")), want: []fpEvent{ev(opText, "a")}, code: closeProtocolError},
		{name: "text-inside-fragments", in: fpCat(fb.m(opText, "a"), fb.m(fin(opText), "b")), code: closeProtocolError},
		{name: "binary-inside-fragments", in: fpCat(fb.m(opBinary, "a"), fb.m(opBinary, "b")), code: closeProtocolError},
		{name: "len64-msb", in: append([]byte{fin(opBinary), maskBit | 127, 0x80, 0, 0, 0, 0, 0, 0, 1}, 1, 2, 3, 4), code: closeMessageTooBig},
		{name: "len64-msb-on-control", in: append([]byte{fin(opPing), maskBit | 127, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, 1, 2, 3, 4), code: closeProtocolError},
		{name: "too-big", in: fb.m(fin(opText), "123456"), max: 5, code: closeMessageTooBig},
		{name: "too-big-header-only", in: []byte{fin(opBinary), maskBit | 127, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4}, code: closeMessageTooBig},
		{name: "too-big-fragmented", in: fpCat(fb.m(opText, "123"), fb.m(opContinuation, "45"), fb.m(fin(opContinuation), "6")), max: 5, code: closeMessageTooBig},
		{name: "too-big-zero-max", in: fb.m(fin(opText), "x"), max: -1, code: closeMessageTooBig},
		{name: "invalid-utf8", in: fb.m(fin(opText), "ok\xff"), code: closeInvalidPayload},
		{name: "invalid-utf8-surrogate", in: fb.m(fin(opText), "\xed\xa0\x80"), code: closeInvalidPayload},
		{name: "invalid-utf8-fragmented", in: fpCat(fb.m(opText, "Hel"), fb.m(opContinuation, e[:1]), fb.m(fin(opContinuation), "lo")), code: closeInvalidPayload},
		{name: "truncated-utf8-fragmented", in: fpCat(fb.m(opText, "a"), fb.m(fin(opContinuation), e[:1])), code: closeInvalidPayload},
		{name: "binary-not-utf8-ok", in: fb.m(fin(opBinary), "\xff\xfe"), want: []fpEvent{ev(opBinary, "\xff\xfe")}},
		{name: "close-1-byte", in: fb.m(fin(opClose), "\x03"), code: closeProtocolError},
		{name: "close-bad-reason", in: fb.m(fin(opClose), fpClose(closeNormal, "\xc3")), code: closeInvalidPayload},
		{name: "close-bad-reason-inside-fragments", in: fpCat(fb.m(opText, "a"), fb.m(fin(opClose), fpClose(closeNormal, "\xff"))), code: closeInvalidPayload},
	}
	for i := range 16 {
		// Random keys and a random payload length each time, one split
		// frame's worth of key rotation per case.
		n := fb.r.IntN(300)
		s := fpPattern(n + i)
		cases = append(cases, fpCase{name: fmt.Sprintf("random-key-%d", i),
			in:   fpCat(fb.m(opBinary, s[:n/2]), fb.m(fin(opPing), s[:i]), fb.m(fin(opContinuation), s[n/2:])),
			want: []fpEvent{ev(opPing, s[:i]), ev(opBinary, s)}})
	}
	for _, code := range []int{1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999} {
		p := fpClose(code, "r")
		cases = append(cases, fpCase{name: fmt.Sprintf("close-code-%d", code), in: fb.m(fin(opClose), p), want: []fpEvent{ev(opClose, p)}})
	}
	for _, code := range []int{0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535} {
		cases = append(cases, fpCase{name: fmt.Sprintf("close-code-%d", code), in: fb.m(fin(opClose), fpClose(code, "")), code: closeProtocolError})
	}
	for _, op := range []byte{3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF} {
		cases = append(cases, fpCase{name: fmt.Sprintf("opcode-%#x", op), in: fb.m(fin(op), "x"), code: closeProtocolError})
		cases = append(cases, fpCase{name: fmt.Sprintf("opcode-%#x-inside-fragments", op), in: fpCat(fb.m(opText, "a"), fb.m(fin(op), "")), code: closeProtocolError})
	}
	return cases
}

func (c fpCase) maxPayload() int {
	if c.max == 0 {
		return fpDefaultMax
	}
	return max(c.max, 0)
}

// fpFeed feeds the chunks in order and records the events, stopping at
// the first error. The parser is returned for inspection.
func fpFeed(maxPayload int, chunks ...[]byte) ([]fpEvent, *frameParser, error) {
	p := &frameParser{maxPayload: maxPayload}
	var evs []fpEvent
	emit := func(op byte, payload []byte) error {
		evs = append(evs, fpEvent{op, string(payload)})
		return nil
	}
	for _, c := range chunks {
		if err := p.feed(c, emit); err != nil {
			return evs, p, err
		}
	}
	return evs, p, nil
}

// fpCode returns the close code of a *wsCloseError, 0 for nil, -1 for
// any other error.
func fpCode(err error) int {
	if err == nil {
		return 0
	}
	var ce *wsCloseError
	if errors.As(err, &ce) {
		return ce.Code
	}
	return -1
}

func fpCheck(t *testing.T, how string, c fpCase, evs []fpEvent, p *frameParser, err error) {
	t.Helper()
	if code := fpCode(err); code != c.code {
		t.Fatalf("%s: error %v (code %d), want code %d", how, err, code, c.code)
	}
	if len(evs) != len(c.want) {
		t.Fatalf("%s: events %v, want %v", how, evs, c.want)
	}
	for i := range evs {
		if evs[i] != c.want[i] {
			t.Fatalf("%s: event %d is %v, want %v", how, i, evs[i], c.want[i])
		}
	}
	if err == nil && (p.pending() != 0 || p.buf != nil) {
		t.Fatalf("%s: after complete input pending()=%d, buf cap %d; want 0 and nil", how, p.pending(), cap(p.buf))
	}
}

func TestFrameParserGolden(t *testing.T) {
	for _, c := range fpCases() {
		t.Run(c.name, func(t *testing.T) {
			evs, p, err := fpFeed(c.maxPayload(), bytes.Clone(c.in))
			fpCheck(t, "whole", c, evs, p, err)
		})
	}
}

// fpCuts says where TestFrameParserSplit cuts an input in two: at every
// position, except inside the long payloads of inputs over 8 KiB. Each
// cut of a 64 KiB frame copies and unmasks 64 KiB, so all of them would
// take minutes under -race, and they exercise nothing new: within a
// payload the parser only sees the cut's offset modulo the key and word
// sizes. So for those inputs the cuts are every position within 300 bytes
// of each frame's start and end, and every 241st position (241 is prime,
// so all alignments come up) in between.
func fpCuts(in []byte) []bool {
	cuts := make([]bool, len(in)+1)
	if len(in) <= 8<<10 {
		for i := range cuts {
			cuts[i] = true
		}
		return cuts
	}
	near := func(at int) {
		for i := max(at-300, 0); i <= min(at+300, len(in)); i++ {
			cuts[i] = true
		}
	}
	for at := 0; at < len(in); {
		near(at)
		end := fpFrameEnd(in[at:])
		if end <= 0 {
			near(len(in))
			break
		}
		at += end
		near(at)
	}
	for i := 0; i < len(cuts); i += 241 {
		cuts[i] = true
	}
	return cuts
}

// fpFrameEnd returns the length of the masked frame at the start of b, or
// 0 if its header is not all there.
func fpFrameEnd(b []byte) int {
	if len(b) < 2 {
		return 0
	}
	n, h := int(b[1]&len7Mask), 2
	switch n {
	case 126:
		if len(b) < 4 {
			return 0
		}
		n, h = int(binary.BigEndian.Uint16(b[2:])), 4
	case 127:
		if len(b) < 10 {
			return 0
		}
		n, h = int(binary.BigEndian.Uint64(b[2:])&(1<<62-1)), 10
	}
	return min(h+4+n, len(b))
}

// TestFrameParserSplit feeds every table input byte at a time and cut in
// two at every position (see fpCuts for the long ones), errors included:
// the parser must not care where reads end.
func TestFrameParserSplit(t *testing.T) {
	for _, c := range fpCases() {
		t.Run(c.name, func(t *testing.T) {
			in := bytes.Clone(c.in)
			chunks := make([][]byte, len(in))
			for i := range in {
				chunks[i] = in[i : i+1]
			}
			evs, p, err := fpFeed(c.maxPayload(), chunks...)
			fpCheck(t, "byte at a time", c, evs, p, err)

			cuts := fpCuts(c.in)
			for i := 0; i <= len(c.in); i++ {
				if !cuts[i] {
					continue
				}
				copy(in, c.in)
				evs, p, err := fpFeed(c.maxPayload(), in[:i], in[i:])
				fpCheck(t, fmt.Sprintf("split at %d", i), c, evs, p, err)
			}
		})
	}
}

// TestFrameParserHoldsNothingWhenIdle checks that memory is held only
// while something is unfinished, and let go as soon as it is done.
func TestFrameParserHoldsNothingWhenIdle(t *testing.T) {
	fb := newFPBuilder()
	p := &frameParser{maxPayload: fpDefaultMax}
	var got []fpEvent
	emit := func(op byte, payload []byte) error {
		got = append(got, fpEvent{op, string(payload)})
		return nil
	}
	feed := func(b []byte, wantPending int, wantBuf bool) {
		t.Helper()
		if err := p.feed(b, emit); err != nil {
			t.Fatal(err)
		}
		if p.pending() != wantPending {
			t.Fatalf("pending() = %d, want %d", p.pending(), wantPending)
		}
		if (p.buf != nil) != wantBuf {
			t.Fatalf("buf = %v (cap %d), want non-nil %v", p.buf != nil, cap(p.buf), wantBuf)
		}
	}

	// A whole frame never touches the buffer.
	feed(fb.m(finBit|opText, "whole"), 0, false)

	// A frame cut inside its header, then inside its payload.
	f := fb.m(finBit|opBinary, "split frame")
	feed(f[:1], 1, true)
	feed(f[1:8], 8, true) // 6 header bytes parsed, 2 payload bytes kept
	feed(f[8:], 0, false)

	// A frame cut right after its header holds no bytes but is counted.
	f = fb.m(finBit|opText, "after header")
	feed(f[:6], 6, false)
	feed(f[6:], 0, false)

	// A fragmented message is held between its frames, control frames
	// included, and dropped when it completes.
	feed(fb.m(opText, "frag"), 4, true)
	feed(fb.m(finBit|opPing, "ping"), 4, true)
	f = fb.m(finBit|opPong, "pong")
	feed(f[:3], 4+3, true)
	feed(f[3:], 4, true)
	feed(fb.m(finBit|opContinuation, "ment"), 0, false)

	// The buffer of a completed message may carry the next partial frame
	// within the same feed, then goes once that frame is done too.
	a := fb.m(finBit|opText, "first")
	b := fb.m(finBit|opText, "second")
	feed(fpCat(a[:3], nil), 3, true)
	feed(fpCat(a[3:], b[:4]), 4, true)
	feed(b[4:], 0, false)

	want := []fpEvent{{opText, "whole"}, {opBinary, "split frame"}, {opText, "after header"},
		{opPing, "ping"}, {opPong, "pong"}, {opText, "fragment"}, {opText, "first"}, {opText, "second"}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("events %v, want %v", got, want)
	}
}

// TestFrameParserNoCopy checks that a frame arriving whole is handed out
// from the caller's buffer, without allocating.
func TestFrameParserNoCopy(t *testing.T) {
	fb := newFPBuilder()
	in := fpCat(fb.m(finBit|opText, strings.Repeat("x", 64)), fb.m(finBit|opPing, "p"), fb.m(finBit|opBinary, fpPattern(1000)))
	data := bytes.Clone(in)
	p := &frameParser{maxPayload: fpDefaultMax}
	aliased := 0
	emit := func(op byte, payload []byte) error {
		start := uintptr(unsafe.Pointer(unsafe.SliceData(data)))
		if at := uintptr(unsafe.Pointer(unsafe.SliceData(payload))); len(payload) > 0 && at >= start && at < start+uintptr(len(data)) {
			aliased++
		}
		return nil
	}
	if err := p.feed(data, emit); err != nil {
		t.Fatal(err)
	}
	if aliased != 3 {
		t.Fatalf("%d of 3 payloads alias the input", aliased)
	}
	allocs := testing.AllocsPerRun(100, func() {
		copy(data, in)
		if err := p.feed(data, emit); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("feed of whole frames: %v allocs, want 0", allocs)
	}
}

// TestFrameParserTooBigFromHeader checks that an oversized message is
// refused on its header, before any payload arrives or is buffered.
func TestFrameParserTooBigFromHeader(t *testing.T) {
	fb := newFPBuilder()
	const limit = 1000
	hdr := fpFrame(finBit|opBinary, make([]byte, limit+1), fb.key(), 0)[:8]
	if _, _, err := fpFeed(limit, hdr); fpCode(err) != closeMessageTooBig {
		t.Fatalf("header of a %d-byte frame: %v, want close %d", limit+1, err, closeMessageTooBig)
	}

	// Second fragment: 600 + 401 > 1000, known from its header alone.
	first := fb.m(opBinary, fpPattern(600))
	second := fpFrame(opContinuation, make([]byte, 401), fb.key(), 0)[:8]
	if _, _, err := fpFeed(limit, first, second); fpCode(err) != closeMessageTooBig {
		t.Fatalf("fragment crossing the limit: %v, want close %d", err, closeMessageTooBig)
	}
}

// TestFrameParserBufferBounds checks how the buffer grows: in proportion
// to what arrived (doubling, then the whole frame once past a quarter of
// it), never past the frame's end for a single-frame message,
// and a logarithmic number of times for a message in many fragments.
func TestFrameParserBufferBounds(t *testing.T) {
	fb := newFPBuilder()
	payload := fpPattern(100_000)
	f := fb.m(finBit|opBinary, payload)
	p := &frameParser{maxPayload: len(payload)}
	emitted := false
	emit := func(op byte, b []byte) error {
		emitted = op == opBinary && string(b) == payload
		return nil
	}
	const chunk = 1000
	for i := 0; i < len(f); i += chunk {
		if err := p.feed(f[i:min(i+chunk, len(f))], emit); err != nil {
			t.Fatal(err)
		}
		if c := cap(p.buf); c > len(payload) || c > 4*p.pending()+minFrameBuffer {
			t.Fatalf("after %d bytes: buffer cap %d for %d pending, frame payload %d", i+chunk, c, p.pending(), len(payload))
		}
	}
	if !emitted || p.buf != nil {
		t.Fatalf("emitted %v, buf nil %v", emitted, p.buf == nil)
	}

	// 1000 fragments of 100 bytes: the buffer must not be reallocated per
	// fragment.
	p = &frameParser{maxPayload: len(payload)}
	reallocs, last := 0, -1
	for i := 0; i < len(payload); i += 100 {
		b0 := byte(opContinuation)
		if i == 0 {
			b0 = opBinary
		}
		if i+100 == len(payload) {
			b0 |= finBit
		}
		if err := p.feed(fb.m(b0, payload[i:i+100]), emit); err != nil {
			t.Fatal(err)
		}
		if c := cap(p.buf); c != last {
			reallocs, last = reallocs+1, c
		}
	}
	if !emitted || reallocs > 20 {
		t.Fatalf("emitted %v after %d buffer sizes", emitted, reallocs)
	}
}

func TestFrameParserEmitError(t *testing.T) {
	fb := newFPBuilder()
	in := fpCat(fb.m(finBit|opText, "a"), fb.m(finBit|opText, "b"))
	stop := errors.New("stop")
	p := &frameParser{maxPayload: 10}
	n := 0
	err := p.feed(in, func(op byte, payload []byte) error {
		n++
		return stop
	})
	if err != stop || n != 1 {
		t.Fatalf("feed = %v after %d emits, want %v after 1", err, n, stop)
	}
	if err := p.feed(fb.m(finBit|opText, "c"), func(byte, []byte) error { t.Fatal("emit after error"); return nil }); err != errFrameParserBroken {
		t.Fatalf("feed after error = %v, want %v", err, errFrameParserBroken)
	}
	if p.pending() != 0 || p.buf != nil {
		t.Fatal("a failed parser still holds data")
	}
}

func TestFrameParserCloseErrorText(t *testing.T) {
	_, _, err := fpFeed(10, []byte{0x81, 0x05})
	want := "websocket: unmasked client frame (close 1002)"
	if err == nil || err.Error() != want {
		t.Fatalf("error %v, want %q", err, want)
	}
}

// TestFrameMaskBytes compares the word-wise unmasking with a byte loop,
// for every length around the word and unrolled sizes and every way of
// cutting it in two (the key rotation across the cut).
func TestFrameMaskBytes(t *testing.T) {
	key := []byte{0x37, 0xfa, 0x21, 0x3d}
	k := binary.LittleEndian.Uint32(key)
	src := []byte(fpPattern(100))
	for n := 0; n <= len(src); n++ {
		want := make([]byte, n)
		for i := range want {
			want[i] = src[i] ^ key[i%4]
		}
		for cut := 0; cut <= n; cut++ {
			b := bytes.Clone(src[:n])
			next := maskBytes(b[:cut], k)
			end := maskBytes(b[cut:], next)
			if !bytes.Equal(b, want) {
				t.Fatalf("n=%d cut=%d: got %x, want %x", n, cut, b, want)
			}
			var wantEnd [4]byte
			for i := range wantEnd {
				wantEnd[i] = key[(n+i)%4]
			}
			if end != binary.LittleEndian.Uint32(wantEnd[:]) {
				t.Fatalf("n=%d cut=%d: key after %08x", n, cut, end)
			}
		}
	}
}

// fpMaskServerFrame turns an unmasked server frame with a short payload
// into a client one, so that the parser can check what we send.
func fpMaskServerFrame(f []byte) []byte {
	return fpFrame(f[0], f[2:], []byte{9, 8, 7, 6}, 0)
}

func TestAppendControlFrame(t *testing.T) {
	got := appendControlFrame([]byte("x"), opPong, []byte("Hello"))
	if want := []byte{'x', 0x8a, 0x05, 'H', 'e', 'l', 'l', 'o'}; !bytes.Equal(got, want) {
		t.Fatalf("got %x, want %x", got, want)
	}
	got = appendControlFrame(nil, opPing, nil)
	if want := []byte{0x89, 0x00}; !bytes.Equal(got, want) {
		t.Fatalf("got %x, want %x", got, want)
	}
	got = appendControlFrame(nil, opPing, make([]byte, 200))
	if len(got) != 2+125 || got[1] != 125 {
		t.Fatalf("oversized payload gave a %d-byte frame, length byte %d", len(got), got[1])
	}
}

func TestAppendCloseFrame(t *testing.T) {
	got := appendCloseFrame(nil, closeNormal, "bye")
	if want := []byte{0x88, 0x05, 0x03, 0xe8, 'b', 'y', 'e'}; !bytes.Equal(got, want) {
		t.Fatalf("got %x, want %x", got, want)
	}
	got = appendCloseFrame(nil, closeMessageTooBig, "")
	if want := []byte{0x88, 0x02, 0x03, 0xf1}; !bytes.Equal(got, want) {
		t.Fatalf("got %x, want %x", got, want)
	}
	// 123 bytes of reason fit; a 2-byte character straddling the limit
	// must go whole.
	for _, reason := range []string{strings.Repeat("r", 200), strings.Repeat("r", 122) + "é" + "tail", strings.Repeat("€", 60)} {
		f := appendCloseFrame(nil, closePolicyViolation, reason)
		if n := int(f[1]); n > 125 || n != len(f)-2 {
			t.Fatalf("reason %q: length byte %d, frame %d bytes", reason, n, len(f))
		}
		if !strings.HasPrefix(reason, string(f[4:])) || !utf8.Valid(f[4:]) || len(reason)-len(f[4:]) > 123 {
			t.Fatalf("reason %q cut to %q", reason, f[4:])
		}
		if len(f[4:]) < 123-utf8.UTFMax+1 {
			t.Fatalf("reason %q cut too short: %d bytes", reason, len(f[4:]))
		}
		evs, _, err := fpFeed(10, fpMaskServerFrame(f))
		if err != nil || len(evs) != 1 || evs[0].op != opClose {
			t.Fatalf("our close frame does not parse: %v %v", evs, err)
		}
	}
	// Around the limit, byte by byte: up to 123 bytes go whole, longer
	// ones are cut to exactly 123 (ASCII has a boundary everywhere).
	for n := 119; n <= 130; n++ {
		reason := strings.Repeat("r", n)
		f := appendCloseFrame(nil, closeNormal, reason)
		want := min(n, 123)
		if int(f[1]) != 2+want || len(f) != 4+want || string(f[4:]) != reason[:want] {
			t.Fatalf("%d-byte reason: length byte %d, frame of %d bytes, want a %d-byte payload", n, f[1], len(f), 2+want)
		}
	}
	// A reason with no character boundary up to the limit (not UTF-8 at
	// all) leaves nothing to cut on: it is dropped, the code goes alone.
	f := appendCloseFrame(nil, closeNormal, strings.Repeat("\x80", 130))
	if want := []byte{0x88, 0x02, 0x03, 0xe8}; !bytes.Equal(f, want) {
		t.Fatalf("reason without a boundary: got %x, want %x", f, want)
	}
}

func FuzzFrameParser(f *testing.F) {
	for _, c := range fpCases() {
		if len(c.in) <= 4096 {
			f.Add(c.in, uint(len(c.in)/2), uint8(0))
			f.Add(c.in, uint(3), uint8(4))
		}
	}
	f.Fuzz(func(t *testing.T, in []byte, cut uint, maxSel uint8) {
		// Small limits reach the 1009 path; 255 means a roomy one.
		maxPayload := int(maxSel) + 1
		if maxSel == 255 {
			maxPayload = fpDefaultMax
		}
		cut %= uint(len(in) + 1)
		run := func(chunks ...[]byte) ([]fpEvent, error) {
			evs, p, err := fpFeed(maxPayload, chunks...)
			for _, e := range evs {
				switch e.op {
				case opText, opBinary:
					if len(e.payload) > maxPayload {
						t.Fatalf("%d-byte message emitted with maxPayload %d", len(e.payload), maxPayload)
					}
					if e.op == opText && !utf8.ValidString(e.payload) {
						t.Fatalf("invalid UTF-8 text emitted: %q", e.payload)
					}
				case opClose, opPing, opPong:
					if len(e.payload) > maxControlPayload {
						t.Fatalf("%d-byte control frame emitted", len(e.payload))
					}
					if e.op == opClose && checkClosePayload([]byte(e.payload)) != nil {
						t.Fatalf("invalid close payload emitted: %q", e.payload)
					}
				default:
					t.Fatalf("emitted opcode %#x", e.op)
				}
			}
			if err != nil {
				if fpCode(err) <= 0 {
					t.Fatalf("error %v is not a *wsCloseError", err)
				}
				if p.buf != nil || p.pending() != 0 {
					t.Fatal("failed parser holds data")
				}
				return evs, err
			}
			if (p.pending() == 0) != (p.buf == nil) && p.hlen == 0 {
				t.Fatalf("pending() = %d with buffer nil %v", p.pending(), p.buf == nil)
			}
			if cap(p.buf) > maxPayload+maxControlPayload {
				t.Fatalf("buffer cap %d with maxPayload %d", cap(p.buf), maxPayload)
			}
			return evs, err
		}
		whole, errWhole := run(bytes.Clone(in))
		split := bytes.Clone(in)
		halves, errSplit := run(split[:cut], split[cut:])
		single := bytes.Clone(in)
		bytewise := make([][]byte, len(single))
		for i := range single {
			bytewise[i] = single[i : i+1]
		}
		bytes1, errBytes := run(bytewise...)
		if fmt.Sprint(whole) != fmt.Sprint(halves) || fpCode(errWhole) != fpCode(errSplit) {
			t.Fatalf("whole: %v, %v\nsplit at %d: %v, %v", whole, errWhole, cut, halves, errSplit)
		}
		if fmt.Sprint(whole) != fmt.Sprint(bytes1) || fpCode(errWhole) != fpCode(errBytes) {
			t.Fatalf("whole: %v, %v\nbyte at a time: %v, %v", whole, errWhole, bytes1, errBytes)
		}
	})
}

func BenchmarkFrameParser(b *testing.B) {
	fb := newFPBuilder()
	bench := func(name string, frame []byte, chunks int) {
		b.Run(name, func(b *testing.B) {
			data := make([]byte, len(frame))
			p := &frameParser{maxPayload: fpDefaultMax}
			n := 0
			emit := func(op byte, payload []byte) error {
				n += len(payload)
				return nil
			}
			step := (len(frame) + chunks - 1) / chunks
			b.SetBytes(int64(len(frame)))
			b.ReportAllocs()
			for b.Loop() {
				copy(data, frame) // feed unmasks in place
				for i := 0; i < len(data); i += step {
					if err := p.feed(data[i:min(i+step, len(data))], emit); err != nil {
						b.Fatal(err)
					}
				}
			}
			if n == 0 {
				b.Fatal("nothing emitted")
			}
		})
	}
	bench("text64", fb.m(finBit|opText, strings.Repeat("a", 64)), 1)
	bench("binary16KiB", fb.m(finBit|opBinary, fpPattern(16<<10)), 1)
	bench("binary16KiB-4reads", fb.m(finBit|opBinary, fpPattern(16<<10)), 4)
}
