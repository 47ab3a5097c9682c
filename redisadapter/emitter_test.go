package redisadapter

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// The emitter drives a mixed cluster (a Go server, a Node.js server)
// without being a server: broadcasts, room changes, disconnections and
// server-side events reach both.
func TestEmitterOnMixedCluster(t *testing.T) {
	testEmitter(t, classicFlavor, func(rdb *redis.Client, key string) *Emitter {
		return NewEmitter(rdb, &Options{Key: key})
	})
}

// The sharded emitter does the same on a sharded cluster (Go servers with
// NewSharded, Node servers with createShardedAdapter), in each
// subscription mode. Node has no sharded emitter.
func TestShardedEmitterOnMixedCluster(t *testing.T) {
	for _, mode := range []SubscriptionMode{SubscriptionDynamic, SubscriptionStatic, SubscriptionDynamicPrivate} {
		t.Run(string(mode), func(t *testing.T) {
			testEmitter(t, shardedFlavor(mode), func(rdb *redis.Client, key string) *Emitter {
				return NewShardedEmitter(rdb, &ShardedOptions{ChannelPrefix: key, SubscriptionMode: mode})
			})
		})
	}
}

func testEmitter(t *testing.T, f mixedFlavor, newEmitter func(*redis.Client, string) *Emitter) {
	key := uniqueKey(t)
	rdb := newRedis(t)
	g := f.goNode(t, key)
	nodeURL := startNodeNode(t, key, f.nodeArgs...)
	waitFor(t, "two servers", func() (int64, error) { return f.servers(rdb, key) }, 2)
	g1 := connect(t, g.url, "g1", "r1")
	g2 := connect(t, g.url, "g2", "r2")
	n1 := connect(t, nodeURL, "n1", "r1")
	n2 := connect(t, nodeURL, "n2", "r2")
	all := []*client{g1, g2, n1, n2}
	if f.roomListeners != nil && f.roomListeners(rdb, key, "r1") >= 0 {
		// The servers listen to a channel per room: wait for both.
		waitFor(t, "r1's listeners", func() (int64, error) { return f.roomListeners(rdb, key, "r1"), nil }, 2)
	}
	em := newEmitter(rdb, key)
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
	if f.roomListeners != nil && f.roomListeners(rdb, key, "r3") >= 0 {
		// A server subscribes to a room's channel once a socket of its
		// joins it: a broadcast published sooner would not reach it.
		waitFor(t, "r3's listeners", func() (int64, error) { return f.roomListeners(rdb, key, "r3"), nil }, 2)
	}
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
