package engineio

import (
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// WebSocket upgrades on the engine's path are read by the front and
// hijacked from it (frontWriter.Hijack), not handed to net/http: the
// connection never holds net/http's goroutine and buffers. Once hijacked
// it is the engine's: closing the http.Server (which ends Serve and closes
// the front's connections) leaves it open, as net/http leaves the
// connections it let go, and closing the engine closes it.
func TestFrontHijacksWebSocketUpgrades(t *testing.T) {
	if !pollerExpected() {
		return // without a poller Serve is http.Server.Serve
	}
	h := &echoServer{closed: make(chan string, 64)}
	srv := NewServer(testOptions(&Options{Logger: slog.New(slog.DiscardHandler)}), func(*Conn) Handler { return h })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var handed atomic.Int64
	hs := &http.Server{Handler: srv, ConnState: func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			handed.Add(1)
		}
	}}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln, hs) }()
	url := "http://" + ln.Addr().String() + "/socket.io/"

	var clients []*recClient
	var conns []*ClientConn
	for i := range 20 {
		transports := []string{TransportWebSocket}
		if i%2 == 1 {
			transports = nil // polling, then the upgrade
		}
		r := newRecClient()
		c := dialTest(t, url, r, DialOptions{Transports: transports})
		clients, conns = append(clients, r), append(conns, c)
	}
	echo := func(what string) {
		t.Helper()
		for i, c := range conns {
			waitTransport(t, c, TransportWebSocket)
			if err := c.Send([]byte(what), false, false); err != nil {
				t.Fatalf("client %d: %v", i, err)
			}
			if m := clients[i].next(t); m.data != what {
				t.Fatalf("client %d: echo %q, want %q", i, m.data, what)
			}
		}
	}
	echo("through the front")
	if n := handed.Load(); n != 0 {
		t.Errorf("%d connections handed to net/http, want none", n)
	}
	waitNoFrontGoroutine(t, "20 idle WebSockets")

	_ = hs.Close()
	select {
	case err := <-served:
		if !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("Serve returned %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after http.Server.Close")
	}
	echo("after http.Server.Close")

	_ = srv.Close()
	for i, r := range clients {
		select {
		case <-r.closed:
		case <-time.After(5 * time.Second):
			t.Fatalf("client %d not closed by the engine's Close", i)
		}
	}
}

// A client that sends data right behind its upgrade request, before the
// handshake's answer, is refused as behind net/http: the hijacked
// connection's reader holds the data, and gorilla closes it unanswered.
func TestFrontHijackWithDataAhead(t *testing.T) {
	if !pollerExpected() {
		return
	}
	_, _, _, addr, handed := startFrontServerCounted(t, nil, nil)
	conn, br := dialFront(t, addr)
	req := "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
	if _, err := io.WriteString(conn, req+"\x81\x00"); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	b, err := io.ReadAll(br)
	if err != nil || len(b) != 0 {
		t.Fatalf("read %q, %v; want the connection closed unanswered", b, err)
	}
	if strings.Contains(string(b), "101") {
		t.Fatal("upgraded")
	}
	if n := handed.Load(); n != 0 {
		t.Errorf("handed to net/http: %d", n)
	}
}

// A handler that hijacks a connection for itself (not the engine, which
// moves it to its poller) has it to itself: the front writes nothing more
// on it and keeps no record of it.
func TestFrontHijackByAHandler(t *testing.T) {
	if !pollerExpected() {
		return
	}
	var f *front
	hook := func(fr *front) { f = fr }
	testHookFront.Store(&hook)
	t.Cleanup(func() { testHookFront.Store(nil) })
	kept := make(chan net.Conn, 1)
	_, _, _, addr, _ := startFrontServerCounted(t, nil, func(srv *Server) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Upgrade") == "" {
				srv.ServeHTTP(w, r)
				return
			}
			nc, rw, err := w.(http.Hijacker).Hijack()
			if err != nil {
				t.Errorf("Hijack: %v", err)
				return
			}
			if _, _, err := w.(http.Hijacker).Hijack(); !errors.Is(err, http.ErrHijacked) {
				t.Errorf("a second Hijack: %v, want http.ErrHijacked", err)
			}
			_, _ = rw.WriteString("hijacked\n")
			_ = rw.Flush()
			kept <- nc
		})
	})
	conn, br := dialFront(t, addr)
	if _, err := io.WriteString(conn, "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	nc := <-kept
	defer nc.Close()
	_ = conn.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	b, err := io.ReadAll(br)
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() || string(b) != "hijacked\n" {
		t.Fatalf("read %q, %v; want only what the handler wrote, the connection open", b, err)
	}
	f.mu.Lock()
	n := len(f.conns)
	f.mu.Unlock()
	if n != 0 {
		t.Errorf("the front still records %d connections", n)
	}
}
