package adaptertest

import (
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/switchboard-go/socketio/adapter"
)

// reenter makes host i call back into its adapter from every delivery,
// with read and write operations, and answer acknowledgements on the spot:
// an adapter that calls Deliver with its lock held (even a read lock, as
// the write operations need the lock exclusively) deadlocks.
func (c *cluster) reenter(i int) {
	h, a := c.hosts[i], c.adapters[i]
	scratch := func() {
		a.AddAll("scratch", []string{"scratch"})
		a.DelAll("scratch")
	}
	h.SetHooks(Hooks{
		Deliver: func(d Delivery) {
			if isBarrier(d) {
				return
			}
			for _, id := range d.IDs {
				_ = a.SocketRooms(id)
				a.AddAll(id, []string{"reentered"})
				a.Del(id, "reentered")
				_ = a.Sockets([]string{"a"})
				_ = a.Rooms()
				if d.Opts.OnAck != nil {
					h.Ack(id, d.Opts.AckID, answer(id))
				}
			}
		},
		SocketDetails:    func(string) { scratch() },
		DisconnectSocket: func(string, bool) { scratch() },
	})
}

// testReentrant checks that the adapter calls its Host, and the callbacks
// of BroadcastWithAck, without holding a lock the Host's calls back into
// the adapter need: Host.Deliver and the ack callbacks call adapter
// methods, SocketDetails calls SocketRooms and DisconnectSocket calls
// DelAll, as the root package's do.
func testReentrant(t *testing.T, c *cluster) {
	layout := testLayout()
	where := c.spread(layout)
	for i := range c.hosts {
		c.reenter(i)
	}
	all := selected(layout, nil, nil)
	a := c.adapters[0]

	within(t, "Broadcast with a Host calling back into the adapter", func() {
		if err := a.Broadcast(event("e"), optsAll()); err != nil {
			t.Errorf("Broadcast: %v", err)
		}
	})
	c.settle(t, "Broadcast with a Host calling back into the adapter", func() error {
		return c.checkDelivered(all, where)
	})

	c.reset()
	var answers counter[string]
	var counts counter[int]
	pkt := event("ask")
	pkt.ID, pkt.HasID = 5, true
	within(t, "BroadcastWithAck answered from within Deliver", func() {
		err := a.BroadcastWithAck(pkt, optsAll(),
			func(n int) { _ = a.Rooms(); a.AddAll("counted", nil); a.DelAll("counted"); counts.add(n) },
			func(args adapter.Args) {
				_ = a.Sockets(nil)
				a.AddAll("answered", nil)
				a.DelAll("answered")
				s, _ := args.Value(0).(string)
				answers.add(s)
			})
		if err != nil {
			t.Errorf("BroadcastWithAck: %v", err)
		}
	})
	c.settle(t, "BroadcastWithAck answered from within Deliver", func() error {
		if got := answers.get(); len(got) != len(all) {
			return fmt.Errorf("received %d answers, want %d", len(got), len(all))
		}
		if got := counts.get(); len(got) != c.n() {
			return fmt.Errorf("onClientCount called %d times, want %d", len(got), c.n())
		}
		return nil
	})

	within(t, "FetchSockets with SocketDetails calling SocketRooms", func() {
		ds, err := a.FetchSockets(ctx(t), optsAll())
		if err != nil {
			t.Errorf("FetchSockets: %v", err)
		} else if got := sorted(detailIDs(ds)); !slices.Equal(got, all) {
			t.Errorf("FetchSockets = %q, want %q", got, all)
		}
	})
	within(t, "AddSockets and DelSockets", func() {
		if err := a.AddSockets(optsAll(), []string{"more"}); err != nil {
			t.Errorf("AddSockets: %v", err)
		}
		if err := a.DelSockets(optsAll(), []string{"more"}); err != nil {
			t.Errorf("DelSockets: %v", err)
		}
	})
	c.reset()
	within(t, "DisconnectSockets with DisconnectSocket calling DelAll", func() {
		if err := a.DisconnectSockets(optsAll(), false); err != nil {
			t.Errorf("DisconnectSockets: %v", err)
		}
	})
	eventually(t, "DisconnectSockets with DisconnectSocket calling DelAll", func() error {
		return c.checkDisconnects(all, where, false)
	})
}

