package redisadapter

import (
	"testing"

	"github.com/switchboard-go/socketio/adapter"
	"github.com/switchboard-go/socketio/adapter/adaptertest"
)

// The adapter conformance suite, cross-server tests included, with every
// server of a test on the real Redis under a key of its own.
func TestConformance(t *testing.T) {
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
