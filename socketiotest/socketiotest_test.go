package socketiotest_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	socketio "github.com/switchboard-go/socketio"
	"github.com/switchboard-go/socketio/internal/leakcheck"
	"github.com/switchboard-go/socketio/sioclient"
	"github.com/switchboard-go/socketio/socketiotest"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

// newEchoServer acks every "echo" with its arguments and reports, on
// transports, the transport of the server side of each echo.
func newEchoServer(transports chan<- string) *socketio.Server {
	io := socketio.NewServer(&socketio.Options{Logger: socketiotest.Logger()})
	io.OnConnection(func(s *socketio.Socket) {
		s.On("echo", func(e *socketio.Event) {
			transports <- s.Conn().Transport()
			_ = e.Ack(e.Values()...)
		})
	})
	return io
}

// Each column of the matrix connects the way it says and settles on its
// final transport, as both ends see it.
func TestEachTransportConnectsAndSettles(t *testing.T) {
	var mu sync.Mutex
	var ran []string
	t.Run("matrix", func(t *testing.T) {
		socketiotest.EachTransport(t, func(t *testing.T, tr socketiotest.Transport) {
			mu.Lock()
			ran = append(ran, tr.Name)
			mu.Unlock()
			transports := make(chan string, 1)
			srv := socketiotest.Start(t, newEchoServer(transports), "")
			c, _ := socketiotest.Connect(t, srv.URL+"/", tr.Options(), nil)
			socketiotest.WaitTransport(t, c.Manager(), tr.Final)
			ctx, cancel := context.WithTimeout(context.Background(), socketiotest.Timeout)
			defer cancel()
			args, err := c.EmitWithAck(ctx, "echo", "hello", 7)
			if err != nil {
				t.Fatal(err)
			}
			var s string
			var n int
			if err := args.Decode(0, &s); err != nil || s != "hello" {
				t.Fatalf("ack argument 0 = %q, %v", s, err)
			}
			if err := args.Decode(1, &n); err != nil || n != 7 {
				t.Fatalf("ack argument 1 = %d, %v", n, err)
			}
			if got := socketiotest.Receive(t, transports, "the server's transport"); got != tr.Final {
				t.Fatalf("the server answered over %s, want %s", got, tr.Final)
			}
		})
	})
	slices.Sort(ran)
	if want := []string{"polling", "upgrade", "websocket"}; !slices.Equal(ran, want) {
		t.Fatalf("ran %v, want %v", ran, want)
	}
}

// A stopped server's clients lose their connection; started again on the
// same address, it gets them back.
func TestRestartOnSameAddress(t *testing.T) {
	socketiotest.EachTransport(t, func(t *testing.T, tr socketiotest.Transport) {
		srv := socketiotest.Start(t, socketio.NewServer(&socketio.Options{Logger: socketiotest.Logger()}), "")
		c, l := socketiotest.Connect(t, srv.URL+"/", tr.Options(), nil)
		socketiotest.WaitTransport(t, c.Manager(), tr.Final)
		first := c.ID()
		srv.Close()
		srv.Close() // idempotent
		// A WebSocket sees its connection closed; a poll its request fail.
		if reason := socketiotest.Receive(t, l.Disconnected, "the disconnect"); reason != sioclient.ReasonTransportClose && reason != sioclient.ReasonTransportError {
			t.Fatalf("disconnect reason %q, want transport close or error", reason)
		}
		again := socketiotest.Start(t, socketio.NewServer(&socketio.Options{Logger: socketiotest.Logger()}), srv.Addr)
		if again.URL != srv.URL {
			t.Fatalf("restarted at %s, want %s", again.URL, srv.URL)
		}
		if id := socketiotest.Receive(t, l.Connected, "the reconnection"); id == "" || id == first {
			t.Fatalf("reconnected as %q, want a new id (the first was %q)", id, first)
		}
	})
}

// A refusal by the server's middleware reaches ConnectErrors with its
// message, and the socket does not reconnect.
func TestWatchSeesRefusal(t *testing.T) {
	io := socketio.NewServer(&socketio.Options{Logger: socketiotest.Logger()})
	io.Use(func(*socketio.Socket) error { return errors.New("not today") })
	srv := socketiotest.Start(t, io, "")
	s, err := sioclient.New(srv.URL+"/", socketiotest.WebSocket.Options())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Manager().Close()
	l := socketiotest.Watch(s)
	s.Connect()
	ce := socketiotest.Receive(t, l.ConnectErrors, "the refusal")
	if !ce.FromServer() || ce.Message != "not today" {
		t.Fatalf("connect error %+v, want the middleware's message from the server", ce)
	}
	socketiotest.Nothing(t, l.Connected, 200*time.Millisecond, "connection after a refusal")
	if l.Dropped() != 0 {
		t.Fatalf("dropped %d values", l.Dropped())
	}
}

// Receive returns what is there; Nothing passes on silence.
func TestReceiveAndNothing(t *testing.T) {
	ch := make(chan int, 1)
	socketiotest.Nothing(t, ch, 10*time.Millisecond, "a value")
	ch <- 42
	if v := socketiotest.Receive(t, ch, "a value"); v != 42 {
		t.Fatalf("received %d, want 42", v)
	}
}
