// Command chat is the smallest complete chat server: open
// http://127.0.0.1:3000 in two browsers and type.
package main

import (
	"flag"
	"log"
	"net/http"
	"os"
	"strings"

	"github.com/switchboard-go/socketio"
)

func main() {
	client := flag.String("client", "interop/node/node_modules/socket.io-client/dist/socket.io.min.js",
		"socket.io.min.js to serve at /socket.io-client.js; when absent the page loads it from a CDN")
	flag.Parse()
	io := socketio.NewServer(nil)
	io.OnConnection(func(s *socketio.Socket) {
		io.Emit("chat message", "a user connected")
		s.On("chat message", func(e *socketio.Event) {
			var msg string
			if e.Decode(0, &msg) == nil && msg != "" {
				io.Emit("chat message", msg) // to everyone, the sender included
			}
		})
		s.OnDisconnect(func(reason socketio.Reason) {
			io.Emit("chat message", "a user left ("+string(reason)+")")
		})
	})
	src := cdnClient
	if _, err := os.Stat(*client); err == nil {
		src = "/socket.io-client.js"
		http.HandleFunc("/socket.io-client.js", func(w http.ResponseWriter, r *http.Request) { http.ServeFile(w, r, *client) })
	}
	page := strings.Replace(page, "CLIENT_SRC", src, 1)
	http.Handle("/socket.io/", io)
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(page)) })
	log.Println("chat on http://127.0.0.1:3000, client from " + src)
	log.Fatal(http.ListenAndServe("127.0.0.1:3000", nil))
}
