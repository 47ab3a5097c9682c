package adaptertest

import (
	"fmt"
	"slices"
	"testing"

	"github.com/switchboard-go/socketio/adapter"
)

// The room index: AddAll, Del, DelAll, SocketRooms, Sockets, Rooms. These
// are local operations; the tests use server 0.

func checkStrings(t *testing.T, what string, got, want []string) {
	t.Helper()
	if g, w := sorted(got), sorted(want); !slices.Equal(g, w) {
		t.Errorf("%s = %q, want %q (any order)", what, g, w)
	}
}

func testAddAll(t *testing.T, c *cluster) {
	a := c.adapters[0]
	if got := a.SocketRooms("x"); got != nil {
		t.Errorf("SocketRooms of an unknown socket = %q, want nil", got)
	}

	a.AddAll("x", []string{"x", "r1", "r2"})
	checkStrings(t, "SocketRooms(x)", a.SocketRooms("x"), []string{"r1", "r2", "x"})
	checkStrings(t, "Rooms()", a.Rooms(), []string{"r1", "r2", "x"})
	checkStrings(t, "Sockets([r1])", a.Sockets([]string{"r1"}), []string{"x"})

	// Joining again, and twice in one call, changes nothing twice.
	a.AddAll("x", []string{"r2", "r3", "r3"})
	checkStrings(t, "SocketRooms(x) after a second AddAll", a.SocketRooms("x"), []string{"r1", "r2", "r3", "x"})
	checkStrings(t, "Sockets([r3])", a.Sockets([]string{"r3"}), []string{"x"})

	// AddAll with no rooms makes the socket known, in no room (as Node's
	// adapter does).
	a.AddAll("y", nil)
	if got := a.SocketRooms("y"); got == nil || len(got) != 0 {
		t.Errorf("SocketRooms(y) after AddAll(y, nil) = %#v, want empty and non-nil", got)
	}
	checkStrings(t, "Sockets(nil)", a.Sockets(nil), []string{"x", "y"})
	checkStrings(t, "Rooms() after AddAll(y, nil)", a.Rooms(), []string{"r1", "r2", "r3", "x"})

	a.AddAll("y", []string{"r1"})
	checkStrings(t, "Sockets([r1])", a.Sockets([]string{"r1"}), []string{"x", "y"})
}

func testDel(t *testing.T, c *cluster) {
	a, h := c.adapters[0], c.hosts[0]
	h.Connect("x", "r1", "r2")
	h.Connect("y", "r1")

	a.Del("x", "r1")
	checkStrings(t, "SocketRooms(x)", a.SocketRooms("x"), []string{"r2", "x"})
	checkStrings(t, "Sockets([r1])", a.Sockets([]string{"r1"}), []string{"y"})

	a.Del("y", "r1")
	checkStrings(t, "Rooms() once r1 is empty", a.Rooms(), []string{"r2", "x", "y"})
	checkStrings(t, "Sockets([r1]) once r1 is empty", a.Sockets([]string{"r1"}), nil)

	// Unknown room, unknown socket: nothing changes, nothing is created.
	a.Del("x", "nope")
	a.Del("ghost", "r2")
	a.Del("ghost", "nope")
	if got := a.SocketRooms("ghost"); got != nil {
		t.Errorf("SocketRooms(ghost) after Del(ghost, …) = %q, want nil", got)
	}
	checkStrings(t, "Rooms() after Del of unknowns", a.Rooms(), []string{"r2", "x", "y"})
	checkStrings(t, "Sockets(nil) after Del of unknowns", a.Sockets(nil), []string{"x", "y"})
	checkStrings(t, "Sockets([r2])", a.Sockets([]string{"r2"}), []string{"x"})

	// A socket that left every room is still a socket of the namespace
	// until DelAll: a broadcast to all still reaches it.
	a.Del("x", "r2")
	a.Del("x", "x")
	if got := a.SocketRooms("x"); got == nil || len(got) != 0 {
		t.Errorf("SocketRooms(x) after leaving every room = %#v, want empty and non-nil", got)
	}
	checkStrings(t, "Rooms() after x left every room", a.Rooms(), []string{"y"})
	checkStrings(t, "Sockets(nil) after x left every room", a.Sockets(nil), []string{"x", "y"})
	if err := a.Broadcast(event("e"), optsAll()); err != nil {
		t.Fatalf("Broadcast: %v", err)
	}
	checkStrings(t, "targets of a broadcast to all", delivered(h), []string{"x", "y"})
}

