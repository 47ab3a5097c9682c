package engineio

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/switchboard-go/socketio/internal/netpoll"
)

// The HTTP front (Serve) is tested with the package's client over the
// transport matrix, and with raw connections for what a client library
// never does: requests of other kinds on the same connection, pipelining,
// a client that stops half-way, one that goes away during a poll.

// startFrontServer serves an echo server with Serve on a loopback port,
// hs's handler answering the requests the front hands over (nil: the
// engine alone). It returns the engine URL and the listening address.
func startFrontServer(t *testing.T, opts *Options, mux func(srv *Server) http.Handler) (*Server, *echoServer, string, string) {
	t.Helper()
	srv, h, url, addr, _ := startFrontServerCounted(t, opts, mux)
	return srv, h, url, addr
}

// startFrontServerCounted is startFrontServer that also counts the
// connections the front hands to net/http.
func startFrontServerCounted(t *testing.T, opts *Options, mux func(srv *Server) http.Handler) (*Server, *echoServer, string, string, *atomic.Int64) {
	t.Helper()
	return startFrontServerWith(t, opts, mux, nil)
}

// startFrontServerWith is startFrontServerCounted, over TLS (ServeTLS)
// with cert when it is set; the URL is then https.
func startFrontServerWith(t *testing.T, opts *Options, mux func(srv *Server) http.Handler, cert *tls.Certificate) (*Server, *echoServer, string, string, *atomic.Int64) {
	t.Helper()
	return startFrontServerTuned(t, opts, mux, cert, nil)
}

// startFrontServerTuned is startFrontServerWith whose http.Server is
// tuned (its timeouts set) by tune, when set, before Serve.
func startFrontServerTuned(t *testing.T, opts *Options, mux func(srv *Server) http.Handler, cert *tls.Certificate, tune func(hs *http.Server)) (*Server, *echoServer, string, string, *atomic.Int64) {
	t.Helper()
	if !netpoll.Supported {
		t.Skip("no poller on this system: Serve is http.Server.Serve")
	}
	h := &echoServer{closed: make(chan string, 64)}
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	srv := NewServer(testOptions(&o), func(*Conn) Handler { return h })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var handler http.Handler = srv
	if mux != nil {
		handler = mux(srv)
	}
	handedOver := new(atomic.Int64)
	hs := &http.Server{Handler: handler, ConnState: func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			handedOver.Add(1)
		}
	}}
	if tune != nil {
		tune(hs)
	}
	served := make(chan error, 1)
	scheme := "http://"
	if cert != nil {
		scheme = "https://"
		hs.TLSConfig = &tls.Config{Certificates: []tls.Certificate{*cert}}
		go func() { served <- srv.ServeTLS(ln, hs, "", "") }()
	} else {
		go func() { served <- srv.Serve(ln, hs) }()
	}
	t.Cleanup(func() {
		_ = srv.Close()
		_ = hs.Close()
		select {
		case err := <-served:
			if !errors.Is(err, http.ErrServerClosed) {
				t.Errorf("Serve returned %v, want http.ErrServerClosed", err)
			}
		case <-time.After(5 * time.Second):
			t.Error("Serve did not return after http.Server.Close")
		}
	})
	addr := ln.Addr().String()
	return srv, h, scheme + addr + "/socket.io/", addr, handedOver
}

func TestFrontClientMatrix(t *testing.T) {
	eachClientMode(t, func(t *testing.T, opts DialOptions, transport string) {
		_, h, url, _ := startFrontServer(t, nil, nil)
		r := newRecClient()
		c := dialTest(t, url, r, opts)
		echoThroughFront(t, c, r, transport, 50, 200_000)
		c.Close()
		if got := waitString(t, h.closed, "the server's close"); got != ReasonTransportClose {
			t.Errorf("server close reason %q, want %q", got, ReasonTransportClose)
		}
	})
}

// echoThroughFront sends n messages (every seventh binary), then, after a
// pause in which a poll parks, one of big bytes, and checks their echoes;
// by then c is on transport.
func echoThroughFront(t *testing.T, c *ClientConn, r *recClient, transport string, n, big int) {
	t.Helper()
	for i := range n {
		if err := c.Send([]byte(fmt.Sprintf("m%d", i)), i%7 == 0, false); err != nil {
			t.Fatal(err)
		}
	}
	for i := range n {
		if m := r.next(t); m.data != fmt.Sprintf("m%d", i) || m.binary != (i%7 == 0) {
			t.Fatalf("message %d: got %q binary %v", i, m.data, m.binary)
		}
	}
	waitTransport(t, c, transport)
	time.Sleep(50 * time.Millisecond) // the poll has to be waiting: time passing is the subject
	msg := strings.Repeat("x", big)
	if err := c.Send([]byte(msg), false, false); err != nil {
		t.Fatal(err)
	}
	if m := r.next(t); m.data != msg {
		t.Fatalf("big message: got %d bytes", len(m.data))
	}
}

