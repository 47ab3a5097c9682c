package socketiotest

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-go/socketio/sioclient"
)

// lifecycleBuffer is how many values each Lifecycle channel holds. A
// socket connects, fails and disconnects a few times in a test, far fewer
// than this; beyond it values are dropped and counted, never blocking
// the client's callbacks.
const lifecycleBuffer = 256

// Lifecycle turns a client socket's connect, connect_error and disconnect
// callbacks into channel values, in the order they happened.
type Lifecycle struct {
	// Connected receives the socket's id on each connection.
	Connected chan string
	// ConnectErrors receives each refusal or failed attempt.
	ConnectErrors chan *sioclient.ConnectError
	// Disconnected receives each disconnect reason ("io server
	// disconnect", "transport close", ...).
	Disconnected chan string

	dropped atomic.Int64
}

// Watch adds lifecycle callbacks to s and returns their channels. Call it
// before s connects, or the first connection may be missed.
func Watch(s *sioclient.Socket) *Lifecycle {
	l := &Lifecycle{
		Connected:     make(chan string, lifecycleBuffer),
		ConnectErrors: make(chan *sioclient.ConnectError, lifecycleBuffer),
		Disconnected:  make(chan string, lifecycleBuffer),
	}
	s.OnConnect(func() { offer(l, l.Connected, s.ID()) })
	s.OnConnectError(func(err *sioclient.ConnectError) { offer(l, l.ConnectErrors, err) })
	s.OnDisconnect(func(reason string) { offer(l, l.Disconnected, reason) })
	return l
}

// Dropped is how many values found their channel full and were lost; a
// test that lets them pile up sees a count above zero.
func (l *Lifecycle) Dropped() int64 { return l.dropped.Load() }

// offer sends v without blocking: the callbacks run on the client's one
// callback goroutine, which a full channel must not stall.
func offer[T any](l *Lifecycle, ch chan T, v T) {
	select {
	case ch <- v:
	default:
		l.dropped.Add(1)
	}
}

// Connect makes a socket for url (the namespace is its path), lets setup
// register handlers before the socket connects, connects it and waits for
// the connection, failing tb on a connect_error or after Timeout. The
// socket's manager is closed when the test ends, which also fails the test
// if lifecycle values were dropped.
func Connect(tb testing.TB, url string, opts *sioclient.Options, setup func(*sioclient.Socket)) (*sioclient.Socket, *Lifecycle) {
	tb.Helper()
	s, err := sioclient.New(url, opts)
	if err != nil {
		tb.Fatalf("socketiotest: %v", err)
	}
	l := Watch(s)
	tb.Cleanup(func() {
		_ = s.Manager().Close()
		if n := l.Dropped(); n > 0 {
			tb.Errorf("socketiotest: %d lifecycle values of %s were dropped: their channels were full", n, url)
		}
	})
	if setup != nil {
		setup(s)
	}
	s.Connect()
	select {
	case <-l.Connected:
	case err := <-l.ConnectErrors:
		tb.Fatalf("socketiotest: connect %s: %v", url, err)
	case <-time.After(Timeout):
		tb.Fatalf("socketiotest: connect %s: no connection in %v", url, Timeout)
	}
	return s, l
}
