package sioclient_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sync/atomic"
	"testing"
	"time"

	socketio "github.com/switchboard-go/socketio"
	"github.com/switchboard-go/socketio/sioclient"
	"github.com/switchboard-go/socketio/socketiotest"
)

// echoServer registers the handlers most tests use on namespace ns:
//   - "echo": acknowledges with its arguments, or emits them back as
//     "echo" when no ack is asked;
//   - "ask": asks the client "question" (an ack from the client), then
//     emits "answer" with the client's answer;
//   - "kick": disconnects the socket from the server side.
//
// On connection it emits "welcome" {"id", "auth", "nsp", "conn"}.
func echoServer(ns *socketio.Namespace) {
	ns.OnConnection(func(s *socketio.Socket) {
		_ = s.Emit("welcome", map[string]any{
			"id": s.ID(), "auth": s.Handshake().Auth, "nsp": ns.Name(), "conn": s.Conn().ID(),
		})
		s.On("echo", func(e *socketio.Event) {
			args := e.Values()
			if e.WantsAck() {
				_ = e.Ack(args...)
			} else {
				_ = s.Emit("echo", args...)
			}
		})
		s.On("ask", func(e *socketio.Event) {
			go func() {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				ans, err := s.EmitWithAck(ctx, "question", e.Value(0), []byte{1, 2, 3})
				if err != nil {
					_ = s.Emit("answer", "error: "+err.Error())
					return
				}
				_ = s.Emit("answer", ans.Values()...)
			}()
		})
		s.On("kick", func(e *socketio.Event) { s.Disconnect(false) })
	})
}

// welcome is the decoded "welcome" event.
type welcome struct {
	ID   string          `json:"id"`
	Auth json.RawMessage `json:"auth"`
	Nsp  string          `json:"nsp"`
	Conn string          `json:"conn"`
}

func onWelcome(s *sioclient.Socket) chan welcome {
	ch := make(chan welcome, 16)
	s.On("welcome", func(e *sioclient.Event) {
		var w welcome
		_ = e.Decode(0, &w)
		ch <- w
	})
	return ch
}

func TestEmitAckAndBinary(t *testing.T) {
	socketiotest.EachTransport(t, func(t *testing.T, m socketiotest.Transport) {
		srv := startServer(t, "", func(srv *socketio.Server) { echoServer(srv.Of("/")) })
		var welcomes chan welcome
		opts := m.Options()
		opts.Auth = map[string]any{"token": "abc"}
		s, _ := socketiotest.Connect(t, srv.URL, opts, func(s *sioclient.Socket) { welcomes = onWelcome(s) })

		w := socketiotest.Receive(t, welcomes, "welcome")
		if w.ID != s.ID() || w.Nsp != "/" || string(w.Auth) != `{"token":"abc"}` {
			t.Errorf("welcome %+v, socket id %q", w, s.ID())
		}

		// Client → server with an ack, JSON and binary arguments.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		blob := bytes.Repeat([]byte{0, 0x1e, 0xff}, 1000)
		ans, err := s.EmitWithAck(ctx, "echo", "héllo", 42, map[string]any{"k": []any{true, nil}}, blob)
		if err != nil {
			t.Fatal(err)
		}
		want := []any{"héllo", 42.0, map[string]any{"k": []any{true, nil}}, blob}
		if got := ans.Values(); !reflect.DeepEqual(got, want) {
			t.Errorf("ack: got %#v, want %#v", got, want)
		}

		// Several binary arguments: one packet with as many attachments.
		ans, err = s.EmitWithAck(ctx, "echo", []byte("one"), "mid", []byte{}, []byte("three"))
		if err != nil {
			t.Fatal(err)
		}
		if got, want := ans.Values(), []any{[]byte("one"), "mid", []byte{}, []byte("three")}; !reflect.DeepEqual(got, want) {
			t.Errorf("three attachments: got %#v, want %#v", got, want)
		}

		// The AckFunc form, and a nested binary.
		acked := make(chan sioclient.Args, 1)
		err = s.Emit("echo", map[string]any{"bin": []byte("nested")}, sioclient.AckFunc(func(a sioclient.Args, err error) {
			if err != nil {
				t.Errorf("ack error: %v", err)
			}
			acked <- a
		}))
		if err != nil {
			t.Fatal(err)
		}
		var got struct{ Bin []byte }
		if err := socketiotest.Receive(t, acked, "ack").Decode(0, &got); err != nil || string(got.Bin) != "nested" {
			t.Errorf("nested binary: %q, %v", got.Bin, err)
		}

		// Server → client events, binary included.
		echoes := make(chan sioclient.Args, 1)
		s.On("echo", func(e *sioclient.Event) { echoes <- e.Args })
		_ = s.Emit("echo", []byte{9, 8, 7}, "x")
		if a := socketiotest.Receive(t, echoes, "echo"); !reflect.DeepEqual(a.Values(), []any{[]byte{9, 8, 7}, "x"}) {
			t.Errorf("echo: %#v", a.Values())
		}

		// Server → client with an ack: the client answers with Event.Ack,
		// a binary included.
		answers := make(chan []any, 1)
		s.On("question", func(e *sioclient.Event) {
			var n float64
			_ = e.Decode(0, &n)
			var b []byte
			_ = e.Decode(1, &b)
			if !e.WantsAck() {
				t.Error("question does not want an ack")
			}
			if err := e.Ack(n*2, append(b, 4)); err != nil {
				t.Errorf("Ack: %v", err)
			}
			if err := e.Ack(); !errors.Is(err, sioclient.ErrAlreadyAcked) {
				t.Errorf("second Ack: %v", err)
			}
		})
		s.On("answer", func(e *sioclient.Event) { answers <- e.Values() })
		_ = s.Emit("ask", 21)
		if a := socketiotest.Receive(t, answers, "answer"); !reflect.DeepEqual(a, []any{42.0, []byte{1, 2, 3, 4}}) {
			t.Errorf("answer: %#v", a)
		}
		socketiotest.WaitTransport(t, s.Manager(), m.Final)
	})
}

