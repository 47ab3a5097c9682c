package adaptertest

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/switchboard-go/socketio/adapter"
	"github.com/switchboard-go/socketio/parser"
)

func optsAll() adapter.Options { return adapter.Options{} }

// targeting is the table of Options the broadcast tests try on testLayout.
var targeting = []struct {
	rooms, except []string
}{
	{nil, nil},
	{[]string{"a"}, nil},
	{[]string{"a", "b"}, nil}, // s1, s7 are in both: delivered once
	{[]string{"a", "b", "c", "d"}, nil},
	{[]string{"a", "a"}, nil},
	{[]string{"s3"}, nil}, // a socket's own room
	{[]string{"a", "nope"}, nil},
	{nil, []string{"b"}},
	{nil, []string{"b", "c"}},
	{nil, []string{"s0"}}, // socket.broadcast
	{nil, []string{"nope"}},
	{[]string{"a"}, []string{"c"}},
	{[]string{"a", "b"}, []string{"c"}},
	{[]string{"a", "b"}, []string{"s1", "nope"}},
}

// noTarget is a table of Options that select no socket of testLayout.
var noTarget = []struct {
	rooms, except []string
}{
	{[]string{"nope"}, nil},
	{[]string{"a"}, []string{"a"}},
	{[]string{"a", "b"}, []string{"a", "b"}},
	{nil, []string{"a", "b", "c", "d", "s4"}},
	{[]string{"s4"}, []string{"s4"}},
}

func testBroadcast(t *testing.T, c *cluster) {
	layout := testLayout()
	where := c.spread(layout)
	for from := range c.n() {
		for _, tc := range targeting {
			c.reset()
			opts := adapter.Options{Rooms: tc.rooms, Except: tc.except}
			if err := c.adapters[from].Broadcast(event("e"), opts); err != nil {
				t.Fatalf("server %d: Broadcast(%+v): %v", from, opts, err)
			}
			want := selected(layout, tc.rooms, tc.except)
			c.settle(t, fmt.Sprintf("server %d: Broadcast to %q except %q", from, tc.rooms, tc.except), func() error {
				return c.checkDelivered(want, where)
			})
		}
	}
}

func testBroadcastNoTarget(t *testing.T, c *cluster) {
	// No socket at all: a room nobody will ever join.
	for i, a := range c.adapters {
		if err := a.Broadcast(event("e"), adapter.Options{Rooms: []string{"never"}}); err != nil {
			t.Fatalf("server %d: Broadcast to an empty namespace: %v", i, err)
		}
	}
	c.spread(testLayout())
	for from := range c.n() {
		for _, tc := range noTarget {
			opts := adapter.Options{Rooms: tc.rooms, Except: tc.except}
			if err := c.adapters[from].Broadcast(event("e"), opts); err != nil {
				t.Fatalf("server %d: Broadcast(%+v): %v", from, opts, err)
			}
		}
	}
	c.sync(t)
	for i, h := range c.hosts {
		if d := deliveries(h); len(d) > 0 {
			t.Errorf("server %d: Deliver called %d times for broadcasts without a target (first to %q); want none", i, len(d), d[0].IDs)
		}
	}
}

// checkFrames checks that the deliveries of one broadcast on one host
// carry the frames of pkt, and the same bytes for every target.
func checkFrames(t *testing.T, c *cluster, server int, ds []Delivery, pkt *parser.Packet) {
	t.Helper()
	want := adapter.EncodeFrames(pkt)
	for _, d := range ds {
		if len(d.Frames) != len(want) {
			t.Errorf("server %d: delivered %d frames, want %d", server, len(d.Frames), len(want))
			return
		}
		for k, f := range d.Frames {
			if f.Binary != want[k].Binary || !sameFrame(c.adapters[server], f.Data, want[k].Data) {
				t.Errorf("server %d: frame %d = {%q binary=%v}, want {%q binary=%v}", server, k, f.Data, f.Binary, want[k].Data, want[k].Binary)
			}
			if len(f.Data) == 0 || &f.Data[0] != &ds[0].Frames[k].Data[0] {
				t.Errorf("server %d: frame %d of the delivery to %q is not the same slice as the delivery to %q: a broadcast must be encoded once per server", server, k, d.IDs, ds[0].IDs)
			}
		}
	}
}

