package socketio

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-go/socketio/engineio"
)

// Socket.IO protocol v4 over Engine.IO v3 (Options.Engine.AllowEIO3), as
// the reference server serves Socket.IO v2 clients, on the wire.

func newEIO3Server(t *testing.T) (*Server, string) {
	t.Helper()
	srv, url := newTestServer(t, &Options{Engine: engineio.Options{AllowEIO3: true, PingInterval: time.Hour}})
	return srv, strings.Replace(url, "EIO=4", "EIO=3", 1)
}

func TestEIO3JoinsMainNamespace(t *testing.T) {
	srv, url := newEIO3Server(t)
	ids := make(chan string, 1)
	srv.OnConnection(func(s *Socket) {
		ids <- s.ID() + " " + s.Conn().ID() + " " + string(s.Handshake().Auth)
		_ = s.Emit("hi", 1)
	})
	c := dialRaw(t, url)
	// CONNECT for "/" comes without the client asking, and without a
	// payload; the socket id is the session id.
	if p := c.recv(); p != "0" {
		t.Fatalf("packet %q, want CONNECT without payload", p)
	}
	got := receive(t, ids)
	parts := strings.Split(got, " ")
	if parts[0] != parts[1] || parts[2] != "{}" {
		t.Fatalf("socket id, session id, auth: %q", got)
	}
	if p := c.recv(); p != `2["hi",1]` {
		t.Fatalf("packet %q", p)
	}
}

func TestEIO3NamespaceQueryIsAuth(t *testing.T) {
	srv, url := newEIO3Server(t)
	got := make(chan string, 1)
	srv.Of("/admin").OnConnection(func(s *Socket) {
		got <- s.ID() + " " + string(s.Handshake().Auth) + " " + s.Namespace().Name()
		s.On("ev", func(e *Event) { _ = e.Ack("ok") })
	})
	c := dialRaw(t, url)
	c.recv() // CONNECT "/"
	c.send("0/admin?token=abc&n=1&n=2,")
	if p := c.recv(); p != "0/admin," {
		t.Fatalf("packet %q, want CONNECT without payload", p)
	}
	s := receive(t, got)
	parts := strings.Split(s, " ")
	var auth map[string]string
	if err := json.Unmarshal([]byte(parts[1]), &auth); err != nil || auth["token"] != "abc" || auth["n"] != "2" || len(auth) != 2 {
		t.Fatalf("auth %q (%v): want the query's parameters, last value each", parts[1], err)
	}
	if !strings.HasPrefix(parts[0], "/admin#") || parts[2] != "/admin" {
		t.Fatalf("socket id and namespace: %q", s)
	}
	// Packets after CONNECT name the namespace without the query.
	c.send(`2/admin,7["ev"]`)
	if p := c.recv(); p != `3/admin,7["ok"]` {
		t.Fatalf("ack %q", p)
	}
}

func TestEIO3ConnectErrors(t *testing.T) {
	srv, url := newEIO3Server(t)
	srv.Of("/private").Use(func(*Socket) error { return &ConnectError{Message: "not authorized"} })
	srv.Of("/data").Use(func(*Socket) error {
		return &ConnectError{Message: "ignored", Data: map[string]int{"code": 42}}
	})
	c := dialRaw(t, url)
	c.recv() // CONNECT "/"
	for _, tc := range []struct{ nsp, want string }{
		// A middleware's refusal: its data, else its message.
		{"/private", `4/private,"not authorized"`},
		{"/data", `4/data,{"code":42}`},
		// No such namespace: the {message} object, as from the reference.
		{"/nope", `4/nope,{"message":"Invalid namespace"}`},
	} {
		c.send("0" + tc.nsp + ",")
		if p := c.recv(); p != tc.want {
			t.Errorf("CONNECT_ERROR %q, want %q", p, tc.want)
		}
	}
}

// A v4 client on the same server keeps the v4 protocol: it must CONNECT
// itself and gets its sid.
func TestEIO3LeavesV4Alone(t *testing.T) {
	_, url := newEIO3Server(t)
	c := dialRaw(t, strings.Replace(url, "EIO=3", "EIO=4", 1))
	c.send("0")
	if p := c.recv(); !strings.HasPrefix(p, `0{"sid":"`) {
		t.Fatalf("v4 CONNECT answer %q", p)
	}
}

func receive(t *testing.T, ch <-chan string) string {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(5 * time.Second):
		t.Fatal("nothing received")
		return ""
	}
}

// A v2 client's CONNECT carries no auth payload: one it sends anyway is
// not taken as the auth (the query is, and without one the auth is
// empty), as from the reference server.
func TestEIO3ConnectPayloadIsNotAuth(t *testing.T) {
	srv, url := newEIO3Server(t)
	got := make(chan string, 1)
	srv.Of("/admin").OnConnection(func(s *Socket) { got <- string(s.Handshake().Auth) })
	c := dialRaw(t, url)
	c.recv() // CONNECT "/"
	c.send(`0/admin,{"token":"forged"}`)
	if p := c.recv(); p != "0/admin," {
		t.Fatalf("packet %q, want CONNECT without payload", p)
	}
	if auth := receive(t, got); auth != "{}" {
		t.Fatalf("auth %s, want {} (the payload is not the auth)", auth)
	}
}
