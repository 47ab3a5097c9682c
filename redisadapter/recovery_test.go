package redisadapter

import (
	"net/http/httptest"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/switchboard-go/socketio"
	"github.com/switchboard-go/socketio/sioclient"
)

// recoveringNode is a server with the Redis adapter and connection state
// recovery on; a socket joins the room in its query's "room" (and is
// told so: event "ev" "joined"), and gone hears each socket that leaves.
type recoveringNode struct {
	srv  *socketio.Server
	url  string
	gone chan string
}

func startRecoveringNode(t *testing.T, key string) *recoveringNode {
	t.Helper()
	srv := socketio.NewServer(&socketio.Options{
		Adapter:                 New(newRedis(t), &Options{Key: key, RequestTimeout: 3 * time.Second}),
		ConnectionStateRecovery: &socketio.Recovery{},
	})
	n := &recoveringNode{srv: srv, gone: make(chan string, 16)}
	srv.OnConnection(func(s *socketio.Socket) {
		if r := s.Handshake().Query.Get("room"); r != "" && !s.Recovered() {
			s.Join(r)
			// CONNECT went out before this handler ran: tell the client
			// it is in its room.
			_ = s.Emit("ev", "joined")
		}
		id := s.ID()
		s.OnDisconnect(func(socketio.Reason) { n.gone <- id })
	})
	ts := httptest.NewServer(srv)
	t.Cleanup(func() {
		_ = srv.Close()
		ts.Close()
	})
	n.url = ts.URL
	return n
}

// recClient is a socket that records its "ev" events in order.
type recClient struct {
	s         *sioclient.Socket
	got       chan string
	connected chan struct{}
	lost      chan string
}

func connectRecovering(t *testing.T, serverURL, room string) *recClient {
	t.Helper()
	s, err := sioclient.New(serverURL, &sioclient.Options{
		Query:      url.Values{"room": {room}},
		Transports: []string{"websocket"},
		ForceNew:   true,
		// The test reconnects by hand, once the server has noticed the
		// drop: a session is kept only then.
		DisableReconnection: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	c := &recClient{s: s, got: make(chan string, 64), connected: make(chan struct{}, 4), lost: make(chan string, 4)}
	s.On("ev", func(e *sioclient.Event) {
		var v string
		_ = e.Decode(0, &v)
		c.got <- v
	})
	s.OnConnect(func() { c.connected <- struct{}{} })
	s.OnDisconnect(func(reason string) { c.lost <- reason })
	t.Cleanup(func() { _ = s.Close() })
	s.Connect()
	c.waitConnected(t)
	if got := c.next(t, 1); got[0] != "joined" {
		t.Fatalf("first event %q, want joined", got)
	}
	return c
}

func (c *recClient) waitConnected(t *testing.T) {
	t.Helper()
	select {
	case <-c.connected:
	case <-time.After(5 * time.Second):
		t.Fatal("no connection")
	}
}

// next returns the next n events.
func (c *recClient) next(t *testing.T, n int) []string {
	t.Helper()
	var out []string
	deadline := time.After(5 * time.Second)
	for len(out) < n {
		select {
		case v := <-c.got:
			out = append(out, v)
		case <-deadline:
			t.Fatalf("got %q, want %d events", out, n)
		}
	}
	return out
}

// TestRecoveryAcrossNodes: connection state recovery on a cluster, per
// server. A client that drops and reconnects to the same server gets its
// socket back with what both servers sent its room meanwhile (the other
// server's through Redis), in the order its server delivered them, once;
// a client that connects to the other server with the session's pid and
// offset gets a new socket there.
func TestRecoveryAcrossNodes(t *testing.T) {
	key := uniqueKey(t)
	a, b := startRecoveringNode(t, key), startRecoveringNode(t, key)
	_ = b
	c := connectRecovering(t, a.url, "r")
	witness := connectRecovering(t, a.url, "r") // sees what reached a
	id := c.s.ID()

	if err := a.srv.To("r").Emit("ev", "one"); err != nil {
		t.Fatal(err)
	}
	if err := b.srv.To("r").Emit("ev", "two"); err != nil {
		t.Fatal(err)
	}
	if got := c.next(t, 2); !slices.Equal(got, []string{"one", "two"}) {
		t.Fatalf("before the drop: %q", got)
	}
	witness.next(t, 2)

	c.s.Manager().Engine().CloseWithReason(sioclient.ReasonTransportClose)
	<-c.lost
	for gone := ""; gone != id; {
		select {
		case gone = <-a.gone:
		case <-time.After(5 * time.Second):
			t.Fatal("server a did not notice the drop")
		}
	}
	if err := b.srv.To("r").Emit("ev", "three"); err != nil {
		t.Fatal(err)
	}
	if err := a.srv.To("r").Emit("ev", "four"); err != nil {
		t.Fatal(err)
	}
	// Server a has logged both once its other socket has them, in the
	// order it delivered them.
	delivered := witness.next(t, 2)
	if !slices.Contains(delivered, "three") || !slices.Contains(delivered, "four") {
		t.Fatalf("witness: %q", delivered)
	}

	c.s.Connect()
	c.waitConnected(t)
	if !c.s.Recovered() || c.s.ID() != id {
		t.Fatalf("reconnected to the same server: recovered %v, id %s (was %s)", c.s.Recovered(), c.s.ID(), id)
	}
	if got := c.next(t, 2); !slices.Equal(got, delivered) {
		t.Fatalf("missed events: %q, want %q (as server a delivered them)", got, delivered)
	}
	// And it is back in its room on the cluster, with nothing twice.
	if err := b.srv.To("r").Emit("ev", "five"); err != nil {
		t.Fatal(err)
	}
	if got := c.next(t, 1); got[0] != "five" {
		t.Fatalf("after the recovery: %q, want five", got)
	}
	select {
	case v := <-c.got:
		t.Fatalf("an extra event %q", v)
	default:
	}
}
