package engineio

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// The text of a StatusError: the status, and the server's message when
// there is one.
func TestStatusErrorText(t *testing.T) {
	for _, tc := range []struct {
		e    StatusError
		want string
	}{
		{StatusError{StatusCode: http.StatusBadGateway, Code: -1}, "engineio: server answered 502 Bad Gateway"},
		{StatusError{StatusCode: http.StatusForbidden, Code: CodeForbidden, Message: "no entry"}, "engineio: server answered 403 Forbidden: no entry"},
	} {
		if got := tc.e.Error(); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.e, got, tc.want)
		}
	}
}

// A server that answers the handshake with an error in plain text (a proxy,
// say), not the reference's JSON: the StatusError has no code and the
// body's text as its message, on either transport.
func TestClientPlainTextRefusal(t *testing.T) {
	checkClientLeaks(t)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "bad gateway", http.StatusBadGateway)
	}))
	defer ts.Close()
	for _, transport := range []string{TransportPolling, TransportWebSocket} {
		_, err := Dial(context.Background(), ts.URL, nil, &DialOptions{Transports: []string{transport}})
		var se *StatusError
		if !errors.As(err, &se) || se.StatusCode != http.StatusBadGateway || se.Code != -1 || se.Message != "bad gateway" {
			t.Errorf("%s: got %v (%#v)", transport, err, se)
		}
	}
}

// A URL whose path is "/" means the default path, as an empty one does.
func TestClientRootPathMeansDefault(t *testing.T) {
	checkClientLeaks(t)
	_, _, url := startEchoServer(t, nil)
	root := strings.TrimSuffix(url, "socket.io/")
	r := newRecClient()
	c := dialTest(t, root, r, DialOptions{Transports: []string{TransportPolling}, Logger: slog.New(slog.DiscardHandler)})
	_ = c.Send([]byte("hi"), false, false)
	if m := r.next(t); m.data != "hi" {
		t.Fatalf("got %q", m.data)
	}
}

// fakePolling is a polling server scripted by the test: the handshake
// answers open, each later GET takes its body from gets (and waits for
// the request's end once there is none), each POST is passed to posts and
// answered "ok" once its release channel is closed (nil: at once).
type fakePolling struct {
	open  string
	gets  chan string
	posts chan fakePost
}

type fakePost struct {
	body    string
	release chan struct{}
}

func (f *fakePolling) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Query().Get("sid") == "":
		_, _ = io.WriteString(w, f.open)
	case r.Method == http.MethodPost:
		b, _ := io.ReadAll(r.Body)
		p := fakePost{body: string(b), release: make(chan struct{})}
		select {
		case f.posts <- p:
		case <-r.Context().Done():
			return
		}
		select {
		case <-p.release:
		case <-r.Context().Done():
			return
		}
		_, _ = io.WriteString(w, "ok")
	default:
		select {
		case body := <-f.gets:
			_, _ = io.WriteString(w, body)
		case <-r.Context().Done():
		}
	}
}

func startFakePolling(t *testing.T, open string) (*fakePolling, string) {
	t.Helper()
	f := &fakePolling{open: open, gets: make(chan string, 4), posts: make(chan fakePost)}
	ts := httptest.NewServer(f)
	t.Cleanup(ts.Close)
	return f, ts.URL
}

