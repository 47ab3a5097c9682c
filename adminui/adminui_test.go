package adminui

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	socketio "github.com/switchboard-go/socketio"
	"github.com/switchboard-go/socketio/sioclient"
	"golang.org/x/crypto/bcrypt"
)

const (
	user     = "admin"
	password = "s3cret-pass"
)

// hash is password's bcrypt hash at the lowest cost, made once.
var hash = sync.OnceValue(func() string {
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		panic(err)
	}
	return string(h)
})

// start returns an instrumented server and its URL.
func start(t *testing.T, opts Options) (*socketio.Server, *Instrumentation, string) {
	t.Helper()
	return startWith(t, nil, opts)
}

func startWith(t *testing.T, sopts *socketio.Options, opts Options) (*socketio.Server, *Instrumentation, string) {
	t.Helper()
	srv := socketio.NewServer(sopts)
	if opts.Auth == nil && !opts.NoAuth {
		opts.Auth = &BasicAuth{Username: user, PasswordHash: hash()}
	}
	in, err := Instrument(srv, opts)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(func() {
		in.Close()
		_ = srv.Close()
		ts.Close()
	})
	return srv, in, ts.URL
}

// event is one event a UI received, its arguments as JSON.
type event struct {
	name string
	args []json.RawMessage
}

func (e event) arg(t *testing.T, i int, v any) {
	t.Helper()
	if i >= len(e.args) {
		t.Fatalf("%s has %d arguments, not %d", e.name, len(e.args), i+1)
	}
	if err := json.Unmarshal(e.args[i], v); err != nil {
		t.Fatalf("%s argument %d %s: %v", e.name, i, e.args[i], err)
	}
}

// ui is a Go client standing for the admin UI.
type ui struct {
	t      *testing.T
	s      *sioclient.Socket
	events chan event
}

// dialUI connects to the admin namespace with auth as the UI's form does,
// and waits for the connection or its refusal (returned).
func dialUI(t *testing.T, url string, auth map[string]any) (*ui, *sioclient.ConnectError) {
	t.Helper()
	u := &ui{t: t, events: make(chan event, 1024)}
	s, err := sioclient.New(url+"/admin", &sioclient.Options{
		Auth: auth, ForceNew: true, DisableReconnection: true, Transports: []string{"websocket"},
	})
	if err != nil {
		t.Fatal(err)
	}
	u.s = s
	t.Cleanup(func() { _ = s.Close() })
	connected := make(chan *sioclient.ConnectError, 1)
	s.OnConnect(func() { connected <- nil })
	s.OnConnectError(func(err *sioclient.ConnectError) { connected <- err })
	s.OnAny(func(e *sioclient.Event) {
		ev := event{name: e.Name}
		for i := 0; i < e.Len(); i++ {
			ev.args = append(ev.args, json.RawMessage(e.Arg(i).Raw))
		}
		u.events <- ev
	})
	s.Connect()
	select {
	case err := <-connected:
		return u, err
	case <-time.After(10 * time.Second):
		t.Fatal("the admin namespace did not answer")
	}
	return nil, nil
}

func login(t *testing.T, url string) *ui {
	t.Helper()
	u, err := dialUI(t, url, map[string]any{"username": user, "password": password})
	if err != nil {
		t.Fatalf("login refused: %v", err)
	}
	return u
}

// next returns the next event named name (any name when "") for which ok
// (nil: any) holds, skipping the others.
func (u *ui) next(name string, ok func(event) bool) event {
	u.t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case e := <-u.events:
			if (name == "" || e.name == name) && (ok == nil || ok(e)) {
				return e
			}
		case <-deadline:
			u.t.Fatalf("no %s event", name)
		}
	}
}

// none checks that no event named name comes within d.
func (u *ui) none(name string, d time.Duration) {
	u.t.Helper()
	deadline := time.After(d)
	for {
		select {
		case e := <-u.events:
			if e.name == name {
				u.t.Fatalf("unexpected %s: %s", name, e.args)
			}
		case <-deadline:
			return
		}
	}
}

// argIs reports whether argument i of e is the JSON of want.
func argIs(e event, i int, want any) bool {
	if i >= len(e.args) {
		return false
	}
	b, _ := json.Marshal(want)
	return string(e.args[i]) == string(b)
}