func testDelAll(t *testing.T, c *cluster) {
	a, h := c.adapters[0], c.hosts[0]
	h.Connect("x", "r1", "r2")
	h.Connect("y", "r2")

	a.DelAll("x")
	if got := a.SocketRooms("x"); got != nil {
		t.Errorf("SocketRooms(x) after DelAll(x) = %q, want nil", got)
	}
	checkStrings(t, "Sockets(nil) after DelAll(x)", a.Sockets(nil), []string{"y"})
	checkStrings(t, "Rooms() after DelAll(x)", a.Rooms(), []string{"r2", "y"})
	checkStrings(t, "Sockets([r1 r2 x])", a.Sockets([]string{"r1", "r2", "x"}), []string{"y"})

	a.DelAll("x")
	a.DelAll("ghost")
	checkStrings(t, "Rooms() after DelAll of unknowns", a.Rooms(), []string{"r2", "y"})

	a.DelAll("y")
	checkStrings(t, "Rooms() when every socket is gone", a.Rooms(), nil)
	checkStrings(t, "Sockets(nil) when every socket is gone", a.Sockets(nil), nil)

	// A socket may come back with the same id.
	a.AddAll("x", []string{"r1"})
	checkStrings(t, "SocketRooms(x) after rejoining", a.SocketRooms("x"), []string{"r1"})
}

func testSockets(t *testing.T, c *cluster) {
	a := c.adapters[0]
	layout := testLayout()
	c.spread(layout)
	for _, rooms := range [][]string{
		nil,
		{},
		{"a"},
		{"a", "b"},
		{"a", "b", "c", "d"},
		{"a", "a"},
		{"nope"},
		{"a", "nope"},
		{"s3"},
		{"s3", "c"},
	} {
		// Sorting keeps repetitions, so a socket listed twice fails.
		got := a.Sockets(rooms)
		slices.Sort(got)
		if want := selected(layout, rooms, nil); !slices.Equal(sorted(got), want) {
			t.Errorf("Sockets(%q) = %q, want %q", rooms, got, want)
		}
	}
	checkStrings(t, "Rooms()", a.Rooms(), []string{"a", "b", "c", "d", "s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8"})
}

func testResultsAreCopies(t *testing.T, c *cluster) {
	a, h := c.adapters[0], c.hosts[0]
	h.Connect("x", "r1", "r2")
	h.Connect("y", "r1")
	scribble := func(s []string) {
		for i := range s {
			s[i] = "scribbled"
		}
	}
	scribble(a.SocketRooms("x"))
	scribble(a.Sockets(nil))
	scribble(a.Sockets([]string{"r1"}))
	scribble(a.Rooms())
	checkStrings(t, "SocketRooms(x) after changing a result", a.SocketRooms("x"), []string{"r1", "r2", "x"})
	checkStrings(t, "Sockets([r1]) after changing a result", a.Sockets([]string{"r1"}), []string{"x", "y"})
	checkStrings(t, "Rooms() after changing a result", a.Rooms(), []string{"r1", "r2", "x", "y"})

	// Nor does the adapter keep the caller's slices.
	rooms := []string{"r3", "r4"}
	a.AddAll("x", rooms)
	scribble(rooms)
	checkStrings(t, "SocketRooms(x) after changing AddAll's argument", a.SocketRooms("x"), []string{"r1", "r2", "r3", "r4", "x"})
}

