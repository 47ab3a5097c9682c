// Command chat is the smallest complete chat server:
//
//	go run ./examples/chat [-addr 127.0.0.1:3000]
//
// then open the address it prints in two browser tabs and type. The page
// loads the official client from the server itself
// (/socket.io/socket.io.js), so it works offline.
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
	addr := flag.String("addr", "127.0.0.1:3000", "`host:port` to listen on; \":3000\" for every interface")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, *addr, log.Default()); err != nil {
		log.Fatal(err)
	}
}

// run serves the chat on addr until ctx is done. It says where it listens
// only once it does, so a bind failure is the only message.
func run(ctx context.Context, addr string, logger *log.Logger) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	io := newChat()
	srv := &http.Server{
		Handler: handler(io),
		// A client that stalls mid-request or leaves a connection idle
		// does not hold it forever. No ReadTimeout or WriteTimeout: a
		// long-polling GET is answered up to 25 s later (the ping
		// interval), and WebSockets leave the server's hands.
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = io.Shutdown(shutdown) // closes every connection; browsers retry
		_ = srv.Shutdown(shutdown)
	}()
	logger.Printf("chat on http://%s", ln.Addr())
	if err := srv.Serve(ln); err != http.ErrServerClosed {
		return err
	}
	return nil
}

// README: chat server
// newChat relays every chat message to everyone, the sender included.
func newChat() *socketio.Server {
	io := socketio.NewServer(nil) // serves the client at /socket.io/socket.io.js too
	io.OnConnection(func(s *socketio.Socket) {
		_ = io.Emit("chat message", "a user connected")
		s.On("chat message", func(e *socketio.Event) {
			var msg string
			if e.Decode(0, &msg) == nil && msg != "" {
				_ = io.Emit("chat message", msg)
			}
		})
		s.OnDisconnect(func(reason socketio.Reason) {
			_ = io.Emit("chat message", "a user left ("+string(reason)+")")
		})
	})
	return io
}

// handler serves the page at / and Socket.IO (with the client) at
// /socket.io/.
func handler(io *socketio.Server) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", io)
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(page))
	})
	return mux
}

// README end
