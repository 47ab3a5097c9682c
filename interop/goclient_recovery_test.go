package interop_test

// Connection state recovery between the Go client (sioclient) and the
// official Node.js server: `node server_recovery.js PORT` (see that file),
// and server_main.js for a server without recovery. The helpers are those
// of goclient_node_test.go.

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-go/socketio/sioclient"
	"github.com/switchboard-go/socketio/socketiotest"
)

// gcRecoveryOptions are gcOptions with a fixed reconnection delay longer
// than the Node server needs to notice a vanished client (its
// pingInterval + pingTimeout is 700ms): the session must be kept before
// the client asks for it back.
func gcRecoveryOptions(mode string) *sioclient.Options {
	o := gcOptions(mode)
	o.ReconnectionDelay = time.Second
	o.ReconnectionDelayMax = time.Second
	o.RandomizationFactor = -1
	o.Auth = map[string]any{"token": "t"}
	return o
}

// gcRecorder turns a socket's events and lifecycle into lines on one
// channel, in the order the callbacks ran, and remembers the offset each
// event carried (its last argument).
type gcRecorder struct {
	t     *testing.T
	lines chan string

	mu      sync.Mutex
	offsets map[string]string // by the event's first argument
}

func gcRecord(t *testing.T, s *sioclient.Socket, events ...string) *gcRecorder {
	r := &gcRecorder{t: t, lines: make(chan string, 64), offsets: map[string]string{}}
	for _, name := range events {
		s.On(name, func(e *sioclient.Event) {
			args := e.Values()
			offset, ok := args[len(args)-1].(string)
			if len(args) != 2 || !ok || offset == "" {
				t.Errorf("%s %v: want one argument and the offset", e.Name, args)
				return
			}
			r.mu.Lock()
			r.offsets[fmt.Sprint(args[0])] = offset
			r.mu.Unlock()
			r.lines <- fmt.Sprintf("%s %v connected=%v", e.Name, args[0], s.Connected())
		})
	}
	s.OnConnect(func() { r.lines <- fmt.Sprintf("connect %s recovered=%v", s.ID(), s.Recovered()) })
	s.OnDisconnect(func(reason string) { r.lines <- "disconnect " + reason })
	return r
}

// expect checks the next lines.
func (r *gcRecorder) expect(want ...string) {
	r.t.Helper()
	for _, w := range want {
		if got := socketiotest.Receive(r.t, r.lines, w); got != w {
			r.t.Fatalf("got %q, want %q", got, w)
		}
	}
}

// expectDisconnect checks that the next line is a disconnection for a
// reason among reasons.
func (r *gcRecorder) expectDisconnect(reasons ...string) {
	r.t.Helper()
	got := socketiotest.Receive(r.t, r.lines, "a disconnection")
	for _, reason := range reasons {
		if got == "disconnect "+reason {
			return
		}
	}
	r.t.Fatalf("got %q, want a disconnection for %q", got, reasons)
}

// expectConnect checks that the next line is a connection, recovered or
// not, and returns the socket's id then.
func (r *gcRecorder) expectConnect(recovered bool) string {
	r.t.Helper()
	got := socketiotest.Receive(r.t, r.lines, "a connection")
	var id string
	var rec bool
	if _, err := fmt.Sscanf(got, "connect %s recovered=%t", &id, &rec); err != nil || rec != recovered {
		r.t.Fatalf("got %q, want a connection with recovered=%v", got, recovered)
	}
	return id
}

func (r *gcRecorder) offset(arg string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.offsets[arg]
}