// waitPollsParked waits until n of srv's sessions have their poll parked.
func waitPollsParked(t *testing.T, srv *Server, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		parked := 0
		srv.mu.RLock()
		for _, c := range srv.sessions {
			if c.parked.Load() != nil {
				parked++
			}
		}
		srv.mu.RUnlock()
		if parked == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d polls parked", parked, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitNoFrontGoroutine waits until no goroutine serves the front's
// connections (readers linger a few milliseconds after the last input).
func waitNoFrontGoroutine(t *testing.T, what string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for len(frontGoroutines()) > 0 {
		if time.Now().After(deadline) {
			left := frontGoroutines()
			t.Fatalf("%d front or net/http goroutines left with %s, want 0:\n%s", len(left), what, strings.Join(left, "\n\n"))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// frontGoroutines returns the stacks of the goroutines serving the
// front's connections or waiting in a poll.
func frontGoroutines() []string {
	buf := make([]byte, 4<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var found []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "(*frontConn)") || strings.Contains(g, "answerPoll") || strings.Contains(g, "net/http.(*conn).serve") {
			found = append(found, g)
		}
	}
	return found
}

func TestFrontParkedPollsHoldNoGoroutine(t *testing.T) {
	srv, _, url, _ := startFrontServer(t, nil, nil)
	const n = 40
	var clients []*recClient
	var conns []*ClientConn
	for range n {
		r := newRecClient()
		clients = append(clients, r)
		conns = append(conns, dialTest(t, url, r, DialOptions{Transports: []string{TransportPolling}}))
	}
	// Each client posts a message too (echoed on its poll): its POST
	// connection then idles in keep-alive, which must hold no goroutine
	// either.
	for i, c := range conns {
		if err := c.Send([]byte("hi"), false, false); err != nil {
			t.Fatal(err)
		}
		if m := clients[i].next(t); m.data != "hi" {
			t.Fatalf("client %d: echo %q", i, m.data)
		}
	}
	if !pollerExpected() {
		// DisablePoller: Serve is http.Server.Serve, and polls wait on
		// goroutines as behind any net/http server.
		wakeAll(t, srv, clients, conns)
		return
	}
	// Every session's poll reaches the server and parks.
	waitPollsParked(t, srv, n)
	waitNoFrontGoroutine(t, fmt.Sprintf("%d idle polling clients", n))
	wakeAll(t, srv, clients, conns)
}

// wakeAll sends a message to each session and checks that its client
// got it.
func wakeAll(t *testing.T, srv *Server, clients []*recClient, conns []*ClientConn) {
	t.Helper()
	srv.mu.RLock()
	for _, c := range srv.sessions {
		_ = c.Send([]byte("wake "+c.ID()), false, false)
	}
	srv.mu.RUnlock()
	for i, r := range clients {
		if m := r.next(t); m.data != "wake "+conns[i].ID() {
			t.Fatalf("client %d got %q", i, m.data)
		}
	}
}

// rawRequest writes req on conn and reads one response.
func rawRequest(t *testing.T, conn net.Conn, br *bufio.Reader, req string) (*http.Response, string) {
	t.Helper()
	if _, err := io.WriteString(conn, req); err != nil {
		t.Fatal(err)
	}
	return readResponse(t, conn, br)
}

func readResponse(t *testing.T, conn net.Conn, br *bufio.Reader) (*http.Response, string) {
	t.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("reading a response: %v", err)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading a response body: %v", err)
	}
	return resp, string(body)
}

// dialFront opens a raw connection to addr, closed when the test ends.
func dialFront(t *testing.T, addr string) (net.Conn, *bufio.Reader) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn, bufio.NewReader(conn)
}

// openSession opens a session with a polling handshake on conn and
// returns its id.
func openSession(t *testing.T, conn net.Conn, br *bufio.Reader) string {
	t.Helper()
	_, body := rawRequest(t, conn, br, "GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n\r\n")
	return handshakeSID(t, body)
}

func handshakeSID(t *testing.T, body string) string {
	t.Helper()
	i := strings.Index(body, `"sid":"`)
	if !strings.HasPrefix(body, "0{") || i < 0 {
		t.Fatalf("handshake answer %q", body)
	}
	sid := body[i+7:]
	return sid[:strings.IndexByte(sid, '"')]
}

func otherMux(srv *Server) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", srv)
	mux.HandleFunc("/other", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "other %s %s %q", r.Method, r.Proto, b)
	})
	return mux
}

func TestFrontHandsOtherRequestsToNetHTTP(t *testing.T) {
	_, _, _, addr := startFrontServer(t, &Options{PingInterval: 300 * time.Millisecond}, otherMux)
	conn, br := dialFront(t, addr)
	// An engine request, read by the front...
	resp, body := rawRequest(t, conn, br, "GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n\r\n")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Length") != fmt.Sprint(len(body)) {
		t.Fatalf("handshake: %d %v %q", resp.StatusCode, resp.Header, body)
	}
	sid := handshakeSID(t, body)
	// ...then, on the same connection, one for another path, with a body
	// and the next request sent along (pipelined): net/http takes over
	// the connection with the bytes the front had read.
	if _, err := io.WriteString(conn, "POST /other HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"+
		"GET /socket.io/?EIO=4&transport=polling&sid="+sid+" HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	if resp, body := readResponse(t, conn, br); resp.StatusCode != 200 || body != `other POST HTTP/1.1 "hello"` {
		t.Fatalf("other path: %d %q", resp.StatusCode, body)
	}
	// The poll, now through net/http, gets the session's first message:
	// none queued, so it waits; a ping comes within the ping interval.
	if resp, body := readResponse(t, conn, br); resp.StatusCode != 200 || body != "2" {
		t.Fatalf("poll after the hand-over: %d %q", resp.StatusCode, body)
	}
}

func TestFrontPipelinedRequestsAnsweredInOrder(t *testing.T) {
	_, _, _, addr := startFrontServer(t, &Options{PingInterval: 300 * time.Millisecond}, nil)
	conn, br := dialFront(t, addr)
	sid := openSession(t, conn, br)
	q := "/socket.io/?EIO=4&transport=polling&sid=" + sid
	// A poll (nothing to answer yet: it parks), and behind it on the same
	// connection a POST whose message the poll then carries. The POST is
	// read only after the poll's answer (HTTP/1.1 answers in order), and
	// the poll's answer comes with the ping.
	if _, err := io.WriteString(conn, "GET "+q+" HTTP/1.1\r\nHost: x\r\n\r\n"+
		"POST "+q+" HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\n\r\n4hello"); err != nil {
		t.Fatal(err)
	}
	if resp, body := readResponse(t, conn, br); resp.StatusCode != 200 || body != "2" {
		t.Fatalf("poll: %d %q", resp.StatusCode, body)
	}
	if resp, body := readResponse(t, conn, br); resp.StatusCode != 200 || body != "ok" {
		t.Fatalf("post: %d %q", resp.StatusCode, body)
	}
	// The echo waits for the next poll.
	if resp, body := rawRequest(t, conn, br, "GET "+q+" HTTP/1.1\r\nHost: x\r\n\r\n"); resp.StatusCode != 200 || body != "4hello" {
		t.Fatalf("second poll: %d %q", resp.StatusCode, body)
	}
}

