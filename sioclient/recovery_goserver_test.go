package sioclient_test

import (
	"testing"
	"time"

	socketio "github.com/switchboard-go/socketio"
	"github.com/switchboard-go/socketio/engineio"
	"github.com/switchboard-go/socketio/sioclient"
	"github.com/switchboard-go/socketio/socketiotest"
)

// Our client and our server recover a socket together: the connection is
// cut, the server sends to the socket's room while it is away, and the
// client comes back as the same socket, with what it missed, before
// OnConnect.
func TestRecoveryWithGoServer(t *testing.T) {
	socketiotest.EachTransport(t, func(t *testing.T, m socketiotest.Transport) {
		gone := make(chan string, 4)
		joined := make(chan bool, 4)
		var io *socketio.Server
		srv := socketiotest.Start(t, func() *socketio.Server {
			io = socketio.NewServer(&socketio.Options{
				Engine:                  engineio.Options{PingInterval: 200 * time.Millisecond, PingTimeout: 500 * time.Millisecond},
				ConnectionStateRecovery: &socketio.Recovery{},
				Logger:                  socketiotest.Logger(),
			})
			io.OnConnection(func(s *socketio.Socket) {
				if !s.Recovered() {
					s.Join("room")
				}
				joined <- s.Recovered()
				s.OnDisconnect(func(r socketio.Reason) {
					gone <- string(r)
					_ = io.To("room").Emit("news", "while away")
				})
			})
			return io
		}(), "")
		opts := m.Options()
		// Longer than the server takes to notice the loss: at once for a
		// WebSocket or a dropped poll, by its heartbeat (0.7 s here) when
		// the client closed between two polls.
		opts.ReconnectionDelay, opts.ReconnectionDelayMax = time.Second, time.Second
		seen := make(chan string, 16)
		s, l := socketiotest.Connect(t, srv.URL, opts, func(s *sioclient.Socket) {
			s.On("news", func(e *sioclient.Event) {
				var v string
				_ = e.Decode(0, &v)
				seen <- v
			})
			s.OnConnect(func() { seen <- "connect" })
		})
		socketiotest.Receive(t, seen, "connect")
		socketiotest.Receive(t, joined, "the server's connection handler") // CONNECT precedes it
		socketiotest.WaitTransport(t, s.Manager(), m.Final)
		first := s.ID()
		_ = io.To("room").Emit("news", "before")
		if got := socketiotest.Receive(t, seen, "news"); got != "before" {
			t.Fatalf("got %q", got)
		}

		s.Manager().Engine().CloseWithReason(sioclient.ReasonTransportClose)
		socketiotest.Receive(t, l.Disconnected, "the client's disconnect")
		if r := socketiotest.Receive(t, gone, "the server's disconnect"); r != "transport close" && r != "transport error" && r != "ping timeout" {
			t.Fatalf("server-side reason %q", r)
		}
		for _, want := range []string{"while away", "connect"} {
			if got := socketiotest.Receive(t, seen, want); got != want {
				t.Fatalf("got %q, want %q", got, want)
			}
		}
		if !s.Recovered() || s.ID() != first {
			t.Fatalf("recovered %v as %s, want %s", s.Recovered(), s.ID(), first)
		}
		_ = io.To("room").Emit("news", "live")
		if got := socketiotest.Receive(t, seen, "live"); got != "live" {
			t.Fatalf("got %q", got)
		}
	})
}
