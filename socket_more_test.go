package socketio

import (
	"bytes"
	"context"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-go/socketio/adapter"
	"github.com/switchboard-go/socketio/engineio"
)

// logBuffer is a logger at debug level whose text output the test reads;
// wait blocks until a line containing what has been written.
type logBuffer struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	wake chan struct{}
}

func newLogBuffer() (*logBuffer, *slog.Logger) {
	l := &logBuffer{wake: make(chan struct{}, 1)}
	h := slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
		l.mu.Lock()
		l.buf.Write(p)
		l.mu.Unlock()
		select {
		case l.wake <- struct{}{}:
		default:
		}
		return len(p), nil
	}), &slog.HandlerOptions{Level: slog.LevelDebug})
	return l, slog.New(h)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func (l *logBuffer) wait(t *testing.T, what string) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for !strings.Contains(l.String(), what) {
		select {
		case <-l.wake:
		case <-deadline:
			t.Fatalf("never logged %q; log:\n%s", what, l.String())
		}
	}
}

// A socket middleware's error with no OnError handler is logged at debug
// level, with the event and the error; with an OnError handler, that
// handler hears of it and nothing is logged.
func TestSocketMiddlewareErrorLoggedWithoutOnError(t *testing.T) {
	logs, logger := newLogBuffer()
	srv, url := newTestServer(t, &Options{Logger: logger})
	heard := make(chan error, 1)
	srv.OnConnection(func(s *Socket) {
		s.Use(func(e *Event) error {
			if strings.HasPrefix(e.Name, "no") {
				return errString("refused " + e.Name)
			}
			return nil
		})
		if s.Handshake().Query.Get("onerror") != "" {
			s.OnError(func(err error) { heard <- err })
		}
		s.On("done", func(e *Event) { _ = e.Ack() })
	})

	c := dialRaw(t, url)
	c.connect("/")
	c.send(`2["nope"]`)
	logs.wait(t, "socket middleware stopped an event")
	if l := logs.String(); !strings.Contains(l, "level=DEBUG") || !strings.Contains(l, "event=nope") || !strings.Contains(l, `err="refused nope"`) {
		t.Fatalf("log:\n%s", l)
	}

	c2 := dialRaw(t, url+"&onerror=1")
	c2.connect("/")
	c2.send(`2["not this"]`)
	if err := recvWithin(t, heard); err.Error() != "refused not this" {
		t.Fatalf("OnError got %v", err)
	}
	// The event after it is answered once the refused one has been
	// handled (one dispatch goroutine per connection, in order).
	c2.send(`21["done"]`)
	if got := c2.recv(); got != `31[]` {
		t.Fatalf("ack %q", got)
	}
	if strings.Contains(logs.String(), "not this") {
		t.Fatalf("logged although OnError heard it:\n%s", logs.String())
	}
}

type errString string

func (e errString) Error() string { return string(e) }

// OffAnyOutgoing removes the outgoing catch-all handlers: the events that
// follow are sent without calling them. On a socket that never had one it
// does nothing.
func TestOffAnyOutgoing(t *testing.T) {
	srv, url := newTestServer(t, nil)
	sockets := make(chan *Socket, 1)
	srv.OnConnection(func(s *Socket) { sockets <- s })
	c := dialRaw(t, url)
	c.connect("/")
	s := recvWithin(t, sockets)

	s.OffAnyOutgoing() // no handler yet
	out := make(chan string, 4)
	s.OnAnyOutgoing(func(event string, _ []any) { out <- event })
	_ = s.Emit("first")
	if got := c.recv(); got != `2["first"]` {
		t.Fatalf("got %q", got)
	}
	expectExactly(t, out, "first")
	s.OffAnyOutgoing()
	_ = s.Emit("second")
	if got := c.recv(); got != `2["second"]` {
		t.Fatalf("got %q", got)
	}
	expectExactly(t, out)
}

// With recovery on, what a socket emits without an ack and not volatile
// carries an offset (it is logged, to be recovered); a volatile emit and
// one with an ack carry none.
func TestSocketEmitOffsetsWithRecovery(t *testing.T) {
	srv, url := newTestServer(t, &Options{ConnectionStateRecovery: &Recovery{}})
	sockets := make(chan *Socket, 1)
	srv.OnConnection(func(s *Socket) { sockets <- s })
	c := dialRaw(t, url)
	c.recoveryConnect("")
	s := recvWithin(t, sockets)

	_ = s.Emit("logged", 1)
	if args, _ := c.event(); args != `["logged",1]` {
		t.Fatalf("event %s", args)
	}
	_ = s.Volatile().Emit("volatile", 2)
	if got := c.recv(); got != `2["volatile",2]` {
		t.Fatalf("volatile emit %q, want no offset", got)
	}
	_ = s.Emit("ask", func(Args, error) {})
	if got := c.recv(); got != `20["ask"]` {
		t.Fatalf("emit with ack %q, want no offset", got)
	}
}

