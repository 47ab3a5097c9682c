package redisadapter

import (
	"context"
	"slices"
	"testing"
	"time"
)

// Three Go servers share one Redis; clients on each. Every broadcast
// form reaches exactly the sockets it selects, on every server.
func TestThreeGoNodesBroadcast(t *testing.T) {
	key := uniqueKey(t)
	a, b, c := startGoNode(t, key), startGoNode(t, key), startGoNode(t, key)
	a1 := connect(t, a.url, "a1", "r1")
	a2 := connect(t, a.url, "a2", "")
	b1 := connect(t, b.url, "b1", "r1")
	b2 := connect(t, b.url, "b2", "r2")
	c1 := connect(t, c.url, "c1", "r1,r2")
	c2 := connect(t, c.url, "c2", "")
	all := []*client{a1, a2, b1, b2, c1, c2}
	fence, _ := fenceNode(t, key)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if n, err := a.srv.Of("/").Adapter().ServerCount(ctx); err != nil || n != 4 {
		t.Fatalf("ServerCount = %d, %v; want 4 (3 and the fence)", n, err)
	}

	steps := []struct {
		name string
		do   func() error
		want []*client
	}{
		{"all from a", func() error { return a.srv.Emit("ev", "all") }, all},
		{"room r1 from b", func() error { return b.srv.To("r1").Emit("ev", "r1") }, []*client{a1, b1, c1}},
		{"r1 or r2 except r2 from c", func() error { return c.srv.To("r1", "r2").Except("r2").Emit("ev", "r1-r2") }, []*client{a1, b1}},
		{"except r1 from a", func() error { return a.srv.Except("r1").Emit("ev", "not-r1") }, []*client{a2, b2, c2}},
		{"local from a", func() error { return a.srv.Local().Emit("ev", "local") }, []*client{a1, a2}},
		{"volatile from c", func() error { return c.srv.Volatile().Emit("ev", "volatile") }, all},
		{"binary to r2 from a", func() error { return a.srv.To("r2").Emit("ev", []byte{0, 1, 0xfe}) }, []*client{b2, c1}},
		{"room of one socket from c", func() error { return c.srv.To(b2.s.ID()).Emit("ev", "b2 only") }, []*client{b2}},
	}
	for _, st := range steps {
		if err := st.do(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		want := map[*client][]string{}
		for _, cl := range st.want {
			want[cl] = []string{map[string]string{
				"all from a": "all", "room r1 from b": "r1", "r1 or r2 except r2 from c": "r1-r2",
				"except r1 from a": "not-r1", "local from a": "local", "volatile from c": "volatile",
				"binary to r2 from a": "bin:0001fe", "room of one socket from c": "b2 only",
			}[st.name]}
		}
		t.Run(st.name, func(t *testing.T) { expectEvents(t, fence, all, want) })
	}
}

// SocketsJoin, SocketsLeave, FetchSockets, DisconnectSockets and
// broadcasts with acknowledgements act on the sockets of every server.
func TestThreeGoNodesRemoteOperations(t *testing.T) {
	key := uniqueKey(t)
	a, b, c := startGoNode(t, key), startGoNode(t, key), startGoNode(t, key)
	a1 := connect(t, a.url, "a1", "r1")
	a2 := connect(t, a.url, "a2", "")
	b1 := connect(t, b.url, "b1", "r1")
	b2 := connect(t, b.url, "b2", "r2")
	c1 := connect(t, c.url, "c1", "r1,r2")
	c2 := connect(t, c.url, "c2", "")
	all := []*client{a1, a2, b1, b2, c1, c2}
	// d, with no clients, emits after remote operations: every server has
	// applied an operation before d's broadcast reaches it, where a server
	// with sockets of its own would deliver to them at once, perhaps
	// before the operation's request reached it (Node has the same race).
	fence, d := fenceNode(t, key)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	// r2's sockets (on b and c) join r3, from a, which has none of them.
	if err := a.srv.In("r2").SocketsJoin("r3"); err != nil {
		t.Fatal(err)
	}
	if err := d.srv.To("r3").Emit("ev", "r3"); err != nil {
		t.Fatal(err)
	}
	expectEvents(t, fence, all, map[*client][]string{b2: {"r3"}, c1: {"r3"}})

	socks, err := c.srv.In("r3").FetchSockets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, s := range socks {
		ids = append(ids, s.ID)
	}
	slices.Sort(ids)
	want := []string{b2.s.ID(), c1.s.ID()}
	slices.Sort(want)
	if !slices.Equal(ids, want) {
		t.Fatalf("FetchSockets(r3) = %v, want %v", ids, want)
	}

	if err := b.srv.In("r3").Except("r1").SocketsLeave("r3"); err != nil {
		t.Fatal(err)
	}
	if err := d.srv.To("r3").Emit("ev", "r3 again"); err != nil {
		t.Fatal(err)
	}
	expectEvents(t, fence, all, map[*client][]string{c1: {"r3 again"}})

	// Every client answers; the answers of all three servers come back.
	answers, err := b.srv.Timeout(5*time.Second).EmitWithAck(ctx, "ask")
	if err != nil {
		t.Fatalf("EmitWithAck: %v (%d answers)", err, len(answers))
	}
	var names []string
	for _, ans := range answers {
		var n string
		if err := ans.Decode(0, &n); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	slices.Sort(names)
	if !slices.Equal(names, []string{"a1", "a2", "b1", "b2", "c1", "c2"}) {
		t.Fatalf("answers %v", names)
	}

	// Server-side emits reach the other servers' handlers (not the
	// sender's); each of them answers once.
	if err := a.srv.ServerSideEmit(ctx, "sse", "x"); err != nil {
		t.Fatal(err)
	}
	// The handlers run on goroutines of their own: wait for their
	// effect before the fence.
	for _, cl := range []*client{b1, b2, c1, c2} {
		select {
		case v := <-cl.got:
			if v != "sse:x" {
				t.Fatalf("%s got %q, want sse:x", cl.name, v)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: no sse:x", cl.name)
		}
	}
	expectEvents(t, fence, all, nil)
	acks, err := a.srv.ServerSideEmitWithAck(ctx, "sseack", "y")
	if err != nil {
		t.Fatal(err)
	}
	var ackVals []string
	for _, ack := range acks {
		var v string
		_ = ack.Decode(0, &v)
		ackVals = append(ackVals, v)
	}
	// d answers too: every server but the sender does.
	if !slices.Equal(ackVals, []string{"go:y", "go:y", "go:y"}) {
		t.Fatalf("ServerSideEmitWithAck answers %v, want three", ackVals)
	}

	// r1 but not r2: a1 and b1 are disconnected, c1 stays.
	if err := c.srv.In("r1").Except("r2").DisconnectSockets(false); err != nil {
		t.Fatal(err)
	}
	for _, cl := range []*client{a1, b1} {
		select {
		case r := <-cl.gone:
			if r != "io server disconnect" {
				t.Fatalf("%s disconnected with %q", cl.name, r)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s was not disconnected", cl.name)
		}
	}
	expectEvents(t, fence, []*client{a2, b2, c1, c2}, nil)
	for _, cl := range []*client{a2, b2, c1, c2} {
		if !cl.s.Connected() {
			t.Fatalf("%s was disconnected too", cl.name)
		}
	}
}
