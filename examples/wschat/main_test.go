package main

import (
	"context"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// lineWriter hands each log line to a channel.
type lineWriter chan string

func (w lineWriter) Write(p []byte) (int, error) {
	w <- string(p)
	return len(p), nil
}

func within[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("no %s within 10s", what)
		panic("unreachable")
	}
}

// start runs the example on a free loopback port; stop ends it and waits
// for run to return.
func start(t *testing.T) (url string, stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	logged := make(lineWriter, 10)
	done := make(chan error, 1)
	go func() { done <- run(ctx, "127.0.0.1:0", log.New(logged, "", 0)) }()
	line := within(t, logged, "log line")
	url, ok := strings.CutPrefix(strings.TrimSpace(line), "wschat on ")
	if !ok {
		cancel()
		t.Fatalf("first log line %q", line)
	}
	var stopped bool
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := within(t, done, "return from run"); err != nil {
			t.Errorf("run: %v", err)
		}
	}
	t.Cleanup(stop)
	return url, stop
}

func dial(t *testing.T, url string) *websocket.Conn {
	t.Helper()
	conn, res, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(url, "http"), nil)
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	_ = res.Body.Close()
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

func send(t *testing.T, conn *websocket.Conn, text string) {
	t.Helper()
	if err := conn.WriteMessage(websocket.TextMessage, []byte(text)); err != nil {
		t.Fatal(err)
	}
}

// next is the next text message on conn, within 10 s.
func next(t *testing.T, conn *websocket.Conn, who string) string {
	t.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	kind, msg, err := conn.ReadMessage()
	if err != nil {
		t.Fatalf("%s: read: %v", who, err)
	}
	if kind != websocket.TextMessage {
		t.Fatalf("%s: message of type %d", who, kind)
	}
	return string(msg)
}

func expect(t *testing.T, conn *websocket.Conn, who, want string) {
	t.Helper()
	if got := next(t, conn, who); got != want {
		t.Errorf("%s got %q, want %q", who, got, want)
	}
}

func get(t *testing.T, url string) (*http.Response, string) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, string(b)
}

func TestEcho(t *testing.T) {
	url, _ := start(t)
	conn := dial(t, url+"/echo")
	for _, text := range []string{"hello", "", "ünïcødé ✓"} {
		send(t, conn, text)
		expect(t, conn, "echo client", "Message text was: "+text)
	}
	// A binary message is not text: no answer, and the next text is
	// answered as usual.
	if err := conn.WriteMessage(websocket.BinaryMessage, []byte{1, 2}); err != nil {
		t.Fatal(err)
	}
	send(t, conn, "after binary")
	expect(t, conn, "echo client", "Message text was: after binary")
}

// The room: the author, the others, and the one who left.
func TestRoom(t *testing.T) {
	url, stop := start(t)
	// Each client says hello when it is in (the room registers a client
	// after its handshake): the author sees "You wrote", the ones already
	// in see "Client #id says".
	var in []*websocket.Conn
	join := func(id string) *websocket.Conn {
		conn := dial(t, url+"/ws/"+id)
		send(t, conn, "hi, I am "+id)
		expect(t, conn, id, "You wrote: hi, I am "+id)
		for i, other := range in {
			expect(t, other, "client "+string(rune('A'+i)), "Client #"+id+" says: hi, I am "+id)
		}
		in = append(in, conn)
		return conn
	}
	a, b, c := join("1001"), join("1002"), join("1003")

	send(t, a, "hello")
	expect(t, a, "A (author)", "You wrote: hello")
	expect(t, b, "B", "Client #1001 says: hello")
	expect(t, c, "C", "Client #1001 says: hello")

	// A leaves: the others are told; then B speaks and C's next message is
	// B's, so nobody got anything in between.
	if err := a.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, "")); err != nil {
		t.Fatal(err)
	}
	_ = a.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, _, err := a.ReadMessage(); !websocket.IsCloseError(err, websocket.CloseNormalClosure) {
		t.Errorf("A after its close: %v, want the server's close 1000", err)
	}
	expect(t, b, "B", "Client #1001 left the chat")
	expect(t, c, "C", "Client #1001 left the chat")
	send(t, b, "bye A")
	expect(t, b, "B (author)", "You wrote: bye A")
	expect(t, c, "C", "Client #1002 says: bye A")

	// Shutting down closes the room's connections with 1001.
	stop()
	for name, conn := range map[string]*websocket.Conn{"B": b, "C": c} {
		_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		var err error
		for err == nil { // C may first get "Client #1002 left the chat"
			_, _, err = conn.ReadMessage()
		}
		if !websocket.IsCloseError(err, websocket.CloseGoingAway) {
			t.Errorf("%s at shutdown: %v, want close 1001", name, err)
		}
	}
}

