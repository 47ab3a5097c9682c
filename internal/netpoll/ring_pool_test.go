//go:build linux && (amd64 || arm64)

package netpoll

import (
	"errors"
	"testing"
)

// The pool keeps at most maxIdleRings released rings and closes the ones
// released beyond that; a ring is handed to one caller at a time, the
// pooled ones newest first, then new ones.
func TestRingPoolBound(t *testing.T) {
	SetRings(false) // an empty pool
	SetRings(true)
	const n = maxIdleRings + 2
	acquire := func() []*Ring {
		var rs []*Ring
		seen := map[*Ring]bool{}
		for range n {
			r := AcquireRing()
			noRings(t, r != nil)
			if seen[r] {
				t.Fatalf("ring %p handed out twice at once", r)
			}
			seen[r] = true
			rs = append(rs, r)
		}
		return rs
	}
	first := acquire()
	fds := make([]int, n)
	for i, r := range first {
		fds[i] = r.fd
		ReleaseRing(r)
	}
	for i, fd := range fds {
		if kept := i < maxIdleRings; open(fd) != kept {
			t.Errorf("ring %d of %d released: descriptor open %v, want %v", i+1, n, !kept, kept)
		}
	}
	again := acquire()
	t.Cleanup(func() {
		for _, r := range again {
			ReleaseRing(r)
		}
	})
	for i, r := range again {
		switch {
		case i < maxIdleRings && r != first[maxIdleRings-1-i]:
			t.Errorf("acquired ring %d is not pooled ring %d", i, maxIdleRings-1-i)
		case i >= maxIdleRings:
			for j, old := range first {
				if r == old {
					t.Errorf("acquired ring %d is ring %d, closed when released past the bound", i, j)
				}
			}
		}
	}
}

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
