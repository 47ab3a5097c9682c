// Command socketio-server is the Socket.IO server the official
// socket.io-protocol test suite expects, configured as its README's
// reference server: pingInterval 300 ms, pingTimeout 200 ms, maxPayload
// 1e6, connectTimeout 1 s, CORS for any origin; every socket of "/" and
// "/custom" is sent its handshake auth ("auth"), and on "/" a "message" is
// sent back as "message-back" and a "message-with-ack" acknowledged with
// its own arguments.
package main

import (
	"encoding/json"
	"flag"
	"log"
	"net"
	"net/http"
	"time"

	"github.com/switchboard-go/socketio"
	"github.com/switchboard-go/socketio/engineio"
)

// received returns an event's arguments to send on as they came: raw JSON
// when there is no binary attachment, else decoded values ([]byte for the
// attachments, which then travel as attachments again).
func received(a socketio.Args) []any {
	if len(a.Attachments) > 0 {
		return a.Values()
	}
	out := make([]any, len(a.Raw))
	for i, r := range a.Raw {
		out[i] = json.RawMessage(r)
	}
	return out
}

func main() {
	addr := flag.String("addr", ":3000", "listen address (the suite connects to localhost:3000)")
	noPoller := flag.Bool("nopoller", false, "keep a goroutine per WebSocket (engine Options.DisablePoller)")
	front := flag.Bool("front", false, "serve long-polling with the server's own HTTP front (Serve) instead of net/http")
	flag.Parse()
	io := socketio.NewServer(&socketio.Options{
		Engine: engineio.Options{
			PingInterval:  300 * time.Millisecond,
			PingTimeout:   200 * time.Millisecond,
			MaxPayload:    1_000_000,
			CORS:          &engineio.CORSOptions{Origins: []string{"*"}},
			DisablePoller: *noPoller,
		},
		ConnectTimeout: time.Second,
	})
	io.OnConnection(func(s *socketio.Socket) {
		_ = s.Emit("auth", s.Handshake().Auth)
		s.On("message", func(e *socketio.Event) {
			_ = s.Emit("message-back", received(e.Args)...)
		})
		s.On("message-with-ack", func(e *socketio.Event) {
			_ = e.Ack(received(e.Args)...)
		})
	})
	io.Of("/custom").OnConnection(func(s *socketio.Socket) {
		_ = s.Emit("auth", s.Handshake().Auth)
	})
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("socket.io protocol suite server listening on %s", ln.Addr())
	if *front {
		log.Fatal(io.Serve(ln, nil))
	}
	log.Fatal(http.Serve(ln, io))
}