func TestFrontClientGoneDuringPoll(t *testing.T) {
	_, h, _, addr := startFrontServer(t, &Options{PingInterval: time.Minute, PingTimeout: time.Minute}, nil)
	conn, br := dialFront(t, addr)
	sid := openSession(t, conn, br)
	if _, err := io.WriteString(conn, "GET /socket.io/?EIO=4&transport=polling&sid="+sid+" HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	_ = conn.Close()
	// At once, not after the heartbeat's two minutes.
	if got := waitString(t, h.closed, "the session's close"); got != ReasonTransportError {
		t.Fatalf("close reason %q, want %q", got, ReasonTransportError)
	}
}

func TestFrontRefusals(t *testing.T) {
	_, _, _, addr := startFrontServer(t, &Options{MaxPayload: 1000, PostTimeout: 300 * time.Millisecond}, otherMux)
	dial := func() (net.Conn, *bufio.Reader) { return dialFront(t, addr) }
	t.Run("body over MaxPayload", func(t *testing.T) {
		conn, br := dial()
		sid := openSession(t, conn, br)
		resp, _ := rawRequest(t, conn, br, "POST /socket.io/?EIO=4&transport=polling&sid="+sid+" HTTP/1.1\r\nHost: x\r\nContent-Length: 1001\r\n\r\n4"+strings.Repeat("x", 1000))
		if resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Fatalf("status %d, want 413", resp.StatusCode)
		}
	})
	t.Run("malformed head", func(t *testing.T) {
		conn, br := dial()
		resp, _ := rawRequest(t, conn, br, "GET /socket.io/?EIO=4 HTTP/1.1\r\nHost x\r\n\r\n")
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("status %d, want 400 from net/http", resp.StatusCode)
		}
	})
	t.Run("HTTP/1.0", func(t *testing.T) {
		conn, br := dial()
		resp, body := rawRequest(t, conn, br, "GET /other HTTP/1.0\r\n\r\n")
		if resp.StatusCode != 200 || body != `other GET HTTP/1.0 ""` {
			t.Fatalf("%d %q", resp.StatusCode, body)
		}
	})
	if !pollerExpected() {
		// The rest is the front's own: without a poller, Serve is
		// http.Server.Serve, whose bounds are hs's.
		return
	}
	t.Run("request not finished within PostTimeout", func(t *testing.T) {
		conn, _ := dial()
		if _, err := io.WriteString(conn, "POST /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n4ab"); err != nil {
			t.Fatal(err)
		}
		_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		start := time.Now()
		n, err := conn.Read(make([]byte, 1))
		if n != 0 || err == nil || isTimeout(err) {
			t.Fatalf("read %d bytes, %v: want the connection closed", n, err)
		}
		if waited := time.Since(start); waited < 200*time.Millisecond {
			t.Fatalf("closed after %v, before PostTimeout", waited)
		}
	})
	t.Run("Connection close", func(t *testing.T) {
		conn, br := dial()
		resp, _ := rawRequest(t, conn, br, "GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
		if resp.StatusCode != 200 || !resp.Close {
			t.Fatalf("status %d, close %v", resp.StatusCode, resp.Close)
		}
		if _, err := br.ReadByte(); err != io.EOF {
			t.Fatalf("after the answer: %v, want EOF", err)
		}
	})
	t.Run("input sent far ahead", func(t *testing.T) {
		conn, br := dial()
		sid := openSession(t, conn, br)
		// A poll that parks, then more than a request's worth of input.
		req := "GET /socket.io/?EIO=4&transport=polling&sid=" + sid + " HTTP/1.1\r\nHost: x\r\n\r\n"
		go func() {
			_, _ = io.WriteString(conn, req+strings.Repeat("GET /other HTTP/1.1\r\nHost: x\r\n\r\n", 1000))
		}()
		_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		all, err := io.ReadAll(br)
		if err != nil && !errors.Is(err, net.ErrClosed) && !strings.Contains(err.Error(), "reset") {
			t.Fatalf("read: %v", err)
		}
		if bytes.Contains(all, []byte("other GET")) {
			t.Fatalf("requests beyond the bound were answered: %q", all)
		}
	})
}

// TestFrontTakesWhatItShould checks which requests the front answers
// itself and which it hands to net/http with their connection.
func TestFrontTakesWhatItShould(t *testing.T) {
	if !pollerExpected() {
		// Without a poller every request goes to net/http: that is
		// http.Server.Serve, tested by every other test of the package.
		return
	}
	const maxPayload = 1000
	_, _, _, addr, handedOver := startFrontServerCounted(t, &Options{MaxPayload: maxPayload, CORS: &CORSOptions{Origins: []string{"*"}}}, nil)
	cases := []struct {
		name    string
		request func(sid string) string // "" sid: no session made first
		session bool
		status  int
		handed  bool
	}{
		{"CORS preflight", func(string) string {
			return "OPTIONS /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\nOrigin: http://a.example\r\nAccess-Control-Request-Method: POST\r\n\r\n"
		}, false, http.StatusNoContent, false},
		{"path without its slash", func(string) string {
			return "GET /socket.io?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n\r\n"
		}, false, 200, false},
		{"body of MaxPayload", func(sid string) string {
			return "POST /socket.io/?EIO=4&transport=polling&sid=" + sid + " HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n4" + strings.Repeat("x", maxPayload-1)
		}, true, 200, false},
		{"body over MaxPayload", func(sid string) string {
			return "POST /socket.io/?EIO=4&transport=polling&sid=" + sid + " HTTP/1.1\r\nHost: x\r\nContent-Length: 1001\r\n\r\n4" + strings.Repeat("x", maxPayload)
		}, true, http.StatusRequestEntityTooLarge, true},
		{"another method", func(string) string {
			return "PUT /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"
		}, false, 400, true},
		{"another path", func(string) string {
			return "GET /socket.io/x?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n\r\n"
		}, false, 404, true},
		{"HTTP/1.0", func(string) string {
			return "GET /socket.io/?EIO=4&transport=polling HTTP/1.0\r\nHost: x\r\n\r\n"
		}, false, 200, true},
		{"chunked body", func(sid string) string {
			return "POST /socket.io/?EIO=4&transport=polling&sid=" + sid + " HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n4a\r\n0\r\n\r\n"
		}, true, 200, true},
		{"Expect", func(sid string) string {
			return "POST /socket.io/?EIO=4&transport=polling&sid=" + sid + " HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n4a"
		}, true, http.StatusContinue, true}, // net/http's interim answer first
		{"WebSocket upgrade", func(string) string {
			return "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
		}, false, http.StatusSwitchingProtocols, false}, // hijacked from the front
		{"another upgrade", func(string) string {
			return "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n"
		}, false, http.StatusBadRequest, true},
		{"WebSocket upgrade with a body", func(string) string {
			return "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nContent-Length: 1\r\n\r\nx"
		}, false, 0, true}, // gorilla closes a connection with data ahead of its answer
		{"WebSocket upgrade by POST", func(string) string {
			return "POST /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nContent-Length: 0\r\n\r\n"
		}, false, http.StatusBadRequest, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			conn, br := dialFront(t, addr)
			id := ""
			if tc.session {
				id = openSession(t, conn, br)
			}
			before := handedOver.Load()
			if _, err := io.WriteString(conn, tc.request(id)); err != nil {
				t.Fatal(err)
			}
			_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
			resp, err := http.ReadResponse(br, nil)
			switch {
			case tc.status == 0 && err == nil:
				t.Errorf("answered %d, want the connection closed", resp.StatusCode)
			case tc.status == 0 && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF):
				t.Errorf("reading: %v, want the connection closed", err)
			case tc.status == 0:
			case err != nil:
				t.Fatalf("reading the answer: %v", err)
			default:
				_ = resp.Body.Close()
				if resp.StatusCode != tc.status {
					t.Errorf("status %d, want %d", resp.StatusCode, tc.status)
				}
			}
			if handed := handedOver.Load() > before; handed != tc.handed {
				t.Errorf("handed to net/http: %v, want %v", handed, tc.handed)
			}
		})
	}
}

