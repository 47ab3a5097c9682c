package engineio

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/switchboard-go/socketio/internal/queue"
)

// inflateRFC7692 inflates a permessage-deflate payload as a receiver does
// (RFC 7692 §7.2.2), with the standard library alone: the payload, the
// 00 00 ff ff the sender removed, and an empty final block so that the
// reader ends cleanly instead of waiting for more.
func inflateRFC7692(t testing.TB, payload []byte) []byte {
	t.Helper()
	in := append(bytes.Clone(payload), 0x00, 0x00, 0xff, 0xff, 0x01, 0x00, 0x00, 0xff, 0xff)
	out, err := io.ReadAll(flate.NewReader(bytes.NewReader(in)))
	if err != nil {
		t.Fatalf("inflating %d bytes: %v", len(payload), err)
	}
	return out
}

// parseServerFrame splits an unmasked frame into its first header byte,
// the length code of its second, and its payload, checking that the
// length is written in the shortest form (RFC 6455 §5.2) and covers the
// rest of f exactly.
func parseServerFrame(t testing.TB, f []byte) (b0, code byte, payload []byte) {
	t.Helper()
	if len(f) < 2 || f[1]&0x80 != 0 {
		t.Fatalf("frame %x...: too short or masked", f[:min(len(f), 4)])
	}
	code = f[1] & 0x7f
	var n uint64
	var rest []byte
	switch code {
	case 126:
		n, rest = uint64(binary.BigEndian.Uint16(f[2:])), f[4:]
		if n < 126 {
			t.Fatalf("length %d in the 16-bit form", n)
		}
	case 127:
		n, rest = binary.BigEndian.Uint64(f[2:]), f[10:]
		if n <= 0xffff {
			t.Fatalf("length %d in the 64-bit form", n)
		}
	default:
		n, rest = uint64(code), f[2:]
	}
	if uint64(len(rest)) != n {
		t.Fatalf("header says %d bytes of payload, the frame has %d", n, len(rest))
	}
	return f[0], code, rest
}

// letters returns n pseudo-random bytes from a 16-letter alphabet: they
// compress to a little over half, so the compressed size follows n.
func letters(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	b := make([]byte, n)
	for i := range b {
		b[i] = 'a' + byte(r.IntN(16))
	}
	return b
}

// The compressed frame of a message: FIN and RSV1 set on the message's
// opcode, its length in the shortest form, and a payload that inflates
// (with compress/flate and the tail RFC 7692 has the receiver append) to
// the uncompressed payload, the type digit of a text message included.
func TestDeflateFrameGolden(t *testing.T) {
	cases := []struct {
		name   string
		it     queue.Item
		b0     byte
		code   byte // length code: < 126, 126 or 127
		prefix string
	}{
		{"text, 7-bit length", queue.Item{Kind: byte(PacketMessage), Data: bytes.Repeat([]byte("abc"), 1000)}, 0xC1, 0, "4"},
		{"text, 16-bit length", queue.Item{Kind: byte(PacketMessage), Data: letters(4000, 1)}, 0xC1, 126, "4"},
		{"text, 64-bit length", queue.Item{Kind: byte(PacketMessage), Data: letters(200_000, 2)}, 0xC1, 127, "4"},
		{"binary", queue.Item{Kind: byte(PacketMessage), Binary: true, Data: letters(3000, 3)}, 0xC2, 126, ""},
		{"another packet type", queue.Item{Kind: byte(PacketPing), Data: bytes.Repeat([]byte("p"), 2000)}, 0xC1, 0, "2"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want := append([]byte(c.prefix), c.it.Data...)
			check := func(t *testing.T, f []byte) {
				t.Helper()
				b0, code, payload := parseServerFrame(t, f)
				if b0 != c.b0 {
					t.Errorf("first header byte %#x, want %#x", b0, c.b0)
				}
				if (code < 126) != (c.code < 126) || (code >= 126 && code != c.code) {
					t.Errorf("length code %d, want %d", code, c.code)
				}
				if bytes.HasSuffix(payload, []byte{0x00, 0x00, 0xff, 0xff}) {
					t.Error("the payload ends with the flush marker, which the sender must remove")
				}
				if len(payload) >= len(want) {
					t.Errorf("%d bytes compressed to %d", len(want), len(payload))
				}
				if got := inflateRFC7692(t, payload); !bytes.Equal(got, want) {
					t.Errorf("inflates to %d bytes %.20q..., want %d bytes %.20q...", len(got), got, len(want), want)
				}
			}
			t.Run("single send", func(t *testing.T) {
				f := deflateItem(c.it)
				if f == nil {
					t.Fatal("not compressed")
				}
				check(t, f)
			})
			t.Run("shared", func(t *testing.T) {
				plain := appendFrame(nil, c.it)
				check(t, deflateShared(plain))
			})
		})
	}
}