// A handshake whose open packet lacks the session id or a positive
// pingInterval or pingTimeout is refused; over WebSocket, so is an open
// packet in a binary frame.
func TestClientRefusesBadOpenPacket(t *testing.T) {
	checkClientLeaks(t)
	for _, open := range []string{
		`0{"sid":"","upgrades":[],"pingInterval":25000,"pingTimeout":20000}`,
		`0{"sid":"abc","upgrades":[],"pingInterval":0,"pingTimeout":20000}`,
		`0{"sid":"abc","upgrades":[],"pingInterval":25000,"pingTimeout":0}`,
		`0{"sid":"abc","upgrades":[],"pingInterval":-1,"pingTimeout":20000}`,
		`4{"sid":"abc","upgrades":[],"pingInterval":25000,"pingTimeout":20000}`,
	} {
		_, url := startFakePolling(t, open)
		c, err := Dial(context.Background(), url, nil, &DialOptions{Transports: []string{TransportPolling}})
		if !errors.Is(err, ErrInvalidPacket) {
			t.Errorf("%s: Dial: %v, want ErrInvalidPacket", open, err)
		}
		if c != nil {
			c.CloseWithReason(ReasonForcedClose)
			c.Wait()
		}
	}
	// The same open packet, good, in a text frame then in a binary one.
	open := `0{"sid":"abc","upgrades":[],"pingInterval":25000,"pingTimeout":20000}`
	for _, mt := range []int{websocket.TextMessage, websocket.BinaryMessage} {
		up := websocket.Upgrader{}
		ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ws, err := up.Upgrade(w, r, nil)
			if err != nil {
				return
			}
			defer ws.Close()
			_ = ws.WriteMessage(mt, []byte(open))
			for {
				if _, _, err := ws.ReadMessage(); err != nil {
					return
				}
			}
		}))
		c, err := Dial(context.Background(), ts.URL, nil, &DialOptions{Transports: []string{TransportWebSocket}})
		if mt == websocket.TextMessage {
			if err != nil {
				t.Errorf("text open packet: %v", err)
			} else {
				c.CloseWithReason(ReasonForcedClose)
				c.Wait()
			}
		} else if !errors.Is(err, ErrInvalidPacket) {
			t.Errorf("binary open packet: Dial: %v, want ErrInvalidPacket", err)
			if c != nil {
				c.CloseWithReason(ReasonForcedClose)
				c.Wait()
			}
		}
		ts.Close()
	}
}

// A polling response of exactly MaxPayload bytes is taken whole; one byte
// more closes the connection with "transport error".
func TestClientPollingMaxPayloadBoundary(t *testing.T) {
	const limit = 300
	open := `0{"sid":"abc","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`
	for _, size := range []int{limit, limit + 1} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			checkClientLeaks(t)
			f, url := startFakePolling(t, open)
			r := newRecClient()
			dialTest(t, url, r, DialOptions{Transports: []string{TransportPolling}, MaxPayload: limit, Logger: slog.New(slog.DiscardHandler)})
			msg := strings.Repeat("x", size-1)
			f.gets <- "4" + msg
			if size == limit {
				if m := r.next(t); m.data != msg {
					t.Fatalf("got %d bytes, want %d", len(m.data), len(msg))
				}
				return
			}
			if got := waitString(t, r.closed, "close"); got != ReasonTransportError || !errors.Is(r.cause, errTooLarge) {
				t.Fatalf("closed with %q (%v), want %q for a response too large", got, r.cause, ReasonTransportError)
			}
		})
	}
}

// A WebSocket message of exactly MaxPayload bytes is taken (one more is
// refused with 1009: TestClientBoundsServerMessages).
func TestClientWebSocketMessageAtMaxPayload(t *testing.T) {
	checkClientLeaks(t)
	const limit = 2000
	open := `0{"sid":"abc","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000}`
	msg := strings.Repeat("x", limit-1)
	up := websocket.Upgrader{}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		_ = ws.WriteMessage(websocket.TextMessage, []byte(open))
		_ = ws.WriteMessage(websocket.TextMessage, []byte("4"+msg))
		for {
			if _, _, err := ws.ReadMessage(); err != nil {
				return
			}
		}
	}))
	defer ts.Close()
	r := newRecClient()
	dialTest(t, ts.URL, r, DialOptions{Transports: []string{TransportWebSocket}, MaxPayload: limit})
	if m := r.next(t); m.data != msg {
		t.Fatalf("got %d bytes, want %d", len(m.data), len(msg))
	}
}

