package sioclient_test

import (
	"context"
	"encoding/json"
	"testing"

	socketio "github.com/switchboard-go/socketio"
	"github.com/switchboard-go/socketio/sioclient"
	"github.com/switchboard-go/socketio/socketiotest"
)

// The client passes received arguments on unchanged too: in an emit, an
// acknowledgement and an EmitWithAck, binary attachments included, with
// and without Retries (whose queue keeps the arguments until sent).
func TestForwardRawArgs(t *testing.T) {
	for _, retries := range []int{0, 2} {
		got := make(chan string, 8)
		srv := startServer(t, "", func(srv *socketio.Server) {
			srv.OnConnection(func(s *socketio.Socket) {
				_ = s.Emit("data", json.RawMessage(`{"z":1,"a":[ 2 ]}`), []byte("bin"), socketio.AckFunc(func(a socketio.Args, err error) {
					got <- "ack " + string(a.Raw[0]) + " " + string(a.Raw[1]) + " " + string(a.Attachments[0])
				}))
				s.On("back", func(e *socketio.Event) {
					got <- "back " + string(e.Raw[0]) + " " + string(e.Raw[1]) + " " + string(e.Attachments[0])
					if e.WantsAck() { // with Retries, every emit waits for one
						_ = e.Ack()
					}
				})
				s.On("echo", func(e *socketio.Event) { _ = e.Ack(e.Arg(0)) })
			})
		})
		opts := socketiotest.WebSocket.Options()
		opts.Retries = retries
		socketiotest.Connect(t, srv.URL+"/", opts, func(c *sioclient.Socket) {
			c.On("data", func(e *sioclient.Event) {
				_ = e.Ack(e.RawArgs()...)
				_ = c.Emit("back", e.Arg(1), e.Arg(0))
				go func() {
					ctx, cancel := context.WithTimeout(context.Background(), socketiotest.Timeout)
					defer cancel()
					ans, err := c.EmitWithAck(ctx, "echo", e.Arg(0))
					if err != nil {
						got <- err.Error()
						return
					}
					got <- "echo " + string(ans.Raw[0])
				}()
			})
		})
		want := map[string]bool{
			`ack {"z":1,"a":[ 2 ]} {"_placeholder":true,"num":0} bin`:  true,
			`back {"_placeholder":true,"num":0} {"z":1,"a":[ 2 ]} bin`: true,
			`echo {"z":1,"a":[ 2 ]}`:                                   true,
		}
		for range want {
			g := socketiotest.Receive(t, got, "forwarded arguments")
			if !want[g] {
				t.Fatalf("retries %d: got %s", retries, g)
			}
			delete(want, g)
		}
		srv.Close()
	}
}
