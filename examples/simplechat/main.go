// Command simplechat is the smallest broadcast chat: a "message" event
// from any client goes to every client, the sender included. Its page uses
// the official JavaScript client, which the server serves itself at
// /socket.io/socket.io.js. Run it with
//
//	go run ./examples/simplechat [-addr 127.0.0.1:5001]
//
// and open the address it prints in two browser tabs.
package main

import (
	"flag"
	"log"
	"net"
	"net/http"
	"time"

	"github.com/switchboard-go/socketio"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:5001", "`host:port` to listen on")
	flag.Parse()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("simplechat on http://%s", ln.Addr())
	srv := &http.Server{Handler: handler(), ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(srv.Serve(ln))
}

func handler() http.Handler {
	io := socketio.NewServer(nil)
	io.OnConnection(func(s *socketio.Socket) {
		s.On("message", socketio.Typed1(func(e *socketio.Event, text string) {
			if text != "" {
				_ = io.Send(text) // a "message" event to everyone
			}
		}))
	})
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", io)
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(page))
	})
	return mux
}

const page = `<!doctype html>
<meta charset="utf-8">
<title>simple chat</title>
<link rel="icon" href="data:,">
<ul id="messages"></ul>
<form id="form"><input id="input" autocomplete="off"><button>Send</button></form>
<script src="/socket.io/socket.io.js"></script>
<script>
  const socket = io();
  socket.on('message', (text) => {
    const li = document.createElement('li');
    li.textContent = text;
    document.getElementById('messages').appendChild(li);
  });
  const input = document.getElementById('input');
  document.getElementById('form').addEventListener('submit', (e) => {
    e.preventDefault();
    if (input.value) { socket.emit('message', input.value); input.value = ''; }
  });
</script>`
