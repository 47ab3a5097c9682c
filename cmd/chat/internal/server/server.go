// Package server is the chat's real-time side: the Socket.IO server and
// its event handlers, the HTTP API to post into a room, the plain
// WebSocket bridge (/ws), file downloads and the embedded web page. The
// events are documented in cmd/chat/PROTOCOL.md.
//
// Every message is written to the store before anyone is told about it
// (the sender's acknowledgement included), and messages are published
// (broadcast, under one lock, pubMu) in the order of their ids, their
// offsets, so that every connection receives them in that order. A client
// that was away asks for what came after the last id it saw; because of
// that order nothing below that id can still be on its way to it. The
// writes themselves are not under pubMu: the messages that wait meanwhile
// are stored together, sharing one commit (publish.go).
//
// On several nodes (Config.Adapter) that order holds for each node's own
// messages; another node's arrive through Redis a moment later, so a
// client that comes back is caught up from a little before its offset
// (onConnection). What crosses nodes, and how, is in cluster.go.
package server

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchboard-go/socketio"
	"github.com/switchboard-go/socketio/adapter"
	"github.com/switchboard-go/socketio/cmd/chat/internal/store"
	"github.com/switchboard-go/socketio/cmd/chat/internal/valid"
	"github.com/switchboard-go/socketio/engineio"
)

// Authenticator is what the server needs of the auth package: the routes
// of accounts and sessions, and telling who makes a request.
type Authenticator interface {
	Routes(mux *http.ServeMux)
	UserFromRequest(r *http.Request) (store.User, error)
	UserFromToken(ctx context.Context, token string) (store.User, error)
	CheckOrigin(r *http.Request) bool
}

// Config configures a Server. Store, Auth are required.
type Config struct {
	Store  store.Store
	Auth   Authenticator
	Logger *slog.Logger
	// RecoveryWindow is how long a dropped Socket.IO client gets its
	// session back with what it missed; default 2 minutes. Longer absences
	// are caught up by message offset.
	RecoveryWindow time.Duration
	// PingInterval and PingTimeout of the Engine.IO layer; defaults 25s and
	// 20s. Tests shorten them.
	PingInterval, PingTimeout time.Duration
	// DBTimeout bounds each handler's work with the store; default 10s.
	DBTimeout time.Duration
	// HistoryPage is the number of messages sent on join and per history
	// page; default 50.
	HistoryPage int
	// Observer, when set, hears what the Socket.IO server does (metrics).
	Observer socketio.Observer
	// Adapter, when set, links this server to the other nodes of a
	// cluster (redisadapter.New): see cluster.go for what crosses nodes
	// and how. The nodes must share the Store's database. Nil: one node,
	// the in-memory adapter with connection state recovery.
	Adapter adapter.Factory
	// ClusterTimeout bounds a question to the other nodes (their online
	// users); default 3s. A node that does not answer in time is left out
	// of the answer.
	ClusterTimeout time.Duration
}

// Server is the chat server; Handler serves it.
type Server struct {
	io   *socketio.Server
	st   store.Store
	auth Authenticator
	log  *slog.Logger
	hub  *hub
	page int
	// dbTimeout bounds each handler's work with the store.
	dbTimeout time.Duration
	// cluster is set when Config.Adapter links this node to others.
	cluster        bool
	clusterTimeout time.Duration
	closed         atomic.Bool // Shutdown was called
	pubMu          sync.Mutex  // see the package comment
	pub            publisher   // see publish.go
	// lastID is the highest message id published (under pubMu): a socket
	// that connects is told it as its offset, since every later message
	// reaches it live.
	lastID int64
	mux    *http.ServeMux

	wsMu     sync.Mutex
	wsConns  map[*wsClient]bool
	wsClosed bool
	wsWG     sync.WaitGroup
}

// catchUpMax bounds the messages sent to a client that comes back after a
// long absence; past it the client is told to reload history (event
// "resync").
const catchUpMax = 1000

