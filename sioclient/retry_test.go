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
	arrived  chan string // each arrival, when there is room
}

func (f *flakyServer) setup(failAttempts int) func(*socketio.Server) {
	f.seen = map[string]int{}
	f.arrived = make(chan string, 16)
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
				select {
				case f.arrived <- v:
				default:
				}
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

// expect checks the arrivals so far against want, e.g. "[a a b b]".
func (f *flakyServer) expect(t *testing.T, want string) {
	t.Helper()
	if got := fmt.Sprint(f.got()); got != want {
		t.Fatalf("server saw %s, want %s", got, want)
	}
}

// answerRecorder returns an AckFunc that reports "<first argument><error>"
// on the channel.
func answerRecorder() (sioclient.AckFunc, chan string) {
	answers := make(chan string, 4)
	return func(args sioclient.Args, err error) {
		var r string
		_ = args.Decode(0, &r)
		answers <- fmt.Sprint(r, err)
	}, answers
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
		ack, answers := answerRecorder()
		for _, v := range []string{"a", "b"} {
			if err := s.Emit("job", v, ack); err != nil {
				t.Fatal(err)
			}
		}
		for _, want := range []string{"done a<nil>", "done b<nil>"} {
			if got := socketiotest.Receive(t, answers, want); got != want {
				t.Fatalf("got %q, want %q", got, want)
			}
		}
		f.expect(t, "[a a b b]")
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
	f.expect(t, "[x x x]") // three attempts
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
	ack, answers := answerRecorder()
	if err := s.Emit("job", "early", ack); err != nil {
		t.Fatal(err)
	}
	s.Connect()
	socketiotest.Receive(t, l.Connected, "the connection")
	if got := socketiotest.Receive(t, f.arrived, "the first attempt"); got != "early" {
		t.Fatalf("the server got %q first", got)
	}
	s.Manager().Engine().CloseWithReason(sioclient.ReasonTransportClose)
	socketiotest.Receive(t, l.Connected, "the reconnection")
	if got := socketiotest.Receive(t, answers, "the answer"); got != "done early<nil>" {
		t.Fatalf("got %q", got)
	}
	f.expect(t, "[early early]") // once on each connection
}

// The emits waiting in the retry queue count against MaxBufferBytes, by
// the size of their encoded arguments: emits that fill it exactly are
// taken, and one more byte is refused with ErrBufferFull.
func TestRetriesBufferLimit(t *testing.T) {
	opts := socketiotest.WebSocket.Options()
	opts.Retries = 1
	// ["e","aaaaaaaaaa"] and ["e","aaaa","bbb"] are 18 bytes; ["e",""]
	// is 8.
	opts.MaxBufferBytes = 2 * 18
	s, err := sioclient.New("http://127.0.0.1:1", opts) // never connected: the emits wait
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Manager().Close() })
	if err := s.Emit("e", "aaaaaaaaaa"); err != nil {
		t.Fatalf("an emit within the limit: %v", err)
	}
	if err := s.Emit("e", "aaaa", "bbb"); err != nil {
		t.Fatalf("an emit that fills the limit: %v", err)
	}
	if err := s.Emit("e", ""); !errors.Is(err, sioclient.ErrBufferFull) {
		t.Errorf("an emit past the limit: %v, want ErrBufferFull", err)
	}
}

// An emit queued behind one whose attempt is on the wire waits for it:
// the first is not sent again meanwhile, so a server that answers each
// attempt sees each emit once.
func TestRetriesSendEachOnceWhenAnswered(t *testing.T) {
	release := make(chan struct{})
	arrived := make(chan string, 8)
	srv := startServer(t, "", func(srv *socketio.Server) {
		srv.OnConnection(func(s *socketio.Socket) {
			s.On("job", func(e *socketio.Event) {
				var v string
				_ = e.Decode(0, &v)
				arrived <- v
				if v == "a" {
					<-release // answered once the second emit is queued
				}
				_ = e.Ack("done " + v)
			})
		})
	})
	releaseOnce := sync.OnceFunc(func() { close(release) })
	t.Cleanup(releaseOnce) // before the server closes, should the test stop early
	opts := socketiotest.WebSocket.Options()
	opts.Retries, opts.AckTimeout = 2, 10*time.Second
	s, _ := socketiotest.Connect(t, srv.URL, opts, nil)
	ack, answers := answerRecorder()
	if err := s.Emit("job", "a", ack); err != nil {
		t.Fatal(err)
	}
	if got := socketiotest.Receive(t, arrived, "the first emit"); got != "a" {
		t.Fatalf("the server got %q", got)
	}
	if err := s.Emit("job", "b", ack); err != nil {
		t.Fatal(err)
	}
	releaseOnce()
	for _, want := range []string{"done a<nil>", "done b<nil>"} {
		if got := socketiotest.Receive(t, answers, want); got != want {
			t.Fatalf("got %q, want %q", got, want)
		}
	}
	if got := socketiotest.Receive(t, arrived, "the second emit"); got != "b" {
		t.Fatalf("the server got %q, want b: the first emit was sent twice", got)
	}
}
