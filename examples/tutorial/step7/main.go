// Command step7 is step 7 of socket.io's "Get started" chat tutorial,
// "Server delivery" (https://socket.io/docs/v4/tutorial/step-7): every
// message is stored in SQLite, and its row id, an increasing number, goes
// with it to the pages as its offset. A page keeps the offset of the last
// message it showed and sends it (auth.serverOffset) each time it
// connects; unless connection state recovery brought the socket back, the
// server then sends it every stored message after that offset. A page
// that was away, even across a server restart, catches up, and a new or
// reloaded page (offset 0) shows the whole history.
//
// One departure from the tutorial, whose code has a race: there a socket
// gets every broadcast from the moment it connects, before its catch-up
// query has run, so a message sent meanwhile reached a connecting page
// twice, once out of order. Here messages are broadcast to a room, "chat",
// that a socket joins only once caught up; a lock held across storing and
// broadcasting a message, and across the catch-up and the join, makes
// each message reach the page either in the catch-up or afterwards, never
// both, never neither.
//
// From the repository's root:
//
//	go run ./examples/tutorial/step7 [-addr 127.0.0.1:3000] [-db chat.db]
//
// then open http://127.0.0.1:3000 in two tabs, type, reload one, stop and
// restart the server. The database file is created when missing.
package main

import (
	"context"
	"database/sql"
	_ "embed"
	"encoding/json"
	"flag"
	"log"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"sync"

	"github.com/switchboard-go/socketio"
	"github.com/switchboard-go/socketio/examples/tutorial/internal/serve"
	_ "modernc.org/sqlite" // the "sqlite" driver, in Go: no C compiler needed
)

//go:embed index.html
var page []byte

func main() {
	addr := flag.String("addr", "127.0.0.1:3000", "`host:port` to listen on; \":3000\" for every interface")
	dbPath := flag.String("db", "chat.db", "the SQLite database `file` that stores the messages")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, *addr, *dbPath, log.Printf); err != nil {
		log.Fatal(err)
	}
}

// run serves the step on addr, with the messages stored in dbPath, until
// ctx is done.
func run(ctx context.Context, addr, dbPath string, logf func(string, ...any)) error {
	db, err := openDB(dbPath)
	if err != nil {
		return err
	}
	defer db.Close()
	io := socketio.NewServer(&socketio.Options{ConnectionStateRecovery: &socketio.Recovery{}})
	c := &chat{io: io, db: db, logf: logf}
	io.OnConnection(func(socket *socketio.Socket) { c.connected(ctx, socket) })
	return serve.Run(ctx, addr, handler(io), io, logf)
}

// openDB opens the database and creates the messages table. The
// client_offset column is for step 8; this step leaves it empty.
func openDB(path string) (*sql.DB, error) {
	db, err := sql.Open("sqlite", path)
	if err != nil {
		return nil, err
	}
	// SQLite takes one writer at a time: one connection makes the
	// handlers of different clients wait for each other instead of
	// failing with "database is locked".
	db.SetMaxOpenConns(1)
	_, err = db.Exec(`CREATE TABLE IF NOT EXISTS messages (
		id INTEGER PRIMARY KEY AUTOINCREMENT,
		client_offset TEXT UNIQUE,
		content TEXT
	)`)
	if err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

type chat struct {
	io   *socketio.Server
	db   *sql.DB
	logf func(string, ...any)

	// mu makes storing a message and broadcasting it one step, and so is
	// catching a socket up and adding it to the room "chat" (see
	// catchUp). Pages then get every message once, in the order of the
	// ids, so that the last offset a page got is one after which it has
	// missed nothing. Without it two clients' messages could be stored as
	// 5 then 6 but sent as 6 then 5.
	mu sync.Mutex
}

// room is where messages are broadcast: sockets join it once caught up.
const room = "chat"

func (c *chat) connected(ctx context.Context, socket *socketio.Socket) {
	socket.On("chat message", func(e *socketio.Event) {
		var msg string
		if e.Decode(0, &msg) != nil {
			return
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		res, err := c.db.ExecContext(ctx, "INSERT INTO messages (content) VALUES (?)", msg)
		if err != nil {
			c.logf("storing a message: %v", err) // lost: step 8 makes the client retry
			return
		}
		id, err := res.LastInsertId()
		if err != nil {
			c.logf("storing a message: %v", err)
			return
		}
		// The offset goes with the message.
		_ = c.io.To(room).Emit("chat message", msg, id)
	})

	// A recovered socket is back in its rooms and got what was broadcast
	// to them while it was away: in the room, it has missed nothing. (It
	// is in it: the library handles a lost connection only once the
	// connection handler that joined it has returned. Were it not, it is
	// caught up as a new socket.)
	if socket.Recovered() && slices.Contains(socket.Rooms(), room) {
		return
	}
	c.catchUp(ctx, socket)
}

// catchUp sends the socket every stored message after the offset its page
// sent, 0 (all of them) when it sent none, then adds it to the room. Both
// under c.mu, as storing and broadcasting a message are: a message stored
// before is in the query's rows and is not broadcast to the socket, one
// stored after is not in them and is broadcast to it. So each comes once,
// in the order of the ids.
func (c *chat) catchUp(ctx context.Context, socket *socketio.Socket) {
	var auth struct {
		ServerOffset int64 `json:"serverOffset"`
	}
	_ = json.Unmarshal(socket.Handshake().Auth, &auth) // none or malformed: from the start
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.sendAfter(ctx, socket, auth.ServerOffset); err != nil {
		c.logf("reading the messages: %v", err)
	}
	socket.Join(room)
}

// sendAfter sends the socket the stored messages whose id is above offset.
func (c *chat) sendAfter(ctx context.Context, socket *socketio.Socket, offset int64) error {
	rows, err := c.db.QueryContext(ctx, "SELECT id, content FROM messages WHERE id > ? ORDER BY id", offset)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var content string
		if err := rows.Scan(&id, &content); err != nil {
			return err
		}
		_ = socket.Emit("chat message", content, id)
	}
	return rows.Err()
}

func handler(io *socketio.Server) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /{$}", serve.Page(page))
	mux.Handle("/socket.io/", io)
	return mux
}
