package sioclient_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	socketio "github.com/switchboard-go/socketio"
	"github.com/switchboard-go/socketio/sioclient"
	"github.com/switchboard-go/socketio/socketiotest"
)

// flakyServer acks "job" only from the failAttempts+1-th arrival of each
// payload on, and records every arrival in order.
type flakyServer struct {
	mu       sync.Mutex
	arrivals []string
	seen     map[string]int
}

func (f *flakyServer) setup(failAttempts int) func(*socketio.Server) {
	f.seen = map[string]int{}
	return func(srv *socketio.Server) {
		srv.OnConnection(func(s *socketio.Socket) {
			s.On("job", func(e *socketio.Event) {
				var v string
				_ = e.Decode(0, &v)
				f.mu.Lock()
				f.arrivals = append(f.arrivals, v)
				f.seen[v]++
				n := f.seen[v]
				f.mu.Unlock()
				if n > failAttempts {
					_ = e.Ack("done " + v)
				}
			})
		})
	}
}

func (f *flakyServer) got() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.arrivals...)
}

// With Retries, an emit whose acknowledgement times out is sent again, and
// the next emit waits for it: the server sees a, a, b, b, and both
// AckFuncs get their answer.
func TestRetriesResendInOrder(t *testing.T) {
	socketiotest.EachTransport(t, func(t *testing.T, m socketiotest.Transport) {
		var f flakyServer
		srv := startServer(t, "", f.setup(1))
		opts := m.Options()
		opts.Retries, opts.AckTimeout = 2, 300*time.Millisecond
		s, _ := socketiotest.Connect(t, srv.URL, opts, nil)
		answers := make(chan string, 4)
		for _, v := range []string{"a", "b"} {
			err := s.Emit("job", v, sioclient.AckFunc(func(args sioclient.Args, err error) {
				var r string
				_ = args.Decode(0, &r)
				answers <- fmt.Sprint(r, err)
			}))
			if err != nil {
				t.Fatal(err)
			}
		}
		for _, want := range []string{"done a<nil>", "done b<nil>"} {
			if got := socketiotest.Receive(t, answers, want); got != want {
				t.Fatalf("got %q, want %q", got, want)
			}
		}
		if got := fmt.Sprint(f.got()); got != "[a a b b]" {
			t.Fatalf("server saw %s, want [a a b b]", got)
		}
	})
}

// An emit never acknowledged fails after Retries+1 attempts with the last
// error; EmitWithAck goes through the same queue.
func TestRetriesGiveUp(t *testing.T) {
	var f flakyServer
	srv := startServer(t, "", f.setup(1000))
	opts := socketiotest.WebSocket.Options()
	opts.Retries, opts.AckTimeout = 2, 100*time.Millisecond
	s, _ := socketiotest.Connect(t, srv.URL, opts, nil)
	_, err := s.EmitWithAck(context.Background(), "job", "x")
	if !errors.Is(err, sioclient.ErrTimeout) {
		t.Fatalf("err %v, want ErrTimeout", err)
	}
	if got := fmt.Sprint(f.got()); got != "[x x x]" {
		t.Fatalf("server saw %s, want three attempts", got)
	}
}

// An emit made before the socket connects goes out once it does; when the
// connection is then lost before the answer, the next connection sends it
// again (no AckTimeout here: only the loss causes the retry).
func TestRetriesAcrossConnections(t *testing.T) {
	var f flakyServer
	srv := startServer(t, "", f.setup(1))
	opts := socketiotest.WebSocket.Options()
	opts.Retries = 1
	s, err := sioclient.New(srv.URL, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Manager().Close() })
	l := socketiotest.Watch(s)
	answers := make(chan string, 4)
	err = s.Emit("job", "early", sioclient.AckFunc(func(args sioclient.Args, err error) {
		var r string
		_ = args.Decode(0, &r)
		answers <- fmt.Sprint(r, err)
	}))
	if err != nil {
		t.Fatal(err)
	}
	s.Connect()
	socketiotest.Receive(t, l.Connected, "the connection")
	deadline := time.Now().Add(socketiotest.Timeout)
	for len(f.got()) == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	s.Manager().Engine().CloseWithReason(sioclient.ReasonTransportClose)
	socketiotest.Receive(t, l.Connected, "the reconnection")
	if got := socketiotest.Receive(t, answers, "the answer"); got != "done early<nil>" {
		t.Fatalf("got %q", got)
	}
	if got := fmt.Sprint(f.got()); got != "[early early]" {
		t.Fatalf("server saw %s, want the emit on each connection", got)
	}
}
