//go:build linux

package netpoll

import (
	"errors"
	"net"
	"syscall"
	"testing"
)

// Take of a connection that is already closed fails with net.ErrClosed.
func TestTakeClosedConn(t *testing.T) {
	ln := listen(t)
	_, srv := pair(t, ln)
	_ = srv.Close()
	if d, err := Take(srv); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Take of a closed connection = %v, %v; want net.ErrClosed", d, err)
	}
}

// When the kernel refuses to watch a descriptor, Start reports its error
// and closes the descriptor; the Desc is closed from then on (writes get
// ErrClosed, a second Start too) and its handler is never called. A TCP
// socket is always accepted, so the Desc's descriptor is swapped here for
// one epoll refuses (/dev/null: EPERM).
func TestStartRefused(t *testing.T) {
	ln := listen(t)
	_, srv := pair(t, ln)
	d, err := Take(srv)
	if err != nil {
		t.Fatal(err)
	}
	sock := descFd(d)
	t.Cleanup(func() { _ = syscall.Close(sock) })
	null, err := syscall.Open("/dev/null", syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	d.mu.Lock()
	d.fd = null
	d.mu.Unlock()

	r := newRecorder()
	if err := d.Start(r); !errors.Is(err, syscall.EPERM) {
		t.Fatalf("Start = %v, want EPERM", err)
	}
	if open(null) {
		_ = syscall.Close(null)
		t.Fatal("the refused descriptor was left open")
	}
	var sc Scratch
	if n, err := d.Writev([][]byte{[]byte("x")}, &sc); n != 0 || !errors.Is(err, ErrClosed) {
		t.Fatalf("Writev after a refused Start = %d, %v; want 0, ErrClosed", n, err)
	}
	if err := d.Start(r); !errors.Is(err, ErrClosed) {
		t.Fatalf("Start again = %v, want ErrClosed", err)
	}
	d.Shutdown()
	d.ReadNow()
	d.WaitWritable()
	if n := r.nData.Load() + r.nWritable.Load() + r.nClose.Load(); n != 0 {
		t.Fatalf("the handler of a refused Start was called %d times", n)
	}
}

// NewWatch of a connection that is already closed fails with
// net.ErrClosed.
func TestNewWatchClosedConn(t *testing.T) {
	ln := listen(t)
	_, srv := pair(t, ln)
	rc, err := srv.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	_ = srv.Close()
	if w, err := NewWatch(rc, func() {}); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("NewWatch of a closed connection = %v, %v; want net.ErrClosed", w, err)
	}
}