func testBroadcastFrames(t *testing.T, c *cluster) {
	layout := testLayout()
	where := c.spread(layout)
	for from := range c.n() {
		for _, pkt := range []*parser.Packet{
			event("text", "hello", 1),
			event("bin", []byte{1, 2, 3}, "x", []byte{4, 5}),
		} {
			c.reset()
			if err := c.adapters[from].Broadcast(pkt, optsAll()); err != nil {
				t.Fatalf("server %d: Broadcast: %v", from, err)
			}
			c.settle(t, fmt.Sprintf("server %d: Broadcast of %q", from, pkt.Data), func() error {
				return c.checkDelivered(selected(layout, nil, nil), where)
			})
			first := make([][]Delivery, c.n())
			for i, h := range c.hosts {
				first[i] = deliveries(h)
				checkFrames(t, c, i, first[i], pkt)
			}
			// The bytes handed to Deliver are queued as they are: they
			// must not be reused for a later broadcast.
			c.reset()
			if err := c.adapters[from].Broadcast(event("next", "ZZZZZZZZZZZZZZZZZZZZ", []byte{9, 9, 9}), optsAll()); err != nil {
				t.Fatalf("server %d: Broadcast: %v", from, err)
			}
			c.sync(t)
			for i := range c.hosts {
				checkFrames(t, c, i, first[i], pkt)
			}
		}
	}
}

func testBroadcastFlags(t *testing.T, c *cluster) {
	layout := testLayout()
	where := c.spread(layout)
	for from := range c.n() {
		for _, volatile := range []bool{true, false} {
			c.reset()
			opts := adapter.Options{Rooms: []string{"a", "b"}, Flags: adapter.Flags{Volatile: volatile, NoCompress: volatile}}
			if err := c.adapters[from].Broadcast(event("e"), opts); err != nil {
				t.Fatalf("server %d: Broadcast: %v", from, err)
			}
			c.settle(t, fmt.Sprintf("server %d: Broadcast (volatile %v)", from, volatile), func() error {
				return c.checkDelivered(selected(layout, opts.Rooms, nil), where)
			})
			for i, h := range c.hosts {
				for _, d := range deliveries(h) {
					if d.Opts.Volatile != volatile || d.Opts.NoCompress != volatile {
						t.Errorf("server %d: DeliverOptions Volatile, NoCompress = %v, %v, want %v for both", i, d.Opts.Volatile, d.Opts.NoCompress, volatile)
					}
					if d.Opts.OnAck != nil {
						t.Errorf("server %d: DeliverOptions.OnAck set for a broadcast without ack", i)
					}
				}
			}
		}
	}
}

// answer is the acknowledgement socket id sends in the tests.
func answer(id string) adapter.Args {
	return adapter.Args{Raw: []json.RawMessage{json.RawMessage(`"ack:` + id + `"`)}}
}

