package redisadapter

import (
	"testing"
	"time"

	"github.com/switchboard-go/socketio/adapter"
	"github.com/switchboard-go/socketio/adapter/adaptertest"
)

// The adapter conformance suite, cross-server tests included, with every
// server of a test on the real Redis under a key of its own.
//
// The suite's waits get 30 s instead of 10: its concurrency test makes
// about 1,500 cluster operations, each a Redis round trip or more, and
// under the race detector on a shared two-core machine it has taken
// close to 10 s.
func TestConformance(t *testing.T) {
	adaptertest.Timeout = 30 * time.Second
	adaptertest.Run(t, func(t *testing.T, hosts []adapter.Host) []adapter.Adapter {
		rdb := newRedis(t)
		factory := New(rdb, &Options{Key: uniqueKey(t)})
		out := make([]adapter.Adapter, len(hosts))
		for i, h := range hosts {
			out[i] = factory(h)
		}
		return out
	})
}