func TestNamespacesShareOneConnection(t *testing.T) {
	socketiotest.EachTransport(t, func(t *testing.T, m socketiotest.Transport) {
		srv := startServer(t, "", func(srv *socketio.Server) {
			echoServer(srv.Of("/"))
			echoServer(srv.Of("/a"))
			echoServer(srv.Of("/b"))
		})
		mgr, err := sioclient.NewManager(srv.URL, m.Options())
		if err != nil {
			t.Fatal(err)
		}
		defer mgr.Close()
		conns := map[string]string{}
		for _, nsp := range []string{"/", "/a", "b"} {
			s := mgr.Socket(nsp, &sioclient.SocketOptions{Auth: map[string]string{"nsp": nsp}})
			if mgr.Socket(nsp, nil) != s {
				t.Errorf("Socket(%q) twice gave two sockets", nsp)
			}
			l := socketiotest.Watch(s)
			ws := onWelcome(s)
			s.Connect()
			socketiotest.Receive(t, l.Connected, "connect "+nsp)
			w := socketiotest.Receive(t, ws, "welcome "+nsp)
			conns[w.Nsp] = w.Conn
			if string(w.Auth) != fmt.Sprintf(`{"nsp":%q}`, nsp) {
				t.Errorf("%s auth %s", nsp, w.Auth)
			}
			// Each namespace has its own handlers.
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			a, err := s.EmitWithAck(ctx, "echo", nsp)
			cancel()
			if err != nil || a.Value(0) != nsp {
				t.Errorf("%s echo: %v %v", nsp, a.Values(), err)
			}
		}
		if conns["/"] == "" || conns["/"] != conns["/a"] || conns["/a"] != conns["/b"] {
			t.Errorf("namespaces on different connections: %v", conns)
		}

		// An unknown namespace is refused; the others are unaffected.
		bad := mgr.Socket("/nope", nil)
		l := socketiotest.Watch(bad)
		bad.Connect()
		if ce := socketiotest.Receive(t, l.ConnectErrors, "connect_error"); ce.Message != "Invalid namespace" || !ce.FromServer() {
			t.Errorf("connect error %+v", ce)
		}
		if bad.Active() || bad.Connected() {
			t.Error("refused socket still active")
		}
		if !mgr.Socket("/a", nil).Connected() {
			t.Error("/a disconnected by the refusal of /nope")
		}
	})
}