// client connects an application client to nsp and waits for it.
func client(t *testing.T, url, nsp string, transports ...string) *sioclient.Socket {
	t.Helper()
	s, err := sioclient.New(url+nsp, &sioclient.Options{ForceNew: true, DisableReconnection: true, Transports: transports})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	done := make(chan error, 1)
	s.OnConnect(func() { done <- nil })
	s.OnConnectError(func(err *sioclient.ConnectError) { done <- err })
	s.Connect()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("connect %s: %v", nsp, err)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("connect %s: timeout", nsp)
	}
	return s
}

func TestInstrumentRefusesBadOptions(t *testing.T) {
	srv := socketio.NewServer(nil)
	defer srv.Close()
	for _, tc := range []struct {
		name string
		opts Options
		want string
	}{
		{"no auth", Options{}, "Auth must be set"},
		{"both", Options{Auth: &BasicAuth{Username: "a", PasswordHash: hash()}, NoAuth: true}, "both set"},
		{"not bcrypt", Options{Auth: &BasicAuth{Username: "a", PasswordHash: "plain"}}, "bcrypt"},
		{"mode", Options{NoAuth: true, Mode: "staging"}, "Mode"},
	} {
		if _, err := Instrument(srv, tc.opts); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err %v, want %q", tc.name, err, tc.want)
		}
	}
}

// A wrong password or username is refused with "invalid credentials";
// the right login gets a session id, which is enough to connect again.
func TestAuth(t *testing.T) {
	_, _, url := start(t, Options{})
	for _, auth := range []map[string]any{
		{"username": user, "password": "wrong"},
		{"username": "root", "password": password},
		{"sessionId": "0123456789abcdef"},
		nil,
	} {
		_, err := dialUI(t, url, auth)
		if err == nil || !err.FromServer() || err.Message != "invalid credentials" {
			t.Fatalf("auth %v: %v, want invalid credentials", auth, err)
		}
	}
	u := login(t, url)
	var session string
	u.next("session", nil).arg(t, 0, &session)
	if len(session) != 16 {
		t.Fatalf("session id %q", session)
	}
	again, err := dialUI(t, url, map[string]any{"sessionId": session})
	if err != nil {
		t.Fatalf("session id refused: %v", err)
	}
	again.next("config", nil)
	again.none("session", 200*time.Millisecond)
}

func TestNoAuth(t *testing.T) {
	_, _, url := start(t, Options{NoAuth: true, NamespaceName: "/custom-admin"})
	if _, err := dialUI(t, url, nil); err == nil || err.Message != "Invalid namespace" {
		t.Fatalf("/admin: %v, want Invalid namespace (the namespace is /custom-admin)", err)
	}
	s, cerr := sioclient.New(url+"/custom-admin", &sioclient.Options{ForceNew: true, DisableReconnection: true})
	if cerr != nil {
		t.Fatal(cerr)
	}
	defer s.Close()
	got := make(chan string, 8)
	s.OnAny(func(e *sioclient.Event) { got <- e.Name })
	s.Connect()
	for name := ""; name != "config"; {
		select {
		case name = <-got:
		case <-time.After(10 * time.Second):
			t.Fatal("no config without auth")
		}
	}
}

type config struct {
	SupportedFeatures []string `json:"supportedFeatures"`
}

func TestConfig(t *testing.T) {
	for _, tc := range []struct {
		opts Options
		want []string
	}{
		{Options{}, []string{"EMIT", "JOIN", "LEAVE", "DISCONNECT", "MJOIN", "MLEAVE", "MDISCONNECT", "AGGREGATED_EVENTS", "ALL_EVENTS"}},
		{Options{ReadOnly: true}, []string{"AGGREGATED_EVENTS", "ALL_EVENTS"}},
		{Options{Mode: Production}, []string{"EMIT", "JOIN", "LEAVE", "DISCONNECT", "MJOIN", "MLEAVE", "MDISCONNECT", "AGGREGATED_EVENTS"}},
	} {
		_, _, url := start(t, tc.opts)
		u := login(t, url)
		var c config
		u.next("config", nil).arg(t, 0, &c)
		if !slices.Equal(c.SupportedFeatures, tc.want) {
			t.Errorf("%+v: features %q, want %q", tc.opts, c.SupportedFeatures, tc.want)
		}
	}
}