// Close over WebSocket sends a close frame once the queue is flushed and
// then keeps reading until the server's close frame comes back: what the
// server sends meanwhile is delivered, and the cause reported with
// "forced close" is the server's close.
func TestClientCloseWaitsForServerCloseFrame(t *testing.T) {
	checkClientLeaks(t)
	open := `0{"sid":"abc","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000}`
	up := websocket.Upgrader{}
	gotClose := make(chan struct{})
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		// Answer the client's close frame by hand, after one more message.
		ws.SetCloseHandler(func(int, string) error {
			close(gotClose)
			return nil
		})
		_ = ws.WriteMessage(websocket.TextMessage, []byte(open))
		for {
			if _, _, err := ws.ReadMessage(); err != nil {
				break
			}
		}
		select {
		case <-gotClose:
		default:
			return
		}
		_ = ws.WriteMessage(websocket.TextMessage, []byte("4after"))
		_ = ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
	}))
	defer ts.Close()
	r := newRecClient()
	c := dialTest(t, ts.URL, r, DialOptions{Transports: []string{TransportWebSocket}})
	_ = c.Close()
	if got := waitString(t, r.closed, "close"); got != ReasonForcedClose {
		t.Fatalf("reason %q", got)
	}
	var ce *websocket.CloseError
	if !errors.As(r.cause, &ce) || ce.Code != websocket.CloseNormalClosure {
		t.Errorf("cause %v, want the server's close frame (1000)", r.cause)
	}
	select {
	case m := <-r.msgs:
		if m.data != "after" {
			t.Errorf("got %q, want \"after\"", m.data)
		}
	default:
		t.Error("the message the server sent before its close frame was not delivered")
	}
}

// logRecorder keeps the messages of the records logged.
type logRecorder struct {
	mu   sync.Mutex
	msgs []string
}

func (l *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (l *logRecorder) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.msgs = append(l.msgs, r.Message)
	return nil
}
func (l *logRecorder) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *logRecorder) WithGroup(string) slog.Handler      { return l }

func (l *logRecorder) count(msg string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, m := range l.msgs {
		if m == msg {
			n++
		}
	}
	return n
}

// A connection that ends on an error logs it at debug level; one closed
// without an error (the server's close packet) logs nothing.
func TestClientLogsCloseCause(t *testing.T) {
	const logged = "engineio: client connection closed"
	open := `0{"sid":"abc","upgrades":[],"pingInterval":25000,"pingTimeout":20000}`
	for _, tc := range []struct {
		name   string
		get    string // the first poll's answer
		reason string
		logs   int
	}{
		{"parse error", "4a\x1e", ReasonParseError, 1},
		{"close packet", "1", ReasonTransportClose, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkClientLeaks(t)
			f, url := startFakePolling(t, open)
			l := &logRecorder{}
			r := newRecClient()
			c := dialTest(t, url, r, DialOptions{Transports: []string{TransportPolling}, Logger: slog.New(l)})
			f.gets <- tc.get
			if got := waitString(t, r.closed, "close"); got != tc.reason {
				t.Fatalf("reason %q (%v), want %q", got, r.cause, tc.reason)
			}
			c.Wait()
			if n := l.count(logged); n != tc.logs {
				t.Errorf("%q logged %d times, want %d", logged, n, tc.logs)
			}
		})
	}
}

// A server whose open packet gives no maxPayload is taken to have the
// reference's 1,000,000 bytes: the client keeps each POST within a third
// of it, so messages queued while a POST is in flight go out one POST
// each when two would not fit.
func TestClientDefaultServerMaxPayload(t *testing.T) {
	checkClientLeaks(t)
	open := `0{"sid":"abc","upgrades":[],"pingInterval":25000,"pingTimeout":20000}`
	f, url := startFakePolling(t, open)
	r := newRecClient()
	c := dialTest(t, url, r, DialOptions{Transports: []string{TransportPolling}, MaxQueueBytes: 8 << 20, Logger: slog.New(slog.DiscardHandler)})
	_ = c.Send([]byte("first"), false, false)
	first := receive(t, f.posts, "no POST")
	if first.body != "4first" {
		t.Fatalf("first POST %q", first.body)
	}
	// Queued behind the first POST: 1.2 MB in all.
	const n, size = 4, 300_000
	for i := range n {
		if err := c.Send([]byte(strings.Repeat(fmt.Sprint(i), size)), false, false); err != nil {
			t.Fatal(err)
		}
	}
	close(first.release)
	for got := 0; got < n; {
		p := receive(t, f.posts, "no POST")
		if len(p.body) > 1_000_000/3 {
			t.Fatalf("a POST of %d bytes, over a third of the server's default maxPayload", len(p.body))
		}
		got += strings.Count(p.body, "\x1e") + 1
		close(p.release)
	}
}
