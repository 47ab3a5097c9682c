// Command wschat is a chat over plain WebSocket, without Socket.IO: the
// first program of the tutorials, with gorilla/websocket (the WebSocket
// library Switchboard itself uses). It serves
//
//   - /echo, which answers every text message with "Message text was: …";
//   - /ws/{client_id}, a chat room: a message is sent back to its author as
//     "You wrote: …" and to everyone else as "Client #id says: …", and
//     when a client leaves, the others are told "Client #id left the chat";
//   - /, the room's page: a form, a text box and the message list; the page
//     takes the current time in milliseconds as its client id.
//
// Run it with
//
//	go run ./examples/wschat [-addr 127.0.0.1:8000]
//
// and open the address it prints in two browser tabs. Any WebSocket client
// works too, e.g. python3 -m websockets ws://127.0.0.1:8000/echo.
package main

import (
	"context"
	"flag"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

const (
	maxMessage = 64 << 10         // longest text message read
	writeWait  = 10 * time.Second // bound of one write to a client
	pingEvery  = 30 * time.Second // keeps idle connections checked
	pongWait   = pingEvery + writeWait
	outbox     = 64 // messages waiting for a slow client before it is dropped
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8000", "`host:port` to listen on; \":8000\" for every interface")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, *addr, log.Default()); err != nil {
		log.Fatal(err)
	}
}

// run serves the page, /echo and the room on addr until ctx is done; then
// every WebSocket is closed with 1001 (going away).
func run(ctx context.Context, addr string, logger *log.Logger) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           handler(newRoom()),
		ReadHeaderTimeout: 10 * time.Second,
		// Requests derive their context from ctx, so that the WebSockets,
		// which Shutdown does not track, close when ctx is done.
		BaseContext: func(net.Listener) context.Context { return ctx },
	}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	logger.Printf("wschat on http://%s", ln.Addr())
	if err := srv.Serve(ln); err != http.ErrServerClosed {
		return err
	}
	return nil
}

// The default CheckOrigin refuses pages of other sites: a WebSocket is not
// bound by the same-origin policy, so the server must check.
var upgrader = websocket.Upgrader{}

func handler(rm *room) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(page))
	})
	mux.HandleFunc("GET /echo", func(w http.ResponseWriter, r *http.Request) {
		conn, stop := upgrade(w, r)
		if conn == nil {
			return
		}
		defer conn.Close()
		defer stop()
		for {
			text, err := readText(conn)
			if err != nil {
				return
			}
			_ = conn.SetWriteDeadline(time.Now().Add(writeWait))
			if conn.WriteMessage(websocket.TextMessage, []byte("Message text was: "+text)) != nil {
				return
			}
		}
	})
	mux.HandleFunc("GET /ws/{client_id}", func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("client_id")
		if _, err := strconv.ParseUint(id, 10, 63); err != nil {
			http.Error(w, "the client id is a number", http.StatusBadRequest)
			return
		}
		if conn, stop := upgrade(w, r); conn != nil {
			defer stop()
			rm.serve(id, conn)
		}
	})
	return mux
}

// upgrade answers the WebSocket handshake; nil means it failed and the
// client has been answered. Until stop is called, the connection closes
// with 1001 when the request's context ends (the server shuts down; the
// handler must call stop before it returns, which ends that context too).
func upgrade(w http.ResponseWriter, r *http.Request) (conn *websocket.Conn, stop func() bool) {
	conn, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return nil, nil
	}
	conn.SetReadLimit(maxMessage)
	// Closing the connection makes its reader fail, and the handler return.
	return conn, context.AfterFunc(r.Context(), func() {
		bye := websocket.FormatCloseMessage(websocket.CloseGoingAway, "server shutting down")
		_ = conn.WriteControl(websocket.CloseMessage, bye, time.Now().Add(time.Second))
		_ = conn.Close()
	})
}

// readText returns the next text message; binary messages are skipped.
func readText(conn *websocket.Conn) (string, error) {
	for {
		kind, msg, err := conn.ReadMessage()
		if err != nil {
			return "", err
		}
		if kind == websocket.TextMessage {
			return string(msg), nil
		}
	}
}

// room is the connection manager: the clients connected to /ws/, each
// with a queue its own goroutine writes from, so that one slow client
// holds up nobody.
type room struct {
	mu      sync.Mutex
	members map[*member]bool
}

type member struct {
	conn *websocket.Conn
	out  chan string
}

func newRoom() *room { return &room{members: map[*member]bool{}} }

// serve runs one client until its connection ends, then tells the others.
func (rm *room) serve(id string, conn *websocket.Conn) {
	m := &member{conn: conn, out: make(chan string, outbox)}
	go m.write()
	rm.mu.Lock()
	rm.members[m] = true
	rm.mu.Unlock()

	_ = conn.SetReadDeadline(time.Now().Add(pongWait))
	conn.SetPongHandler(func(string) error { return conn.SetReadDeadline(time.Now().Add(pongWait)) })
	for {
		text, err := readText(conn)
		if err != nil {
			break
		}
		rm.mu.Lock() // one message at a time: everyone sees the same order
		rm.deliver(m, "You wrote: "+text)
		for other := range rm.members {
			if other != m {
				rm.deliver(other, "Client #"+id+" says: "+text)
			}
		}
		rm.mu.Unlock()
	}

	rm.mu.Lock()
	delete(rm.members, m)
	close(m.out) // m.write sends a close frame, then closes the connection
	for other := range rm.members {
		rm.deliver(other, "Client #"+id+" left the chat")
	}
	rm.mu.Unlock()
}

// deliver queues text for m; a client too far behind is disconnected.
// The caller holds rm.mu.
func (rm *room) deliver(m *member, text string) {
	select {
	case m.out <- text:
	default:
		_ = m.conn.Close() // its reader fails, and serve removes it
	}
}

// write sends m's queue and a ping every pingEvery; it closes the
// connection when the queue is closed or a write fails.
func (m *member) write() {
	ping := time.NewTicker(pingEvery)
	defer ping.Stop()
	defer m.conn.Close()
	for {
		select {
		case text, ok := <-m.out:
			if !ok {
				_ = m.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
				return
			}
			_ = m.conn.SetWriteDeadline(time.Now().Add(writeWait))
			if m.conn.WriteMessage(websocket.TextMessage, []byte(text)) != nil {
				return
			}
		case <-ping.C:
			if m.conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(writeWait)) != nil {
				return
			}
		}
	}
}
