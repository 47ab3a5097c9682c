// Command step2 is step 2 of socket.io's "Get started" chat tutorial,
// "Serving HTML" (https://socket.io/docs/v4/tutorial/step-2): the home page
// is now the chat's page, index.html, a list of messages and a form to
// type one. Nothing is sent yet.
//
// From the repository's root:
//
//	go run ./examples/tutorial/step2 [-addr 127.0.0.1:3000]
//
// then open http://127.0.0.1:3000.
package main

import (
	"context"
	_ "embed"
	"flag"
	"log"
	"net/http"
	"os"
	"os/signal"

	"github.com/switchboard-go/socketio/examples/tutorial/internal/serve"
)

// The page is compiled into the program (the tutorial reads it from the
// directory beside index.js): go run works from any directory.
//
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
	return serve.Run(ctx, addr, handler(), nil, logf)
}

func handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /{$}", serve.Page(page))
	return mux
}
