package main

import (
	"context"
	"encoding/json"
	"errors"
	"log"
	"net"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/switchboard-go/socketio/sioclient"
)

// logLines collects the log lines; wait blocks until one contains want.
type logLines struct {
	mu    sync.Mutex
	lines []string
	more  chan struct{}
}

func newLogLines() *logLines { return &logLines{more: make(chan struct{}, 1)} }

func (l *logLines) Write(p []byte) (int, error) {
	l.mu.Lock()
	l.lines = append(l.lines, strings.TrimSpace(string(p)))
	l.mu.Unlock()
	select {
	case l.more <- struct{}{}:
	default:
	}
	return len(p), nil
}

func (l *logLines) wait(t *testing.T, want string) string {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		l.mu.Lock()
		for _, line := range l.lines {
			if strings.Contains(line, want) {
				l.mu.Unlock()
				return line
			}
		}
		l.mu.Unlock()
		select {
		case <-l.more:
		case <-deadline:
			t.Fatalf("no log line with %q within 10s; logged:\n%s", want, strings.Join(l.lines, "\n"))
		}
	}
}

// start runs the example on a free loopback port.
func start(t *testing.T) (url string, logged *logLines, stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	logged = newLogLines()
	done := make(chan error, 1)
	go func() { done <- run(ctx, "127.0.0.1:0", log.New(logged, "", 0)) }()
	line := logged.wait(t, "namespaces on ")
	url, ok := strings.CutPrefix(line, "namespaces on ")
	if !ok {
		cancel()
		t.Fatalf("first log line %q", line)
	}
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("run: %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Error("run did not return within 10s")
			}
		})
	}
	t.Cleanup(stop)
	return url, logged, stop
}

// client is one socket with every event it receives, as "event: JSON args".
type client struct {
	s      *sioclient.Socket
	events chan string
}

func connect(t *testing.T, url string, opts *sioclient.Options) *client {
	t.Helper()
	c := &client{events: make(chan string, 100)}
	s, err := sioclient.New(url, opts)
	if err != nil {
		t.Fatal(err)
	}
	c.s = s
	connected := make(chan struct{}, 1)
	s.OnConnect(func() { connected <- struct{}{} })
	s.OnAny(func(e *sioclient.Event) {
		args, _ := json.Marshal(e.Values())
		c.events <- e.Name + ": " + string(args)
	})
	s.Connect()
	t.Cleanup(s.Disconnect)
	select {
	case <-connected:
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: no connect within 10s", url)
	}
	return c
}

func (c *client) emit(t *testing.T, event string, args ...any) {
	t.Helper()
	if err := c.s.Emit(event, args...); err != nil {
		t.Fatal(err)
	}
}