// testConcurrent runs goroutines that connect, join, leave, broadcast and
// disconnect at once, on every server, with hosts that call back into
// their adapter. It must pass under the race detector without deadlock,
// and the index must be empty once every socket is gone: an operation
// racing with a disconnection must not bring the socket back.
func testConcurrent(t *testing.T, c *cluster) {
	const (
		goroutines = 8
		iterations = 150
	)
	for i, h := range c.hosts {
		a := c.adapters[i]
		h.SetHooks(Hooks{Deliver: func(d Delivery) {
			for _, id := range d.IDs {
				_ = a.SocketRooms(id)
				if d.Opts.OnAck != nil {
					h.Ack(id, d.Opts.AckID, answer(id))
				}
			}
		}})
	}
	local := adapter.Flags{Local: true}
	cx := ctx(t)
	within(t, "concurrent operations", func() {
		var wg sync.WaitGroup
		for g := range goroutines {
			wg.Go(func() {
				srv := g % c.n()
				h, a := c.hosts[srv], c.adapters[srv]
				mine := fmt.Sprintf("g%d", g)
				var kept []string
				for i := range iterations {
					id := fmt.Sprintf("g%d-%d", g, i)
					room := fmt.Sprintf("r%d", i%5)
					h.Connect(id, room, mine)
					a.AddAll(id, []string{"x", "y"})
					if err := a.Broadcast(event("c", g, i), adapter.Options{Rooms: []string{room}, Except: []string{mine}}); err != nil {
						t.Errorf("Broadcast: %v", err)
						return
					}
					_ = a.Sockets([]string{room, mine})
					_ = a.Sockets(nil)
					_ = a.Rooms()
					_ = a.SocketRooms(id)
					a.Del(id, "x")
					var err error
					switch i % 5 {
					case 0:
						_, err = a.FetchSockets(cx, adapter.Options{Rooms: []string{room}})
					case 1:
						// Every local socket, among them those other
						// goroutines are disconnecting.
						err = a.AddSockets(adapter.Options{Flags: local}, []string{"extra"})
					case 2:
						err = a.DelSockets(adapter.Options{Rooms: []string{room}, Flags: local}, []string{"extra", "y"})
					case 3:
						pkt := event("ask", g, i)
						pkt.ID, pkt.HasID = uint64(1000*g+i), true
						err = a.BroadcastWithAck(pkt, adapter.Options{Rooms: []string{mine}, Flags: local}, func(int) {}, func(adapter.Args) {})
					case 4:
						err = a.DisconnectSockets(adapter.Options{Rooms: []string{id}, Flags: local}, false)
					}
					if err != nil {
						t.Errorf("operation %d: %v", i%5, err)
						return
					}
					if i%2 == 0 {
						h.Disconnect(id)
					} else {
						kept = append(kept, id)
					}
				}
				for _, id := range kept {
					h.Disconnect(id)
				}
			})
		}
		wg.Wait()
	})
	for i, a := range c.adapters {
		if left := c.hosts[i].Sockets(); len(left) > 0 {
			t.Errorf("server %d: host still has sockets %q", i, left)
		}
		if got := a.Rooms(); len(got) > 0 {
			slices.Sort(got)
			t.Errorf("server %d: Rooms() = %q once every socket disconnected, want none (an operation brought a disconnected socket back)", i, got)
		}
		if got := a.Sockets(nil); len(got) > 0 {
			slices.Sort(got)
			t.Errorf("server %d: Sockets(nil) lists %d sockets once every socket disconnected (%q…), want none", i, len(got), got[:min(len(got), 5)])
		}
	}
}
