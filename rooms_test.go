package socketio

import (
	"testing"
	"time"
)

// OnRoom reports the room changes of the namespace in order, as the
// reference adapter's events: a connection makes and joins the socket's
// own room, Join and Leave a named one, SocketsJoin through the adapter,
// and the disconnection leaves and deletes both.
func TestOnRoomReportsChanges(t *testing.T) {
	srv, url := newTestServer(t, nil)
	events := make(chan RoomEvent, 64)
	srv.OnRoom(func(e RoomEvent) { events <- e })
	srv.OnRoom(func(e RoomEvent) {
		if e.Room == "boom" {
			panic("a bug in a room handler") // contained; the next events still come
		}
	})
	joined := make(chan *Socket, 1)
	srv.OnConnection(func(s *Socket) {
		s.On("enter", func(*Event) {
			s.Join("lobby")
			s.Join("lobby") // already in: no change
			s.Join("boom")
			s.Leave("boom")
		})
		joined <- s
	})
	c := dialRaw(t, url)
	id := c.connect("/")
	s := recvWithin(t, joined)
	c.send(`2["enter"]`)
	expect := func(want ...RoomEvent) {
		t.Helper()
		for _, w := range want {
			if got := recvWithin(t, events); got != w {
				t.Fatalf("got %+v, want %+v", got, w)
			}
		}
	}
	expect(
		RoomEvent{Kind: RoomCreated, Room: id}, RoomEvent{Kind: RoomJoined, Room: id, ID: id},
		RoomEvent{Kind: RoomCreated, Room: "lobby"}, RoomEvent{Kind: RoomJoined, Room: "lobby", ID: id},
		RoomEvent{Kind: RoomCreated, Room: "boom"}, RoomEvent{Kind: RoomJoined, Room: "boom", ID: id},
		RoomEvent{Kind: RoomLeft, Room: "boom", ID: id}, RoomEvent{Kind: RoomDeleted, Room: "boom"},
	)
	if err := srv.In("lobby").SocketsJoin("vip"); err != nil {
		t.Fatal(err)
	}
	expect(RoomEvent{Kind: RoomCreated, Room: "vip"}, RoomEvent{Kind: RoomJoined, Room: "vip", ID: id})
	s.Disconnect(false)
	got := map[RoomEvent]bool{}
	for range 6 { // the order of rooms within one disconnection is the index's
		got[recvWithin(t, events)] = true
	}
	for _, room := range []string{id, "lobby", "vip"} {
		if !got[RoomEvent{Kind: RoomLeft, Room: room, ID: id}] || !got[RoomEvent{Kind: RoomDeleted, Room: room}] {
			t.Fatalf("disconnection: %v, want %s left and deleted", got, room)
		}
	}
	select {
	case e := <-events:
		t.Fatalf("unexpected %+v", e)
	case <-time.After(50 * time.Millisecond):
	}
}