// expect checks the client's next events, in order.
func (c *client) expect(t *testing.T, who string, want ...string) {
	t.Helper()
	for _, w := range want {
		select {
		case got := <-c.events:
			if got != w {
				t.Errorf("%s got %s\n want %s", who, got, w)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: no event within 10s, want %s", who, w)
		}
	}
}

func js(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// Rooms in /chat: who hears the joins and the messages; /test's own
// "message"; the log.
func TestNamespaces(t *testing.T) {
	url, logged, stop := start(t)
	// A and B in room "lobby", C in "other", D on /test; A is also on
	// /test, over the same connection (one manager).
	a := connect(t, url+"/chat", nil)
	aTest := connect(t, url+"/test", nil)
	if a.s.Manager() != aTest.s.Manager() {
		t.Fatal("A's two namespaces do not share a connection")
	}
	b := connect(t, url+"/chat", &sioclient.Options{ForceNew: true})
	c := connect(t, url+"/chat", &sioclient.Options{ForceNew: true})
	d := connect(t, url+"/test", &sioclient.Options{ForceNew: true})
	for _, x := range []*client{a, b, c} {
		logged.wait(t, "/chat: "+x.s.ID()+" connected")
	}
	for _, x := range []*client{aTest, d} {
		logged.wait(t, "/test: "+x.s.ID()+" connected")
	}

	a.emit(t, "join_room", map[string]string{"room": "lobby"})
	a.expect(t, "A", "message: "+js([]string{a.s.ID() + " has joined the room lobby"}))
	b.emit(t, "join_room", map[string]string{"room": "lobby"})
	joinedB := "message: " + js([]string{b.s.ID() + " has joined the room lobby"})
	a.expect(t, "A", joinedB)
	b.expect(t, "B", joinedB)
	c.emit(t, "join_room", map[string]string{"room": "other"})
	c.expect(t, "C", "message: "+js([]string{c.s.ID() + " has joined the room other"}))

	a.emit(t, "message", map[string]any{"room": "lobby", "data": "hello lobby"})
	fromA := "response: " + js([]any{map[string]any{"from": a.s.ID(), "room": "lobby", "data": "hello lobby"}})
	a.expect(t, "A", fromA)
	b.expect(t, "B", fromA)
	// Any JSON value is passed on as it is.
	b.emit(t, "message", map[string]any{"room": "lobby", "data": map[string]any{"n": 1, "list": []any{true, nil}}})
	fromB := "response: " + js([]any{map[string]any{"from": b.s.ID(), "room": "lobby", "data": map[string]any{"n": 1, "list": []any{true, nil}}}})
	a.expect(t, "A", fromB)
	b.expect(t, "B", fromB)
	// C, outside the room, may still talk to it, and does not hear itself.
	c.emit(t, "message", map[string]any{"room": "lobby", "data": "from outside"})
	fromC := "response: " + js([]any{map[string]any{"from": c.s.ID(), "room": "lobby", "data": "from outside"}})
	a.expect(t, "A", fromC)
	b.expect(t, "B", fromC)

	// /test: the same event name, another handler, an answer to the sender
	// alone.
	if err := d.s.Send("ping"); err != nil {
		t.Fatal(err)
	}
	d.expect(t, "D", "response: "+js([]string{"/test received: ping"}))
	if err := aTest.s.Send("from A"); err != nil {
		t.Fatal(err)
	}
	aTest.expect(t, "A on /test", "response: "+js([]string{"/test received: from A"}))
	// A malformed /chat message is refused, and nothing is sent.
	a.emit(t, "message", "not an object")
	a.emit(t, "join_room", map[string]string{})

	// Last, a message to "other": C gets it, and it is C's first event
	// since its join, so C heard nothing of the lobby; D, on /test, and
	// A's /test socket heard nothing of /chat.
	a.emit(t, "message", map[string]any{"room": "other", "data": "to the other room"})
	c.expect(t, "C", "response: "+js([]any{map[string]any{"from": a.s.ID(), "room": "other", "data": "to the other room"}}))
	dID := d.s.ID()
	d.s.Disconnect()
	logged.wait(t, "/test: "+dID+" disconnected (client namespace disconnect)")
	for name, x := range map[string]*client{"A": a, "B": b, "C": c, "D": d, "A on /test": aTest} {
		select {
		case ev := <-x.events:
			t.Errorf("%s got an extra event: %s", name, ev)
		default:
		}
	}

	bID := b.s.ID()
	b.s.Disconnect()
	logged.wait(t, "/chat: "+bID+" disconnected (client namespace disconnect)")
	// Shutting down disconnects the others.
	ids := []string{"/chat: " + a.s.ID(), "/test: " + aTest.s.ID(), "/chat: " + c.s.ID()}
	stop()
	for _, id := range ids {
		logged.wait(t, id+" disconnected (server shutting down)")
	}
}

// A bind failure is reported, and nothing claims the server is listening.
func TestBindFailure(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	logged := newLogLines()
	err = run(context.Background(), taken.Addr().String(), log.New(logged, "", 0))
	if !errors.Is(err, syscall.EADDRINUSE) {
		t.Errorf("run on a taken address: %v, want EADDRINUSE", err)
	}
	if len(logged.lines) > 0 {
		t.Errorf("logged %q", logged.lines)
	}
}
