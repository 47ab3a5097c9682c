package sioclient_test

import (
	"context"
	"errors"
	"net"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	socketio "github.com/switchboard-go/socketio"
	"github.com/switchboard-go/socketio/sioclient"
	"github.com/switchboard-go/socketio/socketiotest"
)

// notes is a server side recorder of "note" events, by namespace.
type notes struct {
	mu  sync.Mutex
	got map[string][]any
	ch  chan struct{}
}

func newNotes() *notes { return &notes{got: map[string][]any{}, ch: make(chan struct{}, 1)} }

func (n *notes) register(ns *socketio.Namespace) {
	ns.OnConnection(func(s *socketio.Socket) {
		s.On("note", func(e *socketio.Event) {
			n.mu.Lock()
			n.got[ns.Name()] = append(n.got[ns.Name()], e.Value(0))
			n.mu.Unlock()
			select {
			case n.ch <- struct{}{}:
			default:
			}
			if e.WantsAck() {
				_ = e.Ack("noted", e.Value(0))
			}
		})
	})
}

func (n *notes) wait(t *testing.T, nsp string, count int) []any {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		n.mu.Lock()
		got := append([]any(nil), n.got[nsp]...)
		n.mu.Unlock()
		if len(got) >= count {
			return got
		}
		select {
		case <-n.ch:
		case <-time.After(10 * time.Millisecond):
		case <-deadline:
			t.Fatalf("%s: %d notes, want %d: %v", nsp, len(got), count, got)
		}
	}
}

// The server goes away and comes back on the same address: the client
// reconnects by itself, every namespace joins again, and what was emitted
// meanwhile is delivered in order, acks included; volatile emits are not.
func TestRestartReconnectsAndFlushesBuffer(t *testing.T) {
	socketiotest.EachTransport(t, func(t *testing.T, m socketiotest.Transport) {
		first := newNotes()
		srv := startServer(t, "", func(srv *socketio.Server) {
			echoServer(srv.Of("/"))
			echoServer(srv.Of("/chat"))
			first.register(srv.Of("/"))
			first.register(srv.Of("/chat"))
		})
		opts := m.Options()
		var attempts, reconnects atomic.Int32
		s, l := socketiotest.Connect(t, srv.URL, opts, nil)
		chat, lc := socketiotest.Connect(t, srv.URL+"/chat", opts, nil)
		mgr := s.Manager()
		if chat.Manager() != mgr {
			t.Fatal("not multiplexed")
		}
		mgr.OnReconnectAttempt(func(int) { attempts.Add(1) })
		mgr.OnReconnect(func(int) { reconnects.Add(1) })
		socketiotest.WaitTransport(t, s.Manager(), m.Final)
		_ = s.Emit("note", "before")
		first.wait(t, "/", 1)

		srv.Close()
		for _, ch := range []chan string{l.Disconnected, lc.Disconnected} {
			if r := socketiotest.Receive(t, ch, "disconnect"); r != sioclient.ReasonTransportClose && r != sioclient.ReasonTransportError {
				t.Errorf("disconnect reason %q", r)
			}
		}
		if s.Connected() || !s.Active() {
			t.Errorf("after the loss: connected %v, active %v", s.Connected(), s.Active())
		}
		// Emitted while down: buffered, except the volatile one.
		acks := make(chan []any, 1)
		for i := range 5 {
			if err := s.Emit("note", i); err != nil {
				t.Fatal(err)
			}
		}
		_ = s.Emit("note", "with ack", sioclient.AckFunc(func(a sioclient.Args, err error) {
			if err != nil {
				t.Errorf("buffered ack: %v", err)
			}
			acks <- a.Values()
		}))
		_ = s.Volatile().Emit("note", "volatile")
		_ = chat.Emit("note", "chat")

		second := newNotes()
		startServer(t, srv.Addr, func(srv *socketio.Server) {
			echoServer(srv.Of("/"))
			echoServer(srv.Of("/chat"))
			second.register(srv.Of("/"))
			second.register(srv.Of("/chat"))
		})
		socketiotest.Receive(t, l.Connected, "reconnect /")
		socketiotest.Receive(t, lc.Connected, "reconnect /chat")
		want := []any{0.0, 1.0, 2.0, 3.0, 4.0, "with ack"}
		if got := second.wait(t, "/", len(want)); !reflect.DeepEqual(got, want) {
			t.Errorf("buffered emits: got %v, want %v", got, want)
		}
		if got := socketiotest.Receive(t, acks, "buffered ack"); !reflect.DeepEqual(got, []any{"noted", "with ack"}) {
			t.Errorf("buffered ack: %v", got)
		}
		if got := second.wait(t, "/chat", 1); !reflect.DeepEqual(got, []any{"chat"}) {
			t.Errorf("/chat: %v", got)
		}
		// A volatile emit that had been buffered would have been flushed
		// after "with ack" and before anything emitted now: the server
		// handles one socket's events in order, so a marker that arrives
		// right after the buffered ones proves the volatile one was dropped.
		if err := s.Emit("note", "marker"); err != nil {
			t.Fatal(err)
		}
		if got := second.wait(t, "/", len(want)+1); !reflect.DeepEqual(got, append(want, "marker")) {
			t.Errorf("after the buffered emits: got %v, want %v then the marker (volatile emit delivered?)", got, want)
		}
		if attempts.Load() < 1 || reconnects.Load() != 1 {
			t.Errorf("%d attempts, %d reconnects", attempts.Load(), reconnects.Load())
		}
		socketiotest.WaitTransport(t, s.Manager(), m.Final)
	})
}

