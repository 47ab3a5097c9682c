// Command step4 is step 4 of socket.io's "Get started" chat tutorial,
// "Emitting events" (https://socket.io/docs/v4/tutorial/step-4): the page
// sends what is typed as a "chat message" event, and the server logs it
// ("message: …"). Nobody else sees it yet.
//
// From the repository's root:
//
//	go run ./examples/tutorial/step4 [-addr 127.0.0.1:3000]
//
// then open http://127.0.0.1:3000, type a message and watch the log.
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
		socket.On("chat message", func(e *socketio.Event) {
			var msg string
			if e.Decode(0, &msg) != nil {
				return // not a text: not a message this page sends
			}
			logf("message: %s", msg)
		})
	})
	return serve.Run(ctx, addr, handler(io), io, logf)
}

func handler(io *socketio.Server) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /{$}", serve.Page(page))
	mux.Handle("/socket.io/", io)
	return mux
}
