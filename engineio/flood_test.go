package engineio

import (
	"net"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// relay is a Handler that sends every message it receives to every other
// connection: a chat room's broadcast, as the Socket.IO layer makes it.
type relay struct {
	mu     sync.Mutex
	conns  map[*Conn]bool
	closed chan closeEvent
}

type closeEvent struct {
	c      *Conn
	reason string
	at     time.Time
}

func (r *relay) OnMessage(c *Conn, data []byte, binary bool) {
	r.mu.Lock()
	targets := make([]*Conn, 0, len(r.conns))
	for t := range r.conns {
		if t != c {
			targets = append(targets, t)
		}
	}
	r.mu.Unlock()
	msg := []Message{{Data: data, Binary: binary}}
	for _, t := range targets {
		_ = t.SendMessages(msg, false)
	}
}

func (r *relay) OnClose(c *Conn, reason string) {
	r.mu.Lock()
	delete(r.conns, c)
	r.mu.Unlock()
	r.closed <- closeEvent{c, reason, time.Now()}
}

// smallBuffers shrinks the kernel's buffers of a loopback connection, so a
// reader that falls behind shows in the server's queue within kilobytes
// instead of the megabytes loopback would buffer.
func smallBuffers(c net.Conn) net.Conn {
	tc := c.(*net.TCPConn)
	_ = tc.SetReadBuffer(64 << 10)
	_ = tc.SetWriteBuffer(64 << 10)
	return c
}

type smallBufListener struct{ net.Listener }

func (l smallBufListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return smallBuffers(c), nil
}

// A client that floods a room with broadcasts is slowed to what the room's
// readers take: a reader at 5,000 messages a second keeps its connection
// and gets everything, and a reader that stopped reading is still
// disconnected ("queue overflow") once it stayed behind for half of
// WriteTimeout.
func TestFloodSlowsTheFlooder(t *testing.T) {
	t.Run("paced reader", func(t *testing.T) { testFlood(t, false) })
	t.Run("paced and stalled readers", func(t *testing.T) { testFlood(t, true) })
}

func testFlood(t *testing.T, withStalled bool) {
	const (
		n       = 5000
		size    = 1 << 10
		rate    = 5000 // messages a second the paced reader takes at most
		maxQ    = 256 << 10
		writeTO = 4 * time.Second
	)
	rl := &relay{conns: map[*Conn]bool{}, closed: make(chan closeEvent, 8)}
	eng := NewServer(testOptions(&Options{MaxQueueBytes: maxQ, WriteTimeout: writeTO, PingInterval: time.Minute}), func(c *Conn) Handler {
		rl.mu.Lock()
		rl.conns[c] = true
		rl.mu.Unlock()
		return rl
	})
	ts := httptest.NewUnstartedServer(eng)
	ts.Listener = smallBufListener{ts.Listener}
	ts.Start()
	t.Cleanup(func() { _ = eng.Close(); ts.Close() })

	dialer := websocket.Dialer{NetDial: func(network, addr string) (net.Conn, error) {
		c, err := net.Dial(network, addr)
		if err != nil {
			return nil, err
		}
		return smallBuffers(c), nil
	}}
	u := "ws" + strings.TrimPrefix(ts.URL, "http") + "/socket.io/?EIO=4&transport=websocket"
	dial := func() *websocket.Conn {
		ws, _, err := dialer.Dial(u, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ws.Close() })
		if _, open, err := ws.ReadMessage(); err != nil || open[0] != '0' {
			t.Fatalf("open: %q %v", open, err)
		}
		return ws
	}
	paced := dial()
	conns := 2
	if withStalled {
		dial() // never read
		conns++
	}
	flooder := dial()
	waitFor(t, func() bool { rl.mu.Lock(); defer rl.mu.Unlock(); return len(rl.conns) == conns })

	var got atomic.Int64
	pacedDone := make(chan error, 1)
	go func() {
		// At most rate messages a second, in steps of 10 ms: a reader
		// that falls behind does not catch up faster.
		const step = rate / 100
		mark := time.Now()
		for i := 1; i <= n; i++ {
			_ = paced.SetReadDeadline(time.Now().Add(10 * time.Second))
			if _, _, err := paced.ReadMessage(); err != nil {
				pacedDone <- err
				return
			}
			got.Add(1)
			if i%step == 0 {
				time.Sleep(time.Until(mark.Add(10 * time.Millisecond))) // the reader's pace, not a wait for an event
				mark = time.Now()
			}
		}
		pacedDone <- nil
	}()

	payload := "4" + strings.Repeat("f", size-1)
	start := time.Now()
	for range n {
		if err := flooder.WriteMessage(websocket.TextMessage, []byte(payload)); err != nil {
			t.Fatalf("flooder: %v", err)
		}
	}
	flood := time.Since(start)
	if err := receive(t, pacedDone, "paced reader still reading"); err != nil {
		t.Fatalf("paced reader lost its connection after %d messages: %v", got.Load(), err)
	}
	read := time.Since(start)
	st := eng.Stats()
	t.Logf("flood of %d × %d B: sent in %v (%.0f msg/s); the paced reader read all in %v (%.0f msg/s); stats %+v",
		n, size, flood, float64(n)/flood.Seconds(), read, float64(n)/read.Seconds(), st)
	// The flooder was held back to the paced reader's speed: it could
	// send no faster than that reader takes, less what the queue and the
	// kernel's buffers (64 KiB each way, doubled by Linux) and, on the
	// poller, the flooder's undispatched input hold.
	buffered := maxQ/size + 4*64
	if pollerExpected() {
		buffered += inboundLimit / size
	}
	if min := time.Duration(n-buffered) * time.Second / rate; flood < min {
		t.Fatalf("flood sent in %v, faster than the reader takes (%v)", flood, min)
	}
	if !withStalled {
		if st.QueueOverflows+st.WriteTimeouts != 0 {
			t.Fatalf("stats %+v, want nobody disconnected", st)
		}
		return
	}
	ev := receive(t, rl.closed, "the stalled reader was not disconnected")
	if ev.reason != ReasonQueueOverflow && ev.reason != ReasonWriteTimeout {
		t.Fatalf("a connection closed with %q", ev.reason)
	}
	t.Logf("the stalled reader went after %v (%s)", ev.at.Sub(start), ev.reason)
	if st := eng.Stats(); st.QueueOverflows+st.WriteTimeouts != 1 {
		t.Fatalf("stats %+v, want the stalled reader alone disconnected", st)
	}
}
