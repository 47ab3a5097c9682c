package adapter_test

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"testing"

	"github.com/switchboard-go/socketio/adapter"
	"github.com/switchboard-go/socketio/adapter/adaptertest"
	"github.com/switchboard-go/socketio/internal/leakcheck"
	"github.com/switchboard-go/socketio/parser"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

func TestInMemory(t *testing.T) {
	adaptertest.RunSingle(t, adapter.NewInMemory)
}

// With recovery on, the adapter is the same adapter: offsets appended to
// events change nothing the suite checks.
func TestInMemoryWithRecovery(t *testing.T) {
	adaptertest.RunSingle(t, adapter.NewInMemoryWithRecovery(adapter.RecoveryConfig{}))
}

// countHost is a Host that only counts deliveries, so that the benchmark
// measures the adapter.
type countHost struct{ n int }

func (h *countHost) Name() string { return "/" }
func (h *countHost) Deliver(ids []string, _ []adapter.Frame, _ adapter.DeliverOptions) {
	h.n += len(ids)
}
func (h *countHost) SocketDetails(string) (adapter.SocketDetails, bool) {
	return adapter.SocketDetails{}, false
}
func (h *countHost) DisconnectSocket(string, bool) {}

// BenchmarkInMemoryBroadcast measures targeting and encoding of one
// broadcast among 1,000 sockets spread over 10 rooms (each socket is in
// its own room and one of the ten).
func BenchmarkInMemoryBroadcast(b *testing.B) {
	const sockets, rooms = 1000, 10
	h := &countHost{}
	a := adapter.NewInMemory(h)
	for i := range sockets {
		id := fmt.Sprintf("socket-%04d", i)
		a.AddAll(id, []string{id, fmt.Sprintf("room-%d", i%rooms)})
	}
	data, _, err := parser.EncodeArgs([]any{"message", "hello, world", 42})
	if err != nil {
		b.Fatal(err)
	}
	pkt := &parser.Packet{Type: parser.Event, Namespace: "/", Data: data}
	for _, bc := range []struct {
		name string
		opts adapter.Options
		want int
	}{
		{"All", adapter.Options{}, sockets},
		{"AllExceptOne", adapter.Options{Except: []string{"socket-0000"}}, sockets - 1},
		{"OneRoom", adapter.Options{Rooms: []string{"room-3"}}, sockets / rooms},
		{"ThreeRooms", adapter.Options{Rooms: []string{"room-1", "room-2", "room-3"}}, 3 * sockets / rooms},
		{"RoomExceptRoom", adapter.Options{Rooms: []string{"room-1", "room-2"}, Except: []string{"room-2"}}, sockets / rooms},
		{"OneSocket", adapter.Options{Rooms: []string{"socket-0500"}}, 1},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			h.n = 0
			for b.Loop() {
				if err := a.Broadcast(pkt, bc.opts); err != nil {
					b.Fatal(err)
				}
			}
			if h.n%bc.want != 0 || h.n == 0 {
				b.Fatalf("delivered %d, not a multiple of %d", h.n, bc.want)
			}
			b.ReportMetric(float64(bc.want), "targets/op")
		})
	}
}

// A broadcast's target list is recycled (Host.Deliver does not keep it):
// at 50 broadcasts a second to 1,000 sockets, a fresh 16 KiB list each
// time was a quarter of what the server allocated.
//
// Two things empty a sync.Pool besides a missing Put: a garbage collection
// (the pool keeps its items for one more cycle only) and, under the race
// detector, dropped Puts. The loop runs with the collector off, so only the
// second remains. Without the race detector a broadcast allocates under
// 200 bytes, against 16 KiB with no reuse. With it, a quarter of the Puts
// are dropped and a list costs twice as much: 8.3 KiB a broadcast over
// 2,000 (7.5-9.0 KiB in 20 runs) against 32 KiB with no reuse, so the
// bound there is 12 KiB.
func TestInMemoryBroadcastReusesTargets(t *testing.T) {
	const sockets = 1000
	h := &countHost{}
	a := adapter.NewInMemory(h)
	for i := range sockets {
		a.AddAll(fmt.Sprintf("socket-%04d", i), nil)
	}
	data, _, err := parser.EncodeArgs([]any{"message", "hello"})
	if err != nil {
		t.Fatal(err)
	}
	pkt := &parser.Packet{Type: parser.Event, Namespace: "/", Data: data}
	const runs = 2000
	var before, after runtime.MemStats
	runtime.GC()
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	runtime.ReadMemStats(&before)
	for range runs {
		if err := a.Broadcast(pkt, adapter.Options{}); err != nil {
			t.Fatal(err)
		}
	}
	runtime.ReadMemStats(&after)
	if h.n != runs*sockets {
		t.Fatalf("delivered %d, want %d", h.n, runs*sockets)
	}
	limit := uint64(1 << 10)
	if raceEnabled {
		limit = 12 << 10
	}
	if per := (after.TotalAlloc - before.TotalAlloc) / runs; per > limit {
		t.Errorf("a broadcast to %d sockets allocated %d bytes, want the target list reused (a new one is at least %d)", sockets, per, sockets*16)
	}
}
