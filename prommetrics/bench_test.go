package prommetrics_test

import (
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	socketio "github.com/switchboard-go/socketio"
	"github.com/switchboard-go/socketio/parser"
	"github.com/switchboard-go/socketio/prommetrics"
)

// BenchmarkBroadcastMetrics is the root package's BenchmarkBroadcastFanout
// (one broadcast to N WebSocket clients on loopback, each op waiting
// until every client has read it) with the metrics off and on, side by
// side: the cost of observing a server. Besides ns/delivery (wall time)
// it reports cpu-ns/delivery, the process's user and system CPU time per
// delivery, clients included (the same on both sides).
func BenchmarkBroadcastMetrics(b *testing.B) {
	for _, n := range []int{100, 1000} {
		for _, on := range []bool{false, true} {
			name := strconv.Itoa(n) + "-sockets/metrics=off"
			if on {
				name = strconv.Itoa(n) + "-sockets/metrics=on"
			}
			b.Run(name, func(b *testing.B) {
				opts := &socketio.Options{}
				if on {
					opts.Observer = prommetrics.New()
				}
				benchFanout(b, n, opts)
			})
		}
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func benchFanout(b *testing.B, n int, opts *socketio.Options) {
	payload := map[string]any{"user": "bench", "text": "hello, everyone", "ts": 1732700000000}
	srv := socketio.NewServer(opts)
	ts := httptest.NewServer(srv)
	defer ts.Close()
	defer srv.Close()
	url := "ws" + strings.TrimPrefix(ts.URL, "http") + "/socket.io/?EIO=4&transport=websocket"

	var received, target atomic.Int64
	reached := make(chan struct{}, 1)
	var wg sync.WaitGroup
	conns := make([]*websocket.Conn, 0, n)
	joined := make(chan struct{}, n)
	srv.OnConnection(func(*socketio.Socket) { joined <- struct{}{} })
	for range n {
		ws, _, err := websocket.DefaultDialer.Dial(url, nil)
		if err != nil {
			b.Fatal(err)
		}
		conns = append(conns, ws)
		if _, _, err := ws.ReadMessage(); err != nil { // open packet
			b.Fatal(err)
		}
		_ = ws.WriteMessage(websocket.TextMessage, []byte("40"))
		if _, _, err := ws.ReadMessage(); err != nil { // CONNECT answer
			b.Fatal(err)
		}
		<-joined
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				if _, _, err := ws.ReadMessage(); err != nil {
					return
				}
				if received.Add(1) == target.Load() {
					reached <- struct{}{}
				}
			}
		}()
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		target.Store(int64((i + 1) * n))
		if err := srv.Emit("message", payload); err != nil {
			b.Fatal(err)
		}
		select {
		case <-reached:
		case <-time.After(10 * time.Second):
			b.Fatalf("only %d of %d deliveries arrived", received.Load(), (i+1)*n)
		}
	}
	cpu := cpuTime() - cpu0
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/delivery")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N*n), "cpu-ns/delivery")
	for _, ws := range conns {
		_ = ws.Close()
	}
	wg.Wait()
}

// BenchmarkObserverCalls measures what the server pays per call into the
// metrics: Broadcast once per broadcast (whatever the number of sockets
// it reaches), PacketIn once per packet received.
func BenchmarkObserverCalls(b *testing.B) {
	m := prommetrics.New()
	b.Run("Broadcast", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			m.Broadcast(socketio.BroadcastStat{Namespace: "/", Type: parser.Event, Deliveries: 1000, Bytes: 64})
		}
	})
	b.Run("PacketIn", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			m.PacketIn(socketio.PacketStat{Namespace: "/", Type: parser.Event, Bytes: 64})
		}
	})
}
