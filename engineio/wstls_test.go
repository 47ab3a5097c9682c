package engineio

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/switchboard-go/socketio/internal/netpoll"
)

// tlsWS is a session opened over a TLS WebSocket through ServeTLS.
type tlsWS struct {
	ws *websocket.Conn
	c  *Conn
	g  *gorillaWS
}

// openTLSWebSockets opens n sessions on TLS WebSockets at addr, each read
// by the poller's watch (parked) by the time it returns.
func openTLSWebSockets(t *testing.T, srv *Server, addr string, pool *x509.CertPool, n int) []tlsWS {
	t.Helper()
	d := websocket.Dialer{TLSClientConfig: &tls.Config{RootCAs: pool}}
	var out []tlsWS
	for range n {
		ws, _, err := d.Dial("wss://"+addr+"/socket.io/?EIO=4&transport=websocket", nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = ws.Close() })
		_, open := readTLSFrame(t, ws)
		var hs struct{ Sid string }
		if !strings.HasPrefix(open, "0") || json.Unmarshal([]byte(open[1:]), &hs) != nil {
			t.Fatalf("open packet %q", open)
		}
		srv.mu.RLock()
		c := srv.sessions[hs.Sid]
		srv.mu.RUnlock()
		g := c.wsActive.Load()
		if g == nil || g.sealer() == nil {
			t.Fatal("the TLS WebSocket is not one whose writes go in rounds")
		}
		deadline := time.Now().Add(5 * time.Second)
		for g.reading.Load() {
			if time.Now().After(deadline) {
				t.Fatal("the WebSocket's reads did not park")
			}
			time.Sleep(time.Millisecond)
		}
		out = append(out, tlsWS{ws: ws, c: c, g: g})
	}
	// A session's first writes may have gone in a round (attach kicks as
	// a broadcast does): let it end, so that the caller's broadcast starts
	// a round of its own.
	deadline := time.Now().Add(5 * time.Second)
	for {
		srv.tlsFlushers.q.mu.Lock()
		running := srv.tlsFlushers.q.running
		srv.tlsFlushers.q.mu.Unlock()
		if running == 0 {
			return out
		}
		if time.Now().After(deadline) {
			t.Fatal("a round still runs")
		}
		time.Sleep(time.Millisecond)
	}
}

func readTLSFrame(t *testing.T, ws *websocket.Conn) (int, string) {
	t.Helper()
	_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	mt, data, err := ws.ReadMessage()
	if err != nil {
		t.Fatal(err)
	}
	return mt, string(data)
}

// A broadcast to TLS WebSockets of the front is sealed connection by
// connection and written in one submission (without io_uring, a writev
// each in the same round); every client decrypts its message, and a second
// broadcast reuses the round's state.
func TestTLSWebSocketBroadcastInRounds(t *testing.T) {
	if !pollerExpected() {
		return
	}
	for _, rings := range []bool{true, false} {
		t.Run(fmt.Sprint("rings=", rings), func(t *testing.T) {
			netpoll.SetRings(rings && !*noRings)
			t.Cleanup(func() { netpoll.SetRings(!*noRings) })
			cert, pool := testCertificate(t)
			srv, _, _, addr, _ := startFrontServerWith(t, &Options{PingInterval: time.Minute, PingTimeout: time.Minute}, nil, cert)
			const n = 12
			clients := openTLSWebSockets(t, srv, addr, pool, n)
			held, release, events := holdRounds(t)
			for round := range 2 {
				p := Prepare([]Message{{Data: fmt.Appendf(nil, "hello %d", round)}})
				for _, cl := range clients {
					if err := cl.c.SendPrepared(p, false); err != nil {
						t.Fatal(err)
					}
				}
				if round == 0 {
					select {
					case <-held:
					case <-time.After(5 * time.Second):
						t.Fatal("no round started")
					}
					release()
				}
				for i, cl := range clients {
					if mt, got := readTLSFrame(t, cl.ws); mt != websocket.TextMessage || got != fmt.Sprintf("4hello %d", round) {
						t.Fatalf("client %d: %d %q", i, mt, got)
					}
				}
				if round == 0 {
					deadline := time.Now().Add(5 * time.Second)
					for len(events()) == 0 && time.Now().Before(deadline) {
						time.Sleep(time.Millisecond) // told after the write
					}
					if got := events(); fmt.Sprint(got) != fmt.Sprint([]string{fmt.Sprint("written ", n)}) {
						t.Fatalf("round events %q, want one write of %d", got, n)
					}
				}
			}
		})
	}
}

