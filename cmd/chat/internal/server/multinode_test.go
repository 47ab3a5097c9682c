package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/redis/go-redis/v9"

	"github.com/switchboard-go/socketio/redisadapter"
	"github.com/switchboard-go/socketio/sioclient"
	"github.com/switchboard-go/socketio/socketiotest"
)

// testRedis connects to the Redis at CHAT_TEST_REDIS (default
// redis://127.0.0.1:6379) and returns a client and a channel prefix of
// the test's own, so that tests running at once do not hear each other.
// Redis being unreachable fails the test.
func testRedis(t *testing.T) (*redis.Client, string) {
	t.Helper()
	u := os.Getenv("CHAT_TEST_REDIS")
	if u == "" {
		u = "redis://127.0.0.1:6379"
	}
	opts, err := redis.ParseURL(u)
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opts)
	t.Cleanup(func() { _ = rdb.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := rdb.Ping(ctx).Err(); err != nil {
		t.Fatalf("Redis at %s (CHAT_TEST_REDIS names another): %v", u, err)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return rdb, "chat-test-" + hex.EncodeToString(b)
}

// newNode is one node of a cluster: a chat server with its own store
// (its own connections to the shared database dsn) and its own Redis
// adapter on the channels under key.
func newNode(t *testing.T, dsn string, rdb *redis.Client, key string) *env {
	t.Helper()
	return newEnv(t, openPostgresURL(t, dsn), Config{
		Adapter: redisadapter.New(rdb, &redisadapter.Options{Key: key, Logger: socketiotest.Logger()}),
	})
}

// isPresence matches a "presence" event of room whose list is exactly
// online.
func isPresence(room string, online ...string) func(json.RawMessage) bool {
	return func(raw json.RawMessage) bool {
		var p presence
		return json.Unmarshal(raw, &p) == nil && p.Room == room && slices.Equal(p.Online, online)
	}
}

// TestMultiNode runs two chat nodes linked by Redis over one PostgreSQL
// database, users on each: room messages, private messages, join and
// leave notices, presence, typing, /ws clients and history cross nodes.
func TestMultiNode(t *testing.T) {
	dsn := postgresSchema(t)
	rdb, key := testRedis(t)
	a := newNode(t, dsn, rdb, key)
	b := newNode(t, dsn, rdb, key)

	// Accounts and sessions are in the shared database: signed up on one
	// node, a user connects to either.
	alice := a.signup("alice")
	bob := b.signup("bob")
	carol := a.signup("carol")
	ca := a.connect(alice, nil, nil)
	cb := b.connect(bob, nil, nil)

	// Presence: bob, on B, sees alice, on A, online in general, by the
	// event and by asking.
	cb.waitEvent("presence", isPresence("general", "alice", "bob"))
	ca.waitEvent("presence", isPresence("general", "alice", "bob"))
	var p presence
	if msg := cb.ack("members", roomArg{Room: "general"}, &p); msg != "" || !slices.Equal(p.Online, []string{"alice", "bob"}) {
		t.Fatalf("members on B: %q %+v", msg, p)
	}

	// A room message from A reaches B, and one from B reaches A.
	idA := ca.send("general", "hello from A")
	if m := cb.waitMsg("hello from A"); m.ID != idA || m.From != "alice" || m.Room != "general" {
		t.Fatalf("on B: %+v", m)
	}
	cb.send("general", "hello from B")
	ca.waitMsg("hello from B")

	// How long a room message takes from a client of A to one of B
	// (logged, not checked: the machines are shared).
	var lat []time.Duration
	for i := range 50 {
		start := time.Now()
		text := "latency " + strconv.Itoa(i)
		ca.send("general", text)
		cb.waitMsg(text)
		lat = append(lat, time.Since(start))
	}
	slices.Sort(lat)
	t.Logf("room message from node A to node B, send to receipt, 50 in a row: median %v, max %v", lat[len(lat)/2], lat[len(lat)-1])

	// A private message crosses, both ways, and not to a third user.
	cc := b.connect(carol, nil, nil)
	if msg := cb.ack("message", map[string]any{"to": "alice", "text": "psst alice"}, nil); msg != "" {
		t.Fatal(msg)
	}
	if m := ca.waitMsg("psst alice"); m.To != "alice" || m.From != "bob" || m.Room != "" {
		t.Fatalf("private on A: %+v", m)
	}
	if msg := ca.ack("message", map[string]any{"to": "bob", "text": "psst bob"}, nil); msg != "" {
		t.Fatal(msg)
	}
	cb.waitMsg("psst bob")

	// Bob makes a room on B, alice joins it on A: the notice and the
	// presence reach bob, and alice's answer lists bob online (on B).
	var jr joinResult
	if msg := cb.ack("create", roomArg{Room: "dev"}, &jr); msg != "" {
		t.Fatal(msg)
	}
	if msg := ca.ack("join", roomArg{Room: "dev"}, &jr); msg != "" || !slices.Equal(jr.Online, []string{"alice", "bob"}) {
		t.Fatalf("join on A: %q %+v", msg, jr)
	}
	cb.waitEvent("notice", func(raw json.RawMessage) bool {
		var n notice
		return json.Unmarshal(raw, &n) == nil && n.Room == "dev" && n.User == "alice" && n.Event == "joined"
	})
	cb.waitEvent("presence", isPresence("dev", "alice", "bob"))
	ca.send("dev", "dev from A")
	cb.waitMsg("dev from A")

	// Alice opens a second tab on B: node B learnt of her join made on A,
	// so her typing there in dev reaches bob (the hub of B checks
	// membership), and her messages to dev too.
	ca2 := b.connect(alice, nil, nil)
	if err := ca2.s.Volatile().Emit("typing", map[string]any{"room": "dev", "typing": true}); err != nil {
		t.Fatal(err)
	}
	cb.waitEvent("typing", func(raw json.RawMessage) bool {
		var ty typingOut
		return json.Unmarshal(raw, &ty) == nil && ty.User == "alice" && ty.Room == "dev" && ty.Typing
	})
	// And typing from A reaches B.
	if err := ca.s.Volatile().Emit("typing", map[string]any{"room": "dev", "typing": false}); err != nil {
		t.Fatal(err)
	}
	cb.waitEvent("typing", func(raw json.RawMessage) bool {
		var ty typingOut
		return json.Unmarshal(raw, &ty) == nil && ty.User == "alice" && ty.Room == "dev" && !ty.Typing
	})

	// Bob leaves dev on B: alice, on A, is told.
	if msg := cb.ack("leave", roomArg{Room: "dev"}, nil); msg != "" {
		t.Fatal(msg)
	}
	ca.waitEvent("notice", func(raw json.RawMessage) bool {
		var n notice
		return json.Unmarshal(raw, &n) == nil && n.Room == "dev" && n.User == "bob" && n.Event == "left"
	})
	ca.waitEvent("presence", isPresence("dev", "alice"))

	// A plain WebSocket client (/ws) of carol on B gets a message sent
	// on A; one it sends reaches A.
	wsURL := "ws" + strings.TrimPrefix(b.url, "http") + "/ws?room=general&token=" + queryEscape(b.apiToken(carol))
	conn, resp, err := websocket.DefaultDialer.Dial(wsURL, nil)
	if err != nil {
		t.Fatalf("dial /ws: %v %v", err, resp)
	}
	defer conn.Close()
	ca.send("general", "to ws on B")
	_ = conn.SetReadDeadline(time.Now().Add(wait))
	for {
		var m wireMsg
		if err := conn.ReadJSON(&m); err != nil {
			t.Fatal(err)
		}
		if m.Text == "to ws on B" {
			break
		}
	}
	if err := conn.WriteMessage(websocket.TextMessage, []byte("from ws on B")); err != nil {
		t.Fatal(err)
	}
	ca.waitMsg("from ws on B")
	cc.waitMsg("from ws on B")

	// Alice leaves both nodes: bob, on B, sees her offline in general.
	_ = ca.s.Manager().Close()
	_ = ca2.s.Manager().Close()
	cb.waitFor("alice offline", func() bool {
		// The last presence of general that bob got lists no alice.
		for i := len(cb.events) - 1; i >= 0; i-- {
			if ev := cb.events[i]; ev.name == "presence" && isPresence("general", "bob", "carol")(ev.arg) {
				return true
			} else if ev.name == "presence" && strings.Contains(string(ev.arg), `"general"`) {
				return false
			}
		}
		return false
	})
	if msg := cb.ack("members", roomArg{Room: "general"}, &p); msg != "" || !slices.Equal(p.Online, []string{"bob", "carol"}) {
		t.Fatalf("members on B after alice left: %q %+v", msg, p)
	}

	// History on B holds what was sent through A, the store being shared.
	var h historyResult
	if msg := cb.ack("history", map[string]any{"room": "general", "limit": 100}, &h); msg != "" {
		t.Fatal(msg)
	}
	var texts []string
	for _, m := range h.Messages {
		texts = append(texts, m.Text)
	}
	for _, want := range []string{"hello from A", "hello from B", "to ws on B", "from ws on B"} {
		if !slices.Contains(texts, want) {
			t.Fatalf("history of general on B: %q lacks %q", texts, want)
		}
	}
	if msg := cb.ack("history", map[string]any{"with": "alice"}, &h); msg != "" || len(h.Messages) != 2 {
		t.Fatalf("private history on B: %q %+v", msg, h)
	}

	// A client that was away comes back to the other node and catches
	// up by its offset from the shared database.
	cb.mu.Lock()
	offset := cb.offset
	for _, m := range cb.msgs {
		offset = max(offset, m.ID)
	}
	cb.mu.Unlock()
	_ = cb.s.Manager().Close()
	cc.send("general", "while bob was away")
	back := a.connect(bob, nil, func() (any, error) { return map[string]any{"lastId": offset}, nil })
	back.waitMsg("while bob was away")
}

// TestMultiNodeRecovery: a client whose connection drops comes back to
// the same node (as through a sticky load balancer) and recovers its
// session there, with the messages sent meanwhile through either node,
// each once and without a catch-up.
func TestMultiNodeRecovery(t *testing.T) {
	dsn := postgresSchema(t)
	rdb, key := testRedis(t)
	a := newNode(t, dsn, rdb, key)
	b := newNode(t, dsn, rdb, key)
	alice, bob := a.signup("alice"), b.signup("bob")
	opts := socketiotest.WebSocket.Options()
	// Node A notices the drop (a closed TCP connection) well within this.
	opts.ReconnectionDelay, opts.ReconnectionDelayMax = time.Second, time.Second
	ca := a.connect(alice, opts, nil)
	cb := b.connect(bob, nil, nil)
	first := cb.send("general", "before the drop")
	ca.waitFor("the first message", func() bool { return ca.ids[first] == 1 })
	id := ca.s.ID()

	ca.s.Manager().Engine().CloseWithReason(sioclient.ReasonTransportClose)
	select {
	case <-ca.life.Disconnected:
	case <-time.After(wait):
		t.Fatal("no disconnection after the drop")
	}
	fromB := cb.send("general", "through B while alice was away")
	select {
	case <-ca.life.Connected:
	case <-time.After(wait):
		t.Fatal("no reconnection")
	}
	after := cb.send("general", "after she is back")
	for _, want := range []int64{fromB, after} {
		ca.waitFor("the messages sent meanwhile", func() bool { return ca.ids[want] >= 1 })
	}
	ca.mu.Lock()
	defer ca.mu.Unlock()
	if !ca.s.Recovered() || ca.s.ID() != id {
		t.Fatalf("back on node A: recovered %v, id %s (was %s)", ca.s.Recovered(), ca.s.ID(), id)
	}
	for mid, k := range ca.ids {
		if k != 1 {
			t.Errorf("message %d received %d times", mid, k)
		}
	}
}

// TestMultiNodeShutdownPresence: when a node shuts down, the users of the
// other nodes are told once per room that its users went offline, not
// once per connection as they close.
func TestMultiNodeShutdownPresence(t *testing.T) {
	dsn := postgresSchema(t)
	rdb, key := testRedis(t)
	a := newNode(t, dsn, rdb, key)
	b := newNode(t, dsn, rdb, key)
	for _, name := range []string{"alice", "carol", "dave"} {
		a.connect(a.signup(name), nil, nil)
	}
	cb := b.connect(b.signup("bob"), nil, nil)
	cb.waitEvent("presence", isPresence("general", "alice", "bob", "carol", "dave"))
	cb.mu.Lock()
	from := len(cb.events)
	cb.mu.Unlock()

	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := a.chat.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	cb.waitEvent("presence", isPresence("general", "bob"))
	cb.mu.Lock()
	defer cb.mu.Unlock()
	var lists []string
	for _, ev := range cb.events[from:] {
		if ev.name == "presence" && strings.Contains(string(ev.arg), `"general"`) {
			lists = append(lists, string(ev.arg))
			if isPresence("general", "bob")(ev.arg) {
				break
			}
		}
	}
	if len(lists) != 1 {
		t.Fatalf("bob was told of general %d times on the shutdown of node A: %q", len(lists), lists)
	}
}
