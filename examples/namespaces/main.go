// Command namespaces is a Socket.IO server with two namespaces in which the
// same event name means different things:
//
//   - /chat: "join_room" {"room": name} puts the client in that room and
//     tells the room "<id> has joined the room <name>" (a "message"
//     event, as send() emits it); "message" {"room": name, "data": text}
//     is passed to everyone in the room as a "response" event
//     {"from": id, "room": name, "data": text}.
//   - /test: "message" (a text) is answered to its sender alone with a
//     "response" event, "/test received: <text>".
//
// Connections and disconnections are logged. Run it with
//
//	go run ./examples/namespaces [-addr 127.0.0.1:5000]
//
// then chat from a terminal with the Go client next to it,
//
//	go run ./examples/namespaces/client -room lobby
//
// (one line, one message; several clients in the same room see each
// other), or with python-socketio:
//
//	sio = socketio.Client()
//	sio.on("response", lambda data: print(data), namespace="/chat")
//	sio.connect("http://127.0.0.1:5000", namespaces=["/chat", "/test"])
//	sio.emit("join_room", {"room": "lobby"}, namespace="/chat")
//	sio.emit("message", {"room": "lobby", "data": "hi"}, namespace="/chat")
//	sio.send("hello", namespace="/test")
package main

import (
	"context"
	"flag"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"time"

	"github.com/switchboard-go/socketio"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:5000", "`host:port` to listen on; \":5000\" for every interface")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, *addr, log.Default()); err != nil {
		log.Fatal(err)
	}
}

// run serves Socket.IO on addr until ctx is done.
func run(ctx context.Context, addr string, logger *log.Logger) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	io := newServer(logger)
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", io)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = io.Shutdown(shutdown)
		_ = srv.Shutdown(shutdown)
	}()
	logger.Printf("namespaces on http://%s", ln.Addr())
	if err := srv.Serve(ln); err != http.ErrServerClosed {
		return err
	}
	return nil
}

// joinRoom and chatMessage are the arguments of /chat's events.
type joinRoom struct {
	Room string `json:"room"`
}

type chatMessage struct {
	Room string `json:"room"`
	Data any    `json:"data"`
}

func newServer(logger *log.Logger) *socketio.Server {
	io := socketio.NewServer(nil)

	chat := io.Of("/chat")
	chat.OnConnection(func(s *socketio.Socket) {
		logger.Printf("/chat: %s connected", s.ID())
		s.OnDisconnect(func(reason socketio.Reason) { logger.Printf("/chat: %s disconnected (%s)", s.ID(), reason) })
		s.On("join_room", socketio.Typed1(func(e *socketio.Event, j joinRoom) {
			if j.Room == "" {
				return
			}
			s.Join(j.Room)
			_ = chat.To(j.Room).Send(s.ID() + " has joined the room " + j.Room)
		}))
		s.On("message", socketio.Typed1(func(e *socketio.Event, m chatMessage) {
			if m.Room == "" {
				return
			}
			// As in the tutorial, one need not be in a room to talk to it.
			_ = chat.To(m.Room).Emit("response", map[string]any{"from": s.ID(), "room": m.Room, "data": m.Data})
		}))
	})

	test := io.Of("/test")
	test.OnConnection(func(s *socketio.Socket) {
		logger.Printf("/test: %s connected", s.ID())
		s.OnDisconnect(func(reason socketio.Reason) { logger.Printf("/test: %s disconnected (%s)", s.ID(), reason) })
		s.On("message", socketio.Typed1(func(e *socketio.Event, text string) {
			_ = s.Emit("response", "/test received: "+text)
		}))
	})
	return io
}
