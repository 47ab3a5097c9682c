package socketio

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/switchboard-go/socketio/adapter"
	"github.com/switchboard-go/socketio/engineio"
	"github.com/switchboard-go/socketio/internal/leakcheck"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

// The tests in this file drive the server with a raw WebSocket client that
// writes and checks the exact Socket.IO wire format; the transport matrix
// and the official clients are covered in ../interop and ../sioclient.

func newTestServer(t *testing.T, opts *Options) (*Server, string) {
	t.Helper()
	srv := NewServer(opts)
	ts := httptest.NewServer(srv)
	t.Cleanup(func() {
		_ = srv.Close()
		ts.Close()
	})
	return srv, "ws" + strings.TrimPrefix(ts.URL, "http") + "/socket.io/?EIO=4&transport=websocket"
}

type rawClient struct {
	t  *testing.T
	ws *websocket.Conn
}

func dialRaw(t *testing.T, url string) *rawClient {
	t.Helper()
	ws, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	c := &rawClient{t: t, ws: ws}
	if open := c.frame(); !strings.HasPrefix(open, "0{") {
		t.Fatalf("open packet %q", open)
	}
	return c
}

// frame returns the next text frame, answering pings on the way.
func (c *rawClient) frame() string {
	c.t.Helper()
	for {
		_ = c.ws.SetReadDeadline(time.Now().Add(5 * time.Second))
		mt, data, err := c.ws.ReadMessage()
		if err != nil {
			c.t.Fatalf("read: %v", err)
		}
		if mt == websocket.BinaryMessage {
			c.t.Fatalf("unexpected binary frame %v", data)
		}
		if string(data) == "2" {
			_ = c.ws.WriteMessage(websocket.TextMessage, []byte("3"))
			continue
		}
		return string(data)
	}
}

// recv returns the next Socket.IO packet (the engine message without "4").
func (c *rawClient) recv() string {
	c.t.Helper()
	f := c.frame()
	if f[0] != '4' {
		c.t.Fatalf("engine packet %q, want a message", f)
	}
	return f[1:]
}

func (c *rawClient) recvBinary() []byte {
	c.t.Helper()
	_ = c.ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	mt, data, err := c.ws.ReadMessage()
	if err != nil || mt != websocket.BinaryMessage {
		c.t.Fatalf("want binary frame: %v %d %q", err, mt, data)
	}
	return data
}

func (c *rawClient) send(pkt string) {
	_ = c.ws.WriteMessage(websocket.TextMessage, []byte("4"+pkt))
}

func (c *rawClient) sendBinary(b []byte) { _ = c.ws.WriteMessage(websocket.BinaryMessage, b) }

// connect joins nsp and returns the socket id from the CONNECT answer.
func (c *rawClient) connect(nsp string) string {
	c.t.Helper()
	prefix := "0"
	if nsp != "/" {
		prefix += nsp + ","
	}
	c.send(prefix)
	got := c.recv()
	if !strings.HasPrefix(got, prefix+`{"sid":"`) {
		c.t.Fatalf("connect answer %q", got)
	}
	return strings.TrimSuffix(strings.TrimPrefix(got, prefix+`{"sid":"`), `"}`)
}

// expectClosed waits for the server to close the connection.
func (c *rawClient) expectClosed() { c.t.Helper(); c.closeError() }

// closeError waits for the server to close the connection and returns the
// read error that says how: a *websocket.CloseError for a close frame.
// Frames before the close are skipped.
func (c *rawClient) closeError() error {
	c.t.Helper()
	_ = c.ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		if _, _, err := c.ws.ReadMessage(); err != nil {
			var ne interface{ Timeout() bool }
			if errors.As(err, &ne) && ne.Timeout() {
				c.t.Fatal("connection not closed")
			}
			return err
		}
	}
}

// expectExactly receives want from ch, in order, and checks that nothing
// else is waiting there.
func expectExactly[T comparable](t *testing.T, ch <-chan T, want ...T) {
	t.Helper()
	for _, w := range want {
		if got := recvWithin(t, ch); got != w {
			t.Fatalf("got %v, want %v", got, w)
		}
	}
	select {
	case got := <-ch:
		t.Fatalf("unexpected %v", got)
	default:
	}
}

func recvWithin[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(5 * time.Second):
		t.Fatal("timed out")
		panic("unreachable")
	}
}

