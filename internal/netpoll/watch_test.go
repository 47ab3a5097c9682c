//go:build linux

package netpoll

import (
	"io"
	"net"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// watchedPair is a connected pair and the server side's RawConn, to
// watch.
func watchedPair(t *testing.T) (client, srv *net.TCPConn, rc syscall.RawConn) {
	t.Helper()
	client, srv = pair(t, listen(t))
	rc, err := srv.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	return client, srv, rc
}

// watchChecks returns wait, which fails unless w notifies (on notified)
// soon, none, which fails if it has notified once the poller has settled,
// and send, which writes to the watched connection's peer.
func watchChecks(t *testing.T, w *Watch, notified chan struct{}, client net.Conn) (wait, none, send func(string)) {
	wait = func(what string) {
		t.Helper()
		select {
		case <-notified:
		case <-time.After(waitTimeout):
			t.Fatalf("no notification: %s", what)
		}
	}
	none = func(what string) {
		t.Helper()
		settle(w.p)
		if n := len(notified); n != 0 {
			t.Fatalf("%d notifications: %s", n, what)
		}
	}
	send = func(s string) {
		t.Helper()
		if _, err := client.Write([]byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	return wait, none, send
}

// A watch reports input once per Arm, at once when input is waiting, and a
// hang-up; the connection stays Go's to read; after Stop nothing is armed
// and the poller's goroutine goes.
func TestWatch(t *testing.T) {
	client, srv, rc := watchedPair(t)
	notified := make(chan struct{}, 8)
	w, err := NewWatch(rc, func() { notified <- struct{}{} })
	if err != nil {
		t.Fatal(err)
	}
	wait, none, send := watchChecks(t, w, notified, client)
	read := func(want string) {
		t.Helper()
		_ = srv.SetReadDeadline(time.Now().Add(waitTimeout))
		b := make([]byte, len(want))
		if _, err := io.ReadFull(srv, b); err != nil || string(b) != want {
			t.Fatalf("read %q, %v; want %q", b, err, want)
		}
	}

	send("a")
	none("input before the first Arm")
	if !w.Arm() {
		t.Fatal("Arm: stopped")
	}
	wait("armed with input waiting")
	send("b")
	none("more input, not armed again")
	read("ab")

	if !w.Arm() {
		t.Fatal("Arm: stopped")
	}
	none("armed with nothing waiting")
	send("c")
	wait("input after Arm")
	read("c")

	if !w.Arm() {
		t.Fatal("Arm: stopped")
	}
	_ = client.Close()
	wait("hang-up")

	w.Stop()
	w.Stop() // idempotent
	if !w.Stopped() {
		t.Fatal("Stopped is false after Stop")
	}
	if w.Arm() {
		t.Fatal("Arm after Stop reported true")
	}
	_ = srv.Close()
	waitNoPollerGoroutine(t)
}

// An edge watch, once armed, reports every arrival of input and a
// hang-up without being armed again, including input that is still
// unread; input waiting when it is first armed is reported at once; later
// Arms change nothing; after Stop nothing is reported.
func TestEdgeWatch(t *testing.T) {
	client, srv, rc := watchedPair(t)
	notified := make(chan struct{}, 8)
	var hangUps atomic.Int32
	w, err := NewEdgeWatch(rc, func(hangUp bool) {
		if hangUp {
			hangUps.Add(1)
		}
		notified <- struct{}{}
	})
	if err != nil {
		t.Fatal(err)
	}
	wait, none, send := watchChecks(t, w, notified, client)

	send("a")
	none("input before the first Arm")
	if !w.Arm() {
		t.Fatal("Arm: stopped")
	}
	wait("armed with input waiting")
	none("the same input, unread")
	send("b")
	wait("more input, not armed again and the first still unread")
	if !w.Arm() {
		t.Fatal("Arm: stopped")
	}
	none("a second Arm")
	_ = srv.SetReadDeadline(time.Now().Add(waitTimeout))
	b := make([]byte, 2)
	if _, err := io.ReadFull(srv, b); err != nil || string(b) != "ab" {
		t.Fatalf("read %q, %v", b, err)
	}
	send("c")
	wait("input after a read")
	if n := hangUps.Load(); n != 0 {
		t.Fatalf("%d hang-ups reported with input", n)
	}
	_ = client.Close()
	wait("hang-up")
	// The FIN may wake the socket's waiters twice (its state change and
	// its end of data), and an edge watch reports each wake: a hang-up
	// is told at least once, and its receiver keeps it as a flag.
	if n := hangUps.Load(); n < 1 {
		t.Fatalf("the hang-up reported as %d hang-ups, want at least 1", n)
	}

	settle(w.p)
	for len(notified) > 0 { // a second report of the hang-up
		<-notified
	}
	w.Stop()
	if w.Arm() {
		t.Fatal("Arm after Stop reported true")
	}
	// Not settle: serving the poller's events here would take the wake
	// with which Stop tells its goroutine to end.
	time.Sleep(20 * time.Millisecond)
	if n := len(notified); n != 0 {
		t.Fatalf("%d notifications after Stop", n)
	}
	_ = srv.Close()
	waitNoPollerGoroutine(t)
}
