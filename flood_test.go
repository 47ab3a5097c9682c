package socketio

import (
	"io"
	"net"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/switchboard-go/socketio/engineio"
)

// A client that floods a chat relay (every message re-emitted to everyone
// with Server.Emit from its handler) is slowed to what the readers take,
// through the Socket.IO layer: the broadcast runs on the flooder's
// dispatch, which the engine holds while readers are congested. A reader
// at 5,000 messages a second keeps its connection.
func TestRelayFloodSlowsTheFlooder(t *testing.T) {
	const (
		n    = 5000
		rate = 5000
		maxQ = 256 << 10
	)
	var handled, last atomic.Int64
	srv := NewServer(&Options{Engine: engineio.Options{MaxQueueBytes: maxQ, WriteTimeout: 4 * time.Second}})
	srv.OnConnection(func(s *Socket) {
		s.On("msg", func(e *Event) {
			_ = srv.Emit("msg", e.Arg(0))
			handled.Add(1)
			last.Store(time.Now().UnixNano())
		})
	})
	ts := httptest.NewUnstartedServer(srv)
	ts.Listener = floodListener{ts.Listener}
	ts.Start()
	t.Cleanup(func() { _ = srv.Close(); ts.Close() })
	url := "ws" + strings.TrimPrefix(ts.URL, "http") + "/socket.io/?EIO=4&transport=websocket"
	dialer := websocket.Dialer{NetDial: func(network, addr string) (net.Conn, error) {
		c, err := net.Dial(network, addr)
		if err != nil {
			return nil, err
		}
		_ = c.(*net.TCPConn).SetReadBuffer(64 << 10)
		return c, nil
	}}
	dial := func() *rawClient {
		ws, _, err := dialer.Dial(url, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ws.Close() })
		c := &rawClient{t: t, ws: ws}
		c.frame() // open
		c.connect("/")
		return c
	}
	reader, flooder := dial(), dial()
	var echoes atomic.Int64
	go func() { // the flooder reads its echoes, unpaced
		_ = flooder.ws.SetReadDeadline(time.Time{})
		for {
			_, r, err := flooder.ws.NextReader()
			if err != nil {
				return
			}
			_, _ = io.Copy(io.Discard, r)
			echoes.Add(1)
		}
	}()

	readerDone := make(chan error, 1)
	got := 0
	go func() {
		mark := time.Now()
		for got < n {
			_ = reader.ws.SetReadDeadline(time.Now().Add(10 * time.Second))
			if _, _, err := reader.ws.ReadMessage(); err != nil {
				readerDone <- err
				return
			}
			got++
			if got%(rate/100) == 0 {
				time.Sleep(time.Until(mark.Add(10 * time.Millisecond))) // the reader's pace
				mark = time.Now()
			}
		}
		readerDone <- nil
	}()
	pkt := []byte(`42["msg","` + strings.Repeat("x", 1000) + `"]`)
	start := time.Now()
	for range n {
		if err := flooder.ws.WriteMessage(websocket.TextMessage, pkt); err != nil {
			t.Fatalf("flooder: %v (reader got %d, flooder %d, stats %+v)", err, got, echoes.Load(), srv.Engine().Stats())
		}
	}
	sent := time.Since(start)
	select {
	case err := <-readerDone:
		if err != nil {
			t.Fatalf("the reader lost its connection after %d messages: %v (stats %+v)", got, err, srv.Engine().Stats())
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("the reader got %d messages in 20 s", got)
	}
	read := time.Since(start)
	took := time.Duration(last.Load() - start.UnixNano())
	st := srv.Engine().Stats()
	t.Logf("flood of %d × 1 KiB: written by the client in %v, handled by the server in %v (%.0f msg/s); the reader read all in %v (%.0f msg/s); stats %+v",
		n, sent, took, float64(handled.Load())/took.Seconds(), read, float64(n)/read.Seconds(), st)
	// What the queue and the kernel's buffers on the way to the reader
	// hold, the flood runs ahead of the reader; no more.
	if min := time.Duration(n-maxQ/1024-4*64) * time.Second / rate; took < min {
		t.Fatalf("flood handled in %v, faster than the reader takes (%v)", took, min)
	}
	if st.QueueOverflows+st.WriteTimeouts != 0 {
		t.Fatalf("stats %+v, want nobody disconnected", st)
	}
}

// floodListener makes the server's send buffers small, and the dialer
// above the clients' receive buffers, so a reader that falls behind shows
// in the server's queue within kilobytes (engineio's flood test says why
// the flooder's way in keeps Linux's defaults).
type floodListener struct{ net.Listener }

func (l floodListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	_ = c.(*net.TCPConn).SetWriteBuffer(64 << 10)
	return c, nil
}
