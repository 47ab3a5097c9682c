package engineio

import (
	"net/http/httptest"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-go/socketio/internal/netpoll"
)

// spinHandler handles "4spin" by keeping the CPU for spinFor without
// blocking (a handler doing real work), counting them, and "4other" by
// reporting how many spins had run by then.
type spinHandler struct {
	spins   *atomic.Int64
	started chan struct{}
	other   chan int64
}

const spinFor = 25 * time.Microsecond

func (h *spinHandler) OnMessage(c *Conn, data []byte, binary bool) {
	switch string(data) {
	case "spin":
		if h.spins.Add(1) == 1 {
			h.started <- struct{}{}
		}
		for start := time.Now(); time.Since(start) < spinFor; {
		}
	case "other":
		h.other <- h.spins.Load()
	}
}

func (h *spinHandler) OnClose(*Conn, string) {}

// A connection whose client sends faster than its handlers run keeps a
// dispatcher busy. With every P taken, Go's runtime would look for other
// connections' input only once that dispatcher ran out of work (or after
// 10 ms): the engine reads what is ready and lets the other dispatchers
// run every dispatchSlice packets. With one P, a burst of 200 packets
// (5 ms of handler work, under the runtime's preemption interval) from
// one client must not hold up another's packet, sent once the burst
// began, until the burst's end.
func TestBusyConnectionLetsOthersIn(t *testing.T) {
	if !netpoll.Supported {
		t.Skip("no poller on this platform")
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	var spins atomic.Int64
	h := &spinHandler{spins: &spins, started: make(chan struct{}, 1), other: make(chan int64, 1)}
	saved := *noPoller
	*noPoller = false
	eng := NewServer(testOptions(nil), func(*Conn) Handler { return h })
	*noPoller = saved
	ts := &testServer{Server: httptest.NewServer(eng), eng: eng}
	t.Cleanup(func() {
		_ = eng.Close()
		ts.Close()
	})
	busy, other := dialRaw(t, ts, ""), dialRaw(t, ts, "")
	for _, c := range []*rawWS{busy, other} {
		if f, err := c.readFrame(); err != nil || f.payload[0] != '0' {
			t.Fatalf("open packet: %q %v", f.payload, err)
		}
	}
	const burst = 200
	var frames []byte
	for range burst {
		frames = append(frames, maskedFrame(0x81, []byte("4spin"))...)
	}
	busy.write(t, frames) // one write: one read on the server's side
	receive(t, h.started, "the burst did not start")
	other.write(t, maskedFrame(0x81, []byte("4other")))
	at := receive(t, h.other, "the other client's packet was not dispatched")
	if at >= burst {
		t.Fatalf("the other client's packet waited for the whole burst (%d of %d handled before it)", at, burst)
	}
	t.Logf("the other client's packet ran after %d of the burst's %d", at, burst)
	for spins.Load() < burst {
		runtime.Gosched()
	}
}
