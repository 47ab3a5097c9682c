//go:build linux

package netpoll

import (
	"io"
	"net"
	"syscall"
	"testing"
	"time"
)

// freeDescriptor0 makes 0 the lowest free descriptor number until the test
// ends, as in a process started with its standard input closed, where the
// first socket or ring gets it: standard input is moved to another number
// and put back at cleanup (registered first, so it runs after the other
// cleanups have closed what took 0).
func freeDescriptor0(t *testing.T) {
	t.Helper()
	saved, _, e := syscall.Syscall(syscall.SYS_FCNTL, 0, syscall.F_DUPFD_CLOEXEC, 3)
	if e == syscall.EBADF {
		return // already closed in this process
	}
	if e != 0 {
		t.Fatalf("moving descriptor 0: %v", e)
	}
	if err := syscall.Close(0); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if open(0) {
			t.Errorf("descriptor 0 still open at the end of the test")
		}
		if err := syscall.Dup3(int(saved), 0, 0); err != nil {
			t.Errorf("restoring descriptor 0: %v", err)
		}
		_ = syscall.Close(int(saved))
	})
}

// open reports whether descriptor fd is open.
func open(fd int) bool {
	_, _, e := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_GETFD, 0)
	return e != syscall.EBADF
}

// Descriptor 0 is a connection like any other: requests made before Start,
// input, writes (one by one and through a ring), ReadNow, Shutdown and the
// close all reach it; none takes 0 for "closed".
func TestDescriptorZero(t *testing.T) {
	ln := listen(t)
	client, srv := pair(t, ln)
	freeDescriptor0(t)
	r := newRecorder()
	d := takeOnly(t, srv, r)
	if fd := descFd(d); fd != 0 {
		t.Fatalf("Take got descriptor %d, not 0: something else took it", fd)
	}

	d.WaitWritable() // before Start: registered by Start
	if err := d.Start(r); err != nil {
		t.Fatalf("Start: %v", err)
	}
	r.waitWritable(t)

	if _, err := client.Write([]byte("zero")); err != nil {
		t.Fatal(err)
	}
	if got := string(r.waitBytes(t, 4)); got != "zero" {
		t.Fatalf("OnData got %q", got)
	}

	var sc Scratch
	if n, err := d.Writev([][]byte{[]byte("one "), []byte("two")}, &sc); n != 7 || err != nil {
		t.Fatalf("Writev = %d, %v; want 7, nil", n, err)
	}
	expect(t, client, "one two")
	t.Run("ring", func(t *testing.T) {
		ring := acquireRing(t)
		ws := []Write{{D: d, Bufs: [][]byte{[]byte(" three")}}}
		ring.Writev(ws)
		if ws[0].N != 6 || ws[0].Err != nil {
			t.Fatalf("ring write: n %d, err %v; want 6, nil", ws[0].N, ws[0].Err)
		}
		expect(t, client, " three")
	})

	d.PauseReads(true)
	settle(d.p)
	if _, err := client.Write([]byte("now")); err != nil {
		t.Fatal(err)
	}
	waitInput(t, d, 3)
	d.ReadNow()
	if got := string(r.bytes()); got != "zeronow" {
		t.Fatalf("after ReadNow, OnData got %q in all", got)
	}

	d.Shutdown()
	if err := r.waitClosed(t); err != nil {
		t.Fatalf("OnClose(%v) after Shutdown", err)
	}
	_ = client.SetReadDeadline(time.Now().Add(waitTimeout))
	if n, err := client.Read(make([]byte, 1)); n != 0 || err != io.EOF {
		t.Fatalf("client Read after Shutdown = %d, %v; want EOF", n, err)
	}
	if open(0) {
		t.Fatal("descriptor 0 still open after OnClose")
	}
}

// expect reads exactly want from c, or fails.
func expect(t *testing.T, c net.Conn, want string) {
	t.Helper()
	got := make([]byte, len(want))
	_ = c.SetReadDeadline(time.Now().Add(waitTimeout))
	if _, err := io.ReadFull(c, got); err != nil || string(got) != want {
		t.Fatalf("read %q (%v), want %q", got, err, want)
	}
}

// A watched connection on descriptor 0 is armed, reports its input, and
// leaves the poller's set on Stop, so that the poller's goroutine goes.
func TestWatchDescriptorZero(t *testing.T) {
	waitNoPollerGoroutine(t)
	ln := listen(t)
	freeDescriptor0(t)
	// The dialing end's socket is made first: it gets 0.
	client, srv := pair(t, ln)
	rc, err := client.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	fd := -1
	_ = rc.Control(func(s uintptr) { fd = int(s) })
	if fd != 0 {
		t.Fatalf("the client's descriptor is %d, not 0", fd)
	}
	notified := make(chan struct{}, 4)
	w, err := NewWatch(rc, func() { notified <- struct{}{} })
	if err != nil {
		t.Fatal(err)
	}
	if !w.Arm() {
		t.Fatal("Arm on descriptor 0 reported the watch stopped")
	}
	if _, err := srv.Write([]byte("in")); err != nil {
		t.Fatal(err)
	}
	select {
	case <-notified:
	case <-time.After(waitTimeout):
		t.Fatal("no notification for input on descriptor 0")
	}
	expect(t, client, "in")
	if w.Stopped() {
		t.Fatal("Stopped is true for a watch of descriptor 0 never stopped")
	}
	w.Stop()
	if !w.Stopped() {
		t.Fatal("Stopped is false after Stop")
	}
	waitNoPollerGoroutine(t)
	_ = client.Close() // before freeDescriptor0's cleanup checks 0
}

// A ring may get descriptor 0 too; it is closed like any other once it is
// not kept for reuse.
func TestRingDescriptorZero(t *testing.T) {
	SetRings(false) // empty the pool, so that the next ring is a new one
	SetRings(true)
	t.Cleanup(func() { SetRings(true) })
	freeDescriptor0(t)
	r := AcquireRing()
	noRings(t, r != nil)
	if r.fd != 0 {
		ReleaseRing(r)
		t.Fatalf("the ring got descriptor %d, not 0", r.fd)
	}
	SetRings(false) // a ring released now is closed
	ReleaseRing(r)
	if open(0) {
		t.Fatal("the ring's descriptor 0 is still open after it was released with rings off")
	}
}
