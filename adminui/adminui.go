package adminui

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	socketio "github.com/switchboard-go/socketio"
	"golang.org/x/crypto/bcrypt"
)

// BasicAuth is the login the admin UI's connection form must give: its
// username, and the bcrypt hash of its password (Node: auth: {type:
// "basic", username, password}). Make the hash with
// bcrypt.GenerateFromPassword, or with any bcrypt tool ($2a$, $2b$ and
// $2y$ hashes are accepted).
type BasicAuth struct {
	Username     string
	PasswordHash string
}

// The values of Options.Mode.
const (
	// Development reports every socket (all_sockets, socket_connected,
	// socket_updated, socket_disconnected), every room change and every
	// event received and sent.
	Development = "development"
	// Production reports only the server's statistics: the UI's dashboard
	// and its servers page. It costs nothing per socket.
	Production = "production"
)

// Options configure Instrument.
type Options struct {
	// Auth is the login the UI must give. Nil refuses to start unless
	// NoAuth is set, as instrument() refuses an auth option left out.
	Auth *BasicAuth
	// NoAuth lets anyone who reaches the server connect to the admin
	// namespace (Node: auth: false). Only for a server nobody else can
	// reach.
	NoAuth bool
	// NamespaceName is the admin namespace; default "/admin" (Node:
	// namespaceName).
	NamespaceName string
	// ReadOnly refuses the UI's operations: emit, join, leave and
	// disconnect (Node: readonly).
	ReadOnly bool
	// ServerID names this server in the UI; default the host name (Node:
	// serverId).
	ServerID string
	// Mode is Development (the default, as instrument() without NODE_ENV)
	// or Production.
	Mode string
	// StatsInterval is how often server_stats is sent; default 2 s, the
	// period instrument() uses.
	StatsInterval time.Duration
}

// The features the server announces in its config event: the UI shows the
// operations listed.
const (
	featureEmit             = "EMIT"
	featureJoin             = "JOIN"
	featureLeave            = "LEAVE"
	featureDisconnect       = "DISCONNECT"
	featureMJoin            = "MJOIN"
	featureMLeave           = "MLEAVE"
	featureMDisconnect      = "MDISCONNECT"
	featureAggregatedEvents = "AGGREGATED_EVENTS"
	featureAllEvents        = "ALL_EVENTS"
)

// Instrumentation is a server instrumented for the admin UI.
type Instrumentation struct {
	srv      *socketio.Server
	admin    *socketio.Namespace
	opts     Options
	features []string
	dev      bool
	base     statsBase

	mu sync.Mutex
	// seen and starting keep a namespace from being watched twice when
	// it is both listed at the start and announced by OnNewNamespace
	// (see watchAll): seen holds only namespaces of the start.
	seen     map[*socketio.Namespace]bool
	starting bool
	sessions map[string]bool             // session ids given to logged-in UIs
	fresh    map[*socketio.Socket]string // session ids to send on connection
	// polling holds, by connection id, the sockets whose connection may
	// still upgrade; upgraded, the ids of connections the engine
	// reported upgraded since the run goroutine last looked.
	polling  map[string]map[*socketio.Socket]pollState
	upgraded []string
	prev     engineCounts

	traffic traffic       // what the observer counted since the last server_stats
	detach  func()        // stops the observer
	wake    chan struct{} // upgraded has ids (a buffer of one: never blocks)

	stop     chan struct{}
	stopOnce sync.Once
	done     chan struct{}
}

type pollState struct {
	nsp      string
	clientID string
}

