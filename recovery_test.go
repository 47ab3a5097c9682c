package socketio

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// recoveryConnect joins "/" with auth and returns the CONNECT answer's sid
// and pid.
func (c *rawClient) recoveryConnect(auth string) (sid, pid string) {
	c.t.Helper()
	c.send("0" + auth)
	return c.connectAnswer()
}

// connectAnswer reads the CONNECT answer and returns its sid and pid.
func (c *rawClient) connectAnswer() (sid, pid string) {
	c.t.Helper()
	got := c.recv()
	var d struct{ SID, PID string }
	if !strings.HasPrefix(got, "0{") || json.Unmarshal([]byte(got[1:]), &d) != nil || d.SID == "" {
		c.t.Fatalf("connect answer %q", got)
	}
	return d.SID, d.PID
}

var withOffset = regexp.MustCompile(`^2\[(.*),"([0-9a-z]+)"\]$`)

// event reads an EVENT and splits off its offset: `["news",1]` and "5"
// for `2["news",1,"5"]`.
func (c *rawClient) event() (args, offset string) {
	c.t.Helper()
	got := c.recv()
	m := withOffset.FindStringSubmatch(got)
	if m == nil {
		c.t.Fatalf("packet %q, want an event with an offset", got)
	}
	return "[" + m[1] + "]", m[2]
}

// A client that loses its connection gets its socket back: id, rooms and
// data, and the events sent meanwhile to it and its rooms — not the
// volatile ones, those with an ack, or those that exclude it — then
// everything that follows.
func TestRecoveryRestoresSocketAndMissedEvents(t *testing.T) {
	srv, url := newTestServer(t, &Options{ConnectionStateRecovery: &Recovery{}})
	sockets := make(chan *Socket, 4)
	gone := make(chan Reason, 4)
	srv.Use(func(s *Socket) error {
		if strings.Contains(string(s.Handshake().Auth), "refuse") {
			return fmt.Errorf("refused")
		}
		return nil
	})
	srv.OnConnection(func(s *Socket) {
		if !s.Recovered() {
			s.Join("room1")
			s.Set("user", "ann")
		}
		s.OnDisconnect(func(r Reason) { gone <- r })
		sockets <- s
	})

	c := dialRaw(t, url)
	sid, pid := c.recoveryConnect("")
	if pid == "" || pid == sid {
		t.Fatalf("pid %q (sid %q): want a private session id of its own", pid, sid)
	}
	first := recvWithin(t, sockets)
	if first.Recovered() {
		t.Fatal("a new socket is not recovered")
	}
	if err := srv.To("room1").Emit("news", 1); err != nil {
		t.Fatal(err)
	}
	args, offset := c.event()
	if args != `["news",1]` {
		t.Fatalf("event %s", args)
	}

	_ = c.ws.Close() // the network fails
	if r := recvWithin(t, gone); r != ReasonTransportClose {
		t.Fatalf("disconnect reason %q", r)
	}
	_ = srv.To("room1").Emit("news", 2)
	_ = srv.To(sid).Emit("direct", "x")
	_ = srv.Except("room1").Emit("elsewhere")
	_ = srv.To("room2").Emit("other room")
	_ = srv.Volatile().Emit("volatile")
	_ = srv.Emit("everyone", 3)

	// The missed events come first, then CONNECT, as from the reference
	// server.
	c2 := dialRaw(t, url)
	c2.send("0" + fmt.Sprintf(`{"token":"t","pid":%q,"offset":%q}`, pid, offset))
	var offsets []string
	for _, want := range []string{`["news",2]`, `["direct","x"]`, `["everyone",3]`} {
		args, off := c2.event()
		if args != want {
			t.Fatalf("missed event %s, want %s", args, want)
		}
		offsets = append(offsets, off)
	}
	sid2, pid2 := c2.connectAnswer()
	if sid2 != sid || pid2 != pid {
		t.Fatalf("recovered as %s/%s, want %s/%s", sid2, pid2, sid, pid)
	}
	s := recvWithin(t, sockets)
	if !s.Recovered() || s.ID() != sid {
		t.Fatalf("socket %s recovered %v", s.ID(), s.Recovered())
	}
	if v, _ := s.Get("user"); v != "ann" {
		t.Fatalf("data %v, want ann", v)
	}
	rooms := s.Rooms()
	slices.Sort(rooms)
	want := []string{sid, "room1"}
	slices.Sort(want)
	if !slices.Equal(rooms, want) {
		t.Fatalf("rooms %v, want %v", rooms, want)
	}
	if string(s.Handshake().Auth) != fmt.Sprintf(`{"token":"t","pid":%q,"offset":%q}`, pid, offset) {
		t.Fatalf("auth %s", s.Handshake().Auth)
	}
	// Offsets grow, and what follows arrives live.
	_ = srv.To("room1").Emit("news", 4)
	args, last := c2.event()
	if args != `["news",4]` {
		t.Fatalf("event %s", args)
	}
	for i, off := range append(offsets, last) {
		prev := offset
		if i > 0 {
			prev = offsets[i-1]
		}
		if len(off) < len(prev) || len(off) == len(prev) && off <= prev {
			t.Fatalf("offset %q after %q: want growing offsets", off, prev)
		}
	}
	// An emit with an ack carries no offset.
	_ = s.Timeout(time.Second).Emit("ask", func(Args, error) {})
	if got := c2.recv(); got != `20["ask"]` {
		t.Fatalf("emit with ack %q, want no offset", got)
	}

	// A session is restored once: the same pid again gets a new socket.
	c3 := dialRaw(t, url)
	sid3, pid3 := c3.recoveryConnect(fmt.Sprintf(`{"pid":%q,"offset":%q}`, pid, last))
	if sid3 == sid || pid3 == pid {
		t.Fatalf("a session restored twice: %s/%s", sid3, pid3)
	}
	if recvWithin(t, sockets).Recovered() {
		t.Fatal("recovered twice")
	}
}

