package socketio_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"time"

	"github.com/switchboard-go/socketio"
	"github.com/switchboard-go/socketio/engineio"
	"github.com/switchboard-go/socketio/sioclient"
)

// A chat server: every message is broadcast to everyone in the sender's
// room but the sender, who gets an acknowledgement.
func Example() {
	srv := socketio.NewServer(nil)
	srv.OnConnection(func(s *socketio.Socket) {
		s.On("join", func(e *socketio.Event) {
			var room string
			if err := e.Decode(0, &room); err != nil {
				_ = e.Ack(map[string]any{"error": "a room name is a string"})
				return
			}
			s.Join(room)
			_ = e.Ack(map[string]any{"ok": true})
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
	url, stop := serveExample(srv)
	defer stop()

	got := make(chan string, 1)
	alice := dialExample(url, nil)
	defer alice.Disconnect()
	bob := dialExample(url, func(c *sioclient.Socket) {
		c.On("message", func(e *sioclient.Event) {
			var msg struct{ Text string }
			_ = e.Decode(0, &msg)
			got <- msg.Text
		})
	})
	defer bob.Disconnect()
	ctx, cancel := timeout()
	defer cancel()
	_, _ = alice.EmitWithAck(ctx, "join", "gophers")
	_, _ = bob.EmitWithAck(ctx, "join", "gophers")
	ack, _ := alice.EmitWithAck(ctx, "message", map[string]string{"room": "gophers", "text": "hello"})
	fmt.Println("bob got:", <-got)
	fmt.Println("alice's ack:", string(ack.Raw[0]))
	// Output:
	// bob got: hello
	// alice's ack: {"ok":true}
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
	url, stop := serveExample(srv)
	defer stop()
	res, err := http.Get(url + "/socket.io/?EIO=4&transport=polling")
	if err != nil {
		panic(err)
	}
	defer res.Body.Close()
	var open struct {
		PingInterval int `json:"pingInterval"`
		MaxPayload   int `json:"maxPayload"`
	}
	body := make([]byte, 512)
	n, _ := res.Body.Read(body)
	_ = json.Unmarshal(body[1:n], &open) // after the "0" of the OPEN packet
	fmt.Println(open.PingInterval, open.MaxPayload)
	// Output: 10000 65536
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
	srv.OnConnection(func(s *socketio.Socket) {
		user, _ := s.Get("user")
		_ = s.Emit("welcome", user)
	})
	url, stop := serveExample(srv)
	defer stop()

	refused, _ := sioclient.New(url, &sioclient.Options{Auth: map[string]string{"token": "guess"}})
	errs := make(chan *sioclient.ConnectError, 1)
	refused.OnConnectError(func(err *sioclient.ConnectError) { errs <- err })
	refused.Connect()
	ce := <-errs
	fmt.Println(ce.Message, string(ce.Data))

	welcome := make(chan any, 1)
	ok, _ := sioclient.New(url, &sioclient.Options{Auth: map[string]string{"token": "let-me-in"}})
	defer ok.Disconnect()
	ok.On("welcome", func(e *sioclient.Event) { welcome <- e.Value(0) })
	ok.Connect()
	fmt.Println("welcome,", <-welcome)
	// Output:
	// not authorized {"retry":false}
	// welcome, alice
}

// Dynamic namespaces: one per workspace, created on first use.
func ExampleServer_OfRegexp() {
	srv := socketio.NewServer(nil)
	workspaces := srv.OfRegexp(regexp.MustCompile(`^/workspace-\d+$`))
	workspaces.OnConnection(func(s *socketio.Socket) {
		_ = s.Namespace().Emit("joined", s.Namespace().Name())
	})
	url, stop := serveExample(srv)
	defer stop()

	joined := make(chan any, 1)
	c, _ := sioclient.New(url+"/workspace-42", nil)
	defer c.Disconnect()
	c.On("joined", func(e *sioclient.Event) { joined <- e.Value(0) })
	c.Connect()
	fmt.Println(<-joined)
	// Output: /workspace-42
}

// Ask one client and wait for its answer, from a goroutine of your own
// (not from the socket's handler: see the concurrency contract).
func ExampleSocket_EmitWithAck() {
	said := make(chan string, 1)
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
			said <- reply
		}()
	})
	url, stop := serveExample(srv)
	defer stop()

	c, _ := sioclient.New(url, nil)
	defer c.Disconnect()
	c.On("are you there?", func(e *sioclient.Event) { _ = e.Ack("yes") })
	c.Connect()
	fmt.Println("client said", <-said)
	// Output: client said yes
}

// Inside a handler, pass an AckFunc instead of waiting.
func ExampleAckFunc() {
	answers := make(chan any, 1)
	srv := socketio.NewServer(nil)
	srv.OnConnection(func(s *socketio.Socket) {
		s.On("ready", func(e *socketio.Event) {
			_ = s.Timeout(5*time.Second).Emit("question", "2+2", socketio.AckFunc(func(a socketio.Args, err error) {
				if err == nil {
					answers <- a.Value(0)
				}
			}))
		})
	})
	url, stop := serveExample(srv)
	defer stop()

	c := dialExample(url, func(c *sioclient.Socket) {
		c.On("question", func(e *sioclient.Event) { _ = e.Ack(4) })
	})
	defer c.Disconnect()
	_ = c.Emit("ready")
	fmt.Println("answer:", <-answers)
	// Output: answer: 4
}

// Broadcast acknowledgements: every client of the room answers, or the
// answers so far come back with ErrTimeout.
func ExampleBroadcastOperator_EmitWithAck() {
	srv := socketio.NewServer(nil)
	srv.OnConnection(func(s *socketio.Socket) {
		s.On("register", func(e *socketio.Event) { s.Join("voters"); _ = e.Ack() })
	})
	url, stop := serveExample(srv)
	defer stop()
	ctx, cancel := timeout()
	defer cancel()
	for _, vote := range []string{"yes", "no", "yes"} {
		c := dialExample(url, func(c *sioclient.Socket) {
			c.On("vote?", func(e *sioclient.Event) { _ = e.Ack(vote) })
		})
		defer c.Disconnect()
		_, _ = c.EmitWithAck(ctx, "register")
	}

	answers, err := srv.To("voters").Timeout(3*time.Second).EmitWithAck(ctx, "vote?")
	if errors.Is(err, socketio.ErrTimeout) {
		fmt.Printf("only %d voters answered in time\n", len(answers))
	}
	var votes []string
	for _, a := range answers {
		votes = append(votes, a.Value(0).(string))
	}
	slices.Sort(votes)
	fmt.Println(votes)
	// Output: [no yes yes]
}

// Server utilities act on every socket that matches, as in Node.
func ExampleServer_FetchSockets() {
	srv := socketio.NewServer(nil)
	srv.OnConnection(func(s *socketio.Socket) {
		s.Join("room1")
		s.On("ready", func(e *socketio.Event) { _ = e.Ack() })
	})
	url, stop := serveExample(srv)
	defer stop()
	hello := make(chan string, 1)
	c := dialExample(url, func(c *sioclient.Socket) {
		c.On("hello", func(*sioclient.Event) { hello <- "hello" })
	})
	defer c.Disconnect()
	ctx, cancel := timeout()
	defer cancel()
	_, _ = c.EmitWithAck(ctx, "ready") // the connection handler has run

	sockets, _ := srv.In("room1").FetchSockets(ctx)
	for _, rs := range sockets {
		_ = rs.Emit("hello")
		_ = rs.Join("room2")
	}
	fmt.Println(len(sockets), "socket in room1;", <-hello)
	_ = srv.In("room1").SocketsLeave("room1")
	in1, _ := srv.In("room1").FetchSockets(ctx)
	in2, _ := srv.In("room2").FetchSockets(ctx)
	fmt.Println(len(in1), "in room1,", len(in2), "in room2")
	// Output:
	// 1 socket in room1; hello
	// 0 in room1, 1 in room2
}

// Graceful shutdown: clients see a normal close and reconnect to the next
// server.
func ExampleServer_Shutdown() {
	reasons := make(chan socketio.Reason, 1)
	srv := socketio.NewServer(nil)
	srv.OnConnection(func(s *socketio.Socket) {
		s.OnDisconnect(func(r socketio.Reason) { reasons <- r })
	})
	url, stop := serveExample(srv)
	defer stop()
	c, _ := sioclient.New(url, &sioclient.Options{DisableReconnection: true})
	defer c.Disconnect()
	connected := make(chan struct{})
	c.OnConnect(func() { close(connected) })
	c.Connect()
	<-connected

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		fmt.Println("forced close:", err)
	}
	fmt.Println(<-reasons)
	// Output: server shutting down
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