// Instrument makes srv answer the official Socket.IO admin UI
// (@socket.io/admin-ui) as Node's instrument(io, options) does: it
// creates the admin namespace with its authentication, and reports the
// server to the UIs connected there until Close. It fails, as
// instrument() throws, when neither Auth nor NoAuth is set, when the
// password hash is not a bcrypt hash, or when Mode is unknown.
func Instrument(srv *socketio.Server, opts Options) (*Instrumentation, error) {
	if opts.NamespaceName == "" {
		opts.NamespaceName = "/admin"
	}
	if opts.Mode == "" {
		opts.Mode = Development
	}
	if opts.Mode != Development && opts.Mode != Production {
		return nil, fmt.Errorf("adminui: Mode %q is neither %q nor %q", opts.Mode, Development, Production)
	}
	if opts.StatsInterval <= 0 {
		opts.StatsInterval = 2 * time.Second
	}
	switch {
	case opts.Auth == nil && !opts.NoAuth:
		return nil, errors.New("adminui: Options.Auth must be set, or NoAuth explicitly")
	case opts.Auth != nil && opts.NoAuth:
		return nil, errors.New("adminui: Options.Auth and NoAuth are both set")
	case opts.Auth != nil:
		if _, err := bcrypt.Cost([]byte(opts.Auth.PasswordHash)); err != nil {
			return nil, fmt.Errorf("adminui: Auth.PasswordHash must be a valid bcrypt hash: %w", err)
		}
	}
	in := &Instrumentation{
		srv:      srv,
		opts:     opts,
		dev:      opts.Mode == Development,
		base:     newStatsBase(opts.ServerID),
		seen:     make(map[*socketio.Namespace]bool),
		sessions: make(map[string]bool),
		fresh:    make(map[*socketio.Socket]string),
		polling:  make(map[string]map[*socketio.Socket]pollState),
		wake:     make(chan struct{}, 1),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
	}
	if !opts.ReadOnly {
		in.features = []string{featureEmit, featureJoin, featureLeave, featureDisconnect,
			featureMJoin, featureMLeave, featureMDisconnect}
	}
	in.features = append(in.features, featureAggregatedEvents)
	if in.dev {
		in.features = append(in.features, featureAllEvents)
	}
	st := srv.Engine().Stats()
	in.prev = engineCounts{handshakes: st.Handshakes, open: st.Connections}

	in.admin = srv.Of(opts.NamespaceName)
	if opts.Auth != nil {
		in.admin.Use(in.authenticate)
	}
	in.admin.OnConnection(in.onAdmin)
	in.detach = srv.Observe(observer{in})
	if in.dev {
		in.watchAll()
	}
	in.emitStats() // at once, as instrument() does
	go in.run()
	return in, nil
}

// Namespace returns the admin namespace.
func (in *Instrumentation) Namespace() *socketio.Namespace { return in.admin }

// Close stops the statistics and detaches the instrumentation from the
// server's observers; the admin namespace stays, and the sockets
// connected to it stay connected.
func (in *Instrumentation) Close() {
	in.stopOnce.Do(func() {
		in.detach()
		close(in.stop)
	})
	<-in.done
}

// handshakeAuth is what the UI's connection form sends as its auth
// payload.
type handshakeAuth struct {
	Username  string `json:"username"`
	Password  string `json:"password"`
	SessionID string `json:"sessionId"`
}

// authenticate is the admin namespace's middleware: a session id given
// at an earlier login, or the username and password.
func (in *Instrumentation) authenticate(s *socketio.Socket) error {
	var a handshakeAuth
	_ = json.Unmarshal(s.Handshake().Auth, &a)
	if a.SessionID != "" {
		in.mu.Lock()
		ok := in.sessions[a.SessionID]
		in.mu.Unlock()
		if ok {
			return nil
		}
	}
	want := in.opts.Auth
	if subtle.ConstantTimeCompare([]byte(a.Username), []byte(want.Username)) == 1 &&
		bcrypt.CompareHashAndPassword([]byte(want.PasswordHash), []byte(a.Password)) == nil {
		var b [8]byte
		_, _ = rand.Read(b[:])
		id := hex.EncodeToString(b[:])
		in.mu.Lock()
		in.sessions[id] = true
		in.fresh[s] = id
		in.mu.Unlock()
		return nil
	}
	return errors.New("invalid credentials")
}

// onAdmin greets a UI: its session id after a login, the features, and in
// development mode every socket.
func (in *Instrumentation) onAdmin(s *socketio.Socket) {
	in.mu.Lock()
	session, ok := in.fresh[s]
	delete(in.fresh, s)
	in.mu.Unlock()
	if ok {
		_ = s.Emit("session", session)
	}
	in.registerOperations(s)
	_ = s.Emit("config", map[string]any{"supportedFeatures": in.features})
	if in.dev {
		_ = s.Emit("all_sockets", in.allSockets())
	}
}