// testIndexIsLocal checks that each server's index holds its own sockets
// only.
func testIndexIsLocal(t *testing.T, c *cluster) {
	layout := testLayout()
	where := c.spread(layout)
	c.sync(t)
	for i, a := range c.adapters {
		var mine, rooms []string
		for id, rs := range layout {
			if where[id] != i {
				continue
			}
			mine = append(mine, id)
			rooms = append(rooms, id)
			for _, r := range rs {
				if !slices.Contains(rooms, r) {
					rooms = append(rooms, r)
				}
			}
		}
		checkStrings(t, fmt.Sprintf("server %d: Sockets(nil)", i), a.Sockets(nil), mine)
		checkStrings(t, fmt.Sprintf("server %d: Sockets([a b c d])", i), a.Sockets([]string{"a", "b", "c", "d"}), selected(subset(layout, mine), []string{"a", "b", "c", "d"}, nil))
		checkStrings(t, fmt.Sprintf("server %d: Rooms()", i), a.Rooms(), rooms)
		for id := range layout {
			if where[id] != i {
				if got := a.SocketRooms(id); got != nil {
					t.Errorf("server %d: SocketRooms(%s) of a socket of server %d = %q, want nil", i, id, where[id], got)
				}
			}
		}
	}
}

// subset returns the part of layout about ids.
func subset(layout map[string][]string, ids []string) map[string][]string {
	out := make(map[string][]string, len(ids))
	for _, id := range ids {
		out[id] = layout[id]
	}
	return out
}

// testRoomChanges checks what an adapter reports to a host that observes
// rooms (adapter.RoomObserver): the reference adapter's create-room,
// join-room, leave-room and delete-room events, for the local index.
func testRoomChanges(t *testing.T, c *cluster) {
	h, a := c.hosts[0], c.adapters[0]
	h.ObserveRooms()
	type ch = adapter.RoomChange
	created := func(r string) ch { return ch{Kind: adapter.RoomCreated, Room: r} }
	deleted := func(r string) ch { return ch{Kind: adapter.RoomDeleted, Room: r} }
	joined := func(r, id string) ch { return ch{Kind: adapter.RoomJoined, Room: r, ID: id} }
	left := func(r, id string) ch { return ch{Kind: adapter.RoomLeft, Room: r, ID: id} }
	seen := 0
	expect := func(what string, want ...ch) {
		t.Helper()
		var got []ch
		eventually(t, what, func() error {
			got = h.RoomChanges()[seen:]
			if len(got) < len(want) {
				return fmt.Errorf("%d changes, want %d: %v", len(got), len(want), got)
			}
			return nil
		})
		if !slices.Equal(got, want) {
			t.Fatalf("%s: changes %v, want %v", what, got, want)
		}
		seen += len(got)
	}

	h.Connect("s1", "r1")
	expect("a connection", created("s1"), joined("s1", "s1"), created("r1"), joined("r1", "s1"))
	a.AddAll("s1", []string{"r1"})
	h.Connect("s2", "r1")
	expect("a second connection, after a join that changed nothing", created("s2"), joined("s2", "s2"), joined("r1", "s2"))
	a.Del("s1", "r1")
	a.Del("s1", "r1")
	expect("a leave, then one that changed nothing", left("r1", "s1"))
	a.Del("s2", "r1")
	expect("the last leave", left("r1", "s2"), deleted("r1"))
	if err := a.AddSockets(adapter.Options{Rooms: []string{"s1"}}, []string{"r2"}); err != nil {
		t.Fatal(err)
	}
	expect("AddSockets", created("r2"), joined("r2", "s1"))
	if err := a.DelSockets(adapter.Options{Rooms: []string{"s2"}}, []string{"s2"}); err != nil {
		t.Fatal(err)
	}
	expect("DelSockets", left("s2", "s2"), deleted("s2"))

	// A disconnection leaves every room, in an order of the adapter's.
	h.Disconnect("s1")
	var got []ch
	eventually(t, "the disconnection", func() error {
		got = h.RoomChanges()[seen:]
		if len(got) < 4 {
			return fmt.Errorf("%d changes, want 4: %v", len(got), got)
		}
		return nil
	})
	for _, r := range []string{"s1", "r2"} {
		i, j := slices.Index(got, left(r, "s1")), slices.Index(got, deleted(r))
		if i < 0 || j < i {
			t.Fatalf("disconnection: changes %v, want %s left, then deleted", got, r)
		}
	}
	if len(got) != 4 {
		t.Fatalf("disconnection: changes %v, want 4", got)
	}
}
