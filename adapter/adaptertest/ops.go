package adaptertest

import (
	"fmt"
	"slices"
	"testing"

	"github.com/switchboard-go/socketio/adapter"
)

// Cluster-wide operations other than broadcasts: ServerCount,
// ServerSideEmit, FetchSockets, AddSockets, DelSockets, DisconnectSockets.

func testServerCount(t *testing.T, c *cluster) {
	for i, a := range c.adapters {
		eventually(t, fmt.Sprintf("server %d: ServerCount", i), func() error {
			n, err := a.ServerCount(ctx(t))
			if err != nil {
				return err
			}
			if n != c.n() {
				return fmt.Errorf("ServerCount = %d, want %d", n, c.n())
			}
			return nil
		})
	}
}

// testServerSideEmit checks only that ServerSideEmit succeeds: Host has no
// method through which a server receives the event.
func testServerSideEmit(t *testing.T, c *cluster) {
	c.spread(testLayout())
	for i, a := range c.adapters {
		if err := a.ServerSideEmit(ctx(t), []any{"hello", 1, map[string]any{"k": "v"}}); err != nil {
			t.Errorf("server %d: ServerSideEmit: %v", i, err)
		}
	}
	c.sync(t)
	for i, h := range c.hosts {
		if d := deliveries(h); len(d) > 0 {
			t.Errorf("server %d: ServerSideEmit delivered to sockets %q", i, d[0].IDs)
		}
	}
}

func testFetchSockets(t *testing.T, c *cluster) {
	layout := testLayout()
	c.spread(layout)
	// A socket in the index that its host no longer knows is not
	// described.
	c.adapters[0].AddAll("ghost", []string{"ghost", "a"})
	c.sync(t)
	for from, a := range c.adapters {
		for _, tc := range append(targeting, noTarget...) {
			opts := adapter.Options{Rooms: tc.rooms, Except: tc.except}
			what := fmt.Sprintf("server %d: FetchSockets(%q except %q)", from, tc.rooms, tc.except)
			ds, err := a.FetchSockets(ctx(t), opts)
			if err != nil {
				t.Fatalf("%s: %v", what, err)
			}
			ids := detailIDs(ds)
			slices.Sort(ids)
			if want := selected(layout, tc.rooms, tc.except); !slices.Equal(sorted(ids), want) {
				t.Errorf("%s = %q, want %q", what, ids, want)
			}
			for _, d := range ds {
				if _, ok := layout[d.ID]; !ok {
					continue
				}
				wantRooms := sorted(append([]string{d.ID}, layout[d.ID]...))
				if got := sorted(d.Rooms); !slices.Equal(got, wantRooms) {
					t.Errorf("%s: %s: Rooms = %q, want %q", what, d.ID, got, wantRooms)
				}
				want := Details(d.ID)
				if d.Handshake.Address != want.Handshake.Address || d.Handshake.Query.Get("id") != d.ID {
					t.Errorf("%s: %s: Handshake = %+v, want %+v", what, d.ID, d.Handshake, want.Handshake)
				}
				if fmt.Sprint(d.Data) != fmt.Sprint(want.Data) {
					t.Errorf("%s: %s: Data = %#v, want %#v", what, d.ID, d.Data, want.Data)
				}
			}
		}
	}
}

// checkRooms compares the rooms of every socket of model, on its own
// server, with model (plus the socket's own room unless left), and the
// room list of every server with the rooms of its sockets.
func (c *cluster) checkRooms(model map[string][]string, where map[string]int) error {
	perServer := make([][]string, c.n())
	for id, rooms := range model {
		a := c.adapters[where[id]]
		got := sorted(a.SocketRooms(id))
		want := sorted(rooms)
		if !slices.Equal(got, want) {
			return fmt.Errorf("server %d: SocketRooms(%s) = %q, want %q", where[id], id, got, want)
		}
		for _, r := range rooms {
			if !slices.Contains(perServer[where[id]], r) {
				perServer[where[id]] = append(perServer[where[id]], r)
			}
		}
	}
	for i, a := range c.adapters {
		if got, want := sorted(a.Rooms()), sorted(perServer[i]); !slices.Equal(got, want) {
			return fmt.Errorf("server %d: Rooms() = %q, want %q", i, got, want)
		}
	}
	return nil
}

// withOwnRooms returns layout with every socket also in its own room: the
// rooms the adapter holds after spread.
func withOwnRooms(layout map[string][]string) map[string][]string {
	out := make(map[string][]string, len(layout))
	for id, rs := range layout {
		out[id] = append([]string{id}, rs...)
	}
	return out
}

// join updates model as AddSockets(opts, rooms) should.
func join(model map[string][]string, opts adapter.Options, rooms []string) {
	for _, id := range selected(model, opts.Rooms, opts.Except) {
		for _, r := range rooms {
			if !slices.Contains(model[id], r) {
				model[id] = append(model[id], r)
			}
		}
	}
}

// leave updates model as DelSockets(opts, rooms) should.
func leave(model map[string][]string, opts adapter.Options, rooms []string) {
	for _, id := range selected(model, opts.Rooms, opts.Except) {
		model[id] = slices.DeleteFunc(model[id], func(r string) bool { return slices.Contains(rooms, r) })
	}
}