// A server that falls silent is detected by the heartbeat (its
// pingInterval + pingTimeout) and the client reconnects once it is back.
func TestSilentServerPingTimeout(t *testing.T) {
	socketiotest.EachTransport(t, func(t *testing.T, m socketiotest.Transport) {
		srv := startServer(t, "", func(srv *socketio.Server) { echoServer(srv.Of("/")) })
		p := startProxy(t, srv.Addr)
		opts := m.Options()
		opts.Timeout = 500 * time.Millisecond // attempts into the frozen proxy give up fast
		s, l := socketiotest.Connect(t, p.URL(), opts, nil)
		socketiotest.WaitTransport(t, s.Manager(), m.Final)
		start := time.Now()
		p.freeze()
		if r := socketiotest.Receive(t, l.Disconnected, "disconnect"); r != sioclient.ReasonPingTimeout {
			t.Errorf("reason %q", r)
		}
		// pingInterval 200ms + pingTimeout 1s, minus the time since the
		// last ping.
		if d := time.Since(start); d < time.Second/2 || d > 3*time.Second {
			t.Errorf("detected after %v", d)
		}
		errs := make(chan error, 8)
		s.Manager().OnReconnectError(func(err error) { errs <- err })
		socketiotest.Receive(t, errs, "a failed attempt while frozen")
		p.unfreeze()
		socketiotest.Receive(t, l.Connected, "reconnect")
	})
}

func TestReconnectionGivesUp(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	_ = ln.Close() // nothing listens there
	opts := socketiotest.Polling.Options()
	opts.ReconnectionAttempts = 2
	s, _ := sioclient.New(url, opts)
	defer s.Manager().Close()
	l := socketiotest.Watch(s)
	failed := make(chan struct{}, 1)
	var attempts []int
	var mu sync.Mutex
	s.Manager().OnReconnectAttempt(func(n int) {
		mu.Lock()
		attempts = append(attempts, n)
		mu.Unlock()
	})
	s.Manager().OnReconnectFailed(func() { failed <- struct{}{} })
	s.Connect()
	for i := range 3 { // the first attempt and two reconnections
		ce := socketiotest.Receive(t, l.ConnectErrors, "connect_error")
		if ce.FromServer() || ce.Err == nil {
			t.Errorf("connect error %d: %+v", i, ce)
		}
	}
	socketiotest.Receive(t, failed, "reconnect_failed")
	socketiotest.Nothing(t, l.ConnectErrors, 200*time.Millisecond, "attempt after giving up")
	mu.Lock()
	if !reflect.DeepEqual(attempts, []int{1, 2}) {
		t.Errorf("attempts %v", attempts)
	}
	mu.Unlock()
	if !s.Active() {
		t.Error("the socket should stay active: Connect starts again")
	}
}

func TestBufferLimit(t *testing.T) {
	opts := socketiotest.Polling.Options()
	opts.MaxBufferBytes = 100
	s, err := sioclient.New("http://127.0.0.1:1", opts) // never connected
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Emit("e", strings.Repeat("a", 60)); err != nil {
		t.Fatal(err)
	}
	if err := s.Emit("e", strings.Repeat("a", 60)); !errors.Is(err, sioclient.ErrBufferFull) {
		t.Errorf("over the limit: %v", err)
	}
	if err := s.Volatile().Emit("e"); err != nil {
		t.Errorf("volatile: %v", err)
	}
	if _, err := s.Volatile().EmitWithAck(context.Background(), "e"); !errors.Is(err, sioclient.ErrDisconnected) {
		t.Errorf("dropped volatile EmitWithAck: %v", err)
	}
	// An ack timeout takes the emit out of the buffer.
	errs := make(chan error, 1)
	_ = s.Timeout(10*time.Millisecond).Emit("e", sioclient.AckFunc(func(_ sioclient.Args, err error) { errs <- err }))
	if err := socketiotest.Receive(t, errs, "timeout"); !errors.Is(err, sioclient.ErrTimeout) {
		t.Errorf("buffered ack timeout: %v", err)
	}
	if s.Active() || s.Manager().Engine() != nil {
		t.Error("emitting connected the socket")
	}
}

// Close leaves nothing behind. Not parallel, so that the goroutine count
// is this test's alone.
func TestCloseLeavesNoGoroutines(t *testing.T) {
	srv := startServer(t, "", func(srv *socketio.Server) { echoServer(srv.Of("/")) })
	before := runtime.NumGoroutine()
	for _, m := range socketiotest.Transports() {
		opts := m.Options()
		opts.ForceNew = true
		s, _ := socketiotest.Connect(t, srv.URL, opts, nil)
		chat := s.Manager().Socket("/", nil)
		socketiotest.WaitTransport(t, chat.Manager(), m.Final)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, err := s.EmitWithAck(ctx, "echo", []byte("x"))
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		_ = s.Manager().Close()
		if s.Connected() || s.Active() {
			t.Error("connected after Close")
		}
	}
	if leaked := waitNoClientGoroutines(5 * time.Second); len(leaked) > 0 {
		t.Fatalf("%d client goroutines after Close:\n%v", len(leaked), leaked)
	}
	// The server side may still be winding down its connections.
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("%d goroutines after Close, %d before", n, before)
	}
}
