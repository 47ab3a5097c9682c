// Command step9 is step 9 of socket.io's "Get started" chat tutorial,
// "Scaling horizontally" (https://socket.io/docs/v4/tutorial/step-9): step
// 8 served by several servers at once, one per CPU core by default, on
// ports 3000, 3001, …; a page on any of them chats with the pages on all
// of them.
//
// From the repository's root, with a Redis server at 127.0.0.1:6379:
//
//	go run ./examples/tutorial/step9 [-nodes 2] [-port 3000] [-db chat.db] [-redis redis://127.0.0.1:6379/0] [-key socket.io]
//
// then open http://127.0.0.1:3000 and http://127.0.0.1:3001: what is typed
// in one shows in the other.
//
// # How the servers share the chat
//
// The tutorial's Node.js program forks one worker process per core with
// the cluster module, and joins their Socket.IO servers with the cluster
// adapter, which passes messages through the primary process. Go has no
// fork, and a Go program uses every core from one process, so this
// program starts its servers ("nodes") in one process. Each node is
// nevertheless built as if it ran alone: its own Socket.IO server, its own
// connection to Redis, its own handle on the SQLite file. What joins them
// is Redis (the adapter of package redisadapter, Node's
// @socket.io/redis-adapter), and the database, so nodes in separate
// processes, or on separate machines sharing a disk, work the same: run
// `step9 -nodes 1 -port 3000` and `step9 -nodes 1 -port 3001` side by side.
//
// All nodes store the messages in one SQLite file. SQLite lets several
// processes use one file: WAL mode lets readers go on while one writer
// writes, and a busy timeout makes a writer wait for its turn instead of
// failing with "database is locked".
//
// # Messages in the order of their ids, across nodes
//
// Step 8 sends messages in the order of their ids, because a page that got
// message 6 asks, when it reconnects, only for what comes after 6: had 5
// come after 6, or not at all yet, it would be lost or shown twice. One
// server kept that order by storing and sending under one lock; with
// several servers that lock does not reach across them, and the adapter
// would not keep it anyway: node A stores 5 and node B stores 6, B sends
// 6 to its own pages at once while 5 is still on its way from A through
// Redis, so B's pages get 6 before 5.
//
// So a node does not forward the message itself. Having stored message
// n, it tells the other nodes "the messages up to id n are stored" (a
// server-side event, "stored", through the adapter), and each node, itself
// included, sends its own pages every message it has not sent them yet, up
// to n, read from the database in id order. A node remembers the last id it sent: an announcement of an id it
// has passed is ignored, one that skips ids sends the skipped ones first.
// This is sound because SQLite has one writer at a time and AUTOINCREMENT
// never hands out an id twice: when row n is stored, every row with a
// smaller id is stored already (or never will be), so reading up to n
// misses none. Announcements may then arrive late, out
// of order, twice, or never (Redis down): every page still gets each
// message once, in order — one missed announcement delays a node's pages
// until the next one arrives or the page reconnects.
//
// A page that connects is caught up under the same node lock, up to the
// last id the node has sent to its pages (after sending them anything
// newer first, should the page come from another node that is ahead of
// this one), and only then joins the room the node sends new messages to, so
// that it gets nothing twice either.
//
// Step 6's connection state recovery is off: the Redis adapter keeps no
// sessions, so it would recover no one; step 7's catch-up does that work.
package main

import (
	"context"
	"database/sql"
	_ "embed"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/switchboard-go/socketio"
	"github.com/switchboard-go/socketio/examples/tutorial/internal/serve"
	"github.com/switchboard-go/socketio/redisadapter"
	"modernc.org/sqlite" // the "sqlite" driver, in Go: no C compiler needed
	sqlite3 "modernc.org/sqlite/lib"
)

//go:embed index.html
var page []byte