func testAddSockets(t *testing.T, c *cluster) {
	layout := testLayout()
	where := c.spread(layout)
	model := withOwnRooms(layout)
	steps := []struct {
		opts  adapter.Options
		rooms []string
	}{
		{adapter.Options{Rooms: []string{"a"}, Except: []string{"c"}}, []string{"x", "y"}},
		{adapter.Options{}, []string{"all"}},
		{adapter.Options{Rooms: []string{"x"}}, []string{"z", "x"}},
		{adapter.Options{Rooms: []string{"nope"}}, []string{"never"}},
		{adapter.Options{Except: []string{"all"}}, []string{"never"}},
		{adapter.Options{Rooms: []string{"s8"}}, nil},
	}
	for i, st := range steps {
		from := i % c.n()
		if err := c.adapters[from].AddSockets(st.opts, st.rooms); err != nil {
			t.Fatalf("server %d: AddSockets(%+v, %q): %v", from, st.opts, st.rooms, err)
		}
		join(model, st.opts, st.rooms)
		c.settle(t, fmt.Sprintf("step %d: server %d: AddSockets(%+v, %q)", i, from, st.opts, st.rooms), func() error {
			return c.checkRooms(model, where)
		})
	}
	// The new rooms are broadcast targets like any other.
	c.reset()
	if err := c.adapters[0].Broadcast(event("e"), adapter.Options{Rooms: []string{"z"}}); err != nil {
		t.Fatal(err)
	}
	c.settle(t, "Broadcast to a room joined with AddSockets", func() error {
		return c.checkDelivered(selected(model, []string{"z"}, nil), where)
	})
}

func testDelSockets(t *testing.T, c *cluster) {
	layout := testLayout()
	where := c.spread(layout)
	model := withOwnRooms(layout)
	steps := []struct {
		opts  adapter.Options
		rooms []string
	}{
		{adapter.Options{Rooms: []string{"b"}}, []string{"b"}},
		{adapter.Options{Except: []string{"a"}}, []string{"c", "nope"}},
		{adapter.Options{Rooms: []string{"d"}}, []string{"d", "s8"}},
		{adapter.Options{Rooms: []string{"nope"}}, []string{"a"}},
		{adapter.Options{Rooms: []string{"a"}}, nil},
	}
	for i, st := range steps {
		from := (i + 1) % c.n()
		if err := c.adapters[from].DelSockets(st.opts, st.rooms); err != nil {
			t.Fatalf("server %d: DelSockets(%+v, %q): %v", from, st.opts, st.rooms, err)
		}
		leave(model, st.opts, st.rooms)
		c.settle(t, fmt.Sprintf("step %d: server %d: DelSockets(%+v, %q)", i, from, st.opts, st.rooms), func() error {
			return c.checkRooms(model, where)
		})
	}
	// s8 left every room, its own included: still a socket.
	c.reset()
	if err := c.adapters[0].Broadcast(event("e"), optsAll()); err != nil {
		t.Fatal(err)
	}
	c.settle(t, "Broadcast to all after DelSockets", func() error {
		return c.checkDelivered(selected(layout, nil, nil), where)
	})
}

// checkDisconnects compares the DisconnectSocket calls of every host with
// the sockets of want that live there, each disconnected once with close,
// and checks that they left the index.
func (c *cluster) checkDisconnects(want []string, where map[string]int, close bool) error {
	for i, h := range c.hosts {
		var local []Disconnect
		for _, id := range want {
			if where[id] == i {
				local = append(local, Disconnect{ID: id, Close: close})
			}
		}
		got := h.Disconnects()
		slices.SortFunc(got, func(a, b Disconnect) int {
			if a.ID < b.ID {
				return -1
			}
			if a.ID > b.ID {
				return 1
			}
			return 0
		})
		if !slices.Equal(got, local) {
			return fmt.Errorf("server %d: DisconnectSocket calls %+v, want %+v", i, got, local)
		}
		for _, d := range local {
			if rooms := c.adapters[i].SocketRooms(d.ID); rooms != nil {
				return fmt.Errorf("server %d: disconnected socket %s still in %q", i, d.ID, rooms)
			}
		}
	}
	return nil
}

func testDisconnectSockets(t *testing.T, c *cluster) {
	layout := testLayout()
	where := c.spread(layout)

	opts := adapter.Options{Rooms: []string{"a"}, Except: []string{"b"}}
	if err := c.adapters[0].DisconnectSockets(opts, false); err != nil {
		t.Fatalf("DisconnectSockets: %v", err)
	}
	gone := selected(layout, opts.Rooms, opts.Except)
	c.settle(t, "DisconnectSockets(a except b, false)", func() error {
		return c.checkDisconnects(gone, where, false)
	})
	for _, id := range gone {
		delete(layout, id)
	}

	c.reset()
	if err := c.adapters[0].DisconnectSockets(adapter.Options{Rooms: []string{"nope"}}, true); err != nil {
		t.Fatalf("DisconnectSockets: %v", err)
	}
	c.settle(t, "DisconnectSockets(nope, true)", func() error {
		return c.checkDisconnects(nil, where, true)
	})

	c.reset()
	last := c.n() - 1
	if err := c.adapters[last].DisconnectSockets(optsAll(), true); err != nil {
		t.Fatalf("DisconnectSockets: %v", err)
	}
	c.settle(t, "DisconnectSockets(all, true)", func() error {
		return c.checkDisconnects(selected(layout, nil, nil), where, true)
	})
	for i, a := range c.adapters {
		checkStrings(t, fmt.Sprintf("server %d: Rooms() once every socket is disconnected", i), a.Rooms(), nil)
		checkStrings(t, fmt.Sprintf("server %d: Sockets(nil) once every socket is disconnected", i), a.Sockets(nil), nil)
	}
}