func TestConnectEventAck(t *testing.T) {
	srv, url := newTestServer(t, nil)
	got := make(chan string, 4)
	srv.OnConnection(func(s *Socket) {
		s.On("hello", func(e *Event) {
			var who string
			if err := e.Decode(0, &who); err != nil {
				t.Error(err)
			}
			got <- who
			if err := e.Ack("hi "+who, 42); err != nil {
				t.Error(err)
			}
			if err := e.Ack("again"); !errors.Is(err, ErrAlreadyAcked) {
				t.Errorf("second Ack: %v", err)
			}
		})
		s.On("noack", func(e *Event) {
			if err := e.Ack(); !errors.Is(err, ErrNoAck) {
				t.Errorf("Ack without id: %v", err)
			}
			got <- "noack"
		})
	})
	c := dialRaw(t, url)
	sid := c.connect("/")
	if len(sid) != 20 {
		t.Fatalf("sid %q", sid)
	}
	c.send(`27["hello","bob"]`)
	if w := recvWithin(t, got); w != "bob" {
		t.Fatalf("handler got %q", w)
	}
	if a := c.recv(); a != `37["hi bob",42]` {
		t.Fatalf("ack %q", a)
	}
	c.send(`2["noack"]`)
	recvWithin(t, got)
}

// The client may close its transport as soon as it reads DISCONNECT; that
// close, arriving before Disconnect has finished, must not rename the
// disconnection "transport close".
func TestDisconnectReasonSurvivesTransportCloseRace(t *testing.T) {
	srv, url := newTestServer(t, nil)
	reasons := make(chan Reason, 4)
	socks := make(chan *Socket, 1)
	srv.OnConnection(func(s *Socket) {
		s.OnDisconnect(func(r Reason) { reasons <- r })
		socks <- s
	})
	testHookDisconnectWritten = func(s *Socket) { s.client.OnClose(nil, string(ReasonTransportClose)) }
	defer func() { testHookDisconnectWritten = nil }()

	c := dialRaw(t, url)
	c.connect("/")
	recvWithin(t, socks).Disconnect(false)
	expectExactly(t, reasons, ReasonServerNamespaceDisconnect)
}

func TestReservedEventsRefused(t *testing.T) {
	srv, url := newTestServer(t, nil)
	errs := make(chan error, 8)
	srv.OnConnection(func(s *Socket) {
		for _, name := range []string{"connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"} {
			errs <- s.Emit(name)
		}
		errs <- srv.Emit("disconnect")
		errs <- s.Emit("fine")
	})
	c := dialRaw(t, url)
	c.connect("/")
	for i := 0; i < 7; i++ {
		if err := recvWithin(t, errs); !errors.Is(err, ErrReservedEvent) {
			t.Fatalf("emit %d: %v", i, err)
		}
	}
	if err := recvWithin(t, errs); err != nil {
		t.Fatal(err)
	}
	if p := c.recv(); p != `2["fine"]` {
		t.Fatalf("got %q", p)
	}
}

