//go:build linux && (amd64 || arm64)

package netpoll

import (
	"errors"
	"syscall"
	"testing"
)

// A ring write to a connection the peer has reset reports the kernel's
// error as writev would (ECONNRESET, or EPIPE once that was reported). The
// descriptor is not started, so that no poller read takes the reset first
// and closes it (TestRingWritevReset's race): the first write meets it.
func TestRingWritevAfterReset(t *testing.T) {
	r := acquireRing(t)
	ln := listen(t)
	client, srv := pair(t, ln)
	rec := newRecorder()
	d := takeOnly(t, srv, rec)
	_ = client.SetLinger(0)
	_ = client.Close() // RST
	waitTCPState(t, d, 7, "CLOSE")
	ws := []Write{{D: d, Bufs: [][]byte{[]byte("ping")}}}
	r.Writev(ws)
	if err := ws[0].Err; !errors.Is(err, syscall.ECONNRESET) && !errors.Is(err, syscall.EPIPE) {
		t.Fatalf("ring write after a reset: n %d, err %v; want ECONNRESET or EPIPE", ws[0].N, err)
	}
	if err := d.Start(rec); err != nil {
		t.Fatal(err)
	}
	rec.waitClosed(t)
}
