package socketio

import (
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/switchboard-go/socketio/engineio"
	"github.com/switchboard-go/socketio/internal/testnet"
)

// Compress(false), on a socket and on a broadcast, sends uncompressed to a
// client that negotiated permessage-deflate; the default compresses.
func TestCompressFalse(t *testing.T) {
	srv, url := newTestServer(t, &Options{Engine: engineio.Options{PerMessageDeflate: true}})
	sockets := make(chan *Socket, 1)
	srv.OnConnection(func(s *Socket) { sockets <- s })
	var wire atomic.Int64
	d := websocket.Dialer{EnableCompression: true, NetDial: testnet.CountingDial(&wire)}
	ws, _, err := d.Dial(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	c := &rawClient{t: t, ws: ws}
	c.frame() // open
	c.connect("/")
	s := recvWithin(t, sockets)
	big := strings.Repeat("abcdefgh", 1000)
	for _, tc := range []struct {
		name       string
		emit       func() error
		compressed bool
	}{
		{"socket", func() error { return s.Emit("m", big) }, true},
		{"socket compress(false)", func() error { return s.Compress(false).Emit("m", big) }, false},
		{"socket compress(false) with ack", func() error {
			return s.Compress(false).Timeout(time.Second).Emit("m", big, func(Args, error) {})
		}, false},
		{"broadcast", func() error { return srv.Emit("m", big) }, true},
		{"broadcast compress(false)", func() error { return srv.Compress(false).Emit("m", big) }, false},
		{"broadcast compress(true)", func() error { return srv.Compress(true).Emit("m", big) }, true},
	} {
		before := wire.Load()
		if err := tc.emit(); err != nil {
			t.Fatal(err)
		}
		if got := c.recv(); !strings.Contains(got, big) {
			t.Fatalf("%s: got %d bytes", tc.name, len(got))
		}
		if n := wire.Load() - before; tc.compressed != (n < int64(len(big))) {
			t.Errorf("%s: %d bytes on the wire for %d", tc.name, n, len(big))
		}
	}
}
