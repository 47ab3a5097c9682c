package redisadapter

import (
	"context"
	"errors"
	"testing"
	"time"
)

// The emitter drives a mixed cluster (a Go server, a Node.js server)
// without being a server: broadcasts, room changes, disconnections and
// server-side events reach both.
func TestEmitterOnMixedCluster(t *testing.T) {
	key := uniqueKey(t)
	rdb := newRedis(t)
	g := startGoNode(t, key)
	nodeURL := startNodeNode(t, key)
	waitServers(t, rdb, key, 2)
	g1 := connect(t, g.url, "g1", "r1")
	g2 := connect(t, g.url, "g2", "r2")
	n1 := connect(t, nodeURL, "n1", "r1")
	n2 := connect(t, nodeURL, "n2", "r2")
	all := []*client{g1, g2, n1, n2}
	em := NewEmitter(rdb, &Options{Key: key})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	// Everything the emitter publishes reaches each server in order, so
	// its own broadcast is the fence.
	fence := func() error { return em.Emit(ctx, "fence") }
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}

	must(em.Emit(ctx, "ev", "all"))
	expectEvents(t, fence, all, map[*client][]string{g1: {"all"}, g2: {"all"}, n1: {"all"}, n2: {"all"}})
	must(em.To("r1").Emit(ctx, "ev", "r1"))
	must(em.Except("r1").Emit(ctx, "ev", []byte{7}))
	must(em.To("r1", "r2").Except("r2").Compress(false).Emit(ctx, "ev", "multi"))
	expectEvents(t, fence, all, map[*client][]string{g1: {"r1", "multi"}, n1: {"r1", "multi"}, g2: {"bin:07"}, n2: {"bin:07"}})

	must(em.In("r2").SocketsJoin(ctx, "r3"))
	must(em.To("r3").Emit(ctx, "ev", "r3"))
	must(em.In("r3").SocketsLeave(ctx, "r3"))
	must(em.To("r3").Emit(ctx, "ev", "r3 again"))
	expectEvents(t, fence, all, map[*client][]string{g2: {"r3"}, n2: {"r3"}})

	// Both servers' handlers relay "sse" to their clients.
	must(em.ServerSideEmit(ctx, "sse", "e"))
	for _, c := range all {
		select {
		case v := <-c.got:
			if v != "sse:e" {
				t.Fatalf("%s got %q, want sse:e", c.name, v)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: no sse:e", c.name)
		}
	}
	if err := em.Emit(ctx, "disconnect"); !errors.Is(err, ErrReservedEvent) {
		t.Fatalf("reserved event: %v", err)
	}

	must(em.In("r1").DisconnectSockets(ctx, true))
	for _, c := range []*client{g1, n1} {
		select {
		case r := <-c.gone:
			if r != "io server disconnect" {
				t.Fatalf("%s: %s", c.name, r)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s was not disconnected", c.name)
		}
	}
	expectEvents(t, fence, []*client{g2, n2}, nil)
	// Another namespace hears nothing of "/".
	if got := em.Of("chat").nsp; got != "/chat" {
		t.Fatalf("Of(chat) namespace %q", got)
	}
}
