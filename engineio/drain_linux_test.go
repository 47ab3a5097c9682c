//go:build linux

package engineio

import (
	"context"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// A session closed gracefully keeps writing what was queued; when its
// client does not read, Server.Close must still cut it off at once rather
// than wait for the write timeout (both WebSocket paths).
func TestCloseCutsOffDrainingSession(t *testing.T) {
	ts := startServer(t, &Options{WriteTimeout: 30 * time.Second, MaxQueueBytes: 64 << 20}, false)
	u := "ws" + strings.TrimPrefix(ts.url("transport=websocket"), "http")
	d := websocket.Dialer{NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		nd := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
			return rc.Control(func(fd uintptr) {
				_ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
			})
		}}
		return nd.DialContext(ctx, network, addr)
	}}
	ws, _, err := d.Dial(u, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close() // never read: the server's writes stall
	c := ts.nextConn(t)
	big := make([]byte, 64<<10)
	for range 400 { // 25 MiB, far more than the socket buffers hold
		if err := c.Send(big, true, false); err != nil {
			t.Fatal(err)
		}
	}
	waitWriterStalled(t, c)
	_ = c.Close() // graceful: the rest of the queue is still being written
	start := time.Now()
	if err := ts.eng.Close(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("Server.Close took %v: it waited for the draining session", d)
	}
}

// A graceful close that completes leaves nothing in the draining set.
func TestDrainingSetEmptiesAfterFlush(t *testing.T) {
	ts := startServer(t, nil, false)
	for range 5 {
		ws := dialWS(t, ts, "")
		c := ts.nextConn(t)
		_ = c.Send([]byte("bye"), false, false)
		_ = c.Close()
		for {
			if _, _, err := ws.ReadMessage(); err != nil {
				break
			}
		}
		ws.Close()
		ts.closeReason(t)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		ts.eng.mu.Lock()
		n := len(ts.eng.draining)
		ts.eng.mu.Unlock()
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d sessions left in the draining set", n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