func TestDialSharesManagers(t *testing.T) {
	srv := startServer(t, "", func(srv *socketio.Server) {
		echoServer(srv.Of("/"))
		echoServer(srv.Of("/a"))
	})
	opts := socketiotest.WebSocket.Options()
	a, err := sioclient.Dial(srv.URL+"/a?x=1", opts)
	if err != nil {
		t.Fatal(err)
	}
	root, _ := sioclient.Dial(srv.URL, opts)
	again, _ := sioclient.Dial(srv.URL+"/a", opts)
	forced, _ := sioclient.New(srv.URL, &sioclient.Options{ForceNew: true})
	defer func() {
		for _, s := range []*sioclient.Socket{a, root, again, forced} {
			s.Disconnect()
		}
	}()
	if a.Manager() != root.Manager() {
		t.Error("two namespaces of one server got two managers")
	}
	if again.Manager() == a.Manager() {
		t.Error("the same namespace twice shared a manager")
	}
	if forced.Manager() == root.Manager() {
		t.Error("ForceNew shared a manager")
	}
	if forced.Connected() || forced.Active() {
		t.Error("New connected")
	}
	// Dial connects before a handler could be added, so poll the state
	// itself, with a deadline.
	for _, s := range []*sioclient.Socket{a, root, again} {
		deadline := time.Now().Add(5 * time.Second)
		for !s.Connected() {
			if time.Now().After(deadline) {
				t.Fatalf("%s never connected", s.Namespace())
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	if _, err := sioclient.Dial("ftp://x", nil); err == nil {
		t.Error("bad scheme accepted")
	}
	if _, err := sioclient.NewManager("http:///x", nil); err == nil {
		t.Error("empty host accepted")
	}
}

// A shared manager leaves the cache when it closes (its last socket
// disconnected): the next Dial of that server, even of another namespace,
// gets a connection of its own, which connects. A ForceNew manager
// closing leaves the shared one in the cache.
func TestDialAfterTheSharedManagerClosed(t *testing.T) {
	srv := startServer(t, "", func(srv *socketio.Server) {
		echoServer(srv.Of("/"))
		echoServer(srv.Of("/a"))
		echoServer(srv.Of("/b"))
	})
	opts := socketiotest.WebSocket.Options()
	first, err := sioclient.Dial(srv.URL, opts)
	if err != nil {
		t.Fatal(err)
	}
	waitConnected(t, first)
	first.Disconnect()
	second, _ := sioclient.Dial(srv.URL+"/a", opts)
	defer second.Disconnect()
	if second.Manager() == first.Manager() {
		t.Fatal("Dial handed out the closed manager")
	}
	waitConnected(t, second)

	forcedOpts := socketiotest.WebSocket.Options()
	forcedOpts.ForceNew = true
	forced, _ := sioclient.Dial(srv.URL+"/b", forcedOpts)
	waitConnected(t, forced)
	forced.Disconnect()
	third, _ := sioclient.New(srv.URL+"/b", opts)
	if third.Manager() != second.Manager() {
		t.Error("a ForceNew manager closing took the shared one out of the cache")
	}
}

// waitConnected polls the socket's state with a deadline (Dial connects
// before a handler could be added).
func waitConnected(t *testing.T, s *sioclient.Socket) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !s.Connected() {
		if time.Now().After(deadline) {
			t.Fatalf("%s never connected", s.Namespace())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestConnectErrorAndAuthFunc(t *testing.T) {
	socketiotest.EachTransport(t, func(t *testing.T, m socketiotest.Transport) {
		srv := startServer(t, "", func(srv *socketio.Server) {
			priv := srv.Of("/private")
			priv.Use(func(s *socketio.Socket) error {
				var auth struct{ Token string }
				_ = json.Unmarshal(s.Handshake().Auth, &auth)
				if auth.Token != "good" {
					return &socketio.ConnectError{Message: "unauthorized", Data: map[string]any{"code": 401}}
				}
				return nil
			})
			echoServer(priv)
			priv.OnConnection(func(s *socketio.Socket) {
				s.On("drop", func(*socketio.Event) { s.Conn().CloseWithReason("transport close") })
			})
		})

		// Refused: the message and data of the server, and no retry.
		opts := m.Options()
		opts.Auth = map[string]string{"token": "bad"}
		s, err := sioclient.New(srv.URL+"/private", opts)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Manager().Close()
		l := socketiotest.Watch(s)
		s.Connect()
		ce := socketiotest.Receive(t, l.ConnectErrors, "connect_error")
		if ce.Message != "unauthorized" || string(ce.Data) != `{"code":401}` || !ce.FromServer() {
			t.Errorf("connect error %+v", ce)
		}
		socketiotest.Nothing(t, l.ConnectErrors, 200*time.Millisecond, "retry after a refusal")
		if s.Active() {
			t.Error("refused socket still active")
		}

		// AuthFunc: called for every connection, so a token can change.
		var calls atomic.Int32
		opts = m.Options()
		opts.ForceNew = true
		opts.AuthFunc = func() (any, error) {
			n := calls.Add(1)
			return map[string]any{"token": "good", "n": n}, nil
		}
		var welcomes chan welcome
		s2, l2 := socketiotest.Connect(t, srv.URL+"/private", opts, func(s *sioclient.Socket) { welcomes = onWelcome(s) })
		if w := socketiotest.Receive(t, welcomes, "welcome"); string(w.Auth) != `{"n":1,"token":"good"}` {
			t.Errorf("first auth %s", w.Auth)
		}
		_ = s2.Emit("drop") // the server cuts the transport: the client reconnects
		// Over polling, "transport error" when no poll was pending to
		// carry the close packet (the next one finds the session gone).
		if r := socketiotest.Receive(t, l2.Disconnected, "disconnect"); r != sioclient.ReasonTransportClose && r != sioclient.ReasonTransportError {
			t.Errorf("disconnect reason %q", r)
		}
		socketiotest.Receive(t, l2.Connected, "reconnect")
		if w := socketiotest.Receive(t, welcomes, "welcome"); string(w.Auth) != `{"n":2,"token":"good"}` {
			t.Errorf("auth on reconnection %s", w.Auth)
		}

		// An AuthFunc error refuses locally.
		opts = m.Options()
		opts.ForceNew = true
		opts.AuthFunc = func() (any, error) { return nil, errors.New("no token") }
		s3, _ := sioclient.New(srv.URL+"/private", opts)
		defer s3.Manager().Close()
		l3 := socketiotest.Watch(s3)
		s3.Connect()
		if ce := socketiotest.Receive(t, l3.ConnectErrors, "connect_error"); ce.Message != "no token" || s3.Active() {
			t.Errorf("AuthFunc error: %+v, active %v", ce, s3.Active())
		}
	})
}

func TestServerDisconnectDoesNotReconnect(t *testing.T) {
	socketiotest.EachTransport(t, func(t *testing.T, m socketiotest.Transport) {
		var conns atomic.Int32
		srv := startServer(t, "", func(srv *socketio.Server) {
			echoServer(srv.Of("/"))
			srv.OnConnection(func(*socketio.Socket) { conns.Add(1) })
		})
		s, l := socketiotest.Connect(t, srv.URL, m.Options(), nil)
		pending := make(chan error, 1)
		_ = s.Emit("void", sioclient.AckFunc(func(_ sioclient.Args, err error) { pending <- err }))
		_ = s.Emit("kick")
		if r := socketiotest.Receive(t, l.Disconnected, "disconnect"); r != sioclient.ReasonIOServerDisconnect {
			t.Errorf("reason %q", r)
		}
		if err := socketiotest.Receive(t, pending, "pending ack"); !errors.Is(err, sioclient.ErrDisconnected) {
			t.Errorf("pending ack: %v", err)
		}
		socketiotest.Nothing(t, l.Connected, 300*time.Millisecond, "reconnection")
		if s.Active() || s.Connected() || conns.Load() != 1 {
			t.Errorf("active %v connected %v, %d connections", s.Active(), s.Connected(), conns.Load())
		}
		if s.Manager().Engine() != nil {
			t.Error("the manager kept its connection after its last socket left")
		}
		// Connect starts again.
		s.Connect()
		socketiotest.Receive(t, l.Connected, "connect again")
	})
}

func TestClientDisconnect(t *testing.T) {
	socketiotest.EachTransport(t, func(t *testing.T, m socketiotest.Transport) {
		reasons := make(chan socketio.Reason, 4)
		srv := startServer(t, "", func(srv *socketio.Server) {
			for _, ns := range []*socketio.Namespace{srv.Of("/"), srv.Of("/a")} {
				echoServer(ns)
				ns.OnConnection(func(s *socketio.Socket) {
					s.OnDisconnect(func(r socketio.Reason) { reasons <- r })
				})
			}
		})
		s, l := socketiotest.Connect(t, srv.URL, m.Options(), nil)
		a, la := socketiotest.Connect(t, srv.URL+"/a", m.Options(), nil)
		if a.Manager() != s.Manager() {
			t.Fatal("not multiplexed")
		}
		a.Disconnect()
		if r := socketiotest.Receive(t, la.Disconnected, "disconnect"); r != sioclient.ReasonIOClientDisconnect {
			t.Errorf("client reason %q", r)
		}
		if r := socketiotest.Receive(t, reasons, "server disconnect"); r != socketio.ReasonClientNamespaceDisconnect {
			t.Errorf("server reason %q", r)
		}
		if !s.Connected() || s.Manager().Engine() == nil {
			t.Error("disconnecting /a closed the connection of /")
		}
		s.Disconnect()
		socketiotest.Receive(t, l.Disconnected, "disconnect /")
		if r := socketiotest.Receive(t, reasons, "server disconnect /"); r != socketio.ReasonClientNamespaceDisconnect && r != socketio.ReasonTransportClose {
			t.Errorf("server reason for / %q", r)
		}
		if s.Manager().Engine() != nil {
			t.Error("connection still open after the last socket left")
		}
		s.Disconnect() // idempotent
	})
}

func TestAckTimeoutsAndErrors(t *testing.T) {
	srv := startServer(t, "", func(srv *socketio.Server) { echoServer(srv.Of("/")) })
	s, _ := socketiotest.Connect(t, srv.URL, socketiotest.Polling.Options(), nil)

	errs := make(chan error, 1)
	_ = s.Timeout(50*time.Millisecond).Emit("void", sioclient.AckFunc(func(_ sioclient.Args, err error) { errs <- err }))
	if err := socketiotest.Receive(t, errs, "timeout"); !errors.Is(err, sioclient.ErrTimeout) {
		t.Errorf("Timeout: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	_, err := s.EmitWithAck(ctx, "void")
	cancel()
	if !errors.Is(err, sioclient.ErrTimeout) {
		t.Errorf("EmitWithAck deadline: %v", err)
	}
	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	if _, err := s.EmitWithAck(ctx, "echo"); !errors.Is(err, context.Canceled) {
		t.Errorf("EmitWithAck canceled: %v", err)
	}
	if _, err := s.Timeout(50*time.Millisecond).EmitWithAck(context.Background(), "void"); !errors.Is(err, sioclient.ErrTimeout) {
		t.Errorf("emitter timeout with EmitWithAck: %v", err)
	}
	for _, name := range []string{"connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"} {
		if err := s.Emit(name); !errors.Is(err, sioclient.ErrReservedEvent) {
			t.Errorf("Emit(%q): %v", name, err)
		}
	}
	if err := s.Emit("x", func() {}); err == nil {
		t.Error("unencodable argument accepted")
	}
	// An event without an ack cannot be acked.
	noAck := make(chan error, 1)
	s.Once("echo", func(e *sioclient.Event) { noAck <- e.Ack() })
	_ = s.Emit("echo", 1)
	if err := socketiotest.Receive(t, noAck, "ack"); !errors.Is(err, sioclient.ErrNoAck) {
		t.Errorf("Ack without ack id: %v", err)
	}
}

// Handlers run one at a time, in arrival order; Once, Off and OnAny work.
func TestHandlersSerializedInOrder(t *testing.T) {
	const n = 300
	srv := startServer(t, "", func(srv *socketio.Server) {
		srv.OnConnection(func(s *socketio.Socket) {
			s.On("go", func(*socketio.Event) {
				for i := range n {
					_ = s.Emit("num", i)
				}
				_ = s.Emit("done")
			})
		})
	})
	var inFlight, maxInFlight atomic.Int32
	var got []int
	var anys, onces atomic.Int32
	done := make(chan struct{})
	s, _ := socketiotest.Connect(t, srv.URL, socketiotest.Upgrade.Options(), func(s *sioclient.Socket) {
		s.OnAny(func(*sioclient.Event) { anys.Add(1) })
		s.Once("num", func(*sioclient.Event) { onces.Add(1) })
		s.On("num", func(e *sioclient.Event) {
			if v := inFlight.Add(1); v > maxInFlight.Load() {
				maxInFlight.Store(v)
			}
			var i int
			_ = e.Decode(0, &i)
			got = append(got, i) // no lock: handlers never overlap
			// The point of the sleep: it widens the window an overlapping
			// handler would fall into.
			time.Sleep(50 * time.Microsecond)
			inFlight.Add(-1)
		})
		s.On("done", func(*sioclient.Event) { close(done) })
	})
	_ = s.Emit("go")
	socketiotest.Receive(t, done, "done")
	if maxInFlight.Load() != 1 {
		t.Errorf("%d handlers ran at once", maxInFlight.Load())
	}
	for i, v := range got {
		if v != i {
			t.Fatalf("event %d carried %d: out of order", i, v)
		}
	}
	if len(got) != n || onces.Load() != 1 || anys.Load() != n+1 {
		t.Errorf("got %d events, once ran %d times, any %d", len(got), onces.Load(), anys.Load())
	}
	s.Off("num")
	s.OffAny()
	done = make(chan struct{})
	s.On("done", func(*sioclient.Event) { close(done) })
	_ = s.Emit("go")
	socketiotest.Receive(t, done, "done")
	if len(got) != n || anys.Load() != n+1 {
		t.Error("handlers ran after Off")
	}
}

// A panicking handler is contained: later callbacks still run.
func TestHandlerPanicContained(t *testing.T) {
	srv := startServer(t, "", func(srv *socketio.Server) { echoServer(srv.Of("/")) })
	s, _ := socketiotest.Connect(t, srv.URL, socketiotest.WebSocket.Options(), nil)
	ok := make(chan bool, 1)
	s.On("echo", func(*sioclient.Event) { panic("boom") })
	s.On("echo", func(*sioclient.Event) { ok <- true })
	_ = s.Emit("echo")
	socketiotest.Receive(t, ok, "the handler after the panic")
}

// Query and headers reach the server on every transport, the WebSocket
// handshake of an upgrade included.
func TestQueryAndHeaders(t *testing.T) {
	socketiotest.EachTransport(t, func(t *testing.T, m socketiotest.Transport) {
		type seen struct{ q, h string }
		got := make(chan seen, 4)
		srv := startServer(t, "", func(srv *socketio.Server) {
			srv.OnConnection(func(s *socketio.Socket) {
				hs := s.Handshake()
				got <- seen{hs.Query.Get("room") + "," + hs.Query.Get("v"), hs.Headers.Get("X-Token")}
			})
		})
		opts := m.Options()
		opts.ExtraHeaders = map[string][]string{"X-Token": {"t0k"}}
		opts.Query = map[string][]string{"v": {"2"}}
		s, _ := socketiotest.Connect(t, srv.URL+"/?room=ignored-when-Query-is-set", opts, nil)
		if g := socketiotest.Receive(t, got, "handshake"); g.q != ",2" || g.h != "t0k" {
			t.Errorf("query %q, header %q", g.q, g.h)
		}
		socketiotest.WaitTransport(t, s.Manager(), m.Final)

		// The URL's query when Options.Query is nil.
		opts = m.Options()
		opts.ForceNew = true
		socketiotest.Connect(t, srv.URL+"/?room=lobby&v=1", opts, nil)
		if g := socketiotest.Receive(t, got, "handshake"); g.q != "lobby,1" {
			t.Errorf("query from the URL %q", g.q)
		}
	})
}

// Many goroutines emitting at once, across the upgrade, under -race.
func TestConcurrentEmits(t *testing.T) {
	srv := startServer(t, "", func(srv *socketio.Server) { echoServer(srv.Of("/")) })
	s, _ := socketiotest.Connect(t, srv.URL, socketiotest.Upgrade.Options(), nil)
	const workers, each = 8, 50
	errs := make(chan error, workers)
	for w := range workers {
		go func() {
			for i := range each {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				a, err := s.EmitWithAck(ctx, "echo", w, i)
				cancel()
				if err == nil && (a.Value(0) != float64(w) || a.Value(1) != float64(i)) {
					err = fmt.Errorf("worker %d emit %d: answer %v", w, i, a.Values())
				}
				if err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range workers {
		if err := socketiotest.Receive(t, errs, "worker"); err != nil {
			t.Error(err)
		}
	}
	socketiotest.WaitTransport(t, s.Manager(), socketiotest.Upgrade.Final)
}
