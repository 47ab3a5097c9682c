package socketio_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"time"

	"github.com/switchboard-go/socketio"
	"github.com/switchboard-go/socketio/sioclient"
)

// serveExample serves srv on a loopback port for an example's clients.
func serveExample(srv *socketio.Server) (url string, stop func()) {
	ts := httptest.NewServer(srv)
	return ts.URL, func() { _ = srv.Close(); ts.Close() }
}

// dialExample connects a client and waits until it is connected, with
// setup's handlers registered first.
func dialExample(url string, setup func(*sioclient.Socket)) *sioclient.Socket {
	c, err := sioclient.New(url, nil)
	if err != nil {
		panic(err)
	}
	connected := make(chan struct{})
	c.OnConnect(func() { close(connected) })
	if setup != nil {
		setup(c)
	}
	c.Connect()
	<-connected
	return c
}

// Relay what a client sent to the others as it is: e.RawArgs() passes the
// arguments on without decoding them, so they arrive byte for byte (keys
// in the sender's order), binary attachments included.
func ExampleEvent_RawArgs() {
	srv := socketio.NewServer(nil)
	srv.OnConnection(func(s *socketio.Socket) {
		s.On("relay", func(e *socketio.Event) {
			_ = s.Broadcast().Emit("relayed", e.RawArgs()...)
		})
	})
	url, stop := serveExample(srv)
	defer stop()

	got := make(chan string, 1)
	bob := dialExample(url, func(c *sioclient.Socket) {
		c.On("relayed", func(e *sioclient.Event) {
			got <- fmt.Sprintf("%s %s %q", e.Raw[0], e.Raw[1], e.Attachments[0])
		})
	})
	defer bob.Disconnect()
	alice := dialExample(url, nil)
	defer alice.Disconnect()

	_ = alice.Emit("relay", json.RawMessage(`{"text":"hi","from":"alice"}`), []byte("photo"))
	fmt.Println(<-got)
	// Output: {"text":"hi","from":"alice"} {"_placeholder":true,"num":0} "photo"
}

// One received argument, passed on by itself: a RawArg parameter of a
// typed handler, or e.Arg(i), is sent as the client wrote it.
func ExampleRawArg() {
	srv := socketio.NewServer(nil)
	srv.OnConnection(func(s *socketio.Socket) {
		s.On("join", socketio.TypedAck1(func(e *socketio.Event, room string) (string, error) {
			s.Join(room)
			return "joined " + room, nil
		}))
		s.On("say", socketio.Typed2(func(e *socketio.Event, room string, msg socketio.RawArg) {
			_ = s.To(room).Emit("said", msg)
		}))
	})
	url, stop := serveExample(srv)
	defer stop()

	got := make(chan string, 1)
	bob := dialExample(url, func(c *sioclient.Socket) {
		c.On("said", func(e *sioclient.Event) { got <- string(e.Raw[0]) })
	})
	defer bob.Disconnect()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ans, err := bob.EmitWithAck(ctx, "join", "lobby")
	fmt.Println(ans.Value(0), err)

	alice := dialExample(url, nil)
	defer alice.Disconnect()
	_ = alice.Emit("say", "lobby", json.RawMessage(`{"z":1,"a":[ 2 ]}`))
	fmt.Println(<-got)
	// Output:
	// joined lobby <nil>
	// {"z":1,"a":[ 2 ]}
}
