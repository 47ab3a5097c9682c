package engineio

import (
	"bytes"
	"fmt"
	"net"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// countingListener counts the writes made on its connections.
type countingListener struct {
	net.Listener
	writes atomic.Int64
}

func (l *countingListener) Accept() (net.Conn, error) {
	nc, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &countingConn{Conn: nc, writes: &l.writes}, nil
}

type countingConn struct {
	net.Conn
	writes *atomic.Int64
}

func (c *countingConn) Write(b []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(b)
}

// Over TLS (no writev), a batch of small frames goes out as one record
// and one write, not a record per frame header and per payload; a
// message larger than a record goes out as it is; everything arrives
// whole and in order.
func TestTLSBatchIsOneWrite(t *testing.T) {
	rec := newRecorder(false)
	eng := NewServer(&Options{PingInterval: time.Hour}, func(c *Conn) Handler {
		rec.conns <- c
		return rec
	})
	hs := httptest.NewUnstartedServer(eng)
	cl := &countingListener{Listener: hs.Listener}
	hs.Listener = cl
	hs.StartTLS()
	t.Cleanup(func() {
		_ = eng.Close()
		hs.Close()
	})
	ts := &testServer{Server: hs, eng: eng, rec: rec}
	w := dialPath(t, ts, readerPath{name: "tls", tls: true}, 0)
	c := receive(t, rec.conns, "no session")

	expect := func(want []Message) {
		t.Helper()
		for i, m := range want {
			op, p, err := w.next()
			wantOp, wantP := byte(opText), append([]byte("4"), m.Data...)
			if m.Binary {
				wantOp, wantP = opBinary, m.Data
			}
			if err != nil || op != wantOp || !bytes.Equal(p, wantP) {
				t.Fatalf("message %d: %#x %.40q %v, want %#x %.40q", i, op, p, err, wantOp, wantP)
			}
		}
	}
	// crypto/tls sizes its first records after a TCP segment and grows
	// them until 128 KiB have been sent (dynamic record sizing): past
	// that, each Write of up to 16 KiB is one record and one write.
	warm := []Message{{Data: bytes.Repeat([]byte("w"), 130<<10)}}
	if err := c.SendMessages(warm, false); err != nil {
		t.Fatal(err)
	}
	expect(warm)

	// 60 messages of 200 bytes, text and binary: 12 KiB of frames, under
	// one record's 16 KiB. The writer starts after the push, so they are
	// one batch.
	var small []Message
	for i := range 60 {
		small = append(small, Message{Data: fmt.Appendf(nil, "%03d%s", i, bytes.Repeat([]byte{'a' + byte(i%26)}, 197)), Binary: i%3 == 0})
	}
	before := cl.writes.Load()
	if err := c.SendMessages(small, false); err != nil {
		t.Fatal(err)
	}
	expect(small)
	if n := cl.writes.Load() - before; n != 1 {
		t.Errorf("60 small messages took %d writes, want 1", n)
	}

	// Exactly one record: binary frames of 1,000 and 15,376 bytes, each
	// with a 4-byte header, make 16,384 bytes: one write.
	exact := []Message{
		{Data: bytes.Repeat([]byte{1}, 1000), Binary: true},
		{Data: bytes.Repeat([]byte{2}, joinMax-1000-8), Binary: true},
	}
	before = cl.writes.Load()
	if err := c.SendMessages(exact, false); err != nil {
		t.Fatal(err)
	}
	expect(exact)
	if n := cl.writes.Load() - before; n != 1 {
		t.Errorf("16,384 bytes of frames took %d writes, want 1", n)
	}

	// Around the record size: 8 KiB, 20 KiB (larger than a record),
	// 8 KiB twice more.
	big := []Message{
		{Data: bytes.Repeat([]byte("b"), 8<<10)},
		{Data: bytes.Repeat([]byte("c"), 20<<10)},
		{Data: bytes.Repeat([]byte("d"), 8<<10)},
		{Data: bytes.Repeat([]byte("e"), 8<<10)},
	}
	before = cl.writes.Load()
	if err := c.SendMessages(big, false); err != nil {
		t.Fatal(err)
	}
	expect(big)
	// The 8 KiB message's header and payload and the 20 KiB one's
	// header: one write; the 20 KiB payload on its own, two records;
	// the last two 8 KiB messages with their headers pass 16 KiB by 10
	// bytes: two writes. 1 + 2 + 2.
	if n := cl.writes.Load() - before; n != 5 {
		t.Errorf("8, 20, 8 and 8 KiB took %d writes, want 5", n)
	}
}
