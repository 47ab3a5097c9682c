package engineio

import (
	"bytes"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"reflect"
	"strings"
	"testing"
)

// The ClientHello splitter under the front's tls.Conn (tlshello.go): a
// handshake through it is the same handshake, crypto/tls reads the hello
// in pieces small enough that its input buffer stays at its first size
// and sized so that its handshake buffer ends at the least capacity that
// holds the hello, the splitter steps aside after the first record, and
// any other input passes as it came.

// readSizes records the size of each read through it, and the size of
// the first record (its header's length, plus the header).
type readSizes struct {
	net.Conn
	sizes []int
	head  []byte
	first int
}

func (c *readSizes) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.sizes = append(c.sizes, n)
	}
	if len(c.head) < tlsRecordHeader {
		c.head = append(c.head, p[:min(n, tlsRecordHeader-len(c.head))]...)
		if len(c.head) == tlsRecordHeader {
			c.first = tlsRecordHeader + int(c.head[3])<<8 | int(c.head[4])
		}
	}
	return n, err
}

// tlsBuffers is the capacity of a tls.Conn's input buffer (rawInput) and
// handshake buffer (hand), which the splitter is there to keep small:
// crypto/tls's unexported fields, read with reflect. A Go release that
// renames them fails here; the splitter's sizes must then be measured
// again.
func tlsBuffers(t *testing.T, c *tls.Conn) (rawInput, hand int) {
	t.Helper()
	v := reflect.ValueOf(c).Elem()
	capOf := func(name string) int {
		f := v.FieldByName(name)
		if !f.IsValid() || f.Type() != reflect.TypeFor[bytes.Buffer]() {
			t.Fatalf("tls.Conn has no bytes.Buffer %s any more: measure the ClientHello splitter (tlshello.go) again", name)
		}
		b := f.FieldByName("buf")
		if !b.IsValid() || b.Kind() != reflect.Slice {
			t.Fatalf("bytes.Buffer has no buf slice any more")
		}
		return b.Cap()
	}
	return capOf("rawInput"), capOf("hand")
}

// handCapacity is the capacity of a bytes.Buffer after m bytes were
// written to it in pieces of piece bytes.
func handCapacity(m, piece int) int {
	var b bytes.Buffer
	p := make([]byte, piece)
	for b.Len() < m {
		b.Write(p[:min(piece, m-b.Len())])
	}
	return b.Cap()
}

// pieceFor gives the least capacity any piece size up to maxPiece gives
// (by trying each), for hello sizes around the size classes and those of
// current clients: Go's with a post-quantum key share (1,498 bytes),
// without (266), TLS 1.2 (222), and a browser's (about 1.8 KB).
func TestPieceFor(t *testing.T) {
	sizes := []int{1, 63, 64, 65, 222, 266, 571, 572, 600, 1000, 1024, 1025, 1100, 1300, 1498, 1536, 1537, 1700, 1792, 1793, 1850, 2000, 2048, 2049, 2500, 3000, 4096, 5000, 9000, tlsMaxPlaintext}
	for _, m := range sizes {
		got := pieceFor(m)
		if got < 1 || got > maxPiece {
			t.Errorf("pieceFor(%d) = %d, want within [1, %d]", m, got, maxPiece)
			continue
		}
		least := 0
		for p := 1; p <= maxPiece; p++ {
			if c := handCapacity(m, p); least == 0 || c < least {
				least = c
			}
		}
		if c := handCapacity(m, got); c != least {
			t.Errorf("pieceFor(%d) = %d: capacity %d, want the least, %d", m, got, c, least)
		}
		if m <= maxPiece {
			if got != m {
				t.Errorf("pieceFor(%d) = %d, want %d: a hello that fits a piece passes whole", m, got, m)
			}
			continue
		}
		// Of the sizes that give the least, the largest: fewest records.
		for q := got + 1; q <= maxPiece; q++ {
			if handCapacity(m, q) == least {
				t.Errorf("pieceFor(%d) = %d, but %d gives the same capacity in fewer records", m, got, q)
				break
			}
		}
	}
}

