package adapter_test

import (
	"slices"
	"testing"

	"github.com/switchboard-go/socketio/adapter"
)

// A socket's own room is kept apart from the other rooms (memory.go), and
// must still behave as a room like any other: others can join it, its
// socket can leave it, and it is listed, selected, excluded and reported
// to the observer as other rooms are.
func TestOwnRoomIsARoomLikeAnyOther(t *testing.T) {
	h := &callsHost{}
	a := adapter.NewInMemory(h)
	a.AddAll("a", []string{"a"})
	a.AddAll("b", []string{"b", "a"}) // b joins a's own room
	a.AddAll("c", []string{"c"})

	sockets := func(opts adapter.Options) []string {
		out := a.Sockets(opts.Rooms)
		slices.Sort(out)
		return out
	}
	sorted := func(s []string) []string { s = slices.Clone(s); slices.Sort(s); return s }

	if got := sockets(adapter.Options{Rooms: []string{"a"}}); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("room a holds %q, want a and b", got)
	}
	if got := sockets(adapter.Options{Rooms: []string{"a", "b", "c"}}); !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Errorf("rooms a, b, c hold %q, want each socket once", got)
	}
	if got := sorted(a.Rooms()); !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Errorf("Rooms() = %q, want each room once", got)
	}
	if got := sorted(a.SocketRooms("b")); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("b's rooms = %q", got)
	}

	// Broadcasts: to a room, and to everyone except an own room.
	h.n = 0
	_ = a.Broadcast(eventPacket(t, "e"), adapter.Options{Rooms: []string{"a"}})
	if h.n != 2 {
		t.Errorf("a broadcast to room a reached %d sockets, want 2", h.n)
	}
	h.n = 0
	_ = a.Broadcast(eventPacket(t, "e"), adapter.Options{Except: []string{"a"}})
	if h.n != 1 {
		t.Errorf("a broadcast to all but room a reached %d sockets, want 1 (c)", h.n)
	}
	h.n = 0
	_ = a.Broadcast(eventPacket(t, "e"), adapter.Options{Except: []string{"c"}})
	if h.n != 2 {
		t.Errorf("a broadcast to all but room c reached %d sockets, want 2", h.n)
	}

	// a leaves its own room: b stays in it, so the room stays.
	h.calls = nil
	a.Del("a", "a")
	if got := sockets(adapter.Options{Rooms: []string{"a"}}); !slices.Equal(got, []string{"b"}) {
		t.Errorf("after a left, room a holds %q, want b", got)
	}
	wantChanges(t, h, "a leaves its own room", adapter.RoomChange{Kind: adapter.RoomLeft, Room: "a", ID: "a"})
	h.n = 0
	_ = a.Broadcast(eventPacket(t, "e"), adapter.Options{Except: []string{"a"}})
	if h.n != 2 {
		t.Errorf("after a left its room, a broadcast to all but room a reached %d sockets, want 2 (a, c)", h.n)
	}

	// b leaves it too: now it is gone, though socket a is still there.
	a.Del("b", "a")
	wantChanges(t, h, "b leaves room a",
		adapter.RoomChange{Kind: adapter.RoomLeft, Room: "a", ID: "b"},
		adapter.RoomChange{Kind: adapter.RoomDeleted, Room: "a"})
	if got := sorted(a.Rooms()); !slices.Equal(got, []string{"b", "c"}) {
		t.Errorf("Rooms() = %q, want b and c", got)
	}
	if got := sockets(adapter.Options{}); !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Errorf("every socket: %q", got)
	}

	// a joins its own room again: created anew.
	a.AddAll("a", []string{"a"})
	wantChanges(t, h, "a joins its own room again",
		adapter.RoomChange{Kind: adapter.RoomCreated, Room: "a"},
		adapter.RoomChange{Kind: adapter.RoomJoined, Room: "a", ID: "a"})

	// c joins a's room, then a disconnects: the room stays with c in it.
	a.AddAll("c", []string{"a"})
	wantChanges(t, h, "c joins room a", adapter.RoomChange{Kind: adapter.RoomJoined, Room: "a", ID: "c"})
	a.DelAll("a")
	wantChanges(t, h, "a disconnects", adapter.RoomChange{Kind: adapter.RoomLeft, Room: "a", ID: "a"})
	if got := sockets(adapter.Options{Rooms: []string{"a"}}); !slices.Equal(got, []string{"c"}) {
		t.Errorf("after a disconnected, room a holds %q, want c", got)
	}
	// c disconnects: both its rooms go.
	a.DelAll("c")
	if got := sorted(a.Rooms()); !slices.Equal(got, []string{"b"}) {
		t.Errorf("Rooms() = %q, want b", got)
	}
	var deleted []string
	for _, c := range h.calls[len(h.calls)-1] {
		if c.Kind == adapter.RoomDeleted {
			deleted = append(deleted, c.Room)
		}
	}
	if slices.Sort(deleted); !slices.Equal(deleted, []string{"a", "c"}) {
		t.Errorf("c's disconnection deleted rooms %q, want a and c", deleted)
	}
}

// wantChanges checks that the observer's last call reported exactly want,
// and forgets the calls.
func wantChanges(t *testing.T, h *callsHost, what string, want ...adapter.RoomChange) {
	t.Helper()
	if len(h.calls) == 0 {
		t.Errorf("%s: observer not called, want %v", what, want)
		return
	}
	if got := h.calls[len(h.calls)-1]; !slices.Equal(got, want) {
		t.Errorf("%s: observer heard %v, want %v", what, got, want)
	}
	h.calls = nil
}
