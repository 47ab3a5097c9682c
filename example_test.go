package socketio_test

import (
	"context"
	"encoding/json"
	"errors"
	"log"
	"net/http"
	"regexp"
	"time"

	"github.com/switchboard-go/socketio"
	"github.com/switchboard-go/socketio/engineio"
)

// A chat server: every message is broadcast to everyone in the sender's
// room but the sender, who gets an acknowledgement.
func Example() {
	srv := socketio.NewServer(nil)
	srv.OnConnection(func(s *socketio.Socket) {
		s.On("join", func(e *socketio.Event) {
			var room string
			if e.Decode(0, &room) == nil {
				s.Join(room)
			}
		})
		s.On("message", func(e *socketio.Event) {
			var msg struct {
				Room string `json:"room"`
				Text string `json:"text"`
			}
			if err := e.Decode(0, &msg); err != nil {
				_ = e.Ack(map[string]any{"error": "bad message"})
				return
			}
			_ = s.To(msg.Room).Emit("message", msg)
			_ = e.Ack(map[string]any{"ok": true})
		})
	})
	http.Handle("/socket.io/", srv)
	// log.Fatal(http.ListenAndServe(":3000", nil))
}

// Options mirror the Node.js server's; nil means its defaults.
func ExampleNewServer() {
	srv := socketio.NewServer(&socketio.Options{
		Engine: engineio.Options{
			PingInterval: 10 * time.Second,
			MaxPayload:   64 << 10, // bytes, Node's maxHttpBufferSize
			CORS:         &engineio.CORSOptions{Origins: []string{"https://example.com"}, Credentials: true},
		},
		ConnectTimeout: 10 * time.Second,
	})
	defer srv.Close()
}

// Middleware refuses a connection with a message and data the client sees
// in its connect_error handler.
func ExampleServer_Use() {
	srv := socketio.NewServer(nil)
	srv.Use(func(s *socketio.Socket) error {
		var auth struct {
			Token string `json:"token"`
		}
		if err := jsonDecode(s.Handshake().Auth, &auth); err != nil || auth.Token != "let-me-in" {
			return &socketio.ConnectError{Message: "not authorized", Data: map[string]any{"retry": false}}
		}
		s.Set("user", "alice")
		return nil
	})
}

// Dynamic namespaces: one per workspace, created on first use.
func ExampleServer_OfRegexp() {
	srv := socketio.NewServer(nil)
	workspaces := srv.OfRegexp(regexp.MustCompile(`^/workspace-\d+$`))
	workspaces.OnConnection(func(s *socketio.Socket) {
		_ = s.Namespace().Emit("joined", s.ID())
	})
}

// Ask one client and wait for its answer, from a goroutine of your own
// (not from the socket's handler: see the concurrency contract).
func ExampleSocket_EmitWithAck() {
	srv := socketio.NewServer(nil)
	srv.OnConnection(func(s *socketio.Socket) {
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			answer, err := s.EmitWithAck(ctx, "are you there?")
			if errors.Is(err, socketio.ErrTimeout) {
				s.Disconnect(true)
				return
			}
			var reply string
			_ = answer.Decode(0, &reply)
			log.Println("client said", reply)
		}()
	})
}

// Inside a handler, pass an AckFunc instead of waiting.
func ExampleAckFunc() {
	srv := socketio.NewServer(nil)
	srv.OnConnection(func(s *socketio.Socket) {
		s.On("ready", func(e *socketio.Event) {
			_ = s.Timeout(5*time.Second).Emit("question", "2+2", socketio.AckFunc(func(a socketio.Args, err error) {
				if err == nil {
					log.Println("answer:", a.Value(0))
				}
			}))
		})
	})
}

// Broadcast acknowledgements: every client of the room answers, or the
// answers so far come back with ErrTimeout.
func ExampleBroadcastOperator_EmitWithAck() {
	srv := socketio.NewServer(nil)
	answers, err := srv.To("voters").Timeout(3*time.Second).EmitWithAck(context.Background(), "vote?")
	if errors.Is(err, socketio.ErrTimeout) {
		log.Printf("%d voters answered in time", len(answers))
	}
}

// Server utilities act on every socket that matches, as in Node.
func ExampleServer_FetchSockets() {
	srv := socketio.NewServer(nil)
	sockets, _ := srv.In("room1").FetchSockets(context.Background())
	for _, rs := range sockets {
		_ = rs.Emit("hello")
		_ = rs.Join("room2")
	}
	_ = srv.In("room1").SocketsLeave("room1")
	_ = srv.In("room2").DisconnectSockets(false)
}

// Graceful shutdown: clients see a normal close and reconnect to the next
// server.
func ExampleServer_Shutdown() {
	srv := socketio.NewServer(nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		log.Println("forced close:", err)
	}
}

func jsonDecode(raw []byte, v any) error {
	if len(raw) == 0 {
		return errors.New("no auth")
	}
	return json.Unmarshal(raw, v)
}

// Connection state recovery: a client back within two minutes of losing
// its connection keeps its socket, rooms and data, and gets the messages
// it missed; only a new socket needs setting up.
func ExampleRecovery() {
	srv := socketio.NewServer(&socketio.Options{
		ConnectionStateRecovery: &socketio.Recovery{MaxDisconnectionDuration: 2 * time.Minute},
	})
	srv.OnConnection(func(s *socketio.Socket) {
		if s.Recovered() {
			return // rooms and Set values are back; the missed events are on their way
		}
		s.Join("lobby")
		s.Set("joined", time.Now())
	})
	http.Handle("/socket.io/", srv)
}