func TestHelloSplitterHandshake(t *testing.T) {
	cert, pool := testCertificate(t)
	for _, tc := range []struct {
		name   string
		client *tls.Config
	}{
		{"post-quantum key share", &tls.Config{}}, // X25519MLKEM768: a hello of about 1.5 KB
		{"classic key share", &tls.Config{CurvePreferences: []tls.CurveID{tls.X25519}}},
		{"TLS 1.2", &tls.Config{MaxVersion: tls.VersionTLS12}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cc, sc := tcpPair(t)
			sizes := &readSizes{Conn: sc}
			split := newHelloSplitter(sizes)
			server := tls.Server(split, &tls.Config{Certificates: []tls.Certificate{*cert}})
			cfg := tc.client.Clone()
			cfg.RootCAs, cfg.ServerName = pool, "127.0.0.1"
			client := tls.Client(cc, cfg)
			done := make(chan error, 1)
			go func() {
				if err := client.Handshake(); err != nil {
					done <- err
					return
				}
				_, err := client.Write([]byte("ping"))
				done <- err
			}()
			if err := server.Handshake(); err != nil {
				t.Fatalf("server handshake: %v", err)
			}
			got := make([]byte, 4)
			if _, err := io.ReadFull(server, got); err != nil || string(got) != "ping" {
				t.Fatalf("read %q, %v; want ping", got, err)
			}
			if err := <-done; err != nil {
				t.Fatalf("client: %v", err)
			}
			if _, err := server.Write([]byte("pong")); err != nil {
				t.Fatal(err)
			}
			if _, err := io.ReadFull(client, got); err != nil || string(got) != "pong" {
				t.Fatalf("client read %q, %v; want pong", got, err)
			}
			if split.first != nil {
				t.Error("the splitter still holds its first-record state after the handshake")
			}
			// crypto/tls's buffers are what the splitter meant them to
			// be: rawInput at its first size, hand at the capacity that
			// pieces of pieceFor's size give (TestPieceFor: the least).
			m := sizes.first - tlsRecordHeader
			rawInput, hand := tlsBuffers(t, server)
			if rawInput != firstReadSize {
				t.Errorf("crypto/tls's input buffer: capacity %d, want %d (reads %v)", rawInput, firstReadSize, sizes.sizes)
			}
			if want := handCapacity(m, pieceFor(m)); hand != want {
				t.Errorf("crypto/tls's handshake buffer after a %d-byte hello: capacity %d, want %d", m, hand, want)
			}
			if got := state(server).Version; tc.client.MaxVersion != 0 && got != tc.client.MaxVersion {
				t.Errorf("negotiated version %x, want %x", got, tc.client.MaxVersion)
			}
		})
	}
}

func state(c *tls.Conn) tls.ConnectionState { return c.ConnectionState() }

// tcpPair is a connected loopback TCP pair, closed when the test ends.
func tcpPair(t testing.TB) (client, server net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server = <-accepted
	if server == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { client.Close(); server.Close() })
	return client, server
}

// inputConn reads its input in reads of at most chunk bytes.
type inputConn struct {
	net.Conn
	in    []byte
	chunk int
}

func (c *inputConn) Read(p []byte) (int, error) {
	if len(c.in) == 0 {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), c.chunk)], c.in)
	c.in = c.in[n:]
	return n, nil
}

// splitAll is what a reader gets through a splitter over in, read in
// reads of chunk bytes, and the error that ended it (nil at EOF).
func splitAll(in []byte, chunk, readSize int) ([]byte, error) {
	s := newHelloSplitter(&inputConn{in: in, chunk: chunk})
	var out []byte
	p := make([]byte, readSize)
	for {
		n, err := s.Read(p)
		out = append(out, p[:n]...)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
	}
}

func record(typ byte, version uint16, body string) []byte {
	return append([]byte{typ, byte(version >> 8), byte(version), byte(len(body) >> 8), byte(len(body))}, body...)
}

// cutAll is body in records of pieceFor's size.
func cutAll(typ byte, version uint16, body string) []byte {
	var out []byte
	piece := pieceFor(len(body))
	for len(body) > 0 {
		k := min(len(body), piece)
		out = append(out, record(typ, version, body[:k])...)
		body = body[k:]
	}
	return out
}

// A header that came alone is looked at without reading more: input
// that is not TLS reaches crypto/tls, which refuses it, even while its
// client waits for an answer. (The client writes the rest only after the
// first read returned, so a splitter that read on would get it in that
// read, or wait for it.)
func TestHelloSplitterDoesNotReadPastAHeader(t *testing.T) {
	cc, sc := net.Pipe()
	defer cc.Close()
	defer sc.Close()
	go func() {
		_, _ = cc.Write([]byte("GET /"))
		_, _ = cc.Write([]byte(" HTTP/1.1\r\n"))
	}()
	p := make([]byte, 512)
	n, err := newHelloSplitter(sc).Read(p)
	if err != nil || string(p[:n]) != "GET /" {
		t.Fatalf("read %q, %v; want GET / alone", p[:n], err)
	}
}