func main() {
	nodes := flag.Int("nodes", runtime.NumCPU(), "how many servers to run, on consecutive ports")
	host := flag.String("host", "127.0.0.1", "`address` to listen on; \"\" for every interface")
	port := flag.Int("port", 3000, "the first server's `port`; the others take the next ones")
	dbPath := flag.String("db", "chat.db", "the SQLite database `file` that stores the messages")
	redisURL := flag.String("redis", "redis://127.0.0.1:6379/0", "the Redis server that joins the nodes (`URL`)")
	key := flag.String("key", "socket.io", "the `prefix` of the Redis channels: nodes with the same one chat together")
	flag.Parse()
	if *nodes < 1 {
		log.Fatal("-nodes must be at least 1")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	cfg := config{dbPath: *dbPath, redisURL: *redisURL, key: *key}
	if err := runNodes(ctx, *host, *port, *nodes, cfg, log.Printf); err != nil {
		log.Fatal(err)
	}
}

// runNodes runs n nodes on ports port … port+n-1 until ctx is done or one
// of them fails, which stops the others.
func runNodes(ctx context.Context, host string, port, n int, cfg config, logf func(string, ...any)) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make(chan error, n)
	for i := range n {
		addr := net.JoinHostPort(host, strconv.Itoa(port+i))
		go func() {
			err := run(ctx, addr, cfg, logf)
			if err != nil {
				err = fmt.Errorf("node on %s: %w", addr, err)
			}
			cancel()
			errs <- err
		}()
	}
	var first error
	for range n {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return first
}

// config is what every node shares.
type config struct {
	dbPath   string // the SQLite file
	redisURL string // redis://host:port/db
	key      string // the Redis channels' prefix
}

// run serves one node on addr until ctx is done.
func run(ctx context.Context, addr string, cfg config, logf func(string, ...any)) error {
	ropts, err := redis.ParseURL(cfg.redisURL)
	if err != nil {
		return fmt.Errorf("-redis: %w", err)
	}
	rdb := redis.NewClient(ropts)
	defer rdb.Close()
	// Without Redis the nodes would each chat alone: say so now.
	if err := rdb.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("redis at %s: %w", ropts.Addr, err)
	}
	db, err := openDB(cfg.dbPath)
	if err != nil {
		return err
	}
	defer db.Close()
	io := socketio.NewServer(&socketio.Options{Adapter: redisadapter.New(rdb, &redisadapter.Options{Key: cfg.key})})
	c := &chat{io: io, db: db, logf: logf}
	// The adapter listens to Redis from NewServer on: an announcement
	// made after this read is heard, and what is stored before it needs
	// none (no page is connected yet; a page that comes is caught up).
	if err := db.QueryRowContext(ctx, "SELECT COALESCE(MAX(id), 0) FROM messages").Scan(&c.sent); err != nil {
		return err
	}
	io.OnServerSideEmit("stored", func(e *socketio.ServerSideEvent) {
		var id int64
		if e.Decode(0, &id) == nil {
			c.deliver(ctx, id)
		}
	})
	io.OnConnection(func(socket *socketio.Socket) { c.connected(ctx, socket) })
	return serve.Run(ctx, addr, handler(io), io, logf)
}

