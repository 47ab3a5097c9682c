package socketio

import (
	"context"
	"regexp"
	"slices"
	"testing"
)

// An emit on a dynamic parent goes to every child namespace, not only to
// the first one.
func TestParentEmitReachesEveryChild(t *testing.T) {
	srv, url := newTestServer(t, nil)
	parent := srv.OfRegexp(regexp.MustCompile(`^/room-\d+$`))
	c := dialRaw(t, url)
	c.connect("/room-1")
	c.connect("/room-2")
	c.connect("/room-3")
	if err := parent.Emit("hi", 1); err != nil {
		t.Fatal(err)
	}
	got := []string{c.recv(), c.recv(), c.recv()}
	slices.Sort(got)
	want := []string{`2/room-1,["hi",1]`, `2/room-2,["hi",1]`, `2/room-3,["hi",1]`}
	if !slices.Equal(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
}

// The operators of a dynamic parent act on the sockets of every child:
// fetching them, making them join and leave rooms, disconnecting them.
func TestParentOperatorsReachEveryChild(t *testing.T) {
	srv, url := newTestServer(t, nil)
	parent := srv.OfRegexp(regexp.MustCompile(`^/room-\d+$`))
	c := dialRaw(t, url)
	for _, nsp := range []string{"/room-1", "/room-2", "/room-3"} {
		c.connect(nsp)
	}
	recvAll := func() []string {
		t.Helper()
		got := []string{c.recv(), c.recv(), c.recv()}
		slices.Sort(got)
		return got
	}
	all := parent.To()
	socks, err := all.FetchSockets(context.Background())
	if err != nil || len(socks) != 3 {
		t.Fatalf("FetchSockets: %d sockets, %v; want 3", len(socks), err)
	}
	if err := all.SocketsJoin("r"); err != nil {
		t.Fatal(err)
	}
	_ = parent.To("r").Emit("in")
	if got, want := recvAll(), []string{`2/room-1,["in"]`, `2/room-2,["in"]`, `2/room-3,["in"]`}; !slices.Equal(got, want) {
		t.Fatalf("after SocketsJoin: %q, want %q", got, want)
	}
	if err := all.SocketsLeave("r"); err != nil {
		t.Fatal(err)
	}
	_ = parent.To("r").Emit("in")
	_ = parent.Emit("mark")
	if got, want := recvAll(), []string{`2/room-1,["mark"]`, `2/room-2,["mark"]`, `2/room-3,["mark"]`}; !slices.Equal(got, want) {
		t.Fatalf("after SocketsLeave: %q, want %q", got, want)
	}
	if err := all.DisconnectSockets(false); err != nil {
		t.Fatal(err)
	}
	if got, want := recvAll(), []string{`1/room-1,`, `1/room-2,`, `1/room-3,`}; !slices.Equal(got, want) {
		t.Fatalf("after DisconnectSockets: %q, want %q", got, want)
	}
}
