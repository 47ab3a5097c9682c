package engineio

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// The front closes idle connections as net/http does, with hs's bounds:
// IdleTimeout between requests, ReadHeaderTimeout before the first. The
// tests run in both modes: with the poller the front applies the bounds
// (front_idle.go), without it net/http does, and the client sees the
// same.

func TestIdleBoundsOf(t *testing.T) {
	const s = time.Second
	for _, tc := range []struct {
		idle, header, read, write time.Duration
		want                      idleBounds
		tick                      time.Duration
	}{
		{want: idleBounds{}, tick: 0},
		{idle: 5 * s, want: idleBounds{between: 5 * s}, tick: 625 * time.Millisecond},
		{header: 40 * time.Millisecond, want: idleBounds{first: 40 * time.Millisecond, handshake: 40 * time.Millisecond}, tick: 10 * time.Millisecond},
		{read: 30 * s, want: idleBounds{between: 30 * s, first: 30 * s, handshake: 30 * s}, tick: s},
		{idle: 2 * s, read: 30 * s, want: idleBounds{between: 2 * s, first: 30 * s, handshake: 30 * s}, tick: 250 * time.Millisecond},
		{header: 10 * s, read: 30 * s, want: idleBounds{between: 30 * s, first: 10 * s, handshake: 10 * s}, tick: s},
		{idle: -1, header: -1, read: 30 * s, want: idleBounds{between: -1, first: -1, handshake: 30 * s}, tick: 0},
		{idle: 800 * time.Millisecond, header: 400 * time.Millisecond, want: idleBounds{between: 800 * time.Millisecond, first: 400 * time.Millisecond, handshake: 400 * time.Millisecond}, tick: 50 * time.Millisecond},
		{write: 3 * s, want: idleBounds{handshake: 3 * s}, tick: 0},
		{header: 10 * s, write: 3 * s, read: -1, want: idleBounds{between: -1, first: 10 * s, handshake: 3 * s}, tick: s},
	} {
		hs := &http.Server{IdleTimeout: tc.idle, ReadHeaderTimeout: tc.header, ReadTimeout: tc.read, WriteTimeout: tc.write}
		got := idleBoundsOf(hs)
		if got != tc.want {
			t.Errorf("idleBoundsOf(idle %v, header %v, read %v, write %v) = %+v, want %+v", tc.idle, tc.header, tc.read, tc.write, got, tc.want)
		}
		if tick := got.sweepTick(); tick != tc.tick {
			t.Errorf("%+v.sweepTick() = %v, want %v", got, tick, tc.tick)
		}
	}
}

// dialIdleTest opens a connection to the front at addr, over TLS when
// pool is set.
func dialIdleTest(t *testing.T, addr string, pool *x509.CertPool) (net.Conn, *bufio.Reader) {
	t.Helper()
	if pool == nil {
		return dialFront(t, addr)
	}
	conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn, bufio.NewReader(conn)
}

// waitClosed waits for the server to close conn and returns how long
// that took from since; it fails the test when the server sends anything
// or keeps the connection past 5 s.
func waitClosed(t *testing.T, conn net.Conn, br *bufio.Reader, since time.Time) time.Duration {
	t.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	b, err := br.ReadByte()
	if err == nil {
		t.Fatalf("the server sent %q on an idle connection", b)
	}
	if !errors.Is(err, io.EOF) {
		t.Fatalf("reading an idle connection: %v, want EOF (closed by the server)", err)
	}
	return time.Since(since)
}

// A connection that waits for its next request longer than IdleTimeout
// is closed, never before; requests that come within it keep it open,
// each answer starting the idle time again.
func TestFrontClosesIdleConnections(t *testing.T) {
	cert, pool := testCertificate(t)
	for _, tc := range []struct {
		name string
		cert *tls.Certificate
		pool *x509.CertPool
	}{{"plain", nil, nil}, {"tls", cert, pool}} {
		t.Run(tc.name, func(t *testing.T) {
			const idle = 300 * time.Millisecond
			_, _, _, addr, _ := startFrontServerTuned(t, nil, nil, tc.cert, func(hs *http.Server) { hs.IdleTimeout = idle })
			conn, br := dialIdleTest(t, addr, tc.pool)
			openSession(t, conn, br)
			for range 4 { // 4 × 120 ms: longer than idle in all
				time.Sleep(idle * 2 / 5)
				openSession(t, conn, br)
			}
			if waited := waitClosed(t, conn, br, time.Now()); waited < idle {
				t.Errorf("closed after %v idle, before IdleTimeout (%v)", waited, idle)
			}
		})
	}
}