// A broadcast larger than the socket's buffers goes out in part with the
// round and the rest from a task of its own: the records whole and in
// order, the client decrypting the message. A client that never reads is
// cut off with "write timeout", with the rest still waiting.
func TestTLSWebSocketRoundRestToASlowReader(t *testing.T) {
	if !pollerExpected() {
		return
	}
	cert, pool := testCertificate(t)
	srv, h, _, addr, _ := startFrontServerWith(t, &Options{PingInterval: time.Minute, PingTimeout: time.Minute, WriteTimeout: 500 * time.Millisecond}, nil, cert)
	big := patterned(512 << 10)
	_, release, events := holdRounds(t)
	release() // only the events are wanted
	for _, reads := range []bool{true, false} {
		cl := openTLSWebSockets(t, srv, addr, pool, 1)[0]
		_ = cl.ws.NetConn().(*tls.Conn).NetConn().(*net.TCPConn).SetReadBuffer(64 << 10)
		_ = cl.g.sealer().Conn.(*net.TCPConn).SetWriteBuffer(16 << 10)
		if err := cl.c.SendPrepared(Prepare([]Message{{Data: big}}), false); err != nil {
			t.Fatal(err)
		}
		if !reads {
			if got := waitString(t, h.closed, "the session's close"); got != ReasonWriteTimeout {
				t.Fatalf("close reason %q, want %q", got, ReasonWriteTimeout)
			}
			continue
		}
		time.Sleep(200 * time.Millisecond) // the kernel's buffers fill
		if mt, got := readTLSFrame(t, cl.ws); mt != websocket.TextMessage || got != "4"+string(big) {
			t.Fatalf("message %d, %d bytes, want text and %d", mt, len(got), 1+len(big))
		}
		rest := false
		for _, e := range events() {
			rest = rest || strings.HasPrefix(e, "rest ")
		}
		if !rest {
			t.Fatalf("round events %q: no rest written apart", events())
		}
	}
}

// While the reader holds the connection's write lock (a pong on its way),
// a round leaves the connection to its writer task, which delivers once
// the lock is free; pings answered during a stream of broadcasts land
// between records, never inside one.
func TestTLSWebSocketRoundBesidePongs(t *testing.T) {
	if !pollerExpected() {
		return
	}
	cert, pool := testCertificate(t)
	srv, _, _, addr, _ := startFrontServerWith(t, &Options{PingInterval: time.Minute, PingTimeout: time.Minute}, nil, cert)
	clients := openTLSWebSockets(t, srv, addr, pool, 4)

	cl := clients[0]
	cl.g.wmu.Lock()
	if err := cl.c.SendPrepared(Prepare([]Message{{Data: []byte("after the lock")}}), false); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond) // the round has run and handed it on
	cl.g.wmu.Unlock()
	if _, got := readTLSFrame(t, cl.ws); got != "4after the lock" {
		t.Fatalf("got %q", got)
	}

	const n = 300
	var wg sync.WaitGroup
	pongs := make([]int, len(clients))
	for i, cl := range clients {
		cl.ws.SetPongHandler(func(string) error { pongs[i]++; return nil })
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range n {
				if mt, got := readTLSFrame(t, cl.ws); mt != websocket.TextMessage || got != fmt.Sprintf("4m%d", k) {
					t.Errorf("client %d message %d: %q", i, k, got)
					return
				}
			}
		}()
	}
	var pingMu sync.Mutex // gorilla's control writes are not safe beside Close
	stop := make(chan struct{})
	pinged := make(chan struct{})
	go func() {
		defer close(pinged)
		for {
			select {
			case <-stop:
				return
			default:
			}
			pingMu.Lock()
			for _, cl := range clients {
				_ = cl.ws.WriteControl(websocket.PingMessage, []byte("p"), time.Now().Add(time.Second))
			}
			pingMu.Unlock()
			time.Sleep(200 * time.Microsecond)
		}
	}()
	for k := range n {
		p := Prepare([]Message{{Data: fmt.Appendf(nil, "m%d", k)}})
		for _, cl := range clients {
			if err := cl.c.SendPrepared(p, false); err != nil {
				t.Fatal(err)
			}
		}
		if k%50 == 0 {
			time.Sleep(time.Millisecond)
		}
	}
	wg.Wait()
	close(stop)
	<-pinged
	for i, p := range pongs {
		if p == 0 {
			t.Errorf("client %d got no pong", i)
		}
	}
}

// recordingConn records what is written to it, in order.
type recordingConn struct {
	net.Conn
	mu  sync.Mutex
	out bytes.Buffer
}

func (c *recordingConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.out.Write(p)
}

func (c *recordingConn) written() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.out.String()
}

// While a round's captured records are on their way, a record the
// tls.Conn writes itself (an alert, a KeyUpdate) waits for them: the wire
// gets them in the order they were sealed. Written during the capture,
// it joins the captured ones; after a failure, it is refused.
func TestSplitterHoldsItsOwnWritesBehindCapturedRecords(t *testing.T) {
	rec := &recordingConn{}
	split := &helloSplitter{Conn: rec}
	var buf []byte
	split.captureInto(&buf)
	if _, err := split.Write([]byte("a")); err != nil {
		t.Fatal(err)
	}
	split.endCapture()
	if string(buf) != "a" || rec.written() != "" {
		t.Fatalf("captured %q, written %q", buf, rec.written())
	}
	done := make(chan error, 1)
	go func() {
		_, err := split.Write([]byte("b"))
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("a write went ahead of the captured records (%v)", err)
	case <-time.After(50 * time.Millisecond):
	}
	_, _ = rec.Write(buf) // the round writes them
	split.sent()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := rec.written(); got != "ab" {
		t.Fatalf("written %q, want %q", got, "ab")
	}

	split.captureInto(&buf)
	split.endCapture()
	go func() {
		_, err := split.Write([]byte("c"))
		done <- err
	}()
	time.Sleep(10 * time.Millisecond)
	split.broken.Store(true)
	split.sent()
	if err := <-done; err == nil {
		t.Fatal("a write after a failed one went out")
	}
	if got := rec.written(); got != "ab" {
		t.Fatalf("written %q, want %q", got, "ab")
	}
}