func TestHelloSplitterInput(t *testing.T) {
	hello := strings.Repeat("h", 1498) // Go's, with a post-quantum key share
	pieces := cutAll(22, 0x0301, hello)
	if n := (len(pieces) - len(hello)) / tlsRecordHeader; n < 2 {
		t.Fatalf("a %d-byte hello in %d pieces, want it cut", len(hello), n)
	}
	small := strings.Repeat("h", 150)
	ccs := record(20, 0x0303, "\x01")
	for _, tc := range []struct {
		name     string
		in, want []byte
		err      error
	}{
		{"a hello record, cut", record(22, 0x0301, hello), pieces, nil},
		{"a hello record and what followed it", append(record(22, 0x0301, hello), ccs...), append(pieces, ccs...), nil},
		{"a short record, whole", record(22, 0x0303, "abc"), record(22, 0x0303, "abc"), nil},
		{"a hello that fits a piece, whole", record(22, 0x0301, small), record(22, 0x0301, small), nil},
		{"an HTTP request", []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), nil},
		{"an alert", record(21, 0x0303, "\x02\x28"), record(21, 0x0303, "\x02\x28"), nil},
		{"an empty handshake record", record(22, 0x0303, ""), record(22, 0x0303, ""), nil},
		{"an oversized record", record(22, 0x0303, strings.Repeat("x", tlsMaxPlaintext+1)), record(22, 0x0303, strings.Repeat("x", tlsMaxPlaintext+1)), nil},
		{"a record at the plaintext limit, cut", record(22, 0x0303, strings.Repeat("x", tlsMaxPlaintext)), cutAll(22, 0x0303, strings.Repeat("x", tlsMaxPlaintext)), nil},
		{"part of a header", []byte{22, 3}, []byte{22, 3}, nil},
		{"a record cut short", record(22, 0x0301, hello)[:100], nil, io.ErrUnexpectedEOF},
		{"nothing", nil, nil, nil},
	} {
		for _, chunk := range []int{1, 7, 4096} {
			got, err := splitAll(tc.in, chunk, 512)
			if !errors.Is(err, tc.err) || !bytes.Equal(got, tc.want) {
				t.Errorf("%s, reads of %d: got %q, %v; want %q, %v", tc.name, chunk, got, err, tc.want, tc.err)
			}
		}
	}
	// A reader with a small buffer gets the same bytes.
	if got, err := splitAll(record(22, 0x0301, hello), 4096, 3); err != nil || !bytes.Equal(got, pieces) {
		t.Errorf("reads of 3 bytes: got %q, %v; want %q", got, err, pieces)
	}
}

// FuzzHelloSplitter: whatever comes in, the records that come out hold
// the first record's payload in order, in pieces of pieceFor's size (the
// last one smaller) with its type and version, and the rest of the input follows
// unchanged; input that is not a record to split comes out unchanged.
func FuzzHelloSplitter(f *testing.F) {
	f.Add(record(22, 0x0301, strings.Repeat("h", 150)), uint8(7))
	f.Add(append(record(22, 0x0303, "abc"), record(23, 0x0303, "data")...), uint8(1))
	f.Add([]byte("GET / HTTP/1.1\r\n\r\n"), uint8(0))
	f.Fuzz(func(t *testing.T, in []byte, chunk uint8) {
		got, err := splitAll(in, int(chunk)+1, 512)
		if len(in) < tlsRecordHeader {
			if err != nil || !bytes.Equal(got, in) {
				t.Fatalf("short input: got %q, %v", got, err)
			}
			return
		}
		size := int(in[3])<<8 | int(in[4])
		if in[0] != tlsRecordHandshake || size == 0 || size > tlsMaxPlaintext {
			if err != nil || !bytes.Equal(got, in) {
				t.Fatalf("input not to split: got %q, %v", got, err)
			}
			return
		}
		if len(in) < tlsRecordHeader+size {
			if !errors.Is(err, io.ErrUnexpectedEOF) || len(got) != 0 {
				t.Fatalf("record cut short: got %q, %v", got, err)
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		var body []byte
		piece := pieceFor(size)
		for len(body) < size {
			if len(got) < tlsRecordHeader {
				t.Fatalf("pieces end after %d of %d bytes", len(body), size)
			}
			n := int(got[3])<<8 | int(got[4])
			if !bytes.Equal(got[:3], in[:3]) || n != min(piece, size-len(body)) || len(got) < tlsRecordHeader+n {
				t.Fatalf("piece header % x (payload %d)", got[:5], n)
			}
			body = append(body, got[tlsRecordHeader:tlsRecordHeader+n]...)
			got = got[tlsRecordHeader+n:]
		}
		if !bytes.Equal(body, in[tlsRecordHeader:tlsRecordHeader+size]) || !bytes.Equal(got, in[tlsRecordHeader+size:]) {
			t.Fatalf("payload or what follows changed")
		}
	})
}

// BenchmarkTLSServerHandshake is a server's TLS 1.3 handshake with the
// hello whole and through the splitter: the splitter's cost per
// handshake.
func BenchmarkTLSServerHandshake(b *testing.B) {
	cert, pool := testCertificate(b)
	for _, split := range []bool{false, true} {
		name := "whole"
		if split {
			name = "split"
		}
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				cc, sc := net.Pipe()
				var conn net.Conn = sc
				if split {
					conn = newHelloSplitter(sc)
				}
				server := tls.Server(conn, &tls.Config{Certificates: []tls.Certificate{*cert}})
				client := tls.Client(cc, &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"})
				done := make(chan error, 1)
				go func() { done <- client.Handshake() }()
				if err := server.Handshake(); err != nil {
					b.Fatal(err)
				}
				if err := <-done; err != nil {
					b.Fatal(err)
				}
				cc.Close()
				sc.Close()
			}
		})
	}
}