// As in the reference, a packet the connection's state does not allow
// (anything but CONNECT to a namespace not joined, CONNECT to one joined,
// CONNECT_ERROR at all) closes the whole connection; the sockets it had
// hear "forced server close".
func TestInvalidStateClosesConnection(t *testing.T) {
	for _, tc := range []struct{ name, pkt string }{
		{"event after refusal", `2/admin,["hello"]`},
		{"event to a namespace never joined", `2/other,["hello"]`},
		{"ack to a namespace never joined", `3/other,1[]`},
		{"disconnect of a namespace never joined", `1/other,`},
		{"second connect", `0`},
		{"connect_error from a client", `4{"message":"x"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, url := newTestServer(t, nil)
			srv.Of("/admin").Use(func(*Socket) error { return errors.New("no") })
			reasons := make(chan Reason, 2)
			srv.OnConnection(func(s *Socket) { s.OnDisconnect(func(r Reason) { reasons <- r }) })
			c := dialRaw(t, url)
			c.connect("/")
			c.send(`0/admin,`)
			if p := c.recv(); p != `4/admin,{"message":"no"}` {
				t.Fatalf("got %q", p)
			}
			c.send(tc.pkt)
			c.expectClosed()
			expectExactly(t, reasons, ReasonForcedServerClose)
		})
	}
}

func TestMiddlewareAndInvalidNamespace(t *testing.T) {
	srv, url := newTestServer(t, nil)
	srv.Of("/admin").Use(func(s *Socket) error {
		var auth struct{ Token string }
		_ = jsonUnmarshal(s.Handshake().Auth, &auth)
		if auth.Token != "secret" {
			return &ConnectError{Message: "not authorized", Data: map[string]any{"code": 401}}
		}
		return nil
	})
	srv.Of("/plain").Use(func(*Socket) error { return errors.New("plain error") })
	c := dialRaw(t, url)
	c.send(`0/admin,{"token":"wrong"}`)
	if p := c.recv(); p != `4/admin,{"message":"not authorized","data":{"code":401}}` {
		t.Fatalf("got %q", p)
	}
	c.send(`0/plain,`)
	if p := c.recv(); p != `4/plain,{"message":"plain error"}` {
		t.Fatalf("got %q", p)
	}
	c.send(`0/nowhere,`)
	if p := c.recv(); p != `4/nowhere,{"message":"Invalid namespace"}` {
		t.Fatalf("got %q", p)
	}
	c.send(`0/admin,{"token":"secret"}`)
	if p := c.recv(); !strings.HasPrefix(p, `0/admin,{"sid":"`) {
		t.Fatalf("got %q", p)
	}
}

func TestMultiplexedNamespacesAndDynamic(t *testing.T) {
	srv, url := newTestServer(t, nil)
	parent := srv.OfRegexp(regexp.MustCompile(`^/room-\d+$`))
	order := make(chan string, 8)
	parent.Use(func(s *Socket) error { order <- "parent " + s.Namespace().Name(); return nil })
	parent.OnConnection(func(s *Socket) {
		order <- "conn " + s.Namespace().Name()
		s.On("where", func(e *Event) { _ = e.Ack(s.Namespace().Name()) })
	})
	srv.OnConnection(func(s *Socket) { s.On("where", func(e *Event) { _ = e.Ack("main") }) })
	c := dialRaw(t, url)
	c.connect("/")
	c.connect("/room-12")
	if a, b := recvWithin(t, order), recvWithin(t, order); a != "parent /room-12" || b != "conn /room-12" {
		t.Fatalf("order %q %q", a, b)
	}
	c.send(`2/room-12,1["where"]`)
	if p := c.recv(); p != `3/room-12,1["/room-12"]` {
		t.Fatalf("got %q", p)
	}
	c.send(`22["where"]`)
	if p := c.recv(); p != `32["main"]` {
		t.Fatalf("got %q", p)
	}
	c.send(`0/room-x,`)
	if p := c.recv(); p != `4/room-x,{"message":"Invalid namespace"}` {
		t.Fatalf("got %q", p)
	}
	if n := len(parent.Children()); n != 1 {
		t.Fatalf("children %d", n)
	}
}

func TestServerAcks(t *testing.T) {
	srv, url := newTestServer(t, nil)
	results := make(chan any, 4)
	srv.OnConnection(func(s *Socket) {
		go func() {
			args, err := s.EmitWithAck(context.Background(), "question", 1)
			if err != nil {
				results <- err
				return
			}
			var n int
			_ = args.Decode(0, &n)
			results <- n
			_ = s.Timeout(50*time.Millisecond).Emit("ignored", AckFunc(func(_ Args, err error) { results <- err }))
		}()
	})
	c := dialRaw(t, url)
	c.connect("/")
	p := c.recv()
	if !strings.HasPrefix(p, "2") || !strings.HasSuffix(p, `["question",1]`) {
		t.Fatalf("got %q", p)
	}
	id := strings.TrimSuffix(strings.TrimPrefix(p, "2"), `["question",1]`)
	c.send("3" + id + "[42]")
	if v := recvWithin(t, results); v != 42 {
		t.Fatalf("ack value %v", v)
	}
	c.recv() // "ignored", never answered
	if err := recvWithin(t, results); !errors.Is(err.(error), ErrTimeout) {
		t.Fatalf("err %v", err)
	}
}

func TestBinaryBothWays(t *testing.T) {
	srv, url := newTestServer(t, nil)
	got := make(chan []byte, 2)
	srv.OnConnection(func(s *Socket) {
		s.On("up", func(e *Event) {
			var v struct {
				Name string
				File []byte
			}
			if err := e.Decode(0, &v); err != nil {
				t.Error(err)
			}
			got <- v.File
			if b, ok := e.Value(1).([]byte); !ok || string(b) != "\x00\x01" {
				t.Errorf("Value(1) = %#v", e.Value(1))
			}
			_ = e.Ack(map[string]any{"echo": v.File})
		})
	})
	c := dialRaw(t, url)
	c.connect("/")
	c.send(`52-5["up",{"name":"f","file":{"_placeholder":true,"num":0}},{"_placeholder":true,"num":1}]`)
	c.sendBinary([]byte("payload"))
	c.sendBinary([]byte{0, 1})
	if b := recvWithin(t, got); string(b) != "payload" {
		t.Fatalf("decoded %q", b)
	}
	if p := c.recv(); p != `61-5[{"echo":{"_placeholder":true,"num":0}}]` {
		t.Fatalf("binary ack %q", p)
	}
	if b := c.recvBinary(); string(b) != "payload" {
		t.Fatalf("attachment %q", b)
	}
}

func TestTooManyAttachmentsClosesOnlyThatConnection(t *testing.T) {
	srv, url := newTestServer(t, &Options{MaxAttachments: 2})
	reasons := make(chan Reason, 2)
	srv.OnConnection(func(s *Socket) {
		s.OnDisconnect(func(r Reason) { reasons <- r })
		s.On("ping", func(e *Event) { _ = e.Ack("pong") })
	})
	bad, good := dialRaw(t, url), dialRaw(t, url)
	bad.connect("/")
	good.connect("/")
	bad.send(`53-["x",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1},{"_placeholder":true,"num":2}]`)
	if r := recvWithin(t, reasons); r != ReasonParseError {
		t.Fatalf("reason %q", r)
	}
	bad.expectClosed()
	good.send(`21["ping"]`)
	if p := good.recv(); p != `31["pong"]` {
		t.Fatalf("other client got %q", p)
	}
}

func TestMalformedPacketsCloseConnection(t *testing.T) {
	for _, pkt := range []string{`2["unterminated`, `9`, `2{"not":"array"}`, `0/a,"str"`, `3["no id"]`, `2[]`} {
		t.Run(pkt, func(t *testing.T) {
			srv, url := newTestServer(t, nil)
			reasons := make(chan Reason, 1)
			srv.OnConnection(func(s *Socket) { s.OnDisconnect(func(r Reason) { reasons <- r }) })
			c := dialRaw(t, url)
			c.connect("/")
			c.send(pkt)
			if r := recvWithin(t, reasons); r != ReasonParseError {
				t.Fatalf("reason %q", r)
			}
			c.expectClosed()
		})
	}
}

func TestDisconnectReasons(t *testing.T) {
	srv, url := newTestServer(t, nil)
	type seen struct {
		reason Reason
		rooms  []string
	}
	events := make(chan seen, 8)
	socks := make(chan *Socket, 4)
	srv.OnConnection(func(s *Socket) {
		s.Join("lobby")
		s.OnDisconnecting(func(r Reason) { events <- seen{r, s.Rooms()} })
		s.OnDisconnect(func(r Reason) { events <- seen{r, s.Rooms()} })
		socks <- s
	})

	c := dialRaw(t, url)
	c.connect("/")
	s := recvWithin(t, socks)
	c.send("1")
	d1, d2 := recvWithin(t, events), recvWithin(t, events)
	if d1.reason != ReasonClientNamespaceDisconnect || !slices.Contains(d1.rooms, "lobby") || !slices.Contains(d1.rooms, s.ID()) {
		t.Fatalf("disconnecting %+v", d1)
	}
	if d2.reason != ReasonClientNamespaceDisconnect || len(d2.rooms) != 0 {
		t.Fatalf("disconnect %+v", d2)
	}
	if s.Connected() || s.Emit("x") != ErrDisconnected {
		t.Fatal("socket still usable")
	}

	c.connect("/")
	s = recvWithin(t, socks)
	s.Disconnect(false)
	if p := c.recv(); p != "1" {
		t.Fatalf("client got %q, want DISCONNECT", p)
	}
	recvWithin(t, events)
	if d := recvWithin(t, events); d.reason != ReasonServerNamespaceDisconnect {
		t.Fatalf("reason %q", d.reason)
	}

	c.connect("/")
	recvWithin(t, socks)
	_ = c.ws.Close()
	recvWithin(t, events)
	if d := recvWithin(t, events); d.reason != ReasonTransportClose {
		t.Fatalf("reason %q", d.reason)
	}

	c = dialRaw(t, url)
	c.connect("/")
	s = recvWithin(t, socks)
	s.Disconnect(true)
	if p := c.recv(); p != "1" {
		t.Fatalf("client got %q", p)
	}
	recvWithin(t, events)
	if d := recvWithin(t, events); d.reason != ReasonServerNamespaceDisconnect {
		t.Fatalf("reason %q", d.reason)
	}
	c.expectClosed()
}

func TestRoomsAndBroadcasts(t *testing.T) {
	srv, url := newTestServer(t, nil)
	socks := make(chan *Socket, 4)
	srv.OnConnection(func(s *Socket) { socks <- s })
	a, b, c := dialRaw(t, url), dialRaw(t, url), dialRaw(t, url)
	a.connect("/")
	sa := recvWithin(t, socks)
	b.connect("/")
	sb := recvWithin(t, socks)
	c.connect("/")
	sc := recvWithin(t, socks)
	sa.Join("red")
	sb.Join("red", "blue")
	sc.Join("green")

	_ = srv.To("red").Emit("m", 1)
	if a.recv() != `2["m",1]` || b.recv() != `2["m",1]` {
		t.Fatal("red members")
	}
	_ = sa.To("red").Emit("m", 2) // from a: not to a
	if p := b.recv(); p != `2["m",2]` {
		t.Fatalf("b got %q", p)
	}
	_ = srv.To("blue").To("green").Emit("m", 3) // union
	if b.recv() != `2["m",3]` || c.recv() != `2["m",3]` {
		t.Fatal("union")
	}
	_ = srv.Except("red").Emit("m", 4)
	if p := c.recv(); p != `2["m",4]` {
		t.Fatalf("c got %q", p)
	}
	_ = sc.Broadcast().Emit("m", 5)
	if a.recv() != `2["m",5]` || b.recv() != `2["m",5]` {
		t.Fatal("broadcast from c")
	}
	sb.Leave("red")
	_ = srv.In("red").Emit("m", 6)
	if p := a.recv(); p != `2["m",6]` {
		t.Fatalf("a got %q", p)
	}
	// Nothing else was queued for anyone: a final broadcast is the next
	// packet each client sees.
	_ = srv.Emit("end")
	for _, cl := range []*rawClient{a, b, c} {
		if p := cl.recv(); p != `2["end"]` {
			t.Fatalf("stray packet %q", p)
		}
	}
}

func TestBroadcastOperatorIsImmutable(t *testing.T) {
	srv := NewServer(nil)
	defer srv.Close()
	base := srv.To("a")
	x, y := base.To("b"), base.To("c")
	if !slices.Equal(x.rooms, []string{"a", "b"}) || !slices.Equal(y.rooms, []string{"a", "c"}) || !slices.Equal(base.rooms, []string{"a"}) {
		t.Fatalf("rooms shared: %v %v %v", base.rooms, x.rooms, y.rooms)
	}
	v := base.Volatile()
	if base.flags.Volatile || !v.flags.Volatile {
		t.Fatal("flags shared")
	}
}

func TestBroadcastAcks(t *testing.T) {
	srv, url := newTestServer(t, nil)
	socks := make(chan *Socket, 4)
	srv.OnConnection(func(s *Socket) { socks <- s })
	a, b := dialRaw(t, url), dialRaw(t, url)
	a.connect("/")
	recvWithin(t, socks)
	b.connect("/")
	recvWithin(t, socks)

	type result struct {
		args []Args
		err  error
	}
	done := make(chan result, 1)
	go func() {
		args, err := srv.Timeout(2*time.Second).EmitWithAck(context.Background(), "vote")
		done <- result{args, err}
	}()
	pa, pb := a.recv(), b.recv()
	if pa != pb || !strings.HasSuffix(pa, `["vote"]`) {
		t.Fatalf("packets %q %q", pa, pb)
	}
	id := strings.TrimSuffix(strings.TrimPrefix(pa, "2"), `["vote"]`)
	a.send("3" + id + `["yes"]`)
	b.send("3" + id + `["no"]`)
	r := recvWithin(t, done)
	if r.err != nil || len(r.args) != 2 {
		t.Fatalf("%v %d", r.err, len(r.args))
	}
	votes := []string{r.args[0].Value(0).(string), r.args[1].Value(0).(string)}
	slices.Sort(votes)
	if !slices.Equal(votes, []string{"no", "yes"}) {
		t.Fatalf("votes %v", votes)
	}

	go func() {
		args, err := srv.Timeout(100*time.Millisecond).EmitWithAck(context.Background(), "vote")
		done <- result{args, err}
	}()
	pa = a.recv()
	b.recv()
	id = strings.TrimSuffix(strings.TrimPrefix(pa, "2"), `["vote"]`)
	a.send("3" + id + `["late but here"]`)
	r = recvWithin(t, done)
	if !errors.Is(r.err, ErrTimeout) || len(r.args) != 1 {
		t.Fatalf("timeout: %v with %d answers", r.err, len(r.args))
	}
}

func TestServerUtilities(t *testing.T) {
	srv, url := newTestServer(t, nil)
	socks := make(chan *Socket, 4)
	srv.OnConnection(func(s *Socket) { s.Set("user", "u-"+s.ID()[:4]); socks <- s })
	a, b := dialRaw(t, url), dialRaw(t, url)
	a.connect("/")
	sa := recvWithin(t, socks)
	b.connect("/")
	recvWithin(t, socks)

	if err := srv.In(sa.ID()).SocketsJoin("vip"); err != nil {
		t.Fatal(err)
	}
	remote, err := srv.In("vip").FetchSockets(context.Background())
	if err != nil || len(remote) != 1 || remote[0].ID != sa.ID() || !slices.Contains(remote[0].Rooms, "vip") {
		t.Fatalf("fetch: %v %+v", err, remote)
	}
	if d, _ := remote[0].Data.(map[string]any); d["user"] != "u-"+sa.ID()[:4] {
		t.Fatalf("data %v", remote[0].Data)
	}
	_ = remote[0].Emit("only-you")
	if p := a.recv(); p != `2["only-you"]` {
		t.Fatalf("got %q", p)
	}
	all, _ := srv.FetchSockets(context.Background())
	if len(all) != 2 {
		t.Fatalf("all %d", len(all))
	}
	_ = srv.SocketsLeave("vip")
	if r, _ := srv.In("vip").FetchSockets(context.Background()); len(r) != 0 {
		t.Fatalf("still in vip: %d", len(r))
	}
	// With the in-memory adapter there is nobody to tell: no error, and no
	// client gets it (the next packet each sees is the DISCONNECT below).
	// What reaches a cluster's adapter is TestServerSideEmitReachesAdapter's.
	if err := srv.ServerSideEmit(context.Background(), "hello"); err != nil {
		t.Fatal(err)
	}
	_ = srv.DisconnectSockets(false)
	if a.recv() != "1" || b.recv() != "1" {
		t.Fatal("DisconnectSockets")
	}
}

// sideEmitAdapter is the in-memory adapter with the ServerSideEmit of a
// cluster adapter: it records what the namespace hands over, by namespace,
// and answers with err (a cluster's failure to publish).
type sideEmitAdapter struct {
	adapter.Adapter
	ns    string
	calls chan<- sideEmit
	err   error
}

type sideEmit struct {
	ns   string
	args []any
}

func (a *sideEmitAdapter) ServerSideEmit(_ context.Context, args []any) error {
	a.calls <- sideEmit{a.ns, args}
	return a.err
}

// ServerSideEmit's contract with the adapter: the event name then the
// arguments, as given, to the adapter of the namespace it was called on;
// the adapter's error back to the caller; a reserved event name refused
// before the adapter sees it. No local socket receives it.
func TestServerSideEmitReachesAdapter(t *testing.T) {
	calls := make(chan sideEmit, 4)
	published := errors.New("cluster unreachable")
	srv, url := newTestServer(t, &Options{Adapter: func(h adapter.Host) adapter.Adapter {
		a := &sideEmitAdapter{Adapter: adapter.NewInMemory(h), ns: h.Name(), calls: calls}
		if h.Name() == "/down" {
			a.err = published
		}
		return a
	}})
	srv.Of("/chat")
	c := dialRaw(t, url)
	c.connect("/")
	c.connect("/chat")

	payload := map[string]any{"k": "v"}
	if err := srv.ServerSideEmit(context.Background(), "hello", 1, "two", payload); err != nil {
		t.Fatal(err)
	}
	got := recvWithin(t, calls)
	if got.ns != "/" || len(got.args) != 4 || got.args[0] != "hello" || got.args[1] != 1 || got.args[2] != "two" ||
		!reflect.DeepEqual(got.args[3], payload) {
		t.Fatalf("adapter got %+v, want / [hello 1 two %v]", got, payload)
	}
	if err := srv.Of("/chat").ServerSideEmit(context.Background(), "only-chat"); err != nil {
		t.Fatal(err)
	}
	if got := recvWithin(t, calls); got.ns != "/chat" || !reflect.DeepEqual(got.args, []any{"only-chat"}) {
		t.Fatalf("adapter got %+v, want /chat [only-chat]", got)
	}
	if err := srv.Of("/down").ServerSideEmit(context.Background(), "x"); !errors.Is(err, published) {
		t.Fatalf("error %v, want the adapter's %v", err, published)
	}
	recvWithin(t, calls)
	for _, reserved := range []string{"connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"} {
		if err := srv.ServerSideEmit(context.Background(), reserved); !errors.Is(err, ErrReservedEvent) {
			t.Fatalf("%s: error %v, want ErrReservedEvent", reserved, err)
		}
	}
	select {
	case got := <-calls:
		t.Fatalf("a reserved event reached the adapter: %+v", got)
	default:
	}
	// Nothing went to the client: the next packet it sees is the event
	// emitted now.
	_ = srv.Emit("after")
	if p := c.recv(); p != `2["after"]` {
		t.Fatalf("got %q", p)
	}
}

func TestCatchAllAndPanicContained(t *testing.T) {
	srv, url := newTestServer(t, nil)
	seen := make(chan string, 8)
	srv.OnConnection(func(s *Socket) {
		s.OnAny(func(e *Event) { seen <- "any " + e.Name })
		s.OnAnyOutgoing(func(event string, args []any) { seen <- "out " + event })
		s.On("boom", func(e *Event) { panic("handler bug") })
		s.Once("once", func(e *Event) { seen <- "once" })
		s.On("echo", func(e *Event) { _ = s.Emit("echoed") })
	})
	c := dialRaw(t, url)
	c.connect("/")
	c.send(`2["boom"]`)
	c.send(`2["once"]`)
	c.send(`2["once"]`)
	c.send(`2["echo"]`)
	want := []string{"any boom", "any once", "once", "any once", "any echo", "out echoed"}
	for _, w := range want {
		if got := recvWithin(t, seen); got != w {
			t.Fatalf("got %q, want %q", got, w)
		}
	}
	if p := c.recv(); p != `2["echoed"]` {
		t.Fatalf("got %q", p)
	}
}

// A connection that joins no namespace within ConnectTimeout is closed
// then, not earlier, by the server: a normal WebSocket close (1000) after
// whatever was queued, which is how the engine ends a session it closes
// itself (Conn.Close), not the drop of a ping timeout (that comes after
// PingInterval+PingTimeout, here an hour) or of a protocol error. One that
// joins in time stays.
func TestConnectTimeout(t *testing.T) {
	const timeout = 200 * time.Millisecond
	srv, url := newTestServer(t, &Options{
		ConnectTimeout: timeout,
		Engine:         engineio.Options{PingInterval: time.Hour, PingTimeout: time.Hour},
	})
	socks := make(chan *Socket, 1)
	srv.OnConnection(func(s *Socket) { socks <- s })
	start := time.Now()
	// left joins and leaves at once: the timeout applies only until the
	// first join, so it stays open, though it is in no namespace when
	// its timer would have fired (dialled first, before idle's).
	left := dialRaw(t, url)
	left.connect("/")
	recvWithin(t, socks)
	left.send("1")
	idle, joined := dialRaw(t, url), dialRaw(t, url)
	joined.connect("/")
	s := recvWithin(t, socks)
	err := idle.closeError()
	elapsed := time.Since(start)
	if elapsed < timeout {
		t.Fatalf("closed after %v, before the connect timeout of %v", elapsed, timeout)
	}
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.CloseNormalClosure {
		t.Fatalf("the idle connection ended with %v, want the server's normal close (1000)", err)
	}
	// The server counts one connection now: the idle one is gone from the
	// engine, not just from this client's view.
	if n := srv.Engine().Count(); n != 2 {
		t.Fatalf("%d engine connections after the connect timeout, want 2", n)
	}
	// The joined one outlives the timeout and still gets events.
	if !s.Connected() || s.Emit("still here") != nil {
		t.Fatal("the joined socket was closed by the connect timeout")
	}
	if p := joined.recv(); p != `2["still here"]` {
		t.Fatalf("got %q", p)
	}
	left.connect("/")
	recvWithin(t, socks)
}

func TestShutdownTellsSockets(t *testing.T) {
	srv, url := newTestServer(t, &Options{Engine: engineio.Options{PingInterval: time.Hour}})
	reasons := make(chan Reason, 1)
	srv.OnConnection(func(s *Socket) {
		s.OnDisconnect(func(r Reason) { reasons <- r })
		_ = s.Emit("welcome")
	})
	c := dialRaw(t, url)
	c.connect("/")
	// The CONNECT answer is written before OnConnection runs; "welcome"
	// says the disconnect handler is registered.
	if p := c.recv(); p != `2["welcome"]` {
		t.Fatalf("got %q", p)
	}
	_ = srv.Emit("bye")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if r := recvWithin(t, reasons); r != ReasonServerShuttingDown {
		t.Fatalf("reason %q", r)
	}
	if p := c.recv(); p != `2["bye"]` {
		t.Fatalf("queued packet lost: %q", p)
	}
	c.expectClosed()
}

func jsonUnmarshal(raw []byte, v any) error {
	if len(raw) == 0 {
		return nil
	}
	return json.Unmarshal(raw, v)
}

// panicLog is a slog handler that passes on the "panic" attribute of every
// record that has one: the server's report that it contained a panic.
type panicLog chan any

func (panicLog) Enabled(context.Context, slog.Level) bool { return true }
func (h panicLog) WithAttrs([]slog.Attr) slog.Handler     { return h }
func (h panicLog) WithGroup(string) slog.Handler          { return h }
func (h panicLog) Handle(_ context.Context, r slog.Record) error {
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "panic" {
			h <- a.Value.Any()
		}
		return true
	})
	return nil
}