// A message that deflate cannot make smaller goes uncompressed: the
// single send's frame is not built (the plain one is written), the
// shared one is the plain frame itself.
func TestDeflateIncompressible(t *testing.T) {
	data := make([]byte, 4096)
	r := rand.New(rand.NewPCG(7, 7))
	for i := range data {
		data[i] = byte(r.Uint32())
	}
	it := queue.Item{Kind: byte(PacketMessage), Binary: true, Data: data}
	if f := deflateItem(it); f != nil {
		t.Fatalf("random bytes sent compressed: %d-byte frame for %d bytes", len(f), len(data))
	}
	plain := appendFrame(nil, it)
	if f := deflateShared(plain); &f[0] != &plain[0] || len(f) != len(plain) {
		t.Fatal("the shared frame of random bytes is not the plain one")
	}
}

// countDeflates counts the messages compressed whose data contains
// marker, until the test ends.
func countDeflates(t *testing.T, marker []byte) func() int {
	var mu sync.Mutex
	n := 0
	hook := func(data []byte) {
		if bytes.Contains(data, marker) {
			mu.Lock()
			n++
			mu.Unlock()
		}
	}
	testHookDeflate.Store(&hook)
	t.Cleanup(func() { testHookDeflate.Store(nil) })
	return func() int {
		mu.Lock()
		defer mu.Unlock()
		return n
	}
}

// A broadcast to receivers that negotiated permessage-deflate and to
// receivers that did not: each gets the frame its connection calls for
// (compressed with RSV1, or plain), every one inflating to the message;
// the message is compressed once for all the deflate receivers; messages
// under the threshold or marked NoCompress go plain to everyone; and a
// broadcast reaching no deflate receiver compresses nothing. On every
// path (the poller, a reader goroutine, TLS), with the server offering
// permessage-deflate.
func TestBroadcastDeflateOnce(t *testing.T) {
	const deflateConns, plainConns = 5, 3
	eachReaderPath(t, Options{PerMessageDeflate: true}, func(t *testing.T, rp readerPath, ts *testServer) {
		ts.rec.closed = make(chan string, deflateConns+plainConns) // Close reports every connection
		marker := []byte(fmt.Sprintf("<%s %s>", t.Name(), letters(16, 9)))
		count := countDeflates(t, marker)
		type receiver struct {
			w       *pathWS
			c       *Conn
			deflate bool
		}
		var all []receiver
		for i := range deflateConns + plainConns {
			p := rp
			p.deflate = i < deflateConns
			w := dialPath(t, ts, p, 0)
			all = append(all, receiver{w, receive(t, ts.rec.conns, "no session"), p.deflate})
		}

		big := append(bytes.Repeat([]byte("broadcast, "), 300), marker...)
		attachment := append(letters(3000, 4), marker...)
		small := append(bytes.Repeat([]byte("s"), compressThreshold-1-len(marker)), marker...)
		type sent struct {
			op         byte
			data       []byte
			compressed bool // for a deflate receiver
		}
		rounds := []struct {
			name  string
			msgs  []Message
			want  []sent
			count int // compressions the round adds
			to    func(r receiver) bool
		}{
			{"text and attachment", []Message{{Data: big}, {Data: attachment, Binary: true}},
				[]sent{{opText, append([]byte("4"), big...), true}, {opBinary, attachment, true}}, 2, nil},
			{"under the threshold", []Message{{Data: small}},
				[]sent{{opText, append([]byte("4"), small...), false}}, 0, nil},
			{"NoCompress", []Message{{Data: big, NoCompress: true}},
				[]sent{{opText, append([]byte("4"), big...), false}}, 0, nil},
			{"plain receivers only", []Message{{Data: big}},
				[]sent{{opText, append([]byte("4"), big...), true}}, 0, func(r receiver) bool { return !r.deflate }},
		}
		total := 0
		for _, round := range rounds {
			p := Prepare(round.msgs)
			for _, r := range all {
				if round.to == nil || round.to(r) {
					if err := r.c.SendPrepared(p, false); err != nil {
						t.Fatal(err)
					}
				}
			}
			for i, r := range all {
				if round.to != nil && !round.to(r) {
					continue
				}
				for _, want := range round.want {
					op, got, err := r.w.next()
					if err != nil || op != want.op || !bytes.Equal(got, want.data) {
						t.Fatalf("%s: receiver %d (deflate %v): %#x, %d bytes %.20q, %v; want %#x, %d bytes", round.name, i, r.deflate, op, len(got), got, err, want.op, len(want.data))
					}
					if compressed := r.w.head[0]&rsv1Bit != 0; compressed != (r.deflate && want.compressed) {
						t.Fatalf("%s: receiver %d (deflate %v): RSV1 %v", round.name, i, r.deflate, compressed)
					}
				}
			}
			total += round.count
			if n := count(); n != total {
				t.Fatalf("%s: %d compressions so far, want %d (once per message, not per receiver)", round.name, n, total)
			}
		}
	})
}

