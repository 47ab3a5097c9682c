package socketio_test

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/switchboard-go/socketio"
	"github.com/switchboard-go/socketio/sioclient"
)

// The README's typed handlers and forwarding, run as shown there.
func Example_typedAndForwarding() {
	srv := socketio.NewServer(nil)
	srv.OnConnection(func(s *socketio.Socket) {
		// README: typed handlers
		s.On("join", socketio.Typed1(func(e *socketio.Event, room string) {
			s.Join(room)
			_ = e.Ack("joined " + room)
		}))
		s.On("add", socketio.TypedAck2(func(e *socketio.Event, a, b int) (int, error) {
			return a + b, nil // the acknowledgement; an error is sent as {"error": "…"}
		}))
		// README end

		// README: forwarding
		s.On("say", socketio.Typed2(func(e *socketio.Event, room string, msg socketio.RawArg) {
			_ = s.To(room).Emit("said", msg)
		}))
		s.On("relay", func(e *socketio.Event) { _ = s.Broadcast().Emit("relay", e.RawArgs()...) })
		// README end
	})
	url, stop := serveExample(srv)
	defer stop()
	ctx, cancel := timeout()
	defer cancel()

	heard := make(chan string, 2)
	bob := dialExample(url, func(c *sioclient.Socket) {
		c.On("said", func(e *sioclient.Event) { heard <- "said " + string(e.Raw[0]) })
		c.On("relay", func(e *sioclient.Event) { heard <- fmt.Sprintf("relay %s %s", e.Raw[0], e.Raw[1]) })
	})
	defer bob.Disconnect()
	alice := dialExample(url, nil)
	defer alice.Disconnect()

	ack, _ := bob.EmitWithAck(ctx, "join", "lobby")
	fmt.Println(ack.Value(0))
	ack, _ = alice.EmitWithAck(ctx, "add", 1, "2")
	fmt.Println(string(ack.Raw[0]))
	ack, _ = alice.EmitWithAck(ctx, "add", 1, 2)
	fmt.Println(string(ack.Raw[0]))
	_ = alice.Emit("say", "lobby", json.RawMessage(`{"z":1,"a":2}`)) // keys stay in this order
	fmt.Println(<-heard)
	_ = alice.Emit("relay", "x", []int{1})
	fmt.Println(<-heard)
	// Output:
	// joined lobby
	// {"error":"invalid argument 1 of \"add\": expected integer, got string"}
	// 3
	// said {"z":1,"a":2}
	// relay "x" [1]
}

// timeout bounds an example's waits.
func timeout() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 5*time.Second)
}