// An ack callback that panics (here: on its timeout) is contained: it ran,
// with ErrTimeout, the server reported the panic it recovered, and the
// socket goes on working after that.
func TestAckTimeoutPanicContained(t *testing.T) {
	panics := make(panicLog, 4)
	srv, url := newTestServer(t, &Options{Logger: slog.New(panics)})
	called := make(chan error, 1)
	sockets := make(chan *Socket, 1)
	srv.OnConnection(func(s *Socket) {
		_ = s.Timeout(20*time.Millisecond).Emit("q", AckFunc(func(_ Args, err error) {
			called <- err
			panic("ack callback bug")
		}))
		sockets <- s
	})
	c := dialRaw(t, url)
	c.connect("/")
	if p := c.recv(); p != `20["q"]` {
		t.Fatalf("got %q", p)
	}
	s := recvWithin(t, sockets)
	if err := recvWithin(t, called); !errors.Is(err, ErrTimeout) {
		t.Fatalf("ack callback got %v, want ErrTimeout", err)
	}
	if p := recvWithin(t, panics); p != "ack callback bug" {
		t.Fatalf("the server reported the panic %v, want the callback's", p)
	}
	if !s.Connected() {
		t.Fatal("the panic disconnected the socket")
	}
	if err := s.Emit("still alive"); err != nil {
		t.Fatal(err)
	}
	if p := c.recv(); p != `2["still alive"]` {
		t.Fatalf("got %q", p)
	}
}

