// Command step1 is step 1 of socket.io's "Get started" chat tutorial,
// "Project initialization" (https://socket.io/docs/v4/tutorial/step-1): a
// web server whose home page says "Hello world". There is no Socket.IO yet.
//
// From the repository's root:
//
//	go run ./examples/tutorial/step1 [-addr 127.0.0.1:3000]
//
// then open http://127.0.0.1:3000.
package main

import (
	"context"
	"flag"
	"log"
	"net/http"
	"os"
	"os/signal"

	"github.com/switchboard-go/socketio/examples/tutorial/internal/serve"
)

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
	return serve.Run(ctx, addr, handler(), nil, logf)
}

// handler answers the home page, and only it ("GET /{$}": every other path
// is not found).
func handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /{$}", serve.Page([]byte("<h1>Hello world</h1>")))
	return mux
}
