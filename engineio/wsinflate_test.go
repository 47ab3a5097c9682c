package engineio

import (
	"bytes"
	"compress/flate"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"
)

// fpFeedDeflate is fpFeed with permessage-deflate negotiated.
func fpFeedDeflate(maxPayload int, chunks ...[]byte) ([]fpEvent, *frameParser, error) {
	p := &frameParser{maxPayload: maxPayload, flags: fpDeflate}
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

func TestFrameParserDeflate(t *testing.T) {
	hello := deflateMessage(t, []byte("4hello"))
	big := deflateMessage(t, bytes.Repeat([]byte("a"), 101))
	cases := []struct {
		name string
		in   []byte
		max  int
		want []fpEvent
		code int
	}{
		{name: "compressed", in: maskedFrameN(0xC1, hello), max: 100, want: []fpEvent{{opText, "4hello"}}},
		{name: "compressed binary", in: maskedFrameN(0xC2, hello), max: 100, want: []fpEvent{{opBinary, "4hello"}}},
		{name: "plain", in: maskedFrameN(0x81, []byte("4plain")), max: 100, want: []fpEvent{{opText, "4plain"}}},
		{name: "fragmented with a ping inside", in: fpCat(maskedFrameN(0x41, hello[:2]), maskedFrameN(0x89, []byte("p")), maskedFrameN(0x80, hello[2:])), max: 100,
			want: []fpEvent{{opPing, "p"}, {opText, "4hello"}}},
		{name: "compressed then plain", in: fpCat(maskedFrameN(0xC1, hello), maskedFrameN(0x81, []byte("4x"))), max: 100,
			want: []fpEvent{{opText, "4hello"}, {opText, "4x"}}},
		{name: "inflated at the limit", in: maskedFrameN(0xC1, deflateMessage(t, bytes.Repeat([]byte("a"), 100))), max: 100, want: []fpEvent{{opText, strings.Repeat("a", 100)}}},
		{name: "inflated over the limit", in: maskedFrameN(0xC1, big), max: 100, code: closeMessageTooBig},
		{name: "inflated not UTF-8", in: maskedFrameN(0xC1, deflateMessage(t, []byte("4\xff"))), max: 100, code: closeInvalidPayload},
		{name: "not deflate", in: maskedFrameN(0xC1, []byte{0xff, 0xff, 0xff}), max: 100, code: closeInvalidPayload},
		{name: "truncated deflate", in: maskedFrameN(0xC1, deflateMessage(t, []byte("4hello world, and more"))[:5]), max: 100, code: closeInvalidPayload},
		{name: "RSV1 on a continuation", in: fpCat(maskedFrameN(0x01, []byte("4a")), maskedFrameN(0xC0, []byte("b"))), max: 100, code: closeProtocolError},
		{name: "RSV1 on a ping", in: maskedFrameN(0xC9, []byte("p")), max: 100, code: closeProtocolError},
		{name: "RSV2", in: maskedFrameN(0xA1, []byte("4x")), max: 100, code: closeProtocolError},
		{name: "RSV1 and RSV3", in: maskedFrameN(0xD1, hello), max: 100, code: closeProtocolError},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			evs, _, err := fpFeedDeflate(c.max, bytes.Clone(c.in))
			if got := fpCode(err); got != c.code {
				t.Fatalf("error %v (code %d), want %d", err, got, c.code)
			}
			if len(evs) != len(c.want) {
				t.Fatalf("events %v, want %v", evs, c.want)
			}
			for i := range evs {
				if evs[i] != c.want[i] {
					t.Fatalf("event %d: %v, want %v", i, evs[i], c.want[i])
				}
			}
			// Byte by byte: the same verdict.
			in := bytes.Clone(c.in)
			chunks := make([][]byte, len(in))
			for i := range in {
				chunks[i] = in[i : i+1]
			}
			evs2, _, err2 := fpFeedDeflate(c.max, chunks...)
			if fpCode(err2) != c.code || len(evs2) != len(evs) {
				t.Fatalf("byte by byte: %v, %v", evs2, err2)
			}
		})
	}
	// Without the extension, RSV1 is refused as before.
	if _, _, err := fpFeed(100, maskedFrameN(0xC1, hello)); fpCode(err) != closeProtocolError {
		t.Fatalf("RSV1 without deflate: %v", err)
	}
}

// inflateReference inflates in with the standard library alone, reading
// at most limit+1 bytes.
func inflateReference(in []byte, limit int) ([]byte, error) {
	fr := flate.NewReader(io.MultiReader(bytes.NewReader(in), bytes.NewReader(deflateTail)))
	return io.ReadAll(io.LimitReader(fr, int64(limit)+1))
}

func checkInflate(t *testing.T, in []byte, limit int) {
	t.Helper()
	m, err := inflateMessage(in, limit)
	ref, refErr := inflateReference(in, max(limit, 0))
	switch {
	case len(ref) > max(limit, 0):
		if fpCode(err) != closeMessageTooBig {
			t.Fatalf("%d bytes inflate past the limit %d: got %v", len(ref), limit, err)
		}
	case refErr != nil:
		if fpCode(err) != closeInvalidPayload {
			t.Fatalf("invalid input (%v): got %v", refErr, err)
		}
	default:
		if err != nil {
			t.Fatalf("valid input of %d bytes with limit %d: %v", len(ref), limit, err)
		}
		if !bytes.Equal(m.b, ref) {
			t.Fatalf("inflated %q, want %q", m.b, ref)
		}
		if c := cap(m.b); c > max(limit+1, pooledInflateBuffer) {
			t.Fatalf("buffer of %d bytes for a limit of %d", c, limit)
		}
		m.release()
	}
}

