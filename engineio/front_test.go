package engineio

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"strings"
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
	if !netpoll.Supported {
		t.Skip("no poller on this system: Serve is http.Server.Serve")
	}
	h := &echoServer{closed: make(chan string, 64)}
	var o Options
	if opts != nil {
		o = *opts
	}
	o.Logger = slog.New(slog.DiscardHandler)
	srv := NewServer(testOptions(&o), func(*Conn) Handler { return h })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var handler http.Handler = srv
	if mux != nil {
		handler = mux(srv)
	}
	hs := &http.Server{Handler: handler}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln, hs) }()
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
	return srv, h, "http://" + addr + "/socket.io/", addr
}

func TestFrontClientMatrix(t *testing.T) {
	eachClientMode(t, func(t *testing.T, opts DialOptions, transport string) {
		_, h, url, _ := startFrontServer(t, nil, nil)
		r := newRecClient()
		c := dialTest(t, url, r, opts)
		for i := range 50 {
			if err := c.Send([]byte(fmt.Sprintf("m%d", i)), i%7 == 0, false); err != nil {
				t.Fatal(err)
			}
		}
		for i := range 50 {
			if m := r.next(t); m.data != fmt.Sprintf("m%d", i) || m.binary != (i%7 == 0) {
				t.Fatalf("message %d: got %q binary %v", i, m.data, m.binary)
			}
		}
		waitTransport(t, c, transport)
		// A message after a pause: on polling the poll waited parked.
		time.Sleep(50 * time.Millisecond) // the poll has to be waiting: time passing is the subject
		big := strings.Repeat("x", 200_000)
		if err := c.Send([]byte(big), false, false); err != nil {
			t.Fatal(err)
		}
		if m := r.next(t); m.data != big {
			t.Fatalf("big message: got %d bytes", len(m.data))
		}
		c.Close()
		if got := waitString(t, h.closed, "the server's close"); got != ReasonTransportClose {
			t.Errorf("server close reason %q, want %q", got, ReasonTransportClose)
		}
	})
}

// frontGoroutines counts the goroutines serving the front's connections
// or waiting in a poll.
func frontGoroutines() int {
	buf := make([]byte, 4<<20)
	buf = buf[:runtime.Stack(buf, true)]
	n := 0
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "(*frontConn)") || strings.Contains(g, "answerPoll") || strings.Contains(g, "net/http.(*conn).serve") {
			n++
		}
	}
	return n
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
	if !pollerExpected() {
		// DisablePoller: Serve is http.Server.Serve, and polls wait on
		// goroutines as behind any net/http server.
		wakeAll(t, srv, clients, conns)
		return
	}
	// Every session's poll reaches the server and parks.
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
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d polls parked", parked, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Readers linger a few milliseconds after the last input.
	deadline = time.Now().Add(5 * time.Second)
	for frontGoroutines() > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines serve %d idle polling clients, want 0", frontGoroutines(), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
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
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	br := bufio.NewReader(conn)
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
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	br := bufio.NewReader(conn)
	_, body := rawRequest(t, conn, br, "GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n\r\n")
	sid := handshakeSID(t, body)
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
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	_, body := rawRequest(t, conn, br, "GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n\r\n")
	sid := handshakeSID(t, body)
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
	dial := func() (net.Conn, *bufio.Reader) {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = conn.Close() })
		return conn, bufio.NewReader(conn)
	}
	t.Run("body over MaxPayload", func(t *testing.T) {
		conn, br := dial()
		_, body := rawRequest(t, conn, br, "GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n\r\n")
		sid := handshakeSID(t, body)
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
		_, body := rawRequest(t, conn, br, "GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n\r\n")
		sid := handshakeSID(t, body)
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
