package socketio_test

import (
	"context"
	"testing"
	"time"

	"github.com/switchboard-go/socketio"
	"github.com/switchboard-go/socketio/sioclient"
)

// A socket disconnected while its connection handler still runs (a
// shutdown as the client arrives, another goroutine's Disconnect) finishes
// its disconnection once the handler returns: the disconnecting and
// disconnect handlers registered after the disconnection began are called,
// in that order, once each, and the disconnecting goroutine does not wait
// for the connection handler.
func TestDisconnectWhileTheConnectionHandlerRuns(t *testing.T) {
	for _, tc := range []struct {
		name   string
		cause  func(*socketio.Server, *socketio.Socket)
		reason socketio.Reason
	}{
		{"Disconnect", func(_ *socketio.Server, s *socketio.Socket) { s.Disconnect(false) }, socketio.ReasonServerNamespaceDisconnect},
		{"Shutdown", func(srv *socketio.Server, _ *socketio.Socket) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = srv.Shutdown(ctx)
		}, socketio.ReasonServerShuttingDown},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := socketio.NewServer(nil)
			arrived := make(chan *socketio.Socket, 1)
			proceed := make(chan struct{})
			calls := make(chan string, 4)
			srv.OnConnection(func(s *socketio.Socket) {
				arrived <- s
				<-proceed
				if s.Connected() {
					t.Error("the socket is still connected in its connection handler after the disconnection")
				}
				s.OnDisconnecting(func(r socketio.Reason) { calls <- "disconnecting " + string(r) })
				s.OnDisconnect(func(r socketio.Reason) { calls <- "disconnect " + string(r) })
			})
			url, stop := serveExample(srv)
			defer stop()
			// Not waited for: the CONNECT packet may reach a polling
			// client only after the connection handler returns.
			c, err := sioclient.New(url, &sioclient.Options{DisableReconnection: true})
			if err != nil {
				t.Fatal(err)
			}
			c.Connect()
			defer c.Disconnect()

			s := <-arrived
			caused := make(chan struct{})
			go func() {
				tc.cause(srv, s)
				close(caused)
			}()
			if tc.name == "Disconnect" {
				// Shutdown waits for the connection to close, which the
				// running handler holds up; Disconnect returns at once.
				select {
				case <-caused:
				case <-time.After(5 * time.Second):
					t.Fatal("Disconnect waited for the connection handler")
				}
			}
			select {
			case got := <-calls:
				t.Fatalf("%q before the connection handler returned", got)
			case <-time.After(50 * time.Millisecond):
			}
			close(proceed)
			for _, want := range []string{"disconnecting " + string(tc.reason), "disconnect " + string(tc.reason)} {
				select {
				case got := <-calls:
					if got != want {
						t.Errorf("got %q, want %q", got, want)
					}
				case <-time.After(5 * time.Second):
					t.Fatalf("no %q", want)
				}
			}
			<-caused
			select {
			case got := <-calls:
				t.Errorf("called again: %q", got)
			case <-time.After(50 * time.Millisecond):
			}
			if _, ok := srv.Of("/").Socket(s.ID()); ok {
				t.Error("the socket is still in its namespace")
			}
		})
	}
}