// allSockets lists the sockets of every namespace, with a cluster adapter
// those of the other servers too.
func (in *Instrumentation) allSockets() []serializedSocket {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	out := []serializedSocket{}
	for _, ns := range in.srv.Namespaces() {
		remote, err := ns.FetchSockets(ctx)
		if err != nil {
			continue
		}
		for _, r := range remote {
			sock := serializeRemote(r, ns)
			if s, ok := ns.Socket(r.ID); ok {
				addHost(&sock, s)
			}
			out = append(out, sock)
		}
	}
	return out
}

// nsp finds an existing namespace: an operation naming another one does
// nothing (instrument() would create it).
func (in *Instrumentation) nsp(name string) *socketio.Namespace {
	for _, ns := range in.srv.Namespaces() {
		if ns.Name() == name {
			return ns
		}
	}
	return nil
}

// target is the sockets of namespace name, those of room filter when
// filter is set (the UI names a socket by its id, the room of its own).
func (in *Instrumentation) target(name, filter string) (socketio.BroadcastOperator, bool) {
	ns := in.nsp(name)
	if ns == nil {
		return socketio.BroadcastOperator{}, false
	}
	if filter != "" {
		return ns.In(filter), true
	}
	return ns.Except(), true
}

// registerOperations answers the UI's operations, unless read-only.
func (in *Instrumentation) registerOperations(s *socketio.Socket) {
	if in.opts.ReadOnly {
		return
	}
	str := func(e *socketio.Event, i int) string {
		var v string
		if i < e.Len() {
			_ = e.Decode(i, &v)
		}
		return v
	}
	// emit(nsp, filter, event, ...args)
	s.On("emit", func(e *socketio.Event) {
		ev := str(e, 2)
		if ev == "" {
			return
		}
		if b, ok := in.target(str(e, 0), str(e, 1)); ok {
			_ = b.Emit(ev, e.RawArgs()[3:]...)
		}
	})
	// join(nsp, room, filter), leave(nsp, room, filter)
	s.On("join", func(e *socketio.Event) {
		if room := str(e, 1); room != "" {
			if b, ok := in.target(str(e, 0), str(e, 2)); ok {
				_ = b.SocketsJoin(room)
			}
		}
	})
	s.On("leave", func(e *socketio.Event) {
		if room := str(e, 1); room != "" {
			if b, ok := in.target(str(e, 0), str(e, 2)); ok {
				_ = b.SocketsLeave(room)
			}
		}
	})
	// _disconnect(nsp, close, filter)
	s.On("_disconnect", func(e *socketio.Event) {
		var closeConn bool
		if e.Len() > 1 {
			_ = e.Decode(1, &closeConn)
		}
		if b, ok := in.target(str(e, 0), str(e, 2)); ok {
			_ = b.DisconnectSockets(closeConn)
		}
	})
}

// emit sends one event to every UI.
func (in *Instrumentation) emit(event string, args ...any) {
	_ = in.admin.Emit(event, args...)
}

// now is a timestamp as the UI receives a Date: JSON's ISO form, in
// milliseconds.
func now() string { return jsDate(time.Now()) }

