package socketiotest_test

import (
	"context"
	"testing"

	"github.com/switchboard-go/socketio"
	"github.com/switchboard-go/socketio/socketiotest"
)

// The README's socketiotest snippet, run as it is shown.

// README: socketiotest
func TestChat(t *testing.T) {
	socketiotest.EachTransport(t, func(t *testing.T, tr socketiotest.Transport) {
		io := socketio.NewServer(nil)
		io.OnConnection(func(s *socketio.Socket) {
			s.On("ping", func(e *socketio.Event) { _ = e.Ack("pong") })
		})
		srv := socketiotest.Start(t, io, "")
		c, _ := socketiotest.Connect(t, srv.URL+"/", tr.Options(), nil)
		ctx, cancel := context.WithTimeout(context.Background(), socketiotest.Timeout)
		defer cancel()
		answer, err := c.EmitWithAck(ctx, "ping")
		if err != nil || answer.Value(0) != "pong" {
			t.Fatalf("ping answered %v, %v; want pong", answer.Value(0), err)
		}
	})
}

// README end
