package socketio

import (
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
)

// OnRoom handlers that fall behind: up to maxRoomEvents changes wait for
// them, a batch that would go past that is dropped whole and logged, and
// the changes that were taken are all delivered, in order.
func TestRoomEventsBound(t *testing.T) {
	dropped := make(chan string, 4)
	logger := slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
		if strings.Contains(string(p), "room changes dropped") {
			dropped <- string(p)
		}
		return len(p), nil
	}), nil))
	srv, url := newTestServer(t, &Options{Logger: logger})
	connected := make(chan *Socket, 1)
	srv.OnConnection(func(s *Socket) { connected <- s })

	release := make(chan struct{})
	last := make(chan struct{}) // the last room of the full batch was seen
	marker := make(chan struct{})
	lastRoom := fmt.Sprint("r", maxRoomEvents/2-1)
	var mu sync.Mutex
	var joined []string // the rooms joined, as the handler saw them
	var once sync.Once
	srv.OnRoom(func(ev RoomEvent) {
		once.Do(func() { <-release }) // behind from the first change on
		if ev.Kind != RoomJoined {
			return
		}
		if ev.Room == "marker" {
			close(marker)
			return
		}
		if ev.Room == lastRoom {
			close(last)
		}
		mu.Lock()
		joined = append(joined, ev.Room)
		mu.Unlock()
	})
	c := dialRaw(t, url)
	id := c.connect("/") // its own room: created and joined, the handler now blocks
	s := recvWithin(t, connected)

	// Each new room is two changes (created, joined): exactly fill the
	// queue, then one room more.
	rooms := make([]string, maxRoomEvents/2)
	for i := range rooms {
		rooms[i] = fmt.Sprint("r", i)
	}
	s.Join(rooms...)
	select {
	case l := <-dropped:
		t.Fatalf("a batch that fits was dropped: %s", l)
	default:
	}
	s.Join("extra")
	if l := recvWithin(t, dropped); !strings.Contains(l, "dropped=2") {
		t.Errorf("logged %q, want the 2 changes of the extra room dropped", l)
	}
	close(release)
	recvWithin(t, last)
	// The queue is empty again: a change now is taken, and comes after
	// wherever the dropped one would have been.
	s.Join("marker")
	recvWithin(t, marker)

	mu.Lock()
	defer mu.Unlock()
	if len(joined) != 1+len(rooms) || joined[0] != id || joined[len(joined)-1] != rooms[len(rooms)-1] {
		t.Fatalf("%d rooms joined (first %q, last %q), want %d: the socket's own, then r0 to r%d",
			len(joined), joined[0], joined[len(joined)-1], 1+len(rooms), len(rooms)-1)
	}
	for _, r := range joined {
		if r == "extra" {
			t.Fatal("the dropped change was delivered")
		}
	}
}

// A panicking OnRoom handler is logged with its panic value, and the
// changes after it are still delivered; handlers that return normally log
// nothing.
func TestRoomHandlerPanicLogged(t *testing.T) {
	var mu sync.Mutex
	var logged []string
	logger := slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		logged = append(logged, string(p))
		mu.Unlock()
		return len(p), nil
	}), nil))
	srv, url := newTestServer(t, &Options{Logger: logger})
	srv.OnConnection(func(s *Socket) { s.Join("boom", "after") })
	after := make(chan struct{})
	srv.OnRoom(func(ev RoomEvent) {
		switch {
		case ev.Kind == RoomJoined && ev.Room == "boom":
			panic("room handler failed")
		case ev.Kind == RoomJoined && ev.Room == "after":
			close(after)
		}
	})
	c := dialRaw(t, url)
	c.connect("/")
	recvWithin(t, after)
	mu.Lock()
	defer mu.Unlock()
	var panics []string
	for _, l := range logged {
		if strings.Contains(l, "handler panicked") {
			panics = append(panics, l)
		}
	}
	if len(panics) != 1 || !strings.Contains(panics[0], `panic="room handler failed"`) {
		t.Fatalf("logged %q, want one panic, the handler's", logged)
	}
}
