//go:build linux && (amd64 || arm64)

package netpoll

import "testing"

// A ring maps the few pages the kernel lays its queues out in, not more
// address space: up to maxIdleRings of them are kept mapped for reuse.
// (Recent kernels accept a mapping larger than the queues and leave the
// rest unbacked, so a size computed wrong upwards would go unnoticed.)
func TestRingMapsItsQueuesOnly(t *testing.T) {
	r := acquireRing(t)
	total := 0
	for _, m := range r.mem {
		total += len(m)
	}
	// 64 entries: under 3 KB of queues, 4 KB of submission entries.
	if total == 0 || total > 64<<10 {
		t.Fatalf("the ring maps %d bytes, want a few pages", total)
	}
}
