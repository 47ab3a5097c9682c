//go:build !linux || !(amd64 || arm64)

package netpoll

// Ring batches writes with io_uring on 64-bit Linux; here there is none.
type Ring struct{}

// Write is one descriptor's part of a batch.
type Write struct {
	D    *Desc
	W    *Watch // used when set, instead of D
	Bufs [][]byte
	N    int
	Err  error
}

// AcquireRing returns nil: no io_uring here.
func AcquireRing() *Ring { return nil }

// ReleaseRing does nothing here.
func ReleaseRing(*Ring) {}

// SetRings does nothing here.
func SetRings(bool) {}

// Writev is never called: AcquireRing returns no ring.
func (r *Ring) Writev(ws []Write) {}
