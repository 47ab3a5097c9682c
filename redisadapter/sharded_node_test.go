package redisadapter

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/switchboard-go/socketio/adapter/cluster"
)

// shardedFlavor runs the mixed-cluster test on the sharded adapter in
// subscription mode mode: Go servers with NewSharded, Node servers with
// createShardedAdapter.
func shardedFlavor(mode SubscriptionMode) mixedFlavor {
	shardNumSub := func(rdb *redis.Client, ch string) (int64, error) {
		res, err := rdb.PubSubShardNumSub(context.Background(), ch).Result()
		return res[ch], err
	}
	return mixedFlavor{
		goNode: func(t testing.TB, key string) *goNode {
			return startGoNodeWith(t, NewSharded(newRedis(t), &ShardedOptions{
				ChannelPrefix: key, SubscriptionMode: mode, RequestTimeout: 3 * time.Second}))
		},
		nodeArgs: []string{"sharded", string(mode)},
		servers: func(rdb *redis.Client, key string) (int64, error) {
			return shardNumSub(rdb, key+"#/#")
		},
		rawEmit: func(t *testing.T, rdb *redis.Client, key string, rooms []string, data ...any) {
			t.Helper()
			shardedRawEmit(t, rdb, key, mode, rooms, data...)
		},
		roomListeners: func(rdb *redis.Client, key, room string) int64 {
			if mode == SubscriptionStatic {
				return -1
			}
			n, _ := shardNumSub(rdb, key+"#/#"+room+"#")
			return n
		},
	}
}

// shardedRawEmit publishes a broadcast as a sharded adapter of mode would,
// from a server without sockets.
func shardedRawEmit(t *testing.T, rdb *redis.Client, key string, mode SubscriptionMode, rooms []string, data ...any) {
	t.Helper()
	msg, err := encodeShardedBroadcast("/", &cluster.Broadcast{UID: "test-emitter", Rooms: rooms,
		Packet: cluster.Packet{Type: 2, Nsp: "/", Data: data}})
	if err != nil {
		t.Fatal(err)
	}
	if err := rdb.SPublish(context.Background(), broadcastChannel(key+"#/#", mode, rooms), msg).Err(); err != nil {
		t.Fatal(err)
	}
}

// A Go server and a Node.js server (socket.io 4 + createShardedAdapter of
// @socket.io/redis-adapter 8.3) share one sharded cluster, in each
// subscription mode; every operation works in both directions.
func TestMixedGoNodeShardedCluster(t *testing.T) {
	for _, mode := range []SubscriptionMode{SubscriptionDynamic, SubscriptionStatic, SubscriptionDynamicPrivate} {
		t.Run(string(mode), func(t *testing.T) { testMixedCluster(t, shardedFlavor(mode)) })
	}
}
