package sioclient_test

import (
	"context"
	"fmt"
	"log"
	"net/http/httptest"
	"time"

	socketio "github.com/switchboard-go/socketio"
	"github.com/switchboard-go/socketio/sioclient"
)

// exampleServer starts this module's server in process, so that the
// examples have something to talk to; any Socket.IO v4 server would do.
func exampleServer() (url string, stop func()) {
	srv := socketio.NewServer(nil)
	srv.OnConnection(func(s *socketio.Socket) {
		_ = s.Emit("news", map[string]any{"headline": "client connected"})
		s.On("hello", func(e *socketio.Event) {
			var name string
			_ = e.Decode(0, &name)
			_ = e.Ack("hello, " + name)
		})
	})
	srv.Of("/chat").OnConnection(func(s *socketio.Socket) {
		s.On("say", func(e *socketio.Event) { _ = e.Ack("chat got: " + e.Value(0).(string)) })
		s.On("chat message", func(e *socketio.Event) {
			_ = s.Emit("chat message", e.Value(0))
			_ = e.Ack("stored")
		})
	})
	admin := srv.Of("/admin")
	admin.Use(func(s *socketio.Socket) error {
		return &socketio.ConnectError{Message: "not an admin", Data: map[string]any{"retry": false}}
	})
	ts := httptest.NewServer(srv)
	return ts.URL, func() { _ = srv.Close(); ts.Close() }
}

// Emit with an acknowledgement. Emits made before the socket is connected
// are buffered and sent once it is.
func Example() {
	url, stop := exampleServer()
	defer stop()

	s, err := sioclient.Dial(url, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Disconnect()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ans, err := s.EmitWithAck(ctx, "hello", "gopher")
	if err != nil {
		fmt.Println(err)
		return
	}
	var greeting string
	_ = ans.Decode(0, &greeting)
	fmt.Println(greeting)
	// Output: hello, gopher
}

// The README's client: handlers first, then Connect; EmitWithAck waits
// for the server's answer.
func Example_readme() {
	url, stop := exampleServer()
	defer stop()

	// README: go client
	s, err := sioclient.New(url+"/chat", &sioclient.Options{Auth: map[string]any{"token": "…"}})
	if err != nil {
		log.Fatal(err) // a malformed URL or options
	}
	defer s.Disconnect()
	s.On("chat message", func(e *sioclient.Event) { fmt.Println("got:", e.Value(0)) })
	s.Connect()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	answer, err := s.EmitWithAck(ctx, "chat message", "hello")
	if err != nil {
		log.Fatal(err) // no answer in time, or the server refused the namespace
	}
	fmt.Println("ack:", answer.Value(0))
	// README end
	// Output:
	// got: hello
	// ack: stored
}

// Register handlers before connecting, so that no event is missed, even
// one the server emits as soon as the socket connects.
func ExampleNew() {
	url, stop := exampleServer()
	defer stop()

	s, err := sioclient.New(url, &sioclient.Options{Transports: []string{"websocket"}})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Disconnect()
	news := make(chan string, 1)
	s.On("news", func(e *sioclient.Event) {
		var n struct{ Headline string }
		_ = e.Decode(0, &n)
		news <- n.Headline
	})
	s.Connect()
	fmt.Println(<-news)
	// Output: client connected
}

// Several namespaces share the manager's one connection.
func ExampleManager_Socket() {
	url, stop := exampleServer()
	defer stop()

	m, err := sioclient.NewManager(url, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer m.Close()
	main, chat := m.Socket("/", nil), m.Socket("/chat", nil)
	main.Connect()
	chat.Connect()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	a, _ := chat.EmitWithAck(ctx, "say", "hi")
	b, _ := main.EmitWithAck(ctx, "hello", "main")
	fmt.Println(a.Value(0))
	fmt.Println(b.Value(0))
	fmt.Println(main.Manager() == chat.Manager())
	// Output:
	// chat got: hi
	// hello, main
	// true
}

// The server refuses the socket: its message and data arrive in
// OnConnectError, and the socket does not retry.
func ExampleSocket_OnConnectError() {
	url, stop := exampleServer()
	defer stop()

	s, err := sioclient.New(url+"/admin", &sioclient.Options{Auth: map[string]string{"token": "guest"}})
	if err != nil {
		fmt.Println(err)
		return
	}
	refused := make(chan *sioclient.ConnectError, 1)
	s.OnConnectError(func(err *sioclient.ConnectError) { refused <- err })
	s.Connect()
	ce := <-refused
	fmt.Println(ce.Message, string(ce.Data), ce.FromServer(), s.Active())
	// Output: not an admin {"retry":false} true false
}

// An AckFunc as the last argument receives the answer on the handler
// goroutine; Timeout bounds the wait.
func ExampleSocket_Emit() {
	url, stop := exampleServer()
	defer stop()

	s, err := sioclient.Dial(url, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Disconnect()
	done := make(chan struct{})
	_ = s.Timeout(5*time.Second).Emit("hello", "ack func", sioclient.AckFunc(func(a sioclient.Args, err error) {
		fmt.Println(a.Value(0), err)
		close(done)
	}))
	<-done
	// Output: hello, ack func <nil>
}