// A message sent to one connection is compressed when it is written to a
// connection that negotiated permessage-deflate, and not at all for one
// that did not.
func TestSingleSendDeflate(t *testing.T) {
	eachReaderPath(t, Options{PerMessageDeflate: true}, func(t *testing.T, rp readerPath, ts *testServer) {
		ts.rec.closed = make(chan string, 3) // Close reports every connection
		marker := []byte(fmt.Sprintf("<%s %s>", t.Name(), letters(16, 10)))
		count := countDeflates(t, marker)
		msg := append(bytes.Repeat([]byte("single, "), 300), marker...)
		for i, deflate := range []bool{false, true, true} {
			p := rp
			p.deflate = deflate
			w := dialPath(t, ts, p, 0)
			c := receive(t, ts.rec.conns, "no session")
			before := count()
			if err := c.SendMessages([]Message{{Data: msg}}, false); err != nil {
				t.Fatal(err)
			}
			op, got, err := w.next()
			if err != nil || op != opText || !bytes.Equal(got, append([]byte("4"), msg...)) {
				t.Fatalf("receiver %d: %#x, %d bytes, %v", i, op, len(got), err)
			}
			if compressed := w.head[0]&rsv1Bit != 0; compressed != deflate {
				t.Fatalf("receiver %d (deflate %v): RSV1 %v", i, deflate, compressed)
			}
			want := 0
			if deflate {
				want = 1
			}
			if n := count() - before; n != want {
				t.Fatalf("receiver %d (deflate %v): compressed %d times", i, deflate, n)
			}
		}
	})
}

// Concurrent first uses of a broadcast's compressed frame (flushers on
// several CPUs) build it once and all get the same bytes.
func TestFramesDeflatedOnce(t *testing.T) {
	p := Prepare([]Message{{Data: bytes.Repeat([]byte("x"), 5000)}})
	f := p.items[0].Frames
	var builds sync.WaitGroup
	n := 0
	var mu sync.Mutex
	build := func(plain []byte) []byte {
		mu.Lock()
		n++
		mu.Unlock()
		return deflateShared(plain)
	}
	got := make([][]byte, 8)
	for i := range got {
		builds.Go(func() { got[i] = f.Deflated(build) })
	}
	builds.Wait()
	if n != 1 {
		t.Fatalf("built %d times", n)
	}
	for i := range got {
		if &got[i][0] != &got[0][0] {
			t.Fatalf("caller %d got other bytes", i)
		}
	}
	if b0, _, _ := parseServerFrame(t, got[0]); b0 != 0xC1 {
		t.Fatalf("first header byte %#x", b0)
	}
}

// BenchmarkDeflateLevel compares the cost of compressing one message of
// a typical size (a 2 KiB JSON event) at flate.BestSpeed, the level used,
// and flate.DefaultCompression, each with the Reset every message needs
// (no context takeover). It reports the compressed size.
func BenchmarkDeflateLevel(b *testing.B) {
	var sb strings.Builder
	sb.WriteString(`42["update",{"items":[`)
	for i := 0; sb.Len() < 2000; i++ {
		fmt.Fprintf(&sb, `{"id":%d,"name":"item %d","price":%d.%02d,"tags":["a","b%d"]},`, i, i*7, i*13%1000, i%100, i%5)
	}
	sb.WriteString(`{}]}]`)
	msg := []byte(sb.String())
	for _, level := range []int{flate.BestSpeed, flate.DefaultCompression} {
		b.Run(fmt.Sprint("level", level), func(b *testing.B) {
			var out bytes.Buffer
			fw, _ := flate.NewWriter(&out, level)
			b.SetBytes(int64(len(msg)))
			for b.Loop() {
				out.Reset()
				fw.Reset(&out)
				_, _ = fw.Write(msg)
				_ = fw.Flush()
			}
			b.ReportMetric(float64(out.Len()-4), "compressed-bytes")
		})
	}
}

// BenchmarkBroadcastDeflate is the cost per receiver of framing one
// broadcast message of 2 KiB for receivers that negotiated
// permessage-deflate: "shared" as the writers do (the first receiver
// compresses, the others take its frame), "per-receiver" compressing it
// again for every receiver as gorilla's writer did, "plain" for
// receivers without the extension.
func BenchmarkBroadcastDeflate(b *testing.B) {
	const receivers = 100
	data := append(bytes.Repeat([]byte(`{"user":"someone","text":"hello there"},`), 50), letters(64, 5)...)
	sc := getScratch()
	defer putScratch(sc)
	run := func(b *testing.B, frame func(p *Prepared)) {
		for b.Loop() {
			p := Prepare([]Message{{Data: data}})
			for range receivers {
				frame(p)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*receivers), "ns/receiver")
	}
	b.Run("shared", func(b *testing.B) {
		run(b, func(p *Prepared) {
			sc.batch = append(sc.batch[:0], p.items...)
			sc.frameBatch(true)
		})
	})
	b.Run("per-receiver", func(b *testing.B) {
		run(b, func(p *Prepared) {
			it := p.items[0]
			it.Frames = nil
			sc.batch = append(sc.batch[:0], it)
			sc.frameBatch(true)
		})
	})
	b.Run("plain", func(b *testing.B) {
		run(b, func(p *Prepared) {
			sc.batch = append(sc.batch[:0], p.items...)
			sc.frameBatch(false)
		})
	})
}
