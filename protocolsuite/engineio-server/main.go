// Command engineio-server is the Engine.IO server the official
// engine.io-protocol test suite expects: path /engine.io/, pingInterval
// 300 ms, pingTimeout 200 ms, maxPayload 1e6, CORS for any origin, and every
// message sent back as received (the README's reference configuration).
package main

import (
	"flag"
	"log"
	"net"
	"net/http"
	"time"

	"github.com/switchboard-go/socketio/engineio"
)

type echo struct{}

func (echo) OnMessage(c *engineio.Conn, data []byte, binary bool) { _ = c.Send(data, binary, false) }
func (echo) OnClose(*engineio.Conn, string)                       {}

func main() {
	addr := flag.String("addr", ":3000", "listen address (the suite connects to localhost:3000)")
	noPoller := flag.Bool("nopoller", false, "keep a goroutine per WebSocket (Options.DisablePoller)")
	front := flag.Bool("front", false, "serve long-polling with the server's own HTTP front (Serve) instead of net/http")
	flag.Parse()
	srv := engineio.NewServer(&engineio.Options{
		Path:          "/engine.io/",
		PingInterval:  300 * time.Millisecond,
		PingTimeout:   200 * time.Millisecond,
		MaxPayload:    1_000_000,
		CORS:          &engineio.CORSOptions{Origins: []string{"*"}},
		DisablePoller: *noPoller,
	}, func(*engineio.Conn) engineio.Handler { return echo{} })
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("engine.io protocol suite server listening on %s", ln.Addr())
	if *front {
		log.Fatal(srv.Serve(ln, nil))
	}
	log.Fatal(http.Serve(ln, srv))
}
