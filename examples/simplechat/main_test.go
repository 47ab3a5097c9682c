package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-go/socketio/sioclient"
)

// client is a connected socket and the "message" events it receives.
type client struct {
	s    *sioclient.Socket
	msgs chan string
}

func dial(t *testing.T, url string) client {
	t.Helper()
	c := client{msgs: make(chan string, 10)}
	s, err := sioclient.New(url, &sioclient.Options{ForceNew: true})
	if err != nil {
		t.Fatal(err)
	}
	c.s = s
	connected := make(chan struct{}, 1)
	s.OnConnect(func() { connected <- struct{}{} })
	s.On("message", func(e *sioclient.Event) {
		var text string
		if err := e.Decode(0, &text); err != nil {
			text = "undecodable: " + err.Error()
		}
		c.msgs <- text
	})
	s.Connect()
	t.Cleanup(s.Disconnect)
	select {
	case <-connected:
	case <-time.After(10 * time.Second):
		t.Fatal("no connect within 10s")
	}
	return c
}

func (c client) expect(t *testing.T, who, want string) {
	t.Helper()
	select {
	case got := <-c.msgs:
		if got != want {
			t.Errorf("%s got %q, want %q", who, got, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: no message within 10s, want %q", who, want)
	}
}

func TestSimpleChat(t *testing.T) {
	srv := httptest.NewServer(handler()) // on a free loopback port
	defer srv.Close()
	a, b, c := dial(t, srv.URL), dial(t, srv.URL), dial(t, srv.URL)
	clients := map[string]client{"A": a, "B": b, "C": c}

	if err := a.s.Send("hello from A"); err != nil { // socket.send(): a "message" event
		t.Fatal(err)
	}
	for name, x := range clients {
		x.expect(t, name, "hello from A")
	}
	// Empty and non-text messages go nowhere: everyone's next message is
	// B's text.
	_ = b.s.Emit("message", "")
	_ = b.s.Emit("message", map[string]int{"n": 1})
	_ = b.s.Emit("message")
	_ = b.s.Emit("message", "hi from B")
	for name, x := range clients {
		x.expect(t, name, "hi from B")
	}
}

func TestPage(t *testing.T) {
	srv := httptest.NewServer(handler())
	defer srv.Close()
	get := func(path string) (*http.Response, string) {
		res, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, err := io.ReadAll(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		return res, string(body)
	}
	res, body := get("/")
	if res.StatusCode != 200 || !strings.Contains(body, `<script src="/socket.io/socket.io.js"></script>`) ||
		!strings.Contains(body, "socket.emit('message'") || !strings.Contains(body, "socket.on('message'") {
		t.Fatalf("GET /: %d\n%s", res.StatusCode, body)
	}
	if res, body := get("/socket.io/socket.io.js"); res.StatusCode != 200 || !strings.Contains(body[:200], "Socket.IO v4.") {
		t.Errorf("GET /socket.io/socket.io.js: %d %.100q", res.StatusCode, body)
	}
	if res, _ := get("/nothing"); res.StatusCode != 404 {
		t.Errorf("GET /nothing: %d", res.StatusCode)
	}
}
