package store

import (
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkAddMessage measures a durable AddMessage with 1 and with 32
// senders at once, on each database; ns/op (and µs/msg) is per message.
// With many senders the writer's batching shares each commit among them.
func BenchmarkAddMessage(b *testing.B) {
	for _, k := range kinds {
		for _, senders := range []int{1, 32} {
			b.Run(fmt.Sprintf("%s/senders=%d", k.name, senders), func(b *testing.B) {
				s := k.make(b).open(b)
				defer s.Close()
				for i := range senders {
					mustUser(b, s, fmt.Sprintf("user%02d", i))
				}
				ctx := ctxT(b)
				var next atomic.Int64
				var wg sync.WaitGroup
				b.ResetTimer()
				start := time.Now()
				for i := range senders {
					wg.Go(func() {
						m := Message{Room: "general", From: fmt.Sprintf("user%02d", i), Text: "hello, benchmark"}
						for n := next.Add(1); n <= int64(b.N); n = next.Add(1) {
							// A client id on each, as the chat's clients send.
							m.ClientID = strconv.FormatInt(n, 10)
							if _, _, err := s.AddMessage(ctx, m); err != nil {
								b.Error(err)
								return
							}
						}
					})
				}
				wg.Wait()
				b.StopTimer()
				b.ReportMetric(float64(time.Since(start).Microseconds())/float64(b.N), "µs/msg")
			})
		}
	}
}