// openDB opens the database, shared by every node, and creates the
// messages table of step 8.
func openDB(path string) (*sql.DB, error) {
	// busy_timeout: a node that finds another writing waits up to 5 s
	// for its turn instead of failing at once ("database is locked").
	// WAL: other nodes read while one writes. Both hold for every
	// connection the pool opens.
	dsn := "file:" + path + "?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)"
	// Nodes that start together on a new file may still find it busy:
	// SQLite does not wait, whatever the timeout, when two connections
	// switch the file to WAL at once, and two that wait for each other
	// wait the whole timeout before one gives up. Try again, for longer
	// than one timeout.
	deadline := time.Now().Add(20 * time.Second)
	for {
		db, err := tryOpenDB(dsn)
		var sqlErr *sqlite.Error
		if err == nil || !errors.As(err, &sqlErr) || sqlErr.Code()&0xff != sqlite3.SQLITE_BUSY || time.Now().After(deadline) {
			return db, err
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func tryOpenDB(dsn string) (*sql.DB, error) {
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	// One connection per node, as in step 8: the node's own handlers
	// wait for each other in Go rather than in SQLite.
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

// room holds this node's sockets that are caught up: a socket joins it
// once its catch-up is sent, under chat.mu. Sending to every socket would
// not do: a socket is in that set before its connection handler runs, so
// a message sent meanwhile would reach it live and again in its catch-up.
const room = "chat"

type chat struct {
	io   *socketio.Server
	db   *sql.DB
	logf func(string, ...any)

	// mu guards sent and orders what this node sends its pages: the
	// messages in id order, and a new page's catch-up between them.
	mu   sync.Mutex
	sent int64 // the last id sent to this node's pages
}

func (c *chat) connected(ctx context.Context, socket *socketio.Socket) {
	socket.On("chat message", func(e *socketio.Event) {
		var msg, clientOffset string
		if e.Decode(0, &msg) != nil || e.Decode(1, &clientOffset) != nil {
			return // not what the page sends
		}
		res, err := c.db.ExecContext(ctx, "INSERT INTO messages (content, client_offset) VALUES (?, ?)", msg, clientOffset)
		if err != nil {
			var sqlErr *sqlite.Error
			if errors.As(err, &sqlErr) && sqlErr.Code()&0xff == sqlite3.SQLITE_CONSTRAINT {
				// Stored and announced already: the client is sending
				// it again. Acknowledge it so that it stops.
				_ = e.Ack()
				return
			}
			// No acknowledgement: the client sends it again.
			c.logf("storing a message: %v", err)
			return
		}
		id, err := res.LastInsertId()
		if err != nil {
			c.logf("storing a message: %v", err)
			return
		}
		c.deliver(ctx, id)
		if err := c.io.ServerSideEmit(ctx, "stored", id); err != nil {
			// The other nodes' pages get it with the next message
			// announced, or when they reconnect.
			c.logf("announcing message %d: %v", id, err)
		}
		// Stored: it will reach every page. Acknowledge, else the client
		// keeps sending it.
		_ = e.Ack()
	})
	c.catchUp(ctx, socket)
}

// deliver sends this node's pages every message up to id they have not
// been sent, in id order.
func (c *chat) deliver(ctx context.Context, id int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.deliverLocked(ctx, id)
}

// deliverLocked sends the room the messages after c.sent up to id, and
// moves c.sent on. c.mu is held.
func (c *chat) deliverLocked(ctx context.Context, id int64) {
	if id <= c.sent {
		return // sent already
	}
	c.send(ctx, c.sent, id, func(id int64, content string) {
		_ = c.io.Local().To(room).Emit("chat message", content, id)
		c.sent = id
	})
}

// catchUp sends the socket every stored message after the offset its page
// sent, 0 (all of them) when it sent none, then puts it in the room of
// those sent the new ones.
func (c *chat) catchUp(ctx context.Context, socket *socketio.Socket) {
	var auth struct {
		ServerOffset int64 `json:"serverOffset"`
	}
	_ = json.Unmarshal(socket.Handshake().Auth, &auth) // none or malformed: from the start
	c.mu.Lock()
	defer c.mu.Unlock()
	// The page may come from a node that is ahead of this one: bring the
	// room up to the latest message first, so that after this the page
	// and the room are at the same message.
	var last int64
	if err := c.db.QueryRowContext(ctx, "SELECT COALESCE(MAX(id), 0) FROM messages").Scan(&last); err != nil {
		c.logf("reading the messages: %v", err)
	} else {
		c.deliverLocked(ctx, last)
	}
	c.send(ctx, auth.ServerOffset, c.sent, func(id int64, content string) {
		_ = socket.Emit("chat message", content, id)
	})
	socket.Join(room)
}

// send calls emit with every stored message after the id from up to the
// id to, in id order.
func (c *chat) send(ctx context.Context, from, to int64, emit func(id int64, content string)) {
	rows, err := c.db.QueryContext(ctx, "SELECT id, content FROM messages WHERE id > ? AND id <= ? ORDER BY id", from, to)
	if err != nil {
		c.logf("reading the messages: %v", err)
		return
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var content string
		if err := rows.Scan(&id, &content); err != nil {
			c.logf("reading the messages: %v", err)
			return
		}
		emit(id, content)
	}
	if err := rows.Err(); err != nil {
		c.logf("reading the messages: %v", err)
	}
}

func handler(io *socketio.Server) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /{$}", serve.Page(page))
	mux.Handle("/socket.io/", io)
	return mux
}