func TestServerStats(t *testing.T) {
	srv, _, url := start(t, Options{ServerID: "go-1", StatsInterval: 100 * time.Millisecond})
	srv.Of("/chat")
	client(t, url, "/chat", "polling")
	client(t, url, "/chat", "websocket")
	client(t, url, "/", "websocket")
	u := login(t, url)
	var st serverStats
	// The UI's own connection is the fourth client.
	u.next("server_stats", func(e event) bool { e.arg(t, 0, &st); return st.ClientsCount == 4 })
	host, _ := os.Hostname()
	if st.ServerID != "go-1" || st.Hostname != host || st.PID != os.Getpid() || st.Uptime <= 0 {
		t.Errorf("stats %+v", st)
	}
	if st.PollingClientsCount != 1 {
		t.Errorf("pollingClientsCount %d, want 1", st.PollingClientsCount)
	}
	counts := map[string]int{}
	for _, ns := range st.Namespaces {
		counts[ns.Name] = ns.SocketsCount
	}
	if want := map[string]int{"/": 1, "/chat": 2, "/admin": 1}; !mapsEqual(counts, want) {
		t.Errorf("namespaces %v, want %v", counts, want)
	}

	// The connections since the previous server_stats are counted.
	client(t, url, "/", "websocket")
	client(t, url, "/", "polling")
	var connections uint64
	u.next("server_stats", func(e event) bool {
		e.arg(t, 0, &st)
		for _, ev := range st.AggregatedEvents {
			if ev.Type == "rawConnection" {
				connections += ev.Count
			}
			if ev.Timestamp%1000 != 0 || ev.Timestamp > time.Now().UnixMilli() {
				t.Errorf("aggregated event %+v", ev)
			}
		}
		return connections == 2
	})
	if st.ClientsCount != 6 || st.PollingClientsCount != 2 {
		t.Errorf("after two more clients: %+v", st)
	}

	// Disconnections are counted.
	srv.Of("/chat").DisconnectSockets(true)
	var gone uint64
	u.next("server_stats", func(e event) bool {
		e.arg(t, 0, &st)
		for _, ev := range st.AggregatedEvents {
			if ev.Type == "rawDisconnection" {
				gone += ev.Count
			}
		}
		return gone == 2
	})
	if st.ClientsCount != 4 || st.PollingClientsCount != 1 {
		t.Errorf("after the disconnections: %+v", st)
	}
}