// TestFrontAnswersAsNetHTTP: what the front adds to an answer, as net/http
// does: a Date, a sniffed Content-Type, the length.
func TestFrontAnswersAsNetHTTP(t *testing.T) {
	date := "Mon, 02 Jan 2006 15:04:05 GMT"
	_, _, _, addr := startFrontServer(t, nil, func(srv *Server) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Query().Get("empty") != "" {
				return // no body: no Content-Type either
			}
			if r.URL.Query().Get("date") != "" {
				w.Header().Set("Date", date)
				w.Header().Set("Content-Type", "text/plain")
			}
			_, _ = io.WriteString(w, "<html><body>not the engine</body></html>")
		})
	})
	conn, br := dialFront(t, addr)
	resp, body := rawRequest(t, conn, br, "GET /socket.io/ HTTP/1.1\r\nHost: x\r\n\r\n")
	if got := resp.Header.Get("Content-Type"); got != "text/html; charset=utf-8" {
		t.Errorf("Content-Type %q, want the sniffed text/html", got)
	}
	if d, err := http.ParseTime(resp.Header.Get("Date")); err != nil || time.Since(d) > time.Minute {
		t.Errorf("Date %q: %v", resp.Header.Get("Date"), err)
	}
	if resp.ContentLength != int64(len(body)) || body != "<html><body>not the engine</body></html>" {
		t.Errorf("length %d, body %q", resp.ContentLength, body)
	}
	// A second later (time passing is the subject: the Date is formatted
	// once a second), a later Date.
	first, _ := http.ParseTime(resp.Header.Get("Date"))
	time.Sleep(1100 * time.Millisecond)
	resp, _ = rawRequest(t, conn, br, "GET /socket.io/ HTTP/1.1\r\nHost: x\r\n\r\n")
	if d, err := http.ParseTime(resp.Header.Get("Date")); err != nil || !d.After(first) {
		t.Errorf("Date %q a second after %v", resp.Header.Get("Date"), first)
	}
	resp, _ = rawRequest(t, conn, br, "GET /socket.io/?date=1 HTTP/1.1\r\nHost: x\r\n\r\n")
	if got := resp.Header.Get("Date"); got != date {
		t.Errorf("the handler's Date became %q", got)
	}
	if got := resp.Header.Get("Content-Type"); got != "text/plain" {
		t.Errorf("the handler's Content-Type became %q", got)
	}
	resp, body = rawRequest(t, conn, br, "GET /socket.io/?empty=1 HTTP/1.1\r\nHost: x\r\n\r\n")
	if got, ok := resp.Header["Content-Type"]; ok || body != "" || resp.ContentLength != 0 {
		t.Errorf("an empty answer: Content-Type %q, body %q, length %d", got, body, resp.ContentLength)
	}
	resp, body = rawRequest(t, conn, br, "OPTIONS /socket.io/ HTTP/1.1\r\nHost: x\r\n\r\n")
	if resp.StatusCode != 200 || body == "" {
		t.Errorf("%d %q", resp.StatusCode, body)
	}
}

// TestFrontInputAheadBound: what a client sends ahead of its answers may
// reach 16 KiB + MaxPayload bytes, not one more.
func TestFrontInputAheadBound(t *testing.T) {
	if !pollerExpected() {
		return // net/http's bounds, not the front's
	}
	const maxPayload = 1000
	for _, extra := range []int{0, 1} {
		t.Run(fmt.Sprint("bound+", extra), func(t *testing.T) {
			_, _, _, addr := startFrontServer(t, &Options{MaxPayload: maxPayload, PingInterval: 500 * time.Millisecond}, nil)
			conn, br := dialFront(t, addr)
			sid := openSession(t, conn, br)
			poll := "GET /socket.io/?EIO=4&transport=polling&sid=" + sid + " HTTP/1.1\r\nHost: x\r\n\r\n"
			// The poll parks; what follows waits unread until its answer
			// (the ping, after 500 ms).
			ahead := strings.Repeat("z", maxFrontHead+maxPayload+extra)
			if _, err := io.WriteString(conn, poll+ahead); err != nil {
				t.Fatal(err)
			}
			_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
			resp, err := http.ReadResponse(br, nil)
			if extra == 0 {
				if err != nil {
					t.Fatalf("the poll's answer: %v", err)
				}
				b, _ := io.ReadAll(resp.Body)
				if string(b) != "2" {
					t.Fatalf("the poll's answer %q, want the ping", b)
				}
				return
			}
			if err == nil {
				t.Fatalf("the poll was answered (%d) though its client sent more than the bound ahead", resp.StatusCode)
			}
		})
	}
}

