//go:build linux

package netpoll

import (
	"net"
	"syscall"
	"testing"
)

// When PollNow serves the end of a poller's last connection, the poller's
// goroutine, parked until its epoll set has events, would not learn that
// nothing is left (PollNow took the events), so PollNow wakes it through
// the poller's eventfd; it does not while connections remain.
// TestPollNowLastCloseStopsLoop shows the outcome, but there Go's runtime
// may wake the loop itself before PollNow takes the hang-up; here the test
// plays the loop (a poller of its own, marked running, with none running)
// and looks at the eventfd.
func TestPollNowWakesLoopAfterLastClose(t *testing.T) {
	p := ownPoller(t)
	if _, err := pick(0); err != nil { // the package's pollers exist: none replaces p below
		t.Fatal(err)
	}
	prev := started.Load()
	started.Store(&[]*poller{p})
	t.Cleanup(func() { started.Store(prev) })
	p.mu.Lock()
	p.running = true // Start then starts no goroutine
	p.mu.Unlock()

	ln := listen(t)
	var clients []*recorder
	for range 2 {
		client, srv := pair(t, ln)
		d, r := startOn(t, p, srv)
		_ = client.Close()
		waitPeerFin(t, d)
		clients = append(clients, r)
	}
	woken := func() bool {
		var b [8]byte
		n, _ := syscall.Read(p.wakeFd, b[:])
		return n == 8
	}

	// Both ends are served by one PollNow: then nothing is left.
	PollNow()
	for i, r := range clients {
		if n := r.nClose.Load(); n != 1 {
			t.Fatalf("connection %d: OnClose called %d times by PollNow", i, n)
		}
	}
	if !woken() {
		t.Fatal("PollNow served the last connections and did not wake the loop")
	}
	PollNow() // nothing ready: nothing to wake for
	if woken() {
		t.Fatal("PollNow with nothing ready woke the loop")
	}

	// A poller with a connection left is not woken.
	client, srv := pair(t, ln)
	d, r := startOn(t, p, srv)
	t.Cleanup(func() {
		d.Shutdown()
		settle(p)
		if r.nClose.Load() != 1 {
			t.Error("cleanup: OnClose not called")
		}
	})
	if _, err := client.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	waitInput(t, d, 1)
	PollNow()
	if got := string(r.bytes()); got != "x" {
		t.Fatalf("PollNow delivered %q", got)
	}
	if woken() {
		t.Fatal("PollNow woke the loop of a poller with a connection left")
	}
}

// ownPoller makes a poller apart from the package's shared ones, closed
// when the test ends; nothing runs its loop unless the test does.
func ownPoller(t *testing.T) *poller {
	t.Helper()
	p, err := newPoller()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = p.file.Close()
		_ = syscall.Close(p.wakeFd)
	})
	return p
}

// startOn takes conn and starts it on poller p with a new recorder.
func startOn(t *testing.T, p *poller, conn *net.TCPConn) (*Desc, *recorder) {
	t.Helper()
	d, err := Take(conn)
	if err != nil {
		t.Fatal(err)
	}
	d.p = p
	r := newRecorder()
	if err := d.Start(r); err != nil {
		t.Fatal(err)
	}
	return d, r
}
