//go:build linux && (amd64 || arm64)

package netpoll

import (
	"errors"
	"testing"
)

// A write the kernel takes only part of (the peer reads nothing and the
// buffers are full before the end) comes back with the count taken and
// ErrWouldBlock; the peer gets exactly those bytes.
func TestRingWritevShortWrite(t *testing.T) {
	r := acquireRing(t)
	ln := listen(t)
	client, srv := pair(t, ln)
	_ = client.SetReadBuffer(64 << 10)
	_ = srv.SetWriteBuffer(64 << 10)
	rec := newRecorder()
	d := take(t, srv, rec)
	big := make([]byte, 16<<20)
	fillPat(big, 0)
	ws := []Write{{D: d, Bufs: [][]byte{big[:1<<20], big[1<<20:]}}}
	r.Writev(ws)
	n := ws[0].N
	if !errors.Is(ws[0].Err, ErrWouldBlock) || n <= 0 || n >= len(big) {
		t.Fatalf("n %d of %d, err %v; want a short count and ErrWouldBlock", n, len(big), ws[0].Err)
	}
	type result struct {
		n, bad int64
		err    error
	}
	done := make(chan result, 1)
	go func() {
		got, bad, err := readPattern(client)
		done <- result{got, bad, err}
	}()
	d.Shutdown()
	res := <-done
	if res.err != nil || res.bad >= 0 || res.n != int64(n) {
		t.Fatalf("peer read %d bytes (want %d), first wrong at %d, err %v", res.n, n, res.bad, res.err)
	}
}