func TestInflateMessage(t *testing.T) {
	for _, limit := range []int{-1, 0, 1, 5, 100, 4096, pooledInflateBuffer, 1 << 20} {
		for _, msg := range [][]byte{nil, []byte("4"), []byte("4hello"), bytes.Repeat([]byte("ab"), 5000), bytes.Repeat([]byte{0}, 1<<20)} {
			checkInflate(t, deflateMessage(t, msg), limit)
		}
		checkInflate(t, []byte{0xff}, limit)
		checkInflate(t, nil, limit)
	}
}

// A deflate bomb allocates about its limit, not its inflated size.
func TestInflateBombAllocatesTheLimit(t *testing.T) {
	bomb := deflateMessage(t, make([]byte, 16<<20))
	const limit = 100_000
	var got error
	avg := testing.Benchmark(func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, got = inflateMessage(bomb, limit)
		}
	})
	if fpCode(got) != closeMessageTooBig {
		t.Fatalf("bomb: %v", got)
	}
	if per := avg.AllocedBytesPerOp(); per > 4*limit {
		t.Fatalf("%d bytes allocated per bomb, limit %d", per, limit)
	}
}

func TestNegotiatesDeflate(t *testing.T) {
	for _, c := range []struct {
		values []string
		want   bool
	}{
		{nil, false},
		{[]string{"permessage-deflate"}, true},
		{[]string{"permessage-deflate; client_max_window_bits"}, true},
		{[]string{"x-webkit-deflate-frame, permessage-deflate ;server_no_context_takeover"}, true},
		{[]string{"foo", "permessage-deflate"}, true},
		{[]string{"x-permessage-deflate"}, false},
		{[]string{"foo; permessage-deflate"}, false},
	} {
		h := http.Header{}
		for _, v := range c.values {
			h.Add("Sec-WebSocket-Extensions", v)
		}
		if got := negotiatesDeflate(h); got != c.want {
			t.Errorf("%q: %v, want %v", c.values, got, c.want)
		}
	}
}

// FuzzInflate: any input, any limit: never a panic, never more than the
// limit handed out or held, and the verdict of the standard library's
// inflater read through a limit.
func FuzzInflate(f *testing.F) {
	for _, msg := range []string{"", "4", "4hello", strings.Repeat("abc", 1000), strings.Repeat("\x00", 70000)} {
		var buf bytes.Buffer
		fw, _ := flate.NewWriter(&buf, flate.BestCompression)
		_, _ = fw.Write([]byte(msg))
		_ = fw.Flush()
		c := bytes.TrimSuffix(buf.Bytes(), []byte{0, 0, 0xff, 0xff})
		f.Add(c, uint16(100))
		f.Add(c, uint16(65535))
	}
	f.Add([]byte{0xff, 0xff}, uint16(10))
	f.Add([]byte{1, 0, 0, 0xff, 0xff}, uint16(0))
	f.Fuzz(func(t *testing.T, in []byte, limitSel uint16) {
		checkInflate(t, in, int(limitSel))
	})
}

// FuzzFrameParserDeflate is FuzzFrameParser with permessage-deflate
// negotiated: the limit holds on the inflated size, text is valid UTF-8,
// and the verdict does not depend on how the input is cut.
func FuzzFrameParserDeflate(f *testing.F) {
	hello := deflateMessage(f, []byte("4hello"))
	f.Add(maskedFrameN(0xC1, hello), uint8(100))
	f.Add(fpCat(maskedFrameN(0x41, hello[:2]), maskedFrameN(0x89, []byte("p")), maskedFrameN(0x80, hello[2:])), uint8(10))
	f.Add(maskedFrameN(0xC1, deflateMessage(f, bytes.Repeat([]byte("a"), 5000))), uint8(200))
	f.Add(maskedFrameN(0xC2, deflateMessage(f, []byte{0xff, 0xfe})), uint8(1))
	f.Fuzz(func(t *testing.T, in []byte, maxSel uint8) {
		maxPayload := int(maxSel) + 1
		run := func(chunks ...[]byte) ([]fpEvent, error) {
			evs, p, err := fpFeedDeflate(maxPayload, chunks...)
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
				default:
					t.Fatalf("emitted opcode %#x", e.op)
				}
			}
			if err != nil {
				var ce *wsCloseError
				if !errors.As(err, &ce) {
					t.Fatalf("error %v is not a *wsCloseError", err)
				}
				if p.buf != nil || p.pending() != 0 {
					t.Fatal("failed parser holds data")
				}
			}
			return evs, err
		}
		whole, errWhole := run(bytes.Clone(in))
		single := bytes.Clone(in)
		chunks := make([][]byte, len(single))
		for i := range single {
			chunks[i] = single[i : i+1]
		}
		bytewise, errBytes := run(chunks...)
		if len(whole) != len(bytewise) || fpCode(errWhole) != fpCode(errBytes) {
			t.Fatalf("whole: %v, %v\nbyte at a time: %v, %v", whole, errWhole, bytewise, errBytes)
		}
		for i := range whole {
			if whole[i] != bytewise[i] {
				t.Fatalf("event %d: whole %v, byte at a time %v", i, whole[i], bytewise[i])
			}
		}
	})
}
