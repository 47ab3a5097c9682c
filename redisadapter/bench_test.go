package redisadapter

import (
	"testing"
	"time"
)

// BenchmarkCrossNodeBroadcast measures broadcasts from one Go server that
// reach 10 clients of another through Redis: b.N broadcasts, each counted
// once every client has it. Reported: deliveries/s across the cluster.
func BenchmarkCrossNodeBroadcast(b *testing.B) { benchCrossNode(b, startGoNode) }

// The same on the sharded adapter (dynamic mode; broadcasts to all travel
// on the namespace's channel).
func BenchmarkShardedCrossNodeBroadcast(b *testing.B) {
	benchCrossNode(b, func(t testing.TB, key string) *goNode {
		return startGoNodeWith(t, NewSharded(newRedis(t), &ShardedOptions{ChannelPrefix: key}))
	})
}

func benchCrossNode(b *testing.B, newNode func(t testing.TB, key string) *goNode) {
	key := "sbbench-" + time.Now().Format("150405.000000")
	from, to := newNode(b, key), newNode(b, key)
	const clients = 10
	var cs []*client
	for i := range clients {
		cs = append(cs, connect(b, to.url, string(rune('a'+i)), ""))
	}
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		if err := from.srv.Emit("ev", "x"); err != nil {
			b.Fatal(err)
		}
	}
	deadline := time.After(time.Minute)
	for _, c := range cs {
		for range b.N {
			select {
			case <-c.got:
			case <-deadline:
				b.Fatal("deliveries missing")
			}
		}
	}
	el := time.Since(start)
	b.ReportMetric(float64(b.N*clients)/el.Seconds(), "deliveries/s")
}