// A connection that sends no request within ReadHeaderTimeout is closed;
// IdleTimeout alone does not bound the wait for the first request, as in
// net/http.
func TestFrontClosesSilentConnections(t *testing.T) {
	const bound = 200 * time.Millisecond
	cert, pool := testCertificate(t)
	for _, tc := range []struct {
		name string
		cert *tls.Certificate
		pool *x509.CertPool
	}{{"ReadHeaderTimeout", nil, nil}, {"ReadHeaderTimeout over TLS", cert, pool}} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, _, addr, _ := startFrontServerTuned(t, nil, nil, tc.cert, func(hs *http.Server) { hs.ReadHeaderTimeout = bound })
			opened := time.Now()
			conn, br := dialIdleTest(t, addr, tc.pool) // over TLS, after the handshake
			if waited := waitClosed(t, conn, br, opened); waited < bound {
				t.Errorf("closed after %v, before ReadHeaderTimeout (%v)", waited, bound)
			}
		})
	}
	// A TLS client that sends no ClientHello is bounded as net/http
	// bounds it (here by ReadHeaderTimeout), not by PostTimeout alone.
	t.Run("no ClientHello", func(t *testing.T) {
		_, _, _, addr, _ := startFrontServerTuned(t, nil, nil, cert, func(hs *http.Server) { hs.ReadHeaderTimeout = bound })
		opened := time.Now()
		conn, br := dialFront(t, addr)
		if waited := waitClosed(t, conn, br, opened); waited < bound {
			t.Errorf("closed after %v, before ReadHeaderTimeout (%v)", waited, bound)
		}
	})
	t.Run("IdleTimeout only", func(t *testing.T) {
		_, _, _, addr, _ := startFrontServerTuned(t, nil, nil, nil, func(hs *http.Server) { hs.IdleTimeout = bound / 4 })
		conn, br := dialFront(t, addr)
		_ = conn.SetReadDeadline(time.Now().Add(2 * bound))
		if _, err := br.ReadByte(); !isTimeout(err) {
			t.Fatalf("reading a new connection: %v, want a timeout (open)", err)
		}
		openSession(t, conn, br) // and it serves a request then
	})
	t.Run("no bounds", func(t *testing.T) {
		_, _, _, addr, _ := startFrontServerTuned(t, nil, nil, nil, nil)
		conn, br := dialFront(t, addr)
		openSession(t, conn, br)
		_ = conn.SetReadDeadline(time.Now().Add(2 * bound))
		if _, err := br.ReadByte(); !isTimeout(err) {
			t.Fatalf("reading an idle connection: %v, want a timeout (open)", err)
		}
		openSession(t, conn, br)
	})
}

// A request begun is not idle: the idle bound ends when its first bytes
// come (the request then has PostTimeout, the front's bound on one).
func TestFrontIdleBoundEndsWithInput(t *testing.T) {
	const idle = 100 * time.Millisecond
	_, _, _, addr, _ := startFrontServerTuned(t, nil, nil, nil, func(hs *http.Server) { hs.IdleTimeout = idle })
	conn, br := dialFront(t, addr)
	openSession(t, conn, br)
	req := "GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n\r\n"
	if _, err := io.WriteString(conn, req[:10]); err != nil {
		t.Fatal(err)
	}
	time.Sleep(4 * idle)
	_, body := rawRequest(t, conn, br, req[10:])
	handshakeSID(t, body)
}

// A poll that waits longer than IdleTimeout for something to send is not
// idle: its connection stays, and the poll is answered.
func TestFrontParkedPollOutlivesIdleTimeout(t *testing.T) {
	srv, _, _, addr, _ := startFrontServerTuned(t, &Options{PingInterval: 600 * time.Millisecond, PingTimeout: 2 * time.Second}, nil, nil,
		func(hs *http.Server) { hs.IdleTimeout = 50 * time.Millisecond })
	conn, br, sid := openWithPoll(t, srv, addr)
	if pollerExpected() {
		// Its input came: the sweep does not look at it while it waits.
		if u := frontConnOf(t, srv, sid).idleUntil.Load(); u != 0 {
			t.Errorf("a parked poll's connection has idleUntil %d, want 0", u)
		}
	}
	resp, body := readResponse(t, conn, br)
	if resp.StatusCode != http.StatusOK || body != "2" {
		t.Fatalf("poll answered %d %q, want 200 \"2\" (the ping)", resp.StatusCode, body)
	}
}

// A poll sent along with the request before it (read with it, answered
// after it, which starts the connection's idle time) is not idle either
// once it waits: its connection is not looked at by the sweep.
func TestFrontPipelinedPollIsNotIdle(t *testing.T) {
	srv, _, _, addr, _ := startFrontServerTuned(t, &Options{PingInterval: 600 * time.Millisecond, PingTimeout: 2 * time.Second}, nil, nil,
		func(hs *http.Server) { hs.IdleTimeout = 50 * time.Millisecond })
	conn, br := dialFront(t, addr)
	sid := openSession(t, conn, br)
	path := "/socket.io/?EIO=4&transport=polling&sid=" + sid
	both := "POST " + path + " HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\n6" +
		"GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n"
	if _, err := io.WriteString(conn, both); err != nil {
		t.Fatal(err)
	}
	if resp, body := readResponse(t, conn, br); resp.StatusCode != http.StatusOK || body != "ok" {
		t.Fatalf("POST answered %d %q", resp.StatusCode, body)
	}
	if pollerExpected() {
		waitPollsParked(t, srv, 1)
		if u := frontConnOf(t, srv, sid).idleUntil.Load(); u != 0 {
			t.Errorf("a parked poll's connection has idleUntil %d, want 0", u)
		}
	}
	resp, body := readResponse(t, conn, br)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "2") {
		t.Fatalf("poll answered %d %q, want 200 with the ping", resp.StatusCode, body)
	}
}

