// Command step3 is step 3 of socket.io's "Get started" chat tutorial,
// "Integrating Socket.IO" (https://socket.io/docs/v4/tutorial/step-3): a
// Socket.IO server beside the page, which loads the official client from
// it (/socket.io/socket.io.js) and connects. The server logs "a user
// connected" for every page opened and "user disconnected" when one
// closes or reloads.
//
// From the repository's root:
//
//	go run ./examples/tutorial/step3 [-addr 127.0.0.1:3000]
//
// then open http://127.0.0.1:3000 in a few tabs and watch the log.
package main

import (
	"context"
	_ "embed"
	"flag"
	"log"
	"net/http"
	"os"
	"os/signal"

	"github.com/switchboard-go/socketio"
	"github.com/switchboard-go/socketio/examples/tutorial/internal/serve"
)

//go:embed index.html
var page []byte

func main() {
	addr := flag.String("addr", "127.0.0.1:3000", "`host:port` to listen on; \":3000\" for every interface")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, *addr, log.Printf); err != nil {
		log.Fatal(err)
	}
}

// run serves the step on addr until ctx is done.
func run(ctx context.Context, addr string, logf func(string, ...any)) error {
	io := socketio.NewServer(nil)
	io.OnConnection(func(socket *socketio.Socket) {
		logf("a user connected")
		socket.OnDisconnect(func(socketio.Reason) {
			logf("user disconnected")
		})
	})
	return serve.Run(ctx, addr, handler(io), io, logf)
}

// handler serves the page at / and Socket.IO, with the client it serves,
// under /socket.io/.
func handler(io *socketio.Server) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /{$}", serve.Page(page))
	mux.Handle("/socket.io/", io)
	return mux
}
