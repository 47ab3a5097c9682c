package engineio

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// The client is tested against this package's server over the transport
// matrix, and against small fake servers for what a well-behaved server
// never does (falling silent). None of these tests is parallel, so that
// the goroutine-leak check at the end of each sees only its own clients.

var clientModes = []struct {
	name      string
	opts      DialOptions
	transport string // where the connection must end up
}{
	{"polling", DialOptions{Transports: []string{TransportPolling}}, TransportPolling},
	{"websocket", DialOptions{Transports: []string{TransportWebSocket}}, TransportWebSocket},
	{"upgrade", DialOptions{}, TransportWebSocket},
}

func eachClientMode(t *testing.T, fn func(t *testing.T, opts DialOptions, transport string)) {
	for _, m := range clientModes {
		t.Run(m.name, func(t *testing.T) {
			checkClientLeaks(t)
			opts := m.opts
			opts.Logger = slog.New(slog.DiscardHandler)
			fn(t, opts, m.transport)
		})
	}
}

// checkClientLeaks fails t if, once t's cleanups have run, goroutines of a
// client connection (or idle HTTP client connections) are still alive.
// It retries for a while: goroutines take a moment to notice a close.
func checkClientLeaks(t *testing.T) {
	t.Cleanup(func() {
		var leaked []string
		for range 100 {
			leaked = clientGoroutines()
			if len(leaked) == 0 {
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Errorf("%d client goroutines leaked:\n%s", len(leaked), strings.Join(leaked, "\n\n"))
	})
}

func clientGoroutines() []string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "(*ClientConn)") || strings.Contains(g, "net/http.(*persistConn)") {
			out = append(out, g)
		}
	}
	return out
}

// echoServer answers every message with the same message.
type echoServer struct {
	mu     sync.Mutex
	got    [][]byte
	closed chan string
}

func (h *echoServer) OnMessage(c *Conn, data []byte, binary bool) {
	h.mu.Lock()
	h.got = append(h.got, data)
	h.mu.Unlock()
	_ = c.Send(data, binary, false)
}

func (h *echoServer) OnClose(c *Conn, reason string) { h.closed <- reason }

func startEchoServer(t *testing.T, opts *Options) (*Server, *echoServer, string) {
	t.Helper()
	h := &echoServer{closed: make(chan string, 16)}
	var o Options
	if opts != nil {
		o = *opts
	}
	o.Logger = slog.New(slog.DiscardHandler)
	srv := NewServer(testOptions(&o), func(*Conn) Handler { return h })
	ts := httptest.NewServer(srv)
	t.Cleanup(func() {
		_ = srv.Close()
		ts.Close()
	})
	return srv, h, ts.URL + "/socket.io/"
}

type clientMsg struct {
	data   string
	binary bool
}

// recClient records what a client connection receives.
type recClient struct {
	msgs   chan clientMsg
	closed chan string
	cause  error
}

func newRecClient() *recClient {
	return &recClient{msgs: make(chan clientMsg, 4096), closed: make(chan string, 1)}
}

func (r *recClient) OnMessage(_ *ClientConn, data []byte, binary bool) {
	r.msgs <- clientMsg{string(data), binary}
}

func (r *recClient) OnClose(_ *ClientConn, reason string, cause error) {
	r.cause = cause
	r.closed <- reason
}

func (r *recClient) next(t *testing.T) clientMsg {
	t.Helper()
	select {
	case m := <-r.msgs:
		return m
	case <-time.After(5 * time.Second):
		t.Fatal("timed out waiting for a message")
		return clientMsg{}
	}
}

func waitString(t *testing.T, ch <-chan string, what string) string {
	t.Helper()
	select {
	case s := <-ch:
		return s
	case <-time.After(5 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
		return ""
	}
}

func dialTest(t *testing.T, url string, h ClientHandler, opts DialOptions) *ClientConn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := Dial(ctx, url, h, &opts)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() {
		c.CloseWithReason(ReasonForcedClose)
		c.Wait()
	})
	return c
}

