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
	echo    bool // to the sender too
	handled atomic.Int64
	last    atomic.Int64 // when the last message was handled, in Unix ns
	mu      sync.Mutex
	conns   map[*Conn]bool
	closed  chan closeEvent
}

type closeEvent struct {
	c      *Conn
	reason string
	at     time.Time
}

func (r *relay) OnMessage(c *Conn, data []byte, binary bool) {
	r.handled.Add(1)
	r.last.Store(time.Now().UnixNano())
	r.mu.Lock()
	targets := make([]*Conn, 0, len(r.conns))
	for t := range r.conns {
		if t != c || r.echo {
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

// The kernel's buffers of the test's loopback connections are made small
// on the way to the readers (the server's send buffer, the client's
// receive buffer), so a reader that falls behind shows in the server's
// queue within kilobytes instead of the megabytes loopback would buffer.
// The flooder's way in keeps Linux's defaults: a small receive buffer
// that fills while the flooder is held back drops the segments that also
// carry its acknowledgements, and the other direction then stalls in
// retransmission backoff, an artefact of tiny fixed buffers on loopback.
const testSockBuf = 64 << 10

type smallBufListener struct{ net.Listener }

func (l smallBufListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	_ = c.(*net.TCPConn).SetWriteBuffer(testSockBuf)
	return c, nil
}

// A client that floods a room with broadcasts is slowed to what the room's
// readers take: a reader at 5,000 messages a second keeps its connection
// and gets everything, and a reader that stopped reading is still
// disconnected ("queue overflow") once it stayed behind for half of
// WriteTimeout.
func TestFloodSlowsTheFlooder(t *testing.T) {
	t.Run("paced reader", func(t *testing.T) { testFlood(t, false, false) })
	t.Run("paced and stalled readers", func(t *testing.T) { testFlood(t, true, false) })
	t.Run("paced reader, flooder reads its echoes", func(t *testing.T) { testFlood(t, false, true) })
}

func testFlood(t *testing.T, withStalled, echo bool) {
	const (
		n       = 5000
		size    = 1 << 10
		rate    = 5000 // messages a second the paced reader takes at most
		maxQ    = 256 << 10
		writeTO = 4 * time.Second
	)
	rl := &relay{echo: echo, conns: map[*Conn]bool{}, closed: make(chan closeEvent, 8)}
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
		_ = c.(*net.TCPConn).SetReadBuffer(testSockBuf)
		return c, nil
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
	if echo {
		go func() { // unpaced
			for {
				if _, _, err := flooder.ReadMessage(); err != nil {
					return
				}
			}
		}()
	}
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
	sent := time.Since(start)
	// The paced reader needs n/rate = 1 s at least, and more when the
	// machine is busy (CI runs with other packages' tests beside): its
	// own 10 s read deadline is what bounds a stuck reader, not this wait.
	var pacedErr error
	select {
	case pacedErr = <-pacedDone:
	case <-time.After(2 * time.Minute):
		t.Fatalf("paced reader still reading after 2 min (%d of %d)", got.Load(), n)
	}
	if err := pacedErr; err != nil {
		t.Fatalf("paced reader lost its connection after %d messages: %v", got.Load(), err)
	}
	read := time.Since(start)
	handled := time.Duration(rl.last.Load() - start.UnixNano())
	st := eng.Stats()
	t.Logf("flood of %d × %d B: written by the client in %v, handled by the server in %v (%.0f msg/s); the paced reader read all in %v (%.0f msg/s); stats %+v",
		n, size, sent, handled, float64(n)/handled.Seconds(), read, float64(n)/read.Seconds(), st)
	// The flooder was held back to the paced reader's speed: its messages
	// were handled no faster than that reader takes, less what the queue
	// and the kernel's buffers on the way (doubled by Linux) hold.
	buffered := maxQ/size + 4*testSockBuf/size
	if min := time.Duration(n-buffered) * time.Second / rate; handled < min {
		t.Fatalf("flood handled in %v, faster than the reader takes (%v)", handled, min)
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

// A flooder on long-polling is held back the same way: its POST is
// answered once its messages were handled, which waits for the readers.
func TestPollingFloodSlowsTheFlooder(t *testing.T) {
	const (
		n, batch = 5000, 50
		size     = 1 << 10
		rate     = 5000
		maxQ     = 256 << 10
	)
	rl := &relay{conns: map[*Conn]bool{}, closed: make(chan closeEvent, 8)}
	eng := NewServer(testOptions(&Options{MaxQueueBytes: maxQ, WriteTimeout: 4 * time.Second, PingInterval: time.Minute}), func(c *Conn) Handler {
		rl.mu.Lock()
		rl.conns[c] = true
		rl.mu.Unlock()
		return rl
	})
	srv := httptest.NewUnstartedServer(eng)
	srv.Listener = smallBufListener{srv.Listener}
	srv.Start()
	t.Cleanup(func() { _ = eng.Close(); srv.Close() })
	ts := &testServer{Server: srv, eng: eng}

	dialer := websocket.Dialer{NetDial: func(network, addr string) (net.Conn, error) {
		c, err := net.Dial(network, addr)
		if err != nil {
			return nil, err
		}
		_ = c.(*net.TCPConn).SetReadBuffer(testSockBuf)
		return c, nil
	}}
	paced, _, err := dialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http")+"/socket.io/?EIO=4&transport=websocket", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { paced.Close() })
	if _, _, err := paced.ReadMessage(); err != nil {
		t.Fatal(err)
	}
	sid := handshake(t, ts).SID
	waitFor(t, func() bool { rl.mu.Lock(); defer rl.mu.Unlock(); return len(rl.conns) == 2 })

	pacedDone := make(chan error, 1)
	go func() {
		mark := time.Now()
		for i := 1; i <= n; i++ {
			_ = paced.SetReadDeadline(time.Now().Add(10 * time.Second))
			if _, _, err := paced.ReadMessage(); err != nil {
				pacedDone <- err
				return
			}
			if i%(rate/100) == 0 {
				time.Sleep(time.Until(mark.Add(10 * time.Millisecond))) // the reader's pace
				mark = time.Now()
			}
		}
		pacedDone <- nil
	}()
	msg := "4" + strings.Repeat("p", size-1)
	body := strings.Repeat(msg+"\x1e", batch-1) + msg
	start := time.Now()
	for range n / batch {
		if status, _, answer := do(t, "POST", ts.url("transport=polling&sid="+sid), body); status != 200 || answer != "ok" {
			t.Fatalf("POST: %d %q", status, answer)
		}
	}
	sent := time.Since(start)
	if err := receive(t, pacedDone, "paced reader still reading"); err != nil {
		t.Fatalf("paced reader lost its connection: %v (stats %+v)", err, eng.Stats())
	}
	t.Logf("%d POSTs of %d × %d B answered in %v (%.0f msg/s); stats %+v", n/batch, batch, size, sent, float64(n)/sent.Seconds(), eng.Stats())
	if min := time.Duration(n-maxQ/size-4*testSockBuf/size) * time.Second / rate; sent < min {
		t.Fatalf("flood answered in %v, faster than the reader takes (%v)", sent, min)
	}
}
