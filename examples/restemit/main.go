// Command restemit mounts a Socket.IO server in an ordinary net/http
// application, beside its other routes, and lets a plain HTTP request
// emit to the connected clients:
//
//   - POST /send with a JSON body {"event": name, "data": value, "room":
//     name} emits the event (default "message") with data, unchanged, to
//     every client, or only to the members of room when it is given;
//   - Socket.IO clients join a room with the "join" event (its
//     acknowledgement says they are in) and leave it with "leave";
//   - / is a page that shows what its socket receives;
//   - CORS: pages of the origins named by -origins may use both Socket.IO
//     and /send ("*", the default, allows any; name your front end's).
//
// Run it with
//
//	go run ./examples/restemit [-addr 127.0.0.1:8080] [-origins '*']
//
// open the address it prints, and emit from anywhere:
//
//	curl -d '{"data": "hello"}' http://127.0.0.1:8080/send
//	curl -d '{"event": "news", "data": {"n": 1}, "room": "sports"}' http://127.0.0.1:8080/send
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strings"
	"time"

	"github.com/switchboard-go/socketio"
	"github.com/switchboard-go/socketio/engineio"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "`host:port` to listen on; \":8080\" for every interface")
	origins := flag.String("origins", "*", "comma-separated `origins` whose pages may connect and POST; * for any")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, *addr, strings.Split(*origins, ","), log.Default()); err != nil {
		log.Fatal(err)
	}
}

// run serves the application on addr until ctx is done.
func run(ctx context.Context, addr string, origins []string, logger *log.Logger) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	io := newSocketServer(origins)
	srv := &http.Server{Handler: handler(io, origins), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = io.Shutdown(shutdown)
		_ = srv.Shutdown(shutdown)
	}()
	logger.Printf("restemit on http://%s", ln.Addr())
	if err := srv.Serve(ln); err != http.ErrServerClosed {
		return err
	}
	return nil
}

func newSocketServer(origins []string) *socketio.Server {
	io := socketio.NewServer(&socketio.Options{
		Engine: engineio.Options{CORS: &engineio.CORSOptions{Origins: origins}},
	})
	io.OnConnection(func(s *socketio.Socket) {
		s.On("join", socketio.TypedAck1(func(e *socketio.Event, room string) (string, error) {
			if room == "" {
				return "", errors.New("the room has no name")
			}
			s.Join(room)
			return room, nil
		}))
		s.On("leave", socketio.TypedAck1(func(e *socketio.Event, room string) (string, error) {
			s.Leave(room)
			return room, nil
		}))
	})
	return io
}

// handler is the application: its routes, and Socket.IO under /socket.io/.
func handler(io *socketio.Server, origins []string) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", io) // answers CORS itself
	mux.Handle("/send", cors(origins, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", "POST, OPTIONS")
			reply(w, http.StatusMethodNotAllowed, "POST a JSON object")
			return
		}
		send(io, w, r)
	})))
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(page))
	})
	return mux
}

// sendRequest is the body of POST /send.
type sendRequest struct {
	Event string          `json:"event"`
	Data  json.RawMessage `json:"data"`
	Room  string          `json:"room"`
}

func send(io *socketio.Server, w http.ResponseWriter, r *http.Request) {
	var req sendRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			reply(w, http.StatusRequestEntityTooLarge, "the body is over 64 KiB")
			return
		}
		reply(w, http.StatusBadRequest, "the body is not a JSON object {event, data, room}: "+err.Error())
		return
	}
	if len(req.Data) == 0 {
		reply(w, http.StatusBadRequest, "data is missing")
		return
	}
	if req.Event == "" {
		req.Event = "message"
	}
	emit := io.Emit // to every client
	if req.Room != "" {
		emit = io.To(req.Room).Emit
	}
	// data goes out as it was posted (its keys in their order, its numbers
	// as written), without the spaces: no decoding, no re-encoding.
	var data bytes.Buffer
	_ = json.Compact(&data, req.Data) // valid: the decoder checked it
	if err := emit(req.Event, socketio.RawArg{Raw: data.Bytes()}); err != nil {
		status := http.StatusInternalServerError
		if errors.Is(err, socketio.ErrReservedEvent) {
			status = http.StatusBadRequest
		}
		reply(w, status, err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"sent": req.Event, "room": req.Room})
}

func reply(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
}

// cors lets pages of origins call h: it answers preflight requests and
// marks the answers of the others.
func cors(origins []string, h http.Handler) http.Handler {
	anyOrigin := slices.Contains(origins, "*")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		w.Header().Add("Vary", "Origin")
		if origin != "" && (anyOrigin || slices.Contains(origins, origin)) {
			w.Header().Set("Access-Control-Allow-Origin", origin)
			if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
				w.Header().Set("Access-Control-Allow-Methods", "POST")
				w.Header().Set("Access-Control-Allow-Headers", "Content-Type")
				w.Header().Set("Access-Control-Max-Age", "600")
				w.WriteHeader(http.StatusNoContent)
				return
			}
		}
		h.ServeHTTP(w, r)
	})
}

// page shows every event its socket receives, joins rooms, and posts to
// /send as any other page of the application would.
const page = `<!doctype html>
<meta charset="utf-8">
<title>restemit</title>
<link rel="icon" href="data:,">
<form id="join"><input id="room" placeholder="room"><button>Join</button></form>
<form id="send"><input id="data" placeholder="text"><input id="to" placeholder="room (empty: all)"><button>POST /send</button></form>
<ul id="events"></ul>
<script src="/socket.io/socket.io.js"></script>
<script>
  const socket = io();
  const show = (text) => {
    const li = document.createElement('li');
    li.textContent = text;
    document.getElementById('events').appendChild(li);
  };
  socket.onAny((event, ...args) => show(event + ': ' + JSON.stringify(args)));
  document.getElementById('join').addEventListener('submit', async (e) => {
    e.preventDefault();
    show('join: ' + JSON.stringify(await socket.emitWithAck('join', document.getElementById('room').value)));
  });
  document.getElementById('send').addEventListener('submit', async (e) => {
    e.preventDefault();
    const body = { data: document.getElementById('data').value, room: document.getElementById('to').value };
    const res = await fetch('/send', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    show('POST /send: ' + res.status + ' ' + await res.text());
  });
</script>`
