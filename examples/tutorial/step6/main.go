// Command step6 is step 6 of socket.io's "Get started" chat tutorial,
// "Connection state recovery" (https://socket.io/docs/v4/tutorial/step-6):
// the chat of step 5 with connection state recovery on. A page whose
// connection drops for a while (Wi-Fi to 4G, a tunnel) gets its socket
// back when it reconnects, with the messages sent meanwhile — as long as
// the server kept running and the page came back within two minutes.
// Step 7 delivers the missed messages in every case.
//
// From the repository's root:
//
//	go run ./examples/tutorial/step6 [-addr 127.0.0.1:3000]
//
// then open http://127.0.0.1:3000 in two tabs, take one offline (the
// browser's developer tools, Network, "Offline") for a few seconds while
// typing in the other, and bring it back.
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
	// The zero Recovery is the tutorial's connectionStateRecovery: {}:
	// sessions and missed packets are kept for two minutes.
	io := socketio.NewServer(&socketio.Options{ConnectionStateRecovery: &socketio.Recovery{}})
	io.OnConnection(func(socket *socketio.Socket) {
		socket.On("chat message", func(e *socketio.Event) {
			var msg string
			if e.Decode(0, &msg) != nil {
				return
			}
			_ = io.Emit("chat message", msg)
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
