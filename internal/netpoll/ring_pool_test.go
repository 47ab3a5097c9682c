//go:build linux && (amd64 || arm64)

package netpoll

import "testing"

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