func testBroadcastWithAck(t *testing.T, c *cluster) {
	layout := testLayout()
	where := c.spread(layout)
	for from := range c.n() {
		for _, timeout := range []time.Duration{3 * time.Second, 0} {
			c.reset()
			pkt := event("ask", "?")
			pkt.ID, pkt.HasID = uint64(40+from), true
			opts := adapter.Options{Rooms: []string{"a", "b"}, Except: []string{"c"}, Flags: adapter.Flags{Timeout: timeout}}
			want := selected(layout, opts.Rooms, opts.Except)
			var counts counter[int]
			var answers counter[string]
			err := c.adapters[from].BroadcastWithAck(pkt, opts, counts.add, func(a adapter.Args) {
				s, _ := a.Value(0).(string)
				answers.add(s)
			})
			if err != nil {
				t.Fatalf("server %d: BroadcastWithAck: %v", from, err)
			}
			wantCounts := make([]int, c.n())
			for _, id := range want {
				wantCounts[where[id]]++
			}
			slices.Sort(wantCounts)
			what := fmt.Sprintf("server %d: BroadcastWithAck to %q except %q", from, opts.Rooms, opts.Except)
			c.settle(t, what, func() error {
				if err := c.checkDelivered(want, where); err != nil {
					return err
				}
				got := counts.get()
				slices.Sort(got)
				if !slices.Equal(got, wantCounts) {
					return fmt.Errorf("onClientCount called with %v, want once per server with %v (any order)", got, wantCounts)
				}
				return nil
			})
			if got := answers.get(); len(got) != 0 {
				t.Fatalf("%s: onAck called with %q before any client answered", what, got)
			}

			// The sending server uses the packet's id. Another server may
			// give the packet an id of its own, as Node's servers do: ack
			// ids are numbered per server, so the sender's id may already
			// be pending on one of its sockets. Each server uses one id
			// for all its deliveries, in the frames too.
			ackIDs := make([]uint64, c.n())
			for i, h := range c.hosts {
				ackIDs[i] = pkt.ID
				if ds := deliveries(h); i != from && len(ds) > 0 {
					ackIDs[i] = ds[0].Opts.AckID
				}
				for _, d := range deliveries(h) {
					o := d.Opts
					if o.OnAck == nil {
						t.Fatalf("server %d: DeliverOptions.OnAck not set by BroadcastWithAck", i)
					}
					if o.AckID != ackIDs[i] {
						t.Errorf("server %d: DeliverOptions.AckID = %d, want %d (the packet's id on the sending server, one id per server)", i, o.AckID, ackIDs[i])
					}
					switch {
					case i == from && o.AckTimeout != timeout:
						t.Errorf("server %d: DeliverOptions.AckTimeout = %v, want Flags.Timeout %v", i, o.AckTimeout, timeout)
					// Without a timeout another server may still bound how
					// long its sockets wait: the sender stops listening
					// for answers at some point (its request timeout).
					case timeout == 0 && i == from && o.AckTimeout != 0:
						t.Errorf("server %d: DeliverOptions.AckTimeout = %v without Flags.Timeout, want 0", i, o.AckTimeout)
					case timeout > 0 && (o.AckTimeout <= 0 || o.AckTimeout > timeout):
						t.Errorf("server %d: DeliverOptions.AckTimeout = %v, want in (0, %v]", i, o.AckTimeout, timeout)
					}
					if o.Volatile {
						t.Errorf("server %d: DeliverOptions.Volatile set without the flag", i)
					}
				}
				withID := *pkt
				withID.ID = ackIDs[i]
				checkFrames(t, c, i, deliveries(h), &withID)
			}

			// Every client answers; the answers reach the caller.
			var wantAnswers []string
			for _, id := range want {
				h := c.hosts[where[id]]
				if ackID := ackIDs[where[id]]; !h.Ack(id, ackID, answer(id)) {
					t.Fatalf("%s: socket %s has no pending ack %d (pending %v)", what, id, ackID, h.PendingAcks(id))
				}
				wantAnswers = append(wantAnswers, "ack:"+id)
			}
			c.settle(t, what+": answers", func() error {
				got := answers.get()
				slices.Sort(got)
				if !slices.Equal(got, wantAnswers) {
					return fmt.Errorf("onAck received %q, want %q", got, wantAnswers)
				}
				return nil
			})
		}
	}
}

func testBroadcastWithAckNoTarget(t *testing.T, c *cluster) {
	c.spread(testLayout())
	for from := range c.n() {
		for _, tc := range noTarget {
			c.reset()
			pkt := event("ask")
			pkt.ID, pkt.HasID = 7, true
			opts := adapter.Options{Rooms: tc.rooms, Except: tc.except}
			var counts counter[int]
			err := c.adapters[from].BroadcastWithAck(pkt, opts, counts.add, func(a adapter.Args) {
				t.Errorf("onAck called with %v without a target", a.Values())
			})
			if err != nil {
				t.Fatalf("server %d: BroadcastWithAck: %v", from, err)
			}
			c.settle(t, fmt.Sprintf("server %d: BroadcastWithAck to %q except %q", from, tc.rooms, tc.except), func() error {
				got := counts.get()
				if len(got) != c.n() || slices.ContainsFunc(got, func(n int) bool { return n != 0 }) {
					return fmt.Errorf("onClientCount called with %v, want 0 once per server (%d)", got, c.n())
				}
				return nil
			})
			for i, h := range c.hosts {
				if d := deliveries(h); len(d) > 0 {
					t.Errorf("server %d: Deliver called for a broadcast without a target (to %q)", i, d[0].IDs)
				}
			}
		}
	}
}

