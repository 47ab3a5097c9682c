package redisadapter

import (
	"testing"
	"time"
)

// BenchmarkCrossNodeBroadcast measures broadcasts from one Go server that
// reach 10 clients of another through Redis: b.N broadcasts, each counted
// once every client has it. Reported: deliveries/s across the cluster.
func BenchmarkCrossNodeBroadcast(b *testing.B) {
	key := "sbbench-" + time.Now().Format("150405.000000")
	from, to := startGoNode(b, key), startGoNode(b, key)
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
