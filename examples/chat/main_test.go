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

	"github.com/switchboard-go/socketio/sioclient"
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

// The example as run: it says where it listens, serves a page that needs
// nothing from elsewhere and the client that page loads, relays a chat
// message between two clients, and stops when told.
func TestChat(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	logged := make(lineWriter, 10)
	done := make(chan error, 1)
	go func() { done <- run(ctx, "127.0.0.1:0", log.New(logged, "", 0)) }()
	line := within(t, logged, "log line")
	url, ok := strings.CutPrefix(strings.TrimSpace(line), "chat on ")
	if !ok {
		t.Fatalf("first log line %q", line)
	}

	res, body := get(t, url+"/")
	if res.StatusCode != 200 || !strings.Contains(body, `<script src="/socket.io/socket.io.js"></script>`) {
		t.Fatalf("GET /: %d\n%s", res.StatusCode, body)
	}
	if strings.Contains(body, "http") {
		t.Errorf("the page refers to another site:\n%s", body)
	}
	res, body = get(t, url+"/socket.io/socket.io.js")
	if res.StatusCode != 200 || !strings.Contains(body[:200], "Socket.IO v4.") {
		t.Fatalf("GET /socket.io/socket.io.js: %d %.100q", res.StatusCode, body)
	}
	if res, _ := get(t, url+"/nothing"); res.StatusCode != 404 {
		t.Errorf("GET /nothing: %d", res.StatusCode)
	}

	type client struct {
		s        *sioclient.Socket
		msgs     chan string
		connects chan struct{}
		gone     chan string
	}
	dial := func() client {
		c := client{msgs: make(chan string, 10), connects: make(chan struct{}, 1), gone: make(chan string, 1)}
		s, err := sioclient.New(url, &sioclient.Options{ForceNew: true, DisableReconnection: true})
		if err != nil {
			t.Fatal(err)
		}
		c.s = s
		s.OnConnect(func() { c.connects <- struct{}{} })
		s.OnDisconnect(func(reason string) { c.gone <- reason })
		s.On("chat message", func(e *sioclient.Event) {
			var msg string
			_ = e.Decode(0, &msg)
			c.msgs <- msg
		})
		s.Connect()
		t.Cleanup(s.Disconnect)
		within(t, c.connects, "connect")
		return c
	}
	a := dial()
	b := dial()
	if err := a.s.Emit("chat message", "hello from A"); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]client{"A": a, "B": b} {
		for msg := ""; msg != "hello from A"; {
			msg = within(t, c.msgs, name+"'s chat message")
		}
	}

	cancel()
	if err := within(t, done, "return from run"); err != nil {
		t.Errorf("run: %v", err)
	}
	if reason := within(t, b.gone, "disconnect"); reason != "transport close" {
		t.Errorf("B disconnected with %q", reason)
	}
}

// A bind failure is reported, and nothing claims the server is listening.
func TestChatBindFailure(t *testing.T) {
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
