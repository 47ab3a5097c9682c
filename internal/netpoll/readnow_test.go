//go:build linux

package netpoll

import (
	"syscall"
	"testing"
)

// ReadNow hands what has arrived to the handler before it returns, on the
// calling goroutine (the poller is kept off the input by PauseReads, so
// only ReadNow can have read it); with nothing there it neither calls
// OnData nor ends the connection; it does nothing before Start; and once
// the peer has closed it reads the end too.
func TestReadNow(t *testing.T) {
	ln := listen(t)

	t.Run("input waiting", func(t *testing.T) {
		client, srv := pair(t, ln)
		r := newRecorder()
		d := take(t, srv, r)
		d.PauseReads(true)
		settle(d.p)
		if _, err := client.Write([]byte("early bird")); err != nil {
			t.Fatal(err)
		}
		waitInput(t, d, 10)
		d.ReadNow()
		if got := string(r.bytes()); got != "early bird" {
			t.Fatalf("after ReadNow, OnData got %q, want %q", got, "early bird")
		}
		if r.nClose.Load() != 0 {
			t.Fatalf("OnClose(%v) on a live connection", r.err())
		}
	})

	t.Run("nothing waiting", func(t *testing.T) {
		client, srv := pair(t, ln)
		r := newRecorder()
		d := take(t, srv, r)
		d.ReadNow()
		d.ReadNow()
		settle(d.p)
		if n := r.nData.Load(); n != 0 {
			t.Fatalf("OnData called %d times with nothing sent", n)
		}
		if r.nClose.Load() != 0 {
			t.Fatalf("ReadNow with nothing to read ended the connection: OnClose(%v)", r.err())
		}
		// The connection still works.
		if _, err := client.Write([]byte("x")); err != nil {
			t.Fatal(err)
		}
		if got := string(r.waitBytes(t, 1)); got != "x" {
			t.Fatalf("OnData got %q", got)
		}
	})

	t.Run("before Start", func(t *testing.T) {
		client, srv := pair(t, ln)
		r := newRecorder()
		d := takeOnly(t, srv, r)
		if _, err := client.Write([]byte("wait")); err != nil {
			t.Fatal(err)
		}
		waitInput(t, d, 4)
		d.ReadNow()
		if n := r.nData.Load(); n != 0 {
			t.Fatalf("ReadNow before Start called OnData (%q)", r.bytes())
		}
		waitInput(t, d, 4) // still in the kernel
		if err := d.Start(r); err != nil {
			t.Fatal(err)
		}
		if got := string(r.waitBytes(t, 4)); got != "wait" {
			t.Fatalf("OnData got %q", got)
		}
	})

	t.Run("peer closed", func(t *testing.T) {
		client, srv := pair(t, ln)
		r := newRecorder()
		d := take(t, srv, r)
		d.PauseReads(true)
		settle(d.p)
		if _, err := client.Write([]byte("bye")); err != nil {
			t.Fatal(err)
		}
		waitInput(t, d, 3)
		d.ReadNow()
		if got := string(r.bytes()); got != "bye" {
			t.Fatalf("OnData got %q", got)
		}
		// Closing and reading the end are left to the poller (the hang-up
		// wakes it even with reads paused) or to ReadNow, whichever gets
		// there first; the connection ends once, in order.
		client.Close()
		if err := r.waitClosed(t); err != nil {
			t.Fatalf("OnClose(%v), want nil", err)
		}
		d.ReadNow() // after the close: nothing
		settle(d.p)
		if n, c := r.nData.Load(), r.nClose.Load(); n != 1 || c != 1 {
			t.Fatalf("%d OnData and %d OnClose calls, want 1 and 1", n, c)
		}
	})
}

// A poller that has not served a round yet has no read buffer: ReadNow
// makes it, instead of reading into nothing (a read of zero bytes, which
// would pass for the peer's end). The pollers of the package are shared
// and have served by the time a test can call ReadNow, so this one is made
// here, with a descriptor that is started as far as ReadNow can tell.
func TestReadNowFreshPoller(t *testing.T) {
	ln := listen(t)
	client, srv := pair(t, ln)
	p := ownPoller(t)
	rc, err := srv.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	fd := -1
	_ = rc.Control(func(s uintptr) { fd, err = syscall.Dup(int(s)) })
	if err != nil {
		t.Fatal(err)
	}
	r := newRecorder()
	d := &Desc{p: p, h: r, fd: fd, started: true}
	t.Cleanup(func() {
		d.mu.Lock()
		defer d.mu.Unlock()
		if d.fd >= 0 {
			_ = syscall.Close(d.fd)
		}
	})
	if _, err := client.Write([]byte("first")); err != nil {
		t.Fatal(err)
	}
	waitInput(t, d, 5)
	d.ReadNow()
	if got := string(r.bytes()); got != "first" {
		t.Fatalf("OnData got %q, want %q", got, "first")
	}
	if r.nClose.Load() != 0 {
		t.Fatalf("OnClose(%v) on a live connection", r.err())
	}
}
