package socketio

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// The observer counts a binary packet's bytes with its attachments, both
// ways: what the client sends, over several messages, and what a socket
// emits.
func TestObserverBinaryPacketBytes(t *testing.T) {
	rec := &recorder{}
	srv, url := newTestServer(t, &Options{Observer: rec})
	srv.OnConnection(func(s *Socket) {
		s.On("up", func(e *Event) { _ = s.Emit("down", []byte{1, 2, 3}) })
	})
	c := dialRaw(t, url)
	c.connect("/")

	const up = `51-["up",{"_placeholder":true,"num":0}]`
	c.send(up)
	c.sendBinary([]byte{9, 8, 7, 6, 5})
	if got := c.recv(); got != `51-["down",{"_placeholder":true,"num":0}]` {
		t.Fatalf("got %q", got)
	}
	if b := c.recvBinary(); string(b) != "\x01\x02\x03" {
		t.Fatalf("attachment %v", b)
	}
	rec.waitFor(t,
		fmt.Sprintf("in BINARY_EVENT / %d", len(up)+5),
		fmt.Sprintf("out BINARY_EVENT / %d", len(`51-["down",{"_placeholder":true,"num":0}]`)+3))
}

// The observer's room count leaves out each socket's own room, whichever
// way it goes: a socket joining two new rooms adds two; leaving a room
// shared with another socket and one of its own, then its own room, when
// it disconnects, removes one.
func TestObserverRoomsDeltaLeavesOutOwnRoom(t *testing.T) {
	rec := &recorder{}
	srv, url := newTestServer(t, &Options{Observer: rec})
	sockets := make(chan *Socket, 2)
	srv.OnConnection(func(s *Socket) { sockets <- s })
	a := dialRaw(t, url)
	a.connect("/")
	sa := recvWithin(t, sockets)
	sa.Join("shared", "solo")
	b := dialRaw(t, url)
	b.connect("/")
	recvWithin(t, sockets).Join("shared")
	a.send("1")
	got := rec.waitFor(t, "socket gone / client namespace disconnect")
	var rooms []string
	for _, e := range got {
		if strings.HasPrefix(e, "rooms ") {
			rooms = append(rooms, e)
		}
	}
	if want := []string{"rooms / +2", "rooms / -1"}; !slices.Equal(rooms, want) {
		t.Fatalf("heard %q, want %q", rooms, want)
	}
}