// testLocalFlag checks that Flags.Local keeps every operation on the
// server it is made on (with one server, it changes nothing).
func testLocalFlag(t *testing.T, c *cluster) {
	layout := testLayout()
	where := c.spread(layout)
	local := adapter.Flags{Local: true}
	for from := range c.n() {
		mine := func(ids []string) []string {
			var out []string
			for _, id := range ids {
				if where[id] == from {
					out = append(out, id)
				}
			}
			return out
		}
		a := c.adapters[from]
		what := fmt.Sprintf("server %d: local", from)

		c.reset()
		opts := adapter.Options{Rooms: []string{"a", "b"}, Flags: local}
		if err := a.Broadcast(event("e"), opts); err != nil {
			t.Fatalf("%s Broadcast: %v", what, err)
		}
		c.settle(t, what+" Broadcast", func() error {
			return c.checkDelivered(mine(selected(layout, opts.Rooms, nil)), where)
		})

		c.reset()
		pkt := event("ask")
		pkt.ID, pkt.HasID = 9, true
		var counts counter[int]
		if err := a.BroadcastWithAck(pkt, opts, counts.add, func(adapter.Args) {}); err != nil {
			t.Fatalf("%s BroadcastWithAck: %v", what, err)
		}
		wantCount := len(mine(selected(layout, opts.Rooms, nil)))
		c.settle(t, what+" BroadcastWithAck", func() error {
			if got := counts.get(); !slices.Equal(got, []int{wantCount}) {
				return fmt.Errorf("onClientCount called with %v, want once with %d", got, wantCount)
			}
			return c.checkDelivered(mine(selected(layout, opts.Rooms, nil)), where)
		})

		ds, err := a.FetchSockets(ctx(t), adapter.Options{Flags: local})
		if err != nil {
			t.Fatalf("%s FetchSockets: %v", what, err)
		}
		checkStrings(t, what+" FetchSockets", detailIDs(ds), mine(selected(layout, nil, nil)))

		room := fmt.Sprintf("joined-by-%d", from)
		if err := a.AddSockets(adapter.Options{Rooms: []string{"c"}, Flags: local}, []string{room}); err != nil {
			t.Fatalf("%s AddSockets: %v", what, err)
		}
		c.settle(t, what+" AddSockets", func() error {
			for i, b := range c.adapters {
				want := []string(nil)
				if i == from {
					want = mine(selected(layout, []string{"c"}, nil))
				}
				if got := sorted(b.Sockets([]string{room})); !slices.Equal(got, want) {
					return fmt.Errorf("server %d: sockets in %q = %q, want %q", i, room, got, want)
				}
			}
			return nil
		})
		if err := a.DelSockets(adapter.Options{Flags: local}, []string{room}); err != nil {
			t.Fatalf("%s DelSockets: %v", what, err)
		}
		c.settle(t, what+" DelSockets", func() error {
			if got := a.Sockets([]string{room}); len(got) != 0 {
				return fmt.Errorf("sockets in %q = %q, want none", room, got)
			}
			return nil
		})
	}

	// Last, as it changes the layout: local disconnection.
	c.reset()
	if err := c.adapters[0].DisconnectSockets(adapter.Options{Rooms: []string{"a"}, Flags: local}, false); err != nil {
		t.Fatalf("server 0: local DisconnectSockets: %v", err)
	}
	var want []string
	for _, id := range selected(layout, []string{"a"}, nil) {
		if where[id] == 0 {
			want = append(want, id)
		}
	}
	c.settle(t, "server 0: local DisconnectSockets", func() error {
		return c.checkDisconnects(want, where, false)
	})
}

func detailIDs(ds []adapter.SocketDetails) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.ID
	}
	return out
}