// New returns a chat server.
func New(cfg Config) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.RecoveryWindow == 0 {
		cfg.RecoveryWindow = 2 * time.Minute
	}
	if cfg.DBTimeout == 0 {
		cfg.DBTimeout = 10 * time.Second
	}
	if cfg.HistoryPage == 0 {
		cfg.HistoryPage = 50
	}
	if cfg.ClusterTimeout == 0 {
		cfg.ClusterTimeout = 3 * time.Second
	}
	s := &Server{st: cfg.Store, auth: cfg.Auth, log: cfg.Logger, hub: newHub(), page: cfg.HistoryPage, dbTimeout: cfg.DBTimeout, wsConns: map[*wsClient]bool{},
		cluster: cfg.Adapter != nil, clusterTimeout: cfg.ClusterTimeout}
	// On a cluster, sessions are kept per node (see
	// socketio.Recovery): a client that comes back to the same node (the
	// load balancer is sticky) is recovered with what every node sent it
	// meanwhile; one that lands on another node catches up by its offset
	// from the shared database instead (onConnection).
	recovery := &socketio.Recovery{MaxDisconnectionDuration: cfg.RecoveryWindow}
	s.io = socketio.NewServer(&socketio.Options{
		Adapter: cfg.Adapter,
		Engine: engineio.Options{
			PingInterval: cfg.PingInterval,
			PingTimeout:  cfg.PingTimeout,
			// A file travels as one binary attachment: over long-polling
			// it is base64 (4/3), so the limit leaves room for that.
			MaxPayload: valid.FileMax*4/3 + 64<<10,
			// A file sent to a room is queued to every member; the queue
			// must hold one.
			MaxQueueBytes: 2*valid.FileMax + 1<<20,
			// Cross-site WebSocket hijacking: a page of another site could
			// open a Socket.IO connection that carries the user's cookie.
			AllowRequest: func(r *http.Request) error {
				if !s.auth.CheckOrigin(r) {
					return errors.New("origin not allowed")
				}
				return nil
			},
		},
		ConnectionStateRecovery: recovery,
		Logger:                  cfg.Logger,
		Observer:                cfg.Observer,
	})
	s.lastID = s.latestRoomMessage()
	s.io.Use(s.authenticate)
	if r, ok := cfg.Auth.(interface{ OnRevoke(func(key string)) }); ok {
		r.OnRevoke(s.disconnectCredential)
	}
	s.io.OnConnection(s.onConnection)
	s.clusterHandlers()
	s.routes()
	return s
}

// Handler returns the HTTP handler of everything: the page, /socket.io/,
// the API, /ws, /files/ and /healthz.
func (s *Server) Handler() http.Handler { return s.mux }

// IO returns the Socket.IO server.
func (s *Server) IO() *socketio.Server { return s.io }

// Shutdown tells every client that the server is going away and closes
// their connections: Socket.IO clients get "server shutting down" (they
// reconnect to the next server), /ws clients a close frame 1001.
func (s *Server) Shutdown(ctx context.Context) error {
	s.closed.Store(true)
	// This node's users go offline together: the other nodes' users are
	// told once per room, not once per connection as they close (which,
	// on a cluster, would also ask every node who is online each time).
	// Alone, a node has nobody left to tell.
	if rooms := s.hub.drain(); s.cluster && len(rooms) > 0 {
		s.emitPresence(rooms...)
	}
	s.wsMu.Lock()
	s.wsClosed = true
	conns := make([]*wsClient, 0, len(s.wsConns))
	for c := range s.wsConns {
		conns = append(conns, c)
	}
	s.wsMu.Unlock()
	for _, c := range conns {
		c.goingAway()
	}
	err := s.io.Shutdown(ctx)
	done := make(chan struct{})
	go func() {
		s.wsWG.Wait()
		// The messages being stored are answered before the store closes.
		<-s.pub.idle()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		if err == nil {
			err = ctx.Err()
		}
	}
	return err
}