// Handshake is rebuilt from what the connection kept of its handshake
// request: every field must still describe that request.
func TestHandshakeDetails(t *testing.T) {
	srv, url := newTestServer(t, nil)
	got := make(chan Handshake, 1)
	srv.OnConnection(func(s *Socket) { got <- s.Handshake() })
	hdr := http.Header{"Origin": {"http://example.test"}, "X-Token": {"t0k"}, "X-Multi": {"a", "b"}}
	ws, _, err := websocket.DefaultDialer.Dial(url+"&room=lobby&v=1&v=2", hdr)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	c := &rawClient{t: t, ws: ws}
	if open := c.frame(); !strings.HasPrefix(open, "0{") {
		t.Fatalf("open packet %q", open)
	}
	before := time.Now()
	c.send(`0{"token":"x"}`)
	hs := recvWithin(t, got)
	if hs.Query.Get("room") != "lobby" || !slices.Equal(hs.Query["v"], []string{"1", "2"}) ||
		hs.Query.Get("EIO") != "4" || hs.Query.Get("transport") != "websocket" {
		t.Errorf("query %v", hs.Query)
	}
	if hs.Headers.Get("X-Token") != "t0k" || !slices.Equal(hs.Headers["X-Multi"], []string{"a", "b"}) || !hs.XDomain || hs.Secure {
		t.Errorf("headers %v xdomain %v secure %v", hs.Headers, hs.XDomain, hs.Secure)
	}
	if hs.Address != "127.0.0.1" {
		t.Errorf("address %q", hs.Address)
	}
	if hs.URL != "/socket.io/?EIO=4&transport=websocket&room=lobby&v=1&v=2" {
		t.Errorf("url %q", hs.URL)
	}
	if hs.Time.After(before) || hs.Issued != hs.Time.UnixMilli() || time.Since(hs.Time) > time.Minute {
		t.Errorf("time %v issued %d", hs.Time, hs.Issued)
	}
	if string(hs.Auth) != `{"token":"x"}` {
		t.Errorf("auth %s", hs.Auth)
	}
}

