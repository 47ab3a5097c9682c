package redisadapter

import (
	"testing"
	"time"

	"github.com/switchboard-go/socketio/adapter"
	"github.com/switchboard-go/socketio/adapter/adaptertest"
)

// The adapter conformance suite over the sharded adapter, in each
// subscription mode, three servers of a test on the real Redis under a
// channel prefix of their own.
func TestShardedConformance(t *testing.T) {
	adaptertest.Timeout = 30 * time.Second // as TestConformance
	for _, mode := range []SubscriptionMode{SubscriptionDynamic, SubscriptionStatic, SubscriptionDynamicPrivate} {
		t.Run(string(mode), func(t *testing.T) {
			adaptertest.Run(t, func(t *testing.T, hosts []adapter.Host) []adapter.Adapter {
				rdb := newRedis(t)
				factory := NewSharded(rdb, &ShardedOptions{ChannelPrefix: uniqueKey(t), SubscriptionMode: mode})
				out := make([]adapter.Adapter, len(hosts))
				for i, h := range hosts {
					out[i] = factory(h)
				}
				return out
			})
		})
	}
}