// The connection is lost, by the client (a network failure) and then by
// the server: each time the Go client comes back on its own with the same
// id, Recovered, the events emitted to its room and to its id meanwhile,
// in order and before OnConnect, and its room. The CONNECT carried the
// pid and the offset of the last event received, with the auth's token.
// After a deliberate Disconnect and Connect, the socket is a new one.
func TestGoClientNodeRecovery(t *testing.T) {
	t.Parallel()
	eachMode(t, func(t *testing.T, mode string) {
		node := gcStartNode(t, "server_recovery.js")
		s, err := sioclient.New(node.URL(), gcRecoveryOptions(mode))
		if err != nil {
			t.Fatal(err)
		}
		defer s.Manager().Close()
		r := gcRecord(t, s, "joined", "news", "direct")
		s.Connect()
		id := r.expectConnect(false)
		connLine := func(from int) map[string]any {
			t.Helper()
			m, ok := node.waitLine(from, 5*time.Second, func(m map[string]any) bool { return m["ev"] == "connection" })
			if !ok {
				t.Fatal("the server did not report the connection")
			}
			return m
		}
		first := connLine(0)
		wantJSON(t, "first auth", first["auth"], `{"token":"t"}`)

		_ = s.Emit("join", "room1")
		r.expect("joined room1 connected=true")

		// Lost on the client's side: the server notices, keeps the session
		// and emits to the room and to the id meanwhile.
		mark := node.mark()
		c := s.Manager().Engine()
		if c == nil {
			t.Fatal("no connection")
		}
		socketiotest.WaitTransport(t, s.Manager(), wantTransport(mode))
		c.CloseWithReason(sioclient.ReasonTransportClose)
		r.expect("disconnect transport close")
		if _, ok := node.waitLine(mark, 5*time.Second, func(m map[string]any) bool { return m["ev"] == "replayed" }); !ok {
			t.Fatalf("the server did not replay: %v", node.linesOf(mark, "disconnect"))
		}
		r.expect("news r1-1 connected=true",
			"direct r1-2 connected=true",
			"news r1-3 connected=true",
			fmt.Sprintf("connect %s recovered=true", id))
		second := connLine(mark)
		if second["recovered"] != true || second["id"] != id {
			t.Errorf("the server's side of the recovery: %v", second)
		}
		auth, _ := second["auth"].(map[string]any)
		if pid, _ := auth["pid"].(string); pid == "" || auth["offset"] != r.offset("room1") || auth["token"] != "t" {
			t.Errorf("CONNECT payload %v; the offset of the last event was %q", auth, r.offset("room1"))
		}

		// Still in the room.
		_ = s.Emit("shout", "room1", "after-1")
		r.expect("news after-1 connected=true")

		// Closed by the server ("forced close" there): the missed events
		// are those after "after-1", not those replayed already.
		mark = node.mark()
		_ = s.Emit("cut")
		r.expectDisconnect(sioclient.ReasonTransportClose, sioclient.ReasonTransportError)
		r.expect("news r2-1 connected=true",
			"direct r2-2 connected=true",
			"news r2-3 connected=true",
			fmt.Sprintf("connect %s recovered=true", id))
		if m, _ := node.waitLine(mark, 5*time.Second, func(m map[string]any) bool { return m["ev"] == "disconnect" }); m["reason"] != "forced close" {
			t.Errorf("the server's disconnection: %v", m)
		}
		third := connLine(mark)
		if auth, _ := third["auth"].(map[string]any); auth["offset"] != r.offset("after-1") {
			t.Errorf("CONNECT payload %v; the offset of the last event was %q", auth, r.offset("after-1"))
		}

		// A deliberate disconnection ends the session: a new socket, out
		// of the room (the Node server would have restored the session of
		// the last loss had the client asked for it).
		_ = s.Emit("shout", "room1", "after-2")
		r.expect("news after-2 connected=true")
		mark = node.mark()
		s.Disconnect()
		r.expect("disconnect io client disconnect")
		if _, ok := node.waitLine(mark, 5*time.Second, func(m map[string]any) bool {
			return m["ev"] == "disconnect" && m["reason"] == "client namespace disconnect"
		}); !ok {
			t.Fatal("the server did not report the disconnection")
		}
		s.Connect()
		if r.expectConnect(false) == id {
			t.Errorf("the same id %s after Disconnect and Connect", id)
		}
		fourth := connLine(mark)
		wantJSON(t, "auth after Disconnect", fourth["auth"], `{"token":"t"}`)
		if fourth["recovered"] != false {
			t.Errorf("the server's side: %v", fourth)
		}
		_ = s.Emit("shout", "room1", "after-3")
		socketiotest.Nothing(t, r.lines, 300*time.Millisecond, "callback")
	})
}

// A server without recovery: no pid in its CONNECT, so the client asks
// for nothing, and a lost connection comes back as a new socket.
func TestGoClientNodeWithoutRecovery(t *testing.T) {
	t.Parallel()
	eachMode(t, func(t *testing.T, mode string) {
		node, s, g := gcConnectMain(t, mode)
		socketiotest.Receive(t, g.welcome, "welcome")
		id := s.ID()
		if s.Recovered() {
			t.Error("Recovered on the first connection")
		}
		isConnection := func(m map[string]any) bool { return m["ev"] == "connection" }
		first, ok := node.waitLine(0, 5*time.Second, isConnection)
		if !ok {
			t.Fatal("the server did not report the connection")
		}
		mark := node.mark()
		socketiotest.WaitTransport(t, s.Manager(), wantTransport(mode))
		s.Manager().Engine().CloseWithReason(sioclient.ReasonTransportClose)
		socketiotest.Receive(t, g.life.Disconnected, "disconnect")
		socketiotest.Receive(t, g.life.Connected, "reconnect")
		socketiotest.Receive(t, g.welcome, "welcome after the reconnection")
		if s.Recovered() || s.ID() == id {
			t.Errorf("after the reconnection: Recovered %v, id %s (was %s)", s.Recovered(), s.ID(), id)
		}
		second, ok := node.waitLine(mark, 5*time.Second, isConnection)
		if !ok {
			t.Fatal("the server did not report the reconnection")
		}
		wantJSON(t, "first auth", first["auth"], `{}`)
		wantJSON(t, "auth after the reconnection", second["auth"], `{}`)
	})
}