// FuzzFrontTakeRequest: whatever a client sends, the front takes a whole
// request it answers itself (within its bounds, for its path, the span
// the head announced), waits for more, or hands the connection over; and
// more input after a whole request changes nothing about that request.
func FuzzFrontTakeRequest(f *testing.F) {
	for _, seed := range []string{
		"GET /engine.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n\r\n",
		"POST /engine.io/?EIO=4&transport=polling&sid=a HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\n\r\n4hello",
		"POST /engine.io/ HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\n\r\n4he",
		"OPTIONS /engine.io HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\n\r\n",
		"POST /engine.io/ HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n",
		"POST /engine.io/ HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc",
		"GET /engine.io/ HTTP/1.0\r\n\r\n",
		"GET /other HTTP/1.1\r\nHost: x\r\n\r\n",
		"\r\n\r\n",
		"GET /engine.io/ HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
	} {
		f.Add([]byte(seed), []byte("GET "))
	}
	const maxPayload = 1000
	srv := NewServer(&Options{Path: "/engine.io/", MaxPayload: maxPayload, Logger: slog.New(slog.DiscardHandler)}, nil)
	defer srv.Close()
	fr := &front{srv: srv}
	f.Fuzz(func(t *testing.T, in, more []byte) {
		req, total, verdict := fr.takeRequest(in)
		switch verdict {
		case frontNeedMore:
			if req != nil || total != 0 {
				t.Fatalf("needs more, yet returned a request of %d bytes", total)
			}
			if len(in) > maxFrontHead+maxPayload {
				t.Fatalf("waits for more with %d bytes already", len(in))
			}
		case frontHandedOff:
			if req != nil || total != 0 {
				t.Fatal("handed over, yet returned a request")
			}
		case frontServed:
			if total <= 0 || total > len(in) {
				t.Fatalf("a request of %d bytes out of %d", total, len(in))
			}
			if req.Method != http.MethodGet && req.Method != http.MethodPost && req.Method != http.MethodOptions {
				t.Fatalf("took a %q request", req.Method)
			}
			if req.URL.Path != "/engine.io/" && req.URL.Path != "/engine.io" {
				t.Fatalf("took a request for %q", req.URL.Path)
			}
			if req.ContentLength < 0 || req.ContentLength > maxPayload || len(req.TransferEncoding) > 0 || req.ProtoMinor != 1 {
				t.Fatalf("took length %d, encoding %v, HTTP/1.%d", req.ContentLength, req.TransferEncoding, req.ProtoMinor)
			}
			body, err := io.ReadAll(req.Body)
			if err != nil || int64(len(body)) != req.ContentLength || !bytes.HasSuffix(in[:total], body) {
				t.Fatalf("body %q (%v) of a request announcing %d bytes", body, err, req.ContentLength)
			}
			if total-len(body) > maxFrontHead {
				t.Fatalf("took a head of %d bytes", total-len(body))
			}
			// What follows is the next request's: it changes nothing.
			_, total2, verdict2 := fr.takeRequest(append(bytes.Clone(in), more...))
			if verdict2 != frontServed || total2 != total {
				t.Fatalf("with more input: %d bytes, verdict %d; without: %d", total2, verdict2, total)
			}
		default:
			t.Fatalf("verdict %d", verdict)
		}
	})
}

// flakyListener fails its first accepts with an error other than a
// closed listener (EMFILE, say), recording when each accept came.
type flakyListener struct {
	net.Listener
	mu    sync.Mutex
	fails int
	calls []time.Time
}

func (l *flakyListener) Accept() (net.Conn, error) {
	l.mu.Lock()
	l.calls = append(l.calls, time.Now())
	fail := len(l.calls) <= l.fails
	l.mu.Unlock()
	if fail {
		return nil, syscall.EMFILE
	}
	return l.Listener.Accept()
}

func TestFrontAcceptErrorsRetried(t *testing.T) {
	if !pollerExpected() {
		return // http.Server.Serve's own retries
	}
	h := &echoServer{closed: make(chan string, 4)}
	srv := NewServer(testOptions(&Options{Logger: slog.New(slog.DiscardHandler)}), func(*Conn) Handler { return h })
	tcp, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := &flakyListener{Listener: tcp, fails: 3}
	hs := &http.Server{Handler: srv}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln, hs) }()
	defer func() {
		_ = srv.Close()
		_ = hs.Close()
		<-served
	}()
	r := newRecClient()
	c := dialTest(t, "http://"+tcp.Addr().String()+"/socket.io/", r, DialOptions{Transports: []string{TransportPolling}})
	_ = c.Send([]byte("after the failures"), false, false)
	if m := r.next(t); m.data != "after the failures" {
		t.Fatalf("echo %q", m.data)
	}
	ln.mu.Lock()
	defer ln.mu.Unlock()
	// Retried after a pause that doubles from 5 ms: 5, 10, 20.
	for i, want := range []time.Duration{5, 10, 20} {
		if gap := ln.calls[i+1].Sub(ln.calls[i]); gap < want*time.Millisecond {
			t.Errorf("accept %d came %v after the failure before it, want at least %v", i+2, gap, want*time.Millisecond)
		}
	}
}

// recordLog keeps the messages logged at error level.
type recordLog struct {
	mu   sync.Mutex
	msgs []string
}

func (l *recordLog) Enabled(_ context.Context, lv slog.Level) bool { return lv >= slog.LevelError }
func (l *recordLog) WithAttrs([]slog.Attr) slog.Handler            { return l }
func (l *recordLog) WithGroup(string) slog.Handler                 { return l }
func (l *recordLog) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	l.msgs = append(l.msgs, r.Message)
	l.mu.Unlock()
	return nil
}

