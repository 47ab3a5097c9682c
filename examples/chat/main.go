// Command chat is the smallest complete chat server: open
// http://127.0.0.1:3000 in two browsers and type.
package main

import (
	"log"
	"net/http"

	"github.com/switchboard-go/socketio"
)

func main() {
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
	http.Handle("/socket.io/", io)
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(page)) })
	log.Println("chat on http://127.0.0.1:3000")
	log.Fatal(http.ListenAndServe("127.0.0.1:3000", nil))
}