// The sweep closes a connection only when the kernel holds nothing for
// it: a request that came as it looked (no reader has taken it: the sweep
// holds the reader role) is served.
func TestFrontIdleCloseLeavesInputThatArrived(t *testing.T) {
	if !pollerExpected() {
		return // the front runs on the poller (a skip fails scripts/test.sh)
	}
	fronts := frontsServed(t)
	_, _, _, addr, _ := startFrontServerTuned(t, nil, nil, nil, func(hs *http.Server) { hs.IdleTimeout = time.Hour })
	f := <-fronts
	conn, br := dialFront(t, addr)
	openSession(t, conn, br)
	fc := soleConn(t, f)
	// A connection without a bound (idleUntil 0) is never idle.
	holdReader(t, fc)
	kept := fc.idleUntil.Swap(0)
	fc.reading.Store(false)
	fc.closeIfIdle(f.clock() + int64(2*time.Hour))
	holdReader(t, fc)
	fc.idleUntil.Store(kept)
	fc.mu.Lock()
	gone := fc.gone
	fc.mu.Unlock()
	if gone {
		t.Fatal("a connection without an idle bound was closed")
	}
	if _, err := io.WriteString(conn, "GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for fc.nothingArrived() {
		if time.Now().After(deadline) {
			t.Fatal("the request did not reach the server's kernel")
		}
		time.Sleep(time.Millisecond)
	}
	fc.reading.Store(false)
	fc.closeIfIdle(f.clock() + int64(2*time.Hour)) // past the bound
	_, body := readResponse(t, conn, br)
	handshakeSID(t, body)
}

// frontsServed hands over each front Serve makes until the test ends.
func frontsServed(t *testing.T) <-chan *front {
	fronts := make(chan *front, 1)
	hook := func(fr *front) { fronts <- fr }
	testHookFront.Store(&hook)
	t.Cleanup(func() { testHookFront.Store(nil) })
	return fronts
}

// soleConn is the one connection f reads.
func soleConn(t *testing.T, f *front) *frontConn {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.conns) != 1 {
		t.Fatalf("the front reads %d connections, want 1", len(f.conns))
	}
	for fc := range f.conns {
		return fc
	}
	return nil
}

// holdReader takes fc's reader role once its reader has parked, so that
// no reader takes what the client sends meanwhile.
func holdReader(t *testing.T, fc *frontConn) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !fc.reading.CompareAndSwap(false, true) {
		if time.Now().After(deadline) {
			t.Fatal("the reader did not park")
		}
		time.Sleep(time.Millisecond)
	}
}

// An idle time ends at its bound, not before; 0 is no bound.
func TestIdleEnded(t *testing.T) {
	for _, tc := range []struct {
		until, now int64
		want       bool
	}{
		{0, 0, false}, {0, 1 << 40, false},
		{100, 99, false}, {100, 100, true}, {100, 101, true},
	} {
		if got := idleEnded(tc.until, tc.now); got != tc.want {
			t.Errorf("idleEnded(%d, %d) = %v, want %v", tc.until, tc.now, got, tc.want)
		}
	}
}

// The idle sweep's look at the kernel is not stopped by a read deadline
// that has passed (a reader's last one): a connection with input waiting
// is not taken for an idle one.
func TestFrontNothingArrivedPastADeadline(t *testing.T) {
	if !pollerExpected() {
		return
	}
	srv, _, _, addr := startFrontServer(t, &Options{PingInterval: time.Minute, PingTimeout: time.Minute}, nil)
	p := openPolled(t, srv, addr, 1)[0]
	fc := frontConnOf(t, srv, p.sid)
	if !fc.reading.CompareAndSwap(false, true) {
		t.Fatal("a reader runs with the poll parked")
	}
	if !fc.nothingArrived() {
		t.Fatal("input seen before any was sent")
	}
	if _, err := p.conn.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond) // the byte reaches the server's socket
	_ = fc.nc.SetReadDeadline(aLongTimeAgo)
	if fc.nothingArrived() {
		t.Fatal("a byte waiting in the kernel was not seen past the read deadline")
	}
	_ = fc.nc.SetReadDeadline(time.Time{})
	fc.reading.Store(false)
	fc.wake()
}