// An emit with an ack that cannot be queued (the client reads nothing,
// its queue overflows) is reported once: Emit returns the error and its
// AckFunc is never called, not even with ErrDisconnected when the overflow
// then disconnects the socket, as the AckFuncs of the emits queued before
// it are. (When that disconnection wins the race and takes the ack first,
// the emit's one report is the AckFunc's ErrDisconnected, and Emit
// returns nil.)
func TestFailedEmitReportedOnce(t *testing.T) {
	srv, url := newTestServer(t, &Options{Engine: engineio.Options{MaxQueueBytes: 16 << 10}})
	sockets := make(chan *Socket, 1)
	gone := make(chan Reason, 1)
	srv.OnConnection(func(s *Socket) {
		s.OnDisconnect(func(r Reason) { gone <- r })
		sockets <- s
	})
	c := dialRaw(t, url)
	c.connect("/")
	s := recvWithin(t, sockets)

	var mu sync.Mutex
	answers := map[int][]error{}
	big := strings.Repeat("x", 16<<10)
	failed := -1
	for i := 0; failed < 0; i++ {
		if i == 100000 {
			t.Fatal("the queue never overflowed")
		}
		err := s.Emit("big", big, func(_ Args, err error) {
			mu.Lock()
			answers[i] = append(answers[i], err)
			mu.Unlock()
		})
		if err != nil {
			if err != engineio.ErrQueueOverflow && err != engineio.ErrClosed && err != ErrDisconnected {
				t.Fatalf("emit %d: %v", i, err)
			}
			failed = i
		}
	}
	// Pending acks are failed before the disconnect handlers run.
	if r := recvWithin(t, gone); r != ReasonQueueOverflow {
		t.Fatalf("disconnect reason %q", r)
	}
	mu.Lock()
	defer mu.Unlock()
	if errs, ok := answers[failed]; ok {
		t.Fatalf("emit %d failed, and its AckFunc was called too: %v", failed, errs)
	}
	for i := range failed {
		if errs := answers[i]; len(errs) != 1 || errs[0] != ErrDisconnected {
			t.Fatalf("emit %d, queued: AckFunc got %v, want ErrDisconnected once", i, errs)
		}
	}
}

// EmitWithAck gives up when its context ends: ErrTimeout for a deadline,
// the context's own error otherwise. The event was sent all the same.
func TestSocketEmitWithAckContextEnds(t *testing.T) {
	srv, url := newTestServer(t, nil)
	sockets := make(chan *Socket, 1)
	srv.OnConnection(func(s *Socket) { sockets <- s })
	c := dialRaw(t, url)
	c.connect("/")
	s := recvWithin(t, sockets)

	expired, cancel1 := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel1()
	if _, err := s.EmitWithAck(expired, "late"); err != ErrTimeout {
		t.Fatalf("deadline passed: %v, want ErrTimeout", err)
	}
	canceled, cancel2 := context.WithCancel(context.Background())
	cancel2()
	if _, err := s.EmitWithAck(canceled, "dropped"); err != context.Canceled {
		t.Fatalf("canceled: %v, want context.Canceled", err)
	}
	for _, want := range []string{`20["late"]`, `21["dropped"]`} {
		if got := c.recv(); got != want {
			t.Fatalf("got %q, want %q", got, want)
		}
	}
}

// syncAdapter is the in-memory adapter made a adapter.RoomSyncer: it
// writes down its joins and syncs, in order.
type syncAdapter struct {
	adapter.Adapter
	mu  sync.Mutex
	log []string
}

func (a *syncAdapter) AddAll(id string, rooms []string) {
	a.Adapter.AddAll(id, rooms)
	a.mu.Lock()
	a.log = append(a.log, "add "+strings.Join(rooms, ","))
	a.mu.Unlock()
}

func (a *syncAdapter) SyncRooms() {
	a.mu.Lock()
	a.log = append(a.log, "sync")
	a.mu.Unlock()
}

func (a *syncAdapter) take() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := a.log
	a.log = nil
	return out
}

// With an adapter that hears joins late (adapter.RoomSyncer), a join
// returns only once the adapter has synced it: the socket's own room at
// connect, then each Join. A Join after the disconnect joins nothing and
// syncs nothing.
func TestJoinSyncsRooms(t *testing.T) {
	var a *syncAdapter
	srv, url := newTestServer(t, &Options{Adapter: func(h adapter.Host) adapter.Adapter {
		if h.Name() != "/" {
			return adapter.NewInMemory(h)
		}
		a = &syncAdapter{Adapter: adapter.NewInMemory(h)}
		return a
	}})
	sockets := make(chan *Socket, 1)
	srv.OnConnection(func(s *Socket) { sockets <- s })
	c := dialRaw(t, url)
	sid := c.connect("/")
	s := recvWithin(t, sockets)
	if got := a.take(); !slices.Equal(got, []string{"add " + sid, "sync"}) {
		t.Fatalf("at connect: %q", got)
	}
	s.Join("a", "b")
	if got := a.take(); !slices.Equal(got, []string{"add a,b", "sync"}) {
		t.Fatalf("Join: %q", got)
	}
	s.Disconnect(false)
	if got := c.recv(); got != "1" {
		t.Fatalf("got %q", got)
	}
	a.take()
	s.Join("c")
	if got := a.take(); len(got) != 0 {
		t.Fatalf("Join after the disconnect: %q", got)
	}
	if s.Rooms() != nil && len(s.Rooms()) != 0 {
		t.Fatalf("rooms after the disconnect: %q", s.Rooms())
	}
}