// Send is emit("message"), on a socket and on broadcasts.
func TestSend(t *testing.T) {
	srv, url := newTestServer(t, nil)
	sockets := make(chan *Socket, 1)
	srv.OnConnection(func(s *Socket) { sockets <- s })
	c := dialRaw(t, url)
	c.connect("/")
	s := recvWithin(t, sockets)
	_ = s.Send("hi")
	_ = srv.Send(1, 2)
	_ = srv.To(s.ID()).Send()
	for _, want := range []string{`2["message","hi"]`, `2["message",1,2]`, `2["message"]`} {
		if got := c.recv(); got != want {
			t.Fatalf("got %q, want %q", got, want)
		}
	}
}

// A RemoteSocket's Timeout asks the socket for an acknowledgement.
func TestRemoteSocketTimeoutAck(t *testing.T) {
	srv, url := newTestServer(t, nil)
	c := dialRaw(t, url)
	c.connect("/")
	remotes, err := srv.FetchSockets(context.Background())
	if err != nil || len(remotes) != 1 {
		t.Fatalf("FetchSockets: %d, %v", len(remotes), err)
	}
	answers := make(chan []Args, 1)
	go func() {
		ans, err := remotes[0].Timeout(5*time.Second).EmitWithAck(context.Background(), "q")
		if err != nil {
			t.Error(err)
		}
		answers <- ans
	}()
	got := c.recv()
	id := strings.TrimSuffix(strings.TrimPrefix(got, "2"), `["q"]`)
	c.send("3" + id + `["a"]`)
	ans := recvWithin(t, answers)
	var v string
	if len(ans) != 1 || ans[0].Decode(0, &v) != nil || v != "a" {
		t.Fatalf("answers %v (packet %q)", ans, got)
	}
}