func TestPageAndRefusals(t *testing.T) {
	url, _ := start(t)
	res, body := get(t, url+"/")
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("GET /: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	for _, want := range []string{"<form", "<input", `<ul id="messages">`, "Date.now()", "'/ws/' + id", "new WebSocket("} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if strings.Contains(body, "src=") || strings.Contains(body, "href=\"http") {
		t.Errorf("the page loads something:\n%s", body)
	}
	if res, _ := get(t, url+"/nothing"); res.StatusCode != 404 {
		t.Errorf("GET /nothing: %d", res.StatusCode)
	}

	ws := "ws" + strings.TrimPrefix(url, "http")
	for _, path := range []string{"/ws/abc", "/ws/-1", "/ws/"} {
		_, res, err := websocket.DefaultDialer.Dial(ws+path, nil)
		if err == nil || res == nil {
			t.Errorf("dial %s: %v, want a refusal", path, err)
			continue
		}
		_ = res.Body.Close()
		if res.StatusCode != http.StatusBadRequest && res.StatusCode != http.StatusNotFound {
			t.Errorf("dial %s: %d", path, res.StatusCode)
		}
	}
	// A page of another site may not open the room (a WebSocket is not
	// bound by the same-origin policy; the server checks the Origin).
	_, res, err := websocket.DefaultDialer.Dial(ws+"/ws/1", http.Header{"Origin": {"http://evil.example"}})
	if err == nil || res == nil || res.StatusCode != http.StatusForbidden {
		t.Errorf("cross-origin dial: %v %v", err, res)
	}
	if res != nil {
		_ = res.Body.Close()
	}
	// A non-WebSocket request to the room is answered with an error.
	if res, _ := get(t, url+"/ws/1"); res.StatusCode != http.StatusBadRequest {
		t.Errorf("plain GET /ws/1: %d", res.StatusCode)
	}
}

// A client that stops reading is disconnected once its queue is full; the
// others keep chatting.
func TestSlowClientIsDropped(t *testing.T) {
	url, _ := start(t)
	slow := dial(t, url+"/ws/1")
	// The slow client is in the room before the flood.
	send(t, slow, "in")
	expect(t, slow, "slow", "You wrote: in")
	fast := dial(t, url+"/ws/2")
	big := strings.Repeat("x", maxMessage-100)
	// The slow client never reads again: its TCP buffers fill, then its
	// queue, then the server drops it and tells the others.
	for i := range 10_000 {
		send(t, fast, big)
		for {
			msg := next(t, fast, "fast")
			if msg == "Client #1 left the chat" {
				t.Logf("the slow client was dropped after %d messages of %d bytes", i+1, len(big))
				return
			}
			if msg != "You wrote: "+big {
				t.Fatalf("fast got %.80q", msg)
			}
			break
		}
	}
	t.Fatal("the slow client was never dropped")
}

// A bind failure is reported, and nothing claims the server is listening.
func TestBindFailure(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	logged := make(lineWriter, 10)
	err = run(context.Background(), taken.Addr().String(), log.New(logged, "", 0))
	if !errors.Is(err, syscall.EADDRINUSE) {
		t.Errorf("run on a taken address: %v, want EADDRINUSE", err)
	}
	select {
	case line := <-logged:
		t.Errorf("logged %q", line)
	default:
	}
}
