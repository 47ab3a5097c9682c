package socketio_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/switchboard-go/socketio"
)

// Typed handlers declare their arguments' types once. An argument that
// does not decode never reaches the handler: the client's acknowledgement
// carries {"error": ...} and OnError gets an *ArgError.
func ExampleTyped2() {
	type move struct {
		X int `json:"x"`
		Y int `json:"y"`
	}
	failed := make(chan error, 1)
	srv := socketio.NewServer(nil)
	srv.OnConnection(func(s *socketio.Socket) {
		s.OnError(func(err error) { failed <- err })
		s.On("move", socketio.Typed2(func(e *socketio.Event, piece string, to move) {
			_ = e.Ack(fmt.Sprintf("%s to %d,%d", piece, to.X, to.Y))
		}))
	})
	url, stop := serveExample(srv)
	defer stop()
	c := dialExample(url, nil)
	defer c.Disconnect()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ans, _ := c.EmitWithAck(ctx, "move", "knight", map[string]int{"x": 2, "y": 1})
	fmt.Println(ans.Value(0))

	ans, _ = c.EmitWithAck(ctx, "move", "knight", map[string]string{"x": "b"})
	fmt.Println(string(ans.Raw[0]))
	err := <-failed
	var argErr *socketio.ArgError
	fmt.Println(errors.As(err, &argErr), argErr.Index)
	// Output:
	// knight to 2,1
	// {"error":"invalid argument 1 of \"move\": x: expected integer, got string"}
	// true 1
}

// A handler that returns its answer: the result is the acknowledgement,
// an error is sent as {"error": err.Error()}.
func ExampleTypedAck2() {
	srv := socketio.NewServer(nil)
	srv.OnConnection(func(s *socketio.Socket) {
		s.On("divide", socketio.TypedAck2(func(e *socketio.Event, a, b float64) (float64, error) {
			if b == 0 {
				return 0, errors.New("division by zero")
			}
			return a / b, nil
		}))
	})
	url, stop := serveExample(srv)
	defer stop()
	c := dialExample(url, nil)
	defer c.Disconnect()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, b := range []any{4, 0, "two"} {
		ans, err := c.EmitWithAck(ctx, "divide", 1, b)
		fmt.Println(string(ans.Raw[0]), err)
	}
	// Output:
	// 0.25 <nil>
	// {"error":"division by zero"} <nil>
	// {"error":"invalid argument 1 of \"divide\": expected number, got string"} <nil>
}