func jsDate(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// watchAll watches every namespace: those that exist, and those
// OnNewNamespace announces later. The hook is set first, then the
// namespaces listed, so that none created meanwhile is missed; one created
// meanwhile may come both ways, in either order, and seen lets the second
// pass. Its entries are only namespaces of the start, so it stays small
// on a server that creates and drops dynamic namespaces all day.
func (in *Instrumentation) watchAll() {
	in.mu.Lock()
	in.starting = true
	in.mu.Unlock()
	in.srv.OnNewNamespace(func(ns *socketio.Namespace) {
		in.mu.Lock()
		if in.seen[ns] {
			delete(in.seen, ns)
			in.mu.Unlock()
			return
		}
		if in.starting {
			in.seen[ns] = true
		}
		in.mu.Unlock()
		in.watch(ns)
	})
	for _, ns := range in.srv.Namespaces() {
		in.mu.Lock()
		if in.seen[ns] {
			delete(in.seen, ns)
			in.mu.Unlock()
			continue
		}
		in.seen[ns] = true
		in.mu.Unlock()
		in.watch(ns)
	}
	in.mu.Lock()
	in.starting = false
	in.mu.Unlock()
}

// watch reports the sockets, rooms and events of ns (development mode).
func (in *Instrumentation) watch(ns *socketio.Namespace) {
	name := ns.Name()
	ns.OnConnection(func(s *socketio.Socket) { in.onSocket(ns, s) })
	ns.OnRoom(func(ev socketio.RoomEvent) {
		switch ev.Kind {
		case socketio.RoomJoined:
			in.emit("room_joined", name, ev.Room, ev.ID, now())
		case socketio.RoomLeft:
			in.emit("room_left", name, ev.Room, ev.ID, now())
		}
	})
}

// onSocket reports a socket that connected to ns, and follows it.
func (in *Instrumentation) onSocket(ns *socketio.Namespace, s *socketio.Socket) {
	name := ns.Name()
	conn := s.Conn()
	clientID := conn.ID()
	if len(clientID) > 12 {
		clientID = clientID[:12]
	}
	transport := conn.Transport()
	s.Set(adminKey, map[string]any{"clientId": clientID, "transport": transport})
	in.emit("socket_connected", serializeLocal(s, ns), now())
	connID := conn.ID()
	if transport == "polling" {
		in.mu.Lock()
		m := in.polling[connID]
		if m == nil {
			m = make(map[*socketio.Socket]pollState, 1)
			in.polling[connID] = m
		}
		m[s] = pollState{nsp: name, clientID: clientID}
		in.mu.Unlock()
		// An upgrade reported before the socket was listed found
		// nothing to update: look again. The engine switches the
		// transport before it reports the upgrade, so either this sees
		// it or the report comes after the listing.
		if conn.Transport() != "polling" {
			in.connUpgraded(connID)
		}
	}
	if ns != in.admin {
		id := s.ID()
		s.OnAny(func(e *socketio.Event) {
			args := append([]any{e.Name}, e.RawArgs()...)
			in.emit("event_received", name, id, args, now())
		})
		s.OnAnyOutgoing(func(event string, args []any) {
			in.emit("event_sent", name, id, append([]any{event}, args...), now())
		})
	}
	s.OnDisconnect(func(reason socketio.Reason) {
		in.mu.Lock()
		if m := in.polling[connID]; m != nil {
			delete(m, s)
			if len(m) == 0 {
				delete(in.polling, connID)
			}
		}
		in.mu.Unlock()
		in.emit("socket_disconnected", name, s.ID(), string(reason), now())
	})
}

// connUpgraded notes that connection id left long-polling, for the run
// goroutine to report its sockets (socket_updated). It only notes: the
// observer calls it, and an observer must not call back into the server.
func (in *Instrumentation) connUpgraded(id string) {
	select {
	case <-in.stop:
		return // closed: nobody would read it
	default:
	}
	in.mu.Lock()
	in.upgraded = append(in.upgraded, id)
	in.mu.Unlock()
	select {
	case in.wake <- struct{}{}:
	default: // already woken
	}
}

// reportUpgrades reports the sockets of the connections noted upgraded
// (instrument() hears the engine's "upgrade" event; here the observer
// hears it, see observer.ConnUpgraded).
func (in *Instrumentation) reportUpgrades() {
	type upgraded struct {
		s *socketio.Socket
		pollState
	}
	var ups []upgraded
	in.mu.Lock()
	for _, id := range in.upgraded {
		for s, st := range in.polling[id] {
			ups = append(ups, upgraded{s, st})
		}
		delete(in.polling, id)
	}
	in.upgraded = nil
	in.mu.Unlock()
	for _, u := range ups {
		t := u.s.Conn().Transport()
		u.s.Set(adminKey, map[string]any{"clientId": u.clientID, "transport": t})
		in.emit("socket_updated", map[string]any{"id": u.s.ID(), "nsp": u.nsp, "transport": t})
	}
}

// run sends the statistics, and reports upgrades in development mode,
// until Close.
func (in *Instrumentation) run() {
	defer close(in.done)
	stats := time.NewTicker(in.opts.StatsInterval)
	defer stats.Stop()
	for {
		select {
		case <-in.stop:
			return
		case <-stats.C:
			in.emitStats()
		case <-in.wake:
			in.reportUpgrades()
		}
	}
}

// hostname is the host's name, "" when unknown.
func hostname() string {
	h, _ := os.Hostname()
	return h
}