func TestFrontHandlerPanicClosesOnlyItsConnection(t *testing.T) {
	if !pollerExpected() {
		return // net/http's own recovery
	}
	logs := &recordLog{}
	_, _, _, addr := startFrontServer(t, &Options{Logger: slog.New(logs)}, func(srv *Server) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch r.URL.Query().Get("panic") {
			case "abort":
				panic(http.ErrAbortHandler)
			case "yes":
				panic("a handler's bug")
			}
			srv.ServeHTTP(w, r)
		})
	})
	for _, tc := range []struct {
		query  string
		logged bool
	}{{"abort", false}, {"yes", true}} {
		logs.mu.Lock()
		logs.msgs = nil
		logs.mu.Unlock()
		conn, _ := dialFront(t, addr)
		if _, err := io.WriteString(conn, "GET /socket.io/?panic="+tc.query+" HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		if n, err := conn.Read(make([]byte, 1)); n != 0 || err == nil || isTimeout(err) {
			t.Errorf("panic=%s: read %d bytes, %v; want the connection closed", tc.query, n, err)
		}
		logs.mu.Lock()
		logged := len(logs.msgs) > 0
		logs.mu.Unlock()
		if logged != tc.logged {
			t.Errorf("panic=%s: logged %v, want %v", tc.query, logged, tc.logged)
		}
	}
	// The server serves on.
	conn, br := dialFront(t, addr)
	openSession(t, conn, br)
}

// TestFrontHeadBound: the front parses heads of up to maxFrontHead bytes
// itself, whole or still arriving; a longer one goes to net/http.
func TestFrontHeadBound(t *testing.T) {
	srv := NewServer(&Options{Path: "/engine.io/", Logger: slog.New(slog.DiscardHandler)}, nil)
	defer srv.Close()
	fr := &front{srv: srv}
	// head returns a request head of exactly n bytes.
	head := func(n int) string {
		const start, end = "GET /engine.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\nX-Pad: ", "\r\n\r\n"
		return start + strings.Repeat("p", n-len(start)-len(end)) + end
	}
	for _, tc := range []struct {
		name string
		in   string
		want int
	}{
		{"whole, at the bound", head(maxFrontHead), frontServed},
		{"whole, one over", head(maxFrontHead + 1), frontHandedOff},
		{"arriving, at the bound", head(maxFrontHead + 4)[:maxFrontHead], frontNeedMore},
		{"arriving, one over", head(maxFrontHead + 5)[:maxFrontHead+1], frontHandedOff},
		{"arriving, small", head(100)[:50], frontNeedMore},
	} {
		if _, _, got := fr.takeRequest([]byte(tc.in)); got != tc.want {
			t.Errorf("%s (%d bytes): verdict %d, want %d", tc.name, len(tc.in), got, tc.want)
		}
	}
}

// A reader whose last read emptied the socket parks a pending poll without
// another read (arming the watch reports what comes later): no read finds
// nothing, neither after the poll's own request nor after a request the
// client sent behind the parked poll.
func TestFrontParksWithoutAnEmptyRead(t *testing.T) {
	if !pollerExpected() {
		return
	}
	empty := countEmptyReads(t)
	srv, _, _, addr := startFrontServer(t, &Options{PingInterval: time.Minute, PingTimeout: time.Minute}, nil)
	conn, br := dialFront(t, addr)
	sid := openSession(t, conn, br)
	waitNoFrontGoroutine(t, "the handshake answered")
	empty.Store(0)
	poll := "GET /socket.io/?EIO=4&transport=polling&sid=" + sid + " HTTP/1.1\r\nHost: x\r\n\r\n"
	if _, err := io.WriteString(conn, poll); err != nil {
		t.Fatal(err)
	}
	waitPollsParked(t, srv, 1)
	waitNoFrontGoroutine(t, "a parked poll")
	// Past the read deadline the last reader set (frontLinger): the woken
	// reader's raw read must not fail on it.
	time.Sleep(4 * frontLinger)
	// The next request, sent while the poll is parked: the poller wakes a
	// reader, which reads it and parks again.
	if _, err := io.WriteString(conn, "GET /other HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		fc := frontConnOf(t, srv, sid)
		fc.mu.Lock()
		n := len(fc.in)
		fc.mu.Unlock()
		if n > 0 && !fc.reading.Load() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the request behind the poll was not read")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if n := empty.Load(); n != 0 {
		t.Errorf("%d reads found nothing before the reader parked, want 0", n)
	}
}

// countEmptyReads counts, until the test ends, the front's reads that
// found nothing (testHookRead): one that does not wait and got nothing,
// or one that waited until its deadline.
func countEmptyReads(t *testing.T) *atomic.Int64 {
	var empty atomic.Int64
	hook := func(n int, err error) {
		if n == 0 && (err == nil || isTimeout(err)) {
			empty.Add(1)
		}
	}
	testHookRead.Store(&hook)
	t.Cleanup(func() { testHookRead.Store(nil) })
	return &empty
}

// A parked poll answered, then the client's next poll: the goroutine that
// wrote the answer parks the connection without a read (no read waits
// for the next poll, none finds nothing: the edge-triggered watch reports
// the poll when it comes), and the next poll is read and parked, also
// when it comes in two segments.
//
// Only the reads until the poll is whole count. A reader that waits for a
// request's rest in a read clears the wake flag before that read, so the
// poller's report of the rest, when the scheduler runs the poller after
// the read took it, leaves the flag set and costs one read that finds
// nothing once the poll is in (clearing it after the read instead could
// lose the report of input that came just then). Under load that happens.
func TestFrontAnsweredPollParksWithoutARead(t *testing.T) {
	if !pollerExpected() {
		return
	}
	// empty counts the reads that found nothing while fewer than whole
	// bytes of the poll had been read (got).
	var empty, got, whole atomic.Int64
	hook := func(n int, err error) {
		if n > 0 {
			got.Add(int64(n))
		} else if (err == nil || isTimeout(err)) && got.Load() < whole.Load() {
			empty.Add(1)
		}
	}
	testHookRead.Store(&hook)
	t.Cleanup(func() { testHookRead.Store(nil) })
	srv, _, _, addr := startFrontServer(t, &Options{PingInterval: time.Minute, PingTimeout: time.Minute}, nil)
	conn, br, sid := openWithPoll(t, srv, addr)
	fc := frontConnOf(t, srv, sid)
	srv.mu.RLock()
	c := srv.sessions[sid]
	srv.mu.RUnlock()
	poll := "GET /socket.io/?EIO=4&transport=polling&sid=" + sid + " HTTP/1.1\r\nHost: x\r\n\r\n"
	whole.Store(int64(len(poll)))
	for i := range 3 {
		msg := fmt.Sprintf("m%d", i)
		if err := c.Send([]byte(msg), false, false); err != nil {
			t.Fatal(err)
		}
		if resp, body := readResponse(t, conn, br); resp.StatusCode != 200 || body != "4"+msg {
			t.Fatalf("poll %d: %d %q", i, resp.StatusCode, body)
		}
		// Longer than a reader would wait for more (frontLinger).
		time.Sleep(4 * frontLinger)
		waitNoFrontGoroutine(t, "an answered poll")
		empty.Store(0)
		got.Store(0)
		next := poll
		if i == 1 {
			// In two segments: the reader waits for the rest with a
			// read that finds it.
			if _, err := io.WriteString(conn, poll[:20]); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(5 * time.Second)
			for {
				fc.mu.Lock()
				n := len(fc.in)
				fc.mu.Unlock()
				if n == 20 {
					break // read: the rest comes to a read that waits for it
				}
				if time.Now().After(deadline) {
					t.Fatal("the first segment was not read")
				}
				time.Sleep(time.Millisecond)
			}
			next = poll[20:]
		}
		if _, err := io.WriteString(conn, next); err != nil {
			t.Fatal(err)
		}
		waitPollsParked(t, srv, 1)
		waitNoFrontGoroutine(t, "the next poll parked")
		if n := empty.Load(); n != 0 {
			t.Fatalf("poll %d: %d reads found nothing between the answer and the whole next poll, want 0", i, n)
		}
	}
}

