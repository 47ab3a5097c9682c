package socketio

import (
	"strings"
	"sync/atomic"
	"testing"
)

// A broadcast skips a socket whose disconnection has begun, as the
// reference server's leaves the rooms within the disconnection: here the
// socket is disconnected while its connection handler still runs (its
// rooms are left only once the handler returns), and a broadcast then
// reaches nobody. The client sees the DISCONNECT, then nothing before the
// answer to its next CONNECT on the same connection.
func TestBroadcastSkipsALeavingSocket(t *testing.T) {
	rec := &recorder{}
	srv, url := newTestServer(t, &Options{Observer: rec})
	held, release := make(chan *Socket, 1), make(chan struct{})
	var first atomic.Bool
	first.Store(true)
	srv.OnConnection(func(s *Socket) {
		if first.CompareAndSwap(true, false) {
			held <- s
			<-release
		}
	})
	c := dialRaw(t, url)
	c.connect("/")
	s := <-held
	s.Disconnect(false)
	if err := srv.Emit("late"); err != nil {
		t.Fatal(err)
	}
	close(release)
	if got := c.recv(); got != "1" {
		t.Fatalf("after the disconnection: %q, want the DISCONNECT", got)
	}
	c.connect("/") // the frames come in order: "late" would be before its answer
	for _, e := range rec.take() {
		if strings.HasPrefix(e, "broadcast") {
			t.Errorf("a broadcast was delivered: %s", e)
		}
	}
}