func (s *Server) routes() {
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", s.io)
	authMux := http.NewServeMux()
	s.auth.Routes(authMux)
	mux.Handle("/api/", authMux)
	mux.HandleFunc("POST /api/rooms/{room}/messages", s.postMessage)
	mux.HandleFunc("GET /ws", s.serveWS)
	mux.HandleFunc("GET /files/{id}", s.serveFile)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	static, _ := fs.Sub(webFS, "web")
	files := http.FileServerFS(static)
	mux.HandleFunc("GET /static/", func(w http.ResponseWriter, r *http.Request) {
		securityHeaders(w)
		// The assets change with the binary: revalidate each time.
		w.Header().Set("Cache-Control", "no-cache")
		http.StripPrefix("/static/", files).ServeHTTP(w, r)
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		securityHeaders(w)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		b, _ := webFS.ReadFile("web/index.html")
		_, _ = w.Write(b)
	})
	s.mux = mux
}

// JoinGeneralOnSignup is the auth.Options.OnSignup hook of the chat: it
// makes a new user a member of general, so that a newcomer lands in a room
// with people in it. It is given the user as stored (its name normalised
// by auth), not as typed.
func JoinGeneralOnSignup(st store.Store, log *slog.Logger) func(context.Context, store.User) {
	return func(ctx context.Context, u store.User) {
		if err := st.JoinRoom(ctx, u.Name, "general"); err != nil {
			log.Error("chat: joining general", "user", u.Name, "err", err)
		}
	}
}

// securityHeaders keeps the page's scripts to its own: no inline script,
// no framing, no sniffing.
func securityHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' blob: data:; connect-src 'self' ws: wss:; script-src 'self'; style-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("X-Frame-Options", "DENY")
}

// wireMsg is a message as clients see it.
type wireMsg struct {
	ID       int64     `json:"id"`
	Room     string    `json:"room,omitempty"`
	From     string    `json:"from"`
	To       string    `json:"to,omitempty"`
	Text     string    `json:"text,omitempty"`
	File     *wireFile `json:"file,omitempty"`
	ClientID string    `json:"clientId,omitempty"`
	Sent     int64     `json:"sent"` // milliseconds since the epoch
}

type wireFile struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
	Type string `json:"type"`
	Size int64  `json:"size"`
	URL  string `json:"url"`
}

func toWire(m store.Message) wireMsg {
	w := wireMsg{ID: m.ID, Room: m.Room, From: m.From, To: m.To, Text: m.Text, ClientID: m.ClientID, Sent: m.Sent.UnixMilli()}
	if m.File != nil {
		w.File = &wireFile{ID: m.File.ID, Name: m.File.Name, Type: m.File.Type, Size: m.File.Size, URL: "/files/" + strconv.FormatInt(m.File.ID, 10)}
	}
	return w
}

func toWireList(ms []store.Message) []wireMsg {
	out := make([]wireMsg, len(ms))
	for i, m := range ms {
		out[i] = toWire(m)
	}
	return out
}

// latestRoomMessage is the id of the newest room message, where a new
// process starts its lastID. A newer private message, if any, is sent
// again to a client that catches up from there; the client drops it by id.
func (s *Server) latestRoomMessage() int64 {
	ctx, cancel := context.WithTimeout(context.Background(), s.dbTimeout)
	defer cancel()
	rooms, err := s.st.Rooms(ctx)
	if err != nil {
		s.log.Error("chat: rooms at start", "err", err)
		return 0
	}
	var last int64
	for _, r := range rooms {
		ms, err := s.st.RoomHistory(ctx, r.Name, 0, 1)
		if err != nil {
			s.log.Error("chat: newest message at start", "room", r.Name, "err", err)
			continue
		}
		for _, m := range ms {
			last = max(last, m.ID)
		}
	}
	return last
}

// The Socket.IO rooms of a chat room and of a user's sockets; the
// prefixes keep them apart from each other and from socket ids.
func roomKey(room string) string { return "r:" + room }
func userKey(user string) string { return "u:" + user }

// errInternal is what a client is told when the server failed; the cause
// is logged.
var errInternal = errors.New("the server failed; try again")

func (s *Server) internal(op string, err error) error {
	s.log.Error("chat: "+op, "err", err)
	return errInternal
}