// A client that sends no auth payload gets {} as handshake.auth, as from
// the reference server (its client.connect defaults auth to {}), so that
// echoing it sends an object, never null; the namespace's function and
// middleware see {} as well.
func TestHandshakeAuthDefaultsToEmptyObject(t *testing.T) {
	srv, url := newTestServer(t, nil)
	srv.OnConnection(func(s *Socket) { _ = s.Emit("auth", s.Handshake().Auth) })
	matched := make(chan string, 1)
	srv.OfFunc(func(name string, auth json.RawMessage) bool {
		matched <- string(auth)
		return true
	}).OnConnection(func(s *Socket) { _ = s.Emit("auth", s.Handshake().Auth) })
	c := dialRaw(t, url)
	c.connect("/")
	if got := c.recv(); got != `2["auth",{}]` {
		t.Fatalf("auth echoed as %q, want {}", got)
	}
	c.connect("/dyn")
	if got := recvWithin(t, matched); got != `{}` {
		t.Fatalf("namespace function got auth %q, want {}", got)
	}
	if got := c.recv(); got != `2/dyn,["auth",{}]` {
		t.Fatalf("auth echoed as %q, want {}", got)
	}
	c.send(`0/dyn2,{"token":"t"}`)
	c.recv()
	if got := c.recv(); got != `2/dyn2,["auth",{"token":"t"}]` {
		t.Fatalf("auth echoed as %q", got)
	}
}