func mapsEqual(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// A socket's life as the UI sees it in development mode: listed, then
// connected, upgraded, in rooms, its events, its disconnection.
func TestSocketLife(t *testing.T) {
	// Upgrade requests wait until the UI has seen the socket connect on
	// polling, so that the client's upgrade comes after its connection
	// to a namespace, as on a slower network.
	gate := make(chan struct{})
	var sopts socketio.Options
	sopts.Engine.AllowRequest = func(r *http.Request) error {
		if r.URL.Query().Get("transport") == "websocket" && r.URL.Query().Get("sid") != "" {
			<-gate
		}
		return nil
	}
	srv, _, url := startWith(t, &sopts, Options{})
	openGate := sync.OnceFunc(func() { close(gate) })
	t.Cleanup(openGate) // before the server's cleanup, should the test stop early
	srv.OnConnection(func(s *socketio.Socket) {
		s.Set("user", "ann")
		s.Join("lobby")
	})
	chat := srv.Of("/chat") // created after Instrument
	chat.OnConnection(func(s *socketio.Socket) {
		s.Join("room-1")
		s.On("hello", func(e *socketio.Event) { _ = s.Emit("welcome", "to /chat", 42) })
	})
	early := client(t, url, "/", "websocket")

	u := login(t, url)
	var all []serializedSocket
	u.next("all_sockets", nil).arg(t, 0, &all)
	var found *serializedSocket
	for i := range all {
		if all[i].ID == early.ID() {
			found = &all[i]
		}
	}
	if found == nil {
		t.Fatalf("all_sockets %+v lacks %s", all, early.ID())
	}
	if found.Nsp != "/" || found.Transport != "websocket" || len(found.ClientID) != 12 ||
		!slices.Contains(found.Rooms, "lobby") || !slices.Contains(found.Rooms, early.ID()) ||
		found.Data["user"] != "ann" || found.Data[adminKey] != nil {
		t.Errorf("socket %+v", *found)
	}
	if found.Handshake.Query["EIO"] != "4" || found.Handshake.Headers["host"] == nil ||
		found.Handshake.Address == "" || found.Handshake.Issued == 0 || found.Handshake.URL == "" {
		t.Errorf("handshake %+v", found.Handshake)
	}

	// A client that starts on polling and upgrades.
	c := client(t, url, "/chat")
	id := c.ID()
	var sc serializedSocket
	u.next("socket_connected", func(e event) bool { e.arg(t, 0, &sc); return sc.ID == id }).arg(t, 0, &sc)
	if sc.Nsp != "/chat" || sc.Transport != "polling" {
		t.Errorf("socket_connected %+v", sc)
	}
	openGate()
	// The room join and the upgrade are reported in either order.
	var upd map[string]any
	joined, updated := false, false
	for !joined || !updated {
		e := u.next("", func(e event) bool {
			switch e.name {
			case "room_joined":
				return !joined && argIs(e, 0, "/chat") && argIs(e, 1, "room-1") && argIs(e, 2, id)
			case "socket_updated":
				var m map[string]any
				e.arg(t, 0, &m)
				return !updated && m["id"] == id
			}
			return false
		})
		if e.name == "room_joined" {
			joined = true
		} else {
			updated = true
			e.arg(t, 0, &upd)
		}
	}
	if upd["nsp"] != "/chat" || upd["transport"] != "websocket" {
		t.Errorf("socket_updated %v", upd)
	}

	// Its events both ways.
	if err := c.Emit("hello", map[string]any{"n": 1}); err != nil {
		t.Fatal(err)
	}
	e := u.next("event_received", func(e event) bool { return argIs(e, 1, id) })
	var args []any
	e.arg(t, 2, &args)
	if !argIs(e, 0, "/chat") || len(args) != 2 || args[0] != "hello" {
		t.Errorf("event_received %s", e.args)
	}
	var when time.Time
	e.arg(t, 3, &when)
	if time.Since(when) > time.Minute || time.Since(when) < 0 {
		t.Errorf("event_received at %v", when)
	}
	e = u.next("event_sent", func(e event) bool { return argIs(e, 1, id) })
	e.arg(t, 2, &args)
	if !argIs(e, 0, "/chat") || !slices.Equal(args, []any{"welcome", "to /chat", float64(42)}) {
		t.Errorf("event_sent %s", e.args)
	}

	// Its disconnection.
	c.Disconnect()
	e = u.next("socket_disconnected", func(e event) bool { return argIs(e, 1, id) })
	if !argIs(e, 0, "/chat") || !argIs(e, 2, "client namespace disconnect") {
		t.Errorf("socket_disconnected %s", e.args)
	}
	u.next("room_left", func(e event) bool {
		return argIs(e, 0, "/chat") && argIs(e, 1, "room-1") && argIs(e, 2, id)
	})
}

// A dynamic namespace's children are reported as they are created, once
// each, and dropped children leave nothing behind in the instrumentation.
func TestDynamicNamespace(t *testing.T) {
	srv, in, url := startWith(t, &socketio.Options{CleanupEmptyChildNamespaces: true}, Options{})
	srv.OfFunc(func(name string, _ json.RawMessage) bool { return strings.HasPrefix(name, "/team-") })
	u := login(t, url)
	for i := range 5 {
		nsp := fmt.Sprintf("/team-%d", i)
		c := client(t, url, nsp, "websocket")
		id := c.ID()
		var sc serializedSocket
		u.next("socket_connected", func(e event) bool { e.arg(t, 0, &sc); return sc.ID == id })
		if sc.Nsp != nsp {
			t.Errorf("nsp %q, want %q", sc.Nsp, nsp)
		}
		c.Disconnect()
		u.next("socket_disconnected", func(e event) bool { return argIs(e, 1, id) })
		// Events of other sockets may come meanwhile (the UI's own, on
		// /admin, is reported when it connects): only this one's count.
		for range len(u.events) {
			ev := <-u.events
			var again serializedSocket
			if ev.name == "socket_connected" {
				ev.arg(t, 0, &again)
			}
			if again.ID == id || ev.name == "socket_disconnected" && argIs(ev, 1, id) {
				t.Fatalf("%s reported twice: %s", ev.name, ev.args)
			}
		}
	}
	in.mu.Lock()
	n := len(in.seen)
	in.mu.Unlock()
	if n != 2 { // the main namespace and /admin, listed at the start
		t.Errorf("%d namespaces kept, want 2", n)
	}
}

// sync waits until the server has handled everything u sent before: the
// admin namespace handles a socket's events in order.
func (u *ui) sync() {
	u.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := u.s.EmitWithAck(ctx, "test-sync"); err != nil {
		u.t.Fatalf("sync: %v", err)
	}
}

func answerSync(in *Instrumentation) {
	in.Namespace().OnConnection(func(s *socketio.Socket) {
		s.On("test-sync", func(e *socketio.Event) { _ = e.Ack() })
	})
}

func TestOperations(t *testing.T) {
	srv, in, url := start(t, Options{})
	answerSync(in)
	target := client(t, url, "/", "websocket")
	other := client(t, url, "/", "websocket")
	got := make(chan string, 8)
	target.On("notice", func(e *sioclient.Event) {
		var s string
		_ = e.Decode(0, &s)
		got <- s
	})
	gone := make(chan string, 1)
	target.OnDisconnect(func(reason string) { gone <- reason })
	u := login(t, url)
	rooms := func(id string) []string {
		s, ok := srv.Of("/").Socket(id)
		if !ok {
			t.Fatalf("no socket %s", id)
		}
		return s.Rooms()
	}

	// join, leave, emit to one socket (the UI names it by id).
	_ = u.s.Emit("join", "/", "vip", target.ID())
	u.sync()
	if !slices.Contains(rooms(target.ID()), "vip") || slices.Contains(rooms(other.ID()), "vip") {
		t.Fatalf("after join: %v / %v", rooms(target.ID()), rooms(other.ID()))
	}
	_ = u.s.Emit("emit", "/", "vip", "notice", "for vips")
	if s := <-got; s != "for vips" {
		t.Fatalf("notice %q", s)
	}
	_ = u.s.Emit("leave", "/", "vip", target.ID())
	u.sync()
	if slices.Contains(rooms(target.ID()), "vip") {
		t.Fatalf("after leave: %v", rooms(target.ID()))
	}
	// Without a filter: every socket of the namespace.
	_ = u.s.Emit("join", "/", "all-of-us")
	u.sync()
	if !slices.Contains(rooms(target.ID()), "all-of-us") || !slices.Contains(rooms(other.ID()), "all-of-us") {
		t.Fatal("join without a filter")
	}
	// Unknown namespace: nothing, and it is not created.
	_ = u.s.Emit("join", "/nowhere", "x")
	u.sync()
	for _, ns := range srv.Namespaces() {
		if ns.Name() == "/nowhere" {
			t.Fatal("an operation created a namespace")
		}
	}

	// _disconnect the target only.
	targetID := target.ID()
	_ = u.s.Emit("_disconnect", "/", false, target.ID())
	select {
	case r := <-gone:
		if r != "io server disconnect" {
			t.Fatalf("reason %q", r)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the target was not disconnected")
	}
	u.next("socket_disconnected", func(e event) bool {
		return argIs(e, 1, targetID) && argIs(e, 2, "server namespace disconnect")
	})
	if !other.Connected() {
		t.Fatal("the other socket was disconnected too")
	}
}

// Read-only: the operations do nothing.
func TestReadOnly(t *testing.T) {
	srv, in, url := start(t, Options{ReadOnly: true})
	answerSync(in)
	target := client(t, url, "/", "websocket")
	u := login(t, url)
	_ = u.s.Emit("_disconnect", "/", true, target.ID())
	_ = u.s.Emit("join", "/", "vip", target.ID())
	_ = u.s.Emit("_disconnect", "/", false)
	u.sync()
	time.Sleep(100 * time.Millisecond)
	s, ok := srv.Of("/").Socket(target.ID())
	if !ok || !target.Connected() {
		t.Fatal("read-only: the socket was disconnected")
	}
	if slices.Contains(s.Rooms(), "vip") {
		t.Fatal("read-only: the socket joined a room")
	}
}

// Production mode: statistics only.
func TestProduction(t *testing.T) {
	_, _, url := start(t, Options{Mode: Production, StatsInterval: 50 * time.Millisecond})
	u := login(t, url)
	u.next("config", nil)
	client(t, url, "/", "websocket")
	var st serverStats
	u.next("server_stats", func(e event) bool { e.arg(t, 0, &st); return st.ClientsCount == 2 })
	if host, _ := os.Hostname(); st.ServerID != host {
		t.Errorf("default serverId %q, want the host name %q", st.ServerID, host)
	}
	deadline := time.After(300 * time.Millisecond)
	for {
		select {
		case e := <-u.events:
			if e.name != "server_stats" {
				t.Fatalf("production mode sent %s", e.name)
			}
		case <-deadline:
			return
		}
	}
}

// The traffic is reported as instrument() reports it: packetsIn,
// packetsOut, bytesIn and bytesOut count the Engine.IO messages that
// carry data (a packet's text, each binary attachment: not the open
// packet, pings or pongs) and their data's bytes. A raw client counts
// the same on its side.
func TestTrafficStats(t *testing.T) {
	srv, in, url := start(t, Options{Mode: Production, StatsInterval: time.Hour})
	srv.OnConnection(func(s *socketio.Socket) {
		s.On("up", func(e *socketio.Event) {
			_ = s.Emit("down", []byte{1, 2, 3})
			_ = srv.Emit("news", 1)
		})
	})
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(url, "http")+"/socket.io/?EIO=4&transport=websocket", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	var want struct{ packetsIn, packetsOut, bytesIn, bytesOut uint64 }
	send := func(typ int, data string) {
		t.Helper()
		if err := ws.WriteMessage(typ, []byte(data)); err != nil {
			t.Fatal(err)
		}
		want.packetsIn++
		if typ == websocket.TextMessage {
			data = data[1:] // the Engine.IO packet's type
		}
		want.bytesIn += uint64(len(data))
	}
	recv := func(counted bool) string {
		t.Helper()
		_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
		typ, b, err := ws.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		if counted {
			want.packetsOut++
			if typ == websocket.TextMessage {
				b = b[1:]
			}
			want.bytesOut += uint64(len(b))
		}
		return string(b)
	}
	if open := recv(false); !strings.HasPrefix(open, "0{") {
		t.Fatalf("open packet %q", open)
	}
	send(websocket.TextMessage, "40")
	recv(true) // CONNECT
	send(websocket.TextMessage, `451-["up",{"_placeholder":true,"num":0}]`)
	send(websocket.BinaryMessage, "\x09\x08\x07\x06\x05")
	if got := recv(true); got != `51-["down",{"_placeholder":true,"num":0}]` {
		t.Fatalf("got %q", got)
	}
	recv(true) // its attachment
	if got := recv(true); got != `2["news",1]` {
		t.Fatalf("got %q", got)
	}

	// The server counts a packet sent after queueing it, perhaps after
	// the client has read it: add up the stats until they reach the
	// client's count.
	var got struct{ packetsIn, packetsOut, bytesIn, bytesOut uint64 }
	deadline := time.Now().Add(10 * time.Second)
	for got != want {
		if time.Now().After(deadline) {
			t.Fatalf("stats %+v, want %+v", got, want)
		}
		for _, ev := range in.stats().AggregatedEvents {
			switch ev.Type {
			case "packetsIn":
				got.packetsIn += ev.Count
			case "packetsOut":
				got.packetsOut += ev.Count
			case "bytesIn":
				got.bytesIn += ev.Count
			case "bytesOut":
				got.bytesOut += ev.Count
			}
		}
		if got.packetsIn > want.packetsIn || got.packetsOut > want.packetsOut ||
			got.bytesIn > want.bytesIn || got.bytesOut > want.bytesOut {
			t.Fatalf("stats %+v, more than %+v", got, want)
		}
		runtime.Gosched()
	}
}

// Closing the instrumentation detaches it: the server's traffic is no
// longer counted.
func TestCloseDetaches(t *testing.T) {
	srv, in, url := start(t, Options{Mode: Production, StatsInterval: time.Hour})
	srv.OnConnection(func(s *socketio.Socket) {
		s.On("ping", func(e *socketio.Event) { _ = e.Ack("pong") })
	})
	in.Close()
	in.stats()
	c := client(t, url, "/", "websocket")
	if _, err := c.EmitWithAck(context.Background(), "ping"); err != nil {
		t.Fatal(err)
	}
	for _, ev := range in.stats().AggregatedEvents {
		if strings.HasPrefix(ev.Type, "packets") || strings.HasPrefix(ev.Type, "bytes") {
			t.Errorf("counted after Close: %+v", ev)
		}
	}
}