func waitTransport(t *testing.T, c *ClientConn, want string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for c.Transport() != want {
		if time.Now().After(deadline) {
			t.Fatalf("transport is %q, want %q", c.Transport(), want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestClientEcho(t *testing.T) {
	eachClientMode(t, func(t *testing.T, opts DialOptions, transport string) {
		_, _, url := startEchoServer(t, nil)
		r := newRecClient()
		c := dialTest(t, url, r, opts)
		if c.ID() == "" {
			t.Error("empty session id")
		}
		// Sent at once: part of it goes out during the upgrade.
		const n = 200
		big := bytes.Repeat([]byte{0x1e, 0, 0xff}, 100_000)
		for i := range n {
			if err := c.Send([]byte(fmt.Sprintf("text %d é", i)), false, false); err != nil {
				t.Fatal(err)
			}
			if i%50 == 0 {
				if err := c.Send([]byte{byte(i), 0x1e, 0}, true, false); err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := c.Send(big, true, false); err != nil {
			t.Fatal(err)
		}
		for i := range n {
			if m := r.next(t); m.data != fmt.Sprintf("text %d é", i) || m.binary {
				t.Fatalf("message %d: got %q binary=%v", i, m.data, m.binary)
			}
			if i%50 == 0 {
				if m := r.next(t); m.data != string([]byte{byte(i), 0x1e, 0}) || !m.binary {
					t.Fatalf("binary %d: got %q binary=%v", i, m.data, m.binary)
				}
			}
		}
		if m := r.next(t); m.data != string(big) || !m.binary {
			t.Fatalf("big binary: got %d bytes binary=%v", len(m.data), m.binary)
		}
		waitTransport(t, c, transport)
		// And after the upgrade.
		_ = c.Send([]byte("after"), false, false)
		if m := r.next(t); m.data != "after" {
			t.Fatalf("got %q", m.data)
		}
	})
}

func TestClientHeartbeat(t *testing.T) {
	eachClientMode(t, func(t *testing.T, opts DialOptions, transport string) {
		// Ten rounds in the half second below; the timeout leaves a loaded
		// machine (the race detector, parallel packages) room to answer.
		srv, h, url := startEchoServer(t, &Options{PingInterval: 50 * time.Millisecond, PingTimeout: 200 * time.Millisecond})
		r := newRecClient()
		c := dialTest(t, url, r, opts)
		if c.PingInterval() != 50*time.Millisecond || c.PingTimeout() != 200*time.Millisecond {
			t.Errorf("heartbeat settings: %v %v", c.PingInterval(), c.PingTimeout())
		}
		// Many ping rounds: the server closes a client that does not pong,
		// the client one whose server does not ping. The sleep is the
		// subject: time passes, ten ping intervals, and nobody closes.
		time.Sleep(500 * time.Millisecond)
		select {
		case reason := <-r.closed:
			t.Fatalf("client closed: %s (%v)", reason, r.cause)
		case reason := <-h.closed:
			t.Fatalf("server closed: %s", reason)
		default:
		}
		if srv.Count() != 1 || c.PingExpired() {
			t.Errorf("count %d, expired %v", srv.Count(), c.PingExpired())
		}
		waitTransport(t, c, transport)
	})
}

func TestClientCloseFlushes(t *testing.T) {
	eachClientMode(t, func(t *testing.T, opts DialOptions, transport string) {
		_, h, url := startEchoServer(t, nil)
		r := newRecClient()
		c := dialTest(t, url, r, opts)
		for i := range 50 {
			_ = c.Send([]byte(fmt.Sprint(i)), false, false)
		}
		_ = c.Close()
		if err := c.Send([]byte("late"), false, false); !errors.Is(err, ErrClosed) {
			t.Errorf("Send after Close: %v", err)
		}
		if got := waitString(t, r.closed, "client close"); got != ReasonForcedClose {
			t.Errorf("client reason %q", got)
		}
		if got := waitString(t, h.closed, "server close"); got != ReasonTransportClose {
			t.Errorf("server reason %q", got)
		}
		h.mu.Lock()
		defer h.mu.Unlock()
		if len(h.got) != 50 {
			t.Errorf("server got %d messages before the close, want 50", len(h.got))
		}
		c.Wait()
	})
}

func TestClientServerCloses(t *testing.T) {
	eachClientMode(t, func(t *testing.T, opts DialOptions, transport string) {
		var mu sync.Mutex
		var conns []*Conn
		srv := NewServer(&Options{Logger: slog.New(slog.DiscardHandler)}, func(c *Conn) Handler {
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			return nil
		})
		ts := httptest.NewServer(srv)
		defer ts.Close()
		defer srv.Close()
		r := newRecClient()
		c := dialTest(t, ts.URL, r, opts) // empty path: /socket.io/
		waitTransport(t, c, transport)
		mu.Lock()
		sc := conns[0]
		mu.Unlock()
		_ = sc.Close()
		if got := waitString(t, r.closed, "client close"); got != ReasonTransportClose {
			t.Errorf("reason %q (%v)", got, r.cause)
		}
	})
}

// A server that handshakes and then never pings: the client must give up
// after pingInterval+pingTimeout.
func TestClientPingTimeout(t *testing.T) {
	for _, transport := range []string{TransportPolling, TransportWebSocket} {
		t.Run(transport, func(t *testing.T) {
			checkClientLeaks(t)
			open := `0{"sid":"abc","upgrades":[],"pingInterval":40,"pingTimeout":40,"maxPayload":1000}`
			up := websocket.Upgrader{}
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				switch {
				case r.URL.Query().Get("transport") == TransportWebSocket:
					ws, err := up.Upgrade(w, r, nil)
					if err != nil {
						return
					}
					defer ws.Close()
					_ = ws.WriteMessage(websocket.TextMessage, []byte(open))
					for {
						if _, _, err := ws.ReadMessage(); err != nil {
							return
						}
					}
				case r.URL.Query().Get("sid") == "":
					_, _ = io.WriteString(w, open)
				case r.Method == http.MethodPost:
					_, _ = io.WriteString(w, "ok")
				default:
					<-r.Context().Done() // silent
				}
			}))
			defer ts.Close()
			r := newRecClient()
			start := time.Now()
			c := dialTest(t, ts.URL, r, DialOptions{Transports: []string{transport}})
			if got := waitString(t, r.closed, "close"); got != ReasonPingTimeout {
				t.Errorf("reason %q", got)
			}
			if d := time.Since(start); d < 80*time.Millisecond {
				t.Errorf("closed after %v, before pingInterval+pingTimeout", d)
			}
			if !c.PingExpired() {
				t.Error("PingExpired is false after the timeout")
			}
		})
	}
}

func TestClientHandshakeErrors(t *testing.T) {
	checkClientLeaks(t)
	srv := NewServer(&Options{
		Logger:       slog.New(slog.DiscardHandler),
		AllowRequest: func(r *http.Request) error { return errors.New("no entry") },
	}, nil)
	ts := httptest.NewServer(srv)
	defer ts.Close()
	defer srv.Close()
	for _, transport := range []string{TransportPolling, TransportWebSocket} {
		_, err := Dial(context.Background(), ts.URL, nil, &DialOptions{Transports: []string{transport}})
		var se *StatusError
		if !errors.As(err, &se) || se.StatusCode != http.StatusForbidden || se.Code != CodeForbidden || se.Message != "no entry" {
			t.Errorf("%s: got %v (%#v)", transport, err, se)
		}
	}
	// Nothing listens there any more.
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	if _, err := Dial(context.Background(), dead.URL, nil, nil); err == nil {
		t.Error("Dial to a closed port succeeded")
	}
	for _, bad := range []string{"ftp://x/", "http://", "::"} {
		if _, err := Dial(context.Background(), bad, nil, nil); err == nil {
			t.Errorf("Dial(%q) succeeded", bad)
		}
	}
	if _, err := Dial(context.Background(), ts.URL, nil, &DialOptions{Transports: []string{"carrier pigeon"}}); err == nil {
		t.Error("unknown transport accepted")
	}
	// A context that ends during the handshake.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Dial(ctx, ts.URL, nil, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled Dial: %v", err)
	}
}

// POSTs must stay under the server's maxPayload, which closes the session
// on a larger one.
func TestClientPostsRespectMaxPayload(t *testing.T) {
	checkClientLeaks(t)
	_, h, url := startEchoServer(t, &Options{MaxPayload: 3000})
	r := newRecClient()
	c := dialTest(t, url, r, DialOptions{Transports: []string{TransportPolling}, Logger: slog.New(slog.DiscardHandler)})
	for i := range 300 {
		_ = c.Send(bytes.Repeat([]byte{byte(i)}, 1+i%7), true, false)
	}
	for i := range 300 {
		if m := r.next(t); len(m.data) != 1+i%7 || m.data[0] != byte(i) {
			t.Fatalf("message %d: %q", i, m.data)
		}
	}
	select {
	case reason := <-h.closed:
		t.Fatalf("server closed the session: %s", reason)
	default:
	}
}

func TestClientQueueOverflowAndVolatile(t *testing.T) {
	checkClientLeaks(t)
	_, _, url := startEchoServer(t, nil)
	r := newRecClient()
	c := dialTest(t, url, r, DialOptions{Transports: []string{TransportPolling}, MaxQueueBytes: 1000, Logger: slog.New(slog.DiscardHandler)})
	// The queue accepts a message larger than itself when empty (the
	// payload limit bounds messages, not the queue), then refuses more.
	big := make([]byte, 2000)
	var overflow bool
	for range 10 {
		if err := c.Send(big, true, false); errors.Is(err, ErrQueueOverflow) {
			overflow = true
			break
		}
	}
	if !overflow {
		t.Error("no ErrQueueOverflow from a full queue")
	}
	if err := c.Send([]byte("v"), false, true); err != nil {
		t.Errorf("volatile send on a full queue: %v (want a silent drop)", err)
	}
	// The connection is still usable once the queue drains.
	deadline := time.Now().Add(5 * time.Second)
	for c.Send([]byte("still here"), false, false) != nil {
		if time.Now().After(deadline) {
			t.Fatal("the queue never drained")
		}
		time.Sleep(5 * time.Millisecond)
	}
	for r.next(t).data != "still here" {
	}
}

// Over TLS, with HTTP/2 for the polling requests: the WebSocket must still
// be negotiated over HTTP/1.1.
func TestClientTLS(t *testing.T) {
	checkClientLeaks(t)
	h := &echoServer{closed: make(chan string, 4)}
	srv := NewServer(&Options{Logger: slog.New(slog.DiscardHandler)}, func(*Conn) Handler { return h })
	ts := httptest.NewUnstartedServer(srv)
	ts.EnableHTTP2 = true
	ts.StartTLS()
	defer ts.Close()
	defer srv.Close()
	pool := x509.NewCertPool()
	pool.AddCert(ts.Certificate())
	for _, u := range []string{ts.URL, strings.Replace(ts.URL, "https:", "wss:", 1)} {
		r := newRecClient()
		c := dialTest(t, u, r, DialOptions{TLSConfig: &tls.Config{RootCAs: pool}, Logger: slog.New(slog.DiscardHandler)})
		waitTransport(t, c, TransportWebSocket)
		_ = c.Send([]byte("over tls"), false, false)
		if m := r.next(t); m.data != "over tls" {
			t.Errorf("got %q", m.data)
		}
		c.CloseWithReason(ReasonForcedClose)
		c.Wait()
	}
}

// A server's message is bounded by the client's MaxPayload as read: a
// compressed frame (the client never negotiates permessage-deflate) is
// refused with 1002 before anything is inflated, and a message over the
// limit with 1009.
func TestClientBoundsServerMessages(t *testing.T) {
	bomb := deflateBomb(t, 64<<20)
	for _, tc := range []struct {
		name  string
		frame []byte // unmasked, as a server sends it
		code  int
	}{
		{"deflate bomb", append([]byte{0xC1, 127}, append(binary.BigEndian.AppendUint64(nil, uint64(len(bomb))), bomb...)...), websocket.CloseProtocolError},
		{"over MaxPayload", append([]byte{0x81, 126, 0x10, 0x00}, append([]byte{'4'}, bytes.Repeat([]byte("x"), 0x1000-1)...)...), websocket.CloseMessageTooBig},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkClientLeaks(t)
			open := `0{"sid":"abc","upgrades":[],"pingInterval":10000,"pingTimeout":10000,"maxPayload":1000}`
			up := websocket.Upgrader{EnableCompression: true}
			codes := make(chan int, 1)
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				ws, err := up.Upgrade(w, r, nil)
				if err != nil {
					return
				}
				defer ws.Close()
				_ = ws.WriteMessage(websocket.TextMessage, []byte(open))
				_, _ = ws.NetConn().Write(tc.frame)
				for {
					if _, _, err := ws.ReadMessage(); err != nil {
						var ce *websocket.CloseError
						if errors.As(err, &ce) {
							codes <- ce.Code
						}
						close(codes)
						return
					}
				}
			}))
			defer ts.Close()
			r := newRecClient()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			c := dialTest(t, ts.URL, r, DialOptions{Transports: []string{TransportWebSocket}, MaxPayload: 2000})
			if got := waitString(t, r.closed, "close"); got != ReasonTransportError {
				t.Errorf("reason %q (%v)", got, r.cause)
			}
			runtime.ReadMemStats(&after)
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 8<<20 {
				t.Errorf("%d bytes allocated reading the message", alloc)
			}
			select {
			case code := <-codes:
				if code != tc.code {
					t.Errorf("client closed with %d, want %d", code, tc.code)
				}
			case <-time.After(5 * time.Second):
				t.Error("no close frame from the client")
			}
			c.Wait()
		})
	}
}