// No session comes back from a deliberate disconnect, after the window,
// with an unknown offset, or through a middleware that refuses it.
func TestRecoveryRefusals(t *testing.T) {
	cases := []struct {
		name  string
		opts  Recovery
		leave func(c *rawClient)
		wait  time.Duration
		auth  func(pid, offset string) string
		err   string // the CONNECT_ERROR expected, if any
	}{
		{name: "client disconnect", leave: func(c *rawClient) { c.send("1") },
			auth: func(pid, off string) string { return fmt.Sprintf(`{"pid":%q,"offset":%q}`, pid, off) }},
		{name: "expired", opts: Recovery{MaxDisconnectionDuration: 50 * time.Millisecond}, wait: 200 * time.Millisecond,
			auth: func(pid, off string) string { return fmt.Sprintf(`{"pid":%q,"offset":%q}`, pid, off) }},
		{name: "future offset",
			auth: func(pid, _ string) string { return fmt.Sprintf(`{"pid":%q,"offset":"zzzz"}`, pid) }},
		{name: "offset not a string",
			auth: func(pid, _ string) string { return fmt.Sprintf(`{"pid":%q,"offset":7}`, pid) }},
		{name: "middleware refuses", opts: Recovery{RunMiddlewares: true}, err: `{"message":"refused"}`,
			auth: func(pid, off string) string { return fmt.Sprintf(`{"refuse":1,"pid":%q,"offset":%q}`, pid, off) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv, url := newTestServer(t, &Options{ConnectionStateRecovery: &tc.opts})
			gone := make(chan Reason, 1)
			srv.Use(func(s *Socket) error {
				if strings.Contains(string(s.Handshake().Auth), "refuse") {
					return fmt.Errorf("refused")
				}
				return nil
			})
			srv.OnConnection(func(s *Socket) { s.OnDisconnect(func(r Reason) { gone <- r }) })
			c := dialRaw(t, url)
			sid, pid := c.recoveryConnect("")
			_ = srv.Emit("news", 1)
			_, offset := c.event()
			if tc.leave != nil {
				tc.leave(c)
			} else {
				_ = c.ws.Close()
			}
			recvWithin(t, gone)
			// The point of the sleep ("expired"): real time passes beyond
			// MaxDisconnectionDuration, which is the condition under test.
			time.Sleep(tc.wait)
			c2 := dialRaw(t, url)
			c2.send("0" + tc.auth(pid, offset))
			got := c2.recv()
			if tc.err != "" {
				if got != "4"+tc.err {
					t.Fatalf("answer %q, want CONNECT_ERROR %s", got, tc.err)
				}
				return
			}
			var d struct{ SID, PID string }
			if !strings.HasPrefix(got, "0{") || json.Unmarshal([]byte(got[1:]), &d) != nil {
				t.Fatalf("answer %q", got)
			}
			if d.SID == sid || d.PID == pid || d.PID == "" {
				t.Fatalf("answer %q: want a new socket (old %s/%s)", got, sid, pid)
			}
		})
	}
}

// Recovery off: no pid, no offsets.
func TestRecoveryOffSendsNoOffsets(t *testing.T) {
	srv, url := newTestServer(t, nil)
	c := dialRaw(t, url)
	sid := c.connect("/")
	_ = srv.Emit("news", 1)
	_ = srv.To(sid).Emit("direct")
	for _, want := range []string{`2["news",1]`, `2["direct"]`} {
		if got := c.recv(); got != want {
			t.Fatalf("got %q, want %q", got, want)
		}
	}
}

// What reaches a socket while it is being restored (here: from its own
// middleware) follows its missed events and precedes its CONNECT; too
// much of it closes the connection as a queue overflow would.
func TestRecoveryHoldsDeliveriesUntilConnect(t *testing.T) {
	for _, during := range []int{1, maxHeld + 1} {
		t.Run(fmt.Sprint(during), func(t *testing.T) {
			var srv *Server
			srv, url := newTestServer(t, &Options{ConnectionStateRecovery: &Recovery{RunMiddlewares: true}})
			gone := make(chan Reason, 1)
			joined := make(chan bool, 1)
			srv.Use(func(s *Socket) error {
				if s.Recovered() {
					for i := range during {
						_ = srv.To("room1").Emit("during", i)
					}
				}
				return nil
			})
			srv.OnConnection(func(s *Socket) {
				if !s.Recovered() {
					s.Join("room1")
					s.OnDisconnect(func(r Reason) { gone <- r })
					joined <- true
				}
			})
			c := dialRaw(t, url)
			sid, pid := c.recoveryConnect("")
			recvWithin(t, joined)
			_ = srv.To("room1").Emit("news", 1)
			_, offset := c.event()
			_ = c.ws.Close()
			recvWithin(t, gone)
			_ = srv.To("room1").Emit("news", 2)

			c2 := dialRaw(t, url)
			auth := fmt.Sprintf(`{"pid":%q,"offset":%q}`, pid, offset)
			if during > maxHeld {
				// The connection closes at once: what it had queued, CONNECT
				// included, may or may not have gone out.
				c2.send("0" + auth)
				c2.expectClosed()
				return
			}
			c2.send("0" + auth)
			if args, _ := c2.event(); args != `["news",2]` {
				t.Fatalf("first: %s, want the missed news", args)
			}
			if args, _ := c2.event(); args != `["during",0]` {
				t.Fatalf("then %s, want what was held", args)
			}
			if got, _ := c2.connectAnswer(); got != sid {
				t.Fatalf("not recovered: %s, want %s", got, sid)
			}
		})
	}
}
