package sioclient_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	socketio "github.com/switchboard-go/socketio"
	"github.com/switchboard-go/socketio/sioclient"
	"github.com/switchboard-go/socketio/socketiotest"
)

// OnAnyOutgoing sees what is sent, when it is sent: a buffered emit on
// connection (before OnConnect), a connected emit without its AckFunc, a
// volatile emit only if it was not dropped; OffAnyOutgoing silences it.
func TestOnAnyOutgoing(t *testing.T) {
	socketiotest.EachTransport(t, func(t *testing.T, m socketiotest.Transport) {
		srv := startServer(t, "", func(srv *socketio.Server) { echoServer(srv.Of("/")) })
		s, err := sioclient.New(srv.URL, m.Options())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Manager().Close() })
		seen := make(chan string, 16)
		s.OnAnyOutgoing(func(event string, args []any) {
			b, _ := json.Marshal(args)
			seen <- fmt.Sprintf("%s %s", event, b)
		})
		s.OnConnect(func() { seen <- "connect" })

		if err := s.Emit("early", 1); err != nil {
			t.Fatal(err)
		}
		if err := s.Volatile().Emit("dropped"); err != nil {
			t.Fatal(err)
		}
		s.Connect()
		for _, want := range []string{"early [1]", "connect"} {
			if got := socketiotest.Receive(t, seen, want); got != want {
				t.Fatalf("got %q, want %q", got, want)
			}
		}

		acked := make(chan string, 1)
		err = s.Emit("echo", "x", sioclient.AckFunc(func(args sioclient.Args, err error) {
			var v string
			_ = args.Decode(0, &v)
			acked <- fmt.Sprint(v, err)
		}))
		if err != nil {
			t.Fatal(err)
		}
		if got := socketiotest.Receive(t, seen, "the echo"); got != `echo ["x"]` {
			t.Fatalf("got %q, want the echo without its AckFunc", got)
		}
		if got := socketiotest.Receive(t, acked, "the ack"); got != "x<nil>" {
			t.Fatalf("ack %q", got)
		}
		if err := s.Volatile().Emit("v", true); err != nil {
			t.Fatal(err)
		}
		if got := socketiotest.Receive(t, seen, "the volatile emit"); got != "v [true]" {
			t.Fatalf("got %q", got)
		}

		s.OffAnyOutgoing()
		if err := s.Emit("after"); err != nil {
			t.Fatal(err)
		}
		socketiotest.Nothing(t, seen, 200*time.Millisecond, "outgoing event after OffAnyOutgoing")
	})
}

// Send is Emit("message"), as the server sees it.
func TestSend(t *testing.T) {
	got := make(chan string, 1)
	srv := startServer(t, "", func(srv *socketio.Server) {
		srv.OnConnection(func(s *socketio.Socket) {
			s.On("message", func(e *socketio.Event) {
				var v string
				_ = e.Decode(0, &v)
				got <- v
			})
		})
	})
	s, _ := socketiotest.Connect(t, srv.URL, socketiotest.WebSocket.Options(), nil)
	if err := s.Send("hello"); err != nil {
		t.Fatal(err)
	}
	if v := socketiotest.Receive(t, got, "the message"); v != "hello" {
		t.Fatalf("got %q", v)
	}
}