// The client's next poll arrives while the connection's reader still has
// the role, about to park: the poller's wake for it finds the role taken,
// and with an edge-triggered watch no later wake reports that input. The
// reader, held at "park" until then, must see the wake and read the poll.
func TestFrontInputWhileTheReaderParks(t *testing.T) {
	if !pollerExpected() {
		return
	}
	srv, _, _, addr := startFrontServer(t, &Options{PingInterval: time.Minute, PingTimeout: time.Minute}, nil)
	conn, br := dialFront(t, addr)
	sid := openSession(t, conn, br)
	waitNoFrontGoroutine(t, "the handshake answered")
	srv.mu.RLock()
	c := srv.sessions[sid]
	srv.mu.RUnlock()

	// The test's one connection, held the first time its reader parks
	// with the poll pending.
	var target atomic.Pointer[frontConn]
	held, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	hook := func(fc *frontConn, point string) {
		fc.mu.Lock()
		polling := fc.pending
		fc.mu.Unlock()
		if point == "park" && polling {
			once.Do(func() {
				target.Store(fc)
				close(held)
				<-release
			})
		}
	}
	testHookReader.Store(&hook)
	t.Cleanup(func() { testHookReader.Store(nil) })
	defer once.Do(func() {})
	poll := "GET /socket.io/?EIO=4&transport=polling&sid=" + sid + " HTTP/1.1\r\nHost: x\r\n\r\n"
	if _, err := io.WriteString(conn, poll); err != nil {
		t.Fatal(err)
	}
	select {
	case <-held:
	case <-time.After(5 * time.Second):
		t.Fatal("the reader never parked the poll")
	}
	// The poll is answered by another goroutine while the reader is held
	// (it finds the role taken), and the client sends its next poll.
	if err := c.Send([]byte("one"), false, false); err != nil {
		t.Fatal(err)
	}
	if resp, body := readResponse(t, conn, br); resp.StatusCode != 200 || body != "4one" {
		t.Fatalf("first poll: %d %q", resp.StatusCode, body)
	}
	if _, err := io.WriteString(conn, poll); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for !target.Load().woke.Load() {
		if time.Now().After(deadline) {
			t.Fatal("no wake for the next poll")
		}
		time.Sleep(time.Millisecond)
	}
	close(release)
	if err := c.Send([]byte("two"), false, false); err != nil {
		t.Fatal(err)
	}
	if resp, body := readResponse(t, conn, br); resp.StatusCode != 200 || body != "4two" {
		t.Fatalf("next poll: %d %q", resp.StatusCode, body)
	}
}

// A request read while the one before it is answered, then that answer
// written by another goroutine (a parked poll's) just as the reader looks
// again: the writer finds the reader busy and leaves the input to it, so
// the reader must serve it, whether it had just found the request pending
// or was parking. Each point is held with a test hook until the answer is
// out; without the reader's second look the request waits for input that
// never comes.
func TestFrontRequestAnsweredBehindTheReader(t *testing.T) {
	if !pollerExpected() {
		return
	}
	for _, at := range []string{"pending", "park"} {
		t.Run(at, func(t *testing.T) {
			srv, _, _, addr := startFrontServer(t, &Options{PingInterval: time.Minute, PingTimeout: time.Minute}, nil)
			conn, br, sid := openWithPoll(t, srv, addr)
			target := frontConnOf(t, srv, sid)

			held, release := make(chan struct{}), make(chan struct{})
			var once sync.Once
			hook := func(fc *frontConn, point string) {
				fc.mu.Lock()
				read := fc.pending && len(fc.in) > 0
				fc.mu.Unlock()
				if fc == target && point == at && read {
					once.Do(func() {
						close(held)
						<-release
					})
				}
			}
			testHookReader.Store(&hook)
			t.Cleanup(func() { testHookReader.Store(nil) })
			defer once.Do(func() {}) // a failed wait: nothing holds the reader
			if _, err := io.WriteString(conn, "GET /other HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
				t.Fatal(err)
			}
			select {
			case <-held:
			case <-time.After(5 * time.Second):
				t.Fatalf("the reader never got to %q with the request read", at)
			}
			srv.mu.RLock()
			c := srv.sessions[sid]
			srv.mu.RUnlock()
			if err := c.Send([]byte("late"), false, false); err != nil {
				t.Fatal(err)
			}
			resp, body := readResponse(t, conn, br)
			close(release)
			if resp.StatusCode != 200 || body != "4late" {
				t.Fatalf("the parked poll: %d %q", resp.StatusCode, body)
			}
			if resp, _ := readResponse(t, conn, br); resp.StatusCode != http.StatusNotFound {
				t.Fatalf("the request behind it: %d, want 404 from net/http", resp.StatusCode)
			}
		})
	}
}

// An answer larger than the kernel takes at once, to a client that reads
// it only later: the front writes what the kernel takes, then waits for
// the rest within WriteTimeout, and the client gets it whole. To a client
// that never reads, the connection is closed once WriteTimeout has passed,
// and the session with it ("write timeout"): the answer's messages are
// lost, and the client must not poll on without them.
func TestFrontAnswerToASlowReader(t *testing.T) {
	if !pollerExpected() {
		return
	}
	big := patterned(512 << 10)
	for _, reads := range []bool{true, false} {
		srv, h, _, addr := startFrontServer(t, &Options{PingInterval: time.Minute, PingTimeout: time.Minute, WriteTimeout: 500 * time.Millisecond}, nil)
		conn, br, sid := openWithPoll(t, srv, addr)
		// Socket buffers well below the answer, on both sides.
		_ = conn.(*net.TCPConn).SetReadBuffer(64 << 10)
		_ = frontConnOf(t, srv, sid).nc.(*net.TCPConn).SetWriteBuffer(16 << 10)
		srv.mu.RLock()
		c := srv.sessions[sid]
		srv.mu.RUnlock()
		if err := c.Send(big, false, false); err != nil {
			t.Fatal(err)
		}
		if !reads {
			if got := waitString(t, h.closed, "the session's close"); got != ReasonWriteTimeout {
				t.Fatalf("close reason %q, want %q", got, ReasonWriteTimeout)
			}
			if n := srv.Stats().WriteTimeouts; n != 1 {
				t.Fatalf("Stats().WriteTimeouts = %d, want 1", n)
			}
			continue
		}
		time.Sleep(200 * time.Millisecond) // the kernel's buffers fill
		resp, body := readResponse(t, conn, br)
		if resp.StatusCode != 200 || body != "4"+string(big) {
			t.Fatalf("answer %d, %d bytes, want 200 and %d", resp.StatusCode, len(body), 1+len(big))
		}
	}
}

// The requests the front reads carry the client's address as
// RemoteAddr, as net/http's do: the first on a connection and the ones
// after it.
func TestFrontRequestsHaveRemoteAddr(t *testing.T) {
	if !pollerExpected() {
		return
	}
	var mu sync.Mutex
	var seen []string
	mux := func(srv *Server) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			seen = append(seen, r.RemoteAddr)
			mu.Unlock()
			srv.ServeHTTP(w, r)
		})
	}
	_, _, _, addr, handed := startFrontServerCounted(t, nil, mux)
	conn, br := dialFront(t, addr)
	sid := openSession(t, conn, br)
	if resp, _ := rawRequest(t, conn, br, "POST /socket.io/?EIO=4&transport=polling&sid="+sid+" HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\n\r\n4hello"); resp.StatusCode != 200 {
		t.Fatalf("POST: %d", resp.StatusCode)
	}
	mu.Lock()
	defer mu.Unlock()
	want := conn.LocalAddr().String()
	if len(seen) != 2 || seen[0] != want || seen[1] != want {
		t.Fatalf("RemoteAddr of the requests: %q, want %q twice", seen, want)
	}
	if handed.Load() != 0 {
		t.Fatalf("%d connections handed to net/http, want the front's own", handed.Load())
	}
}

// writeBody keeps a body given whole, and adds to what was written
// before it.
func TestFrontWriterWriteBody(t *testing.T) {
	w := &frontWriter{}
	body := []byte("payload")
	w.writeBody(body)
	if &w.body[0] != &body[0] || w.status != http.StatusOK {
		t.Fatal("a first body was copied, or no status set")
	}
	w = &frontWriter{}
	_, _ = w.Write([]byte("a"))
	w.writeBody([]byte("b"))
	if string(w.body) != "ab" {
		t.Fatalf("body %q after Write and writeBody, want \"ab\"", w.body)
	}
	w = &frontWriter{parked: true}
	w.writeBody(body)
	if w.body != nil {
		t.Fatal("a parked writer took a body")
	}
}

// A parked poll answered with a payload larger than the answer buffers
// the front keeps (and one that gzip would not shrink, asked without
// it): the answer comes whole, and its buffer is not kept.
func TestFrontLargeAnswer(t *testing.T) {
	srv, _, _, addr := startFrontServer(t, &Options{PingInterval: time.Minute, PingTimeout: time.Minute}, nil)
	conn, br, sid := openWithPoll(t, srv, addr)
	big := patterned(3 * maxPooledAnswer)
	srv.mu.RLock()
	c := srv.sessions[sid]
	srv.mu.RUnlock()
	if err := c.Send(big, false, false); err != nil {
		t.Fatal(err)
	}
	resp, body := readResponse(t, conn, br)
	if resp.StatusCode != 200 || body != "4"+string(big) {
		t.Fatalf("answer %d, %d bytes, want 200 and %d", resp.StatusCode, len(body), 1+len(big))
	}
	for _, tc := range []struct {
		c    int
		keep bool
	}{{0, true}, {1 << 10, true}, {maxPooledAnswer, true}, {maxPooledAnswer + 1, false}, {len(big), false}} {
		if got := keepAnswerBuffer(tc.c); got != tc.keep {
			t.Errorf("keepAnswerBuffer(%d) = %v, want %v", tc.c, got, tc.keep)
		}
	}
}

// openWithPoll opens a session on a raw connection to the front at addr
// and sends its first poll, parked by the time it returns where the
// poller parks polls.
func openWithPoll(t *testing.T, srv *Server, addr string) (net.Conn, *bufio.Reader, string) {
	t.Helper()
	conn, br := dialFront(t, addr)
	sid := openSession(t, conn, br)
	poll := "GET /socket.io/?EIO=4&transport=polling&sid=" + sid + " HTTP/1.1\r\nHost: x\r\n\r\n"
	if _, err := io.WriteString(conn, poll); err != nil {
		t.Fatal(err)
	}
	if pollerExpected() {
		waitPollsParked(t, srv, 1)
	}
	return conn, br, sid
}

// frontConnOf returns the connection of session sid's parked poll.
func frontConnOf(t *testing.T, srv *Server, sid string) *frontConn {
	t.Helper()
	srv.mu.RLock()
	c := srv.sessions[sid]
	srv.mu.RUnlock()
	p := c.parked.Load()
	if p == nil {
		t.Fatal("no parked poll")
	}
	return p.w.fc
}

// patterned returns n bytes of letters in a known pattern, for large
// messages that the tests compare byte for byte at the other end.
func patterned(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = 'a' + byte(i*7919%26)
	}
	return b
}
