package msgpackparser

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"time"

	socketio "github.com/switchboard-go/socketio"
	"github.com/switchboard-go/socketio/engineio"
	"github.com/switchboard-go/socketio/sioclient"
	"github.com/switchboard-go/socketio/socketiotest"
)

// A Go server and Go clients that both use the msgpack encoding, on each
// transport: acknowledgements both ways, binary both ways, a broadcast to
// a room, a second namespace, a refusal.
func TestGoServerGoClient(t *testing.T) {
	socketiotest.EachTransport(t, func(t *testing.T, tr socketiotest.Transport) {
		srv := socketio.NewServer(&socketio.Options{Parser: Parser{}, Logger: socketiotest.Logger()})
		srv.OnConnection(func(s *socketio.Socket) {
			s.On("join", func(e *socketio.Event) {
				var room string
				_ = e.Decode(0, &room)
				s.Join(room)
				_ = e.Ack("joined", room)
			})
			s.On("echo", func(e *socketio.Event) { _ = e.Ack(e.RawArgs()...) })
			s.On("shout", func(e *socketio.Event) {
				var room string
				_ = e.Decode(0, &room)
				_ = srv.To(room).Emit("shouted", e.Arg(1), []byte{0xde, 0xad})
			})
			s.On("ask", func(e *socketio.Event) {
				go func() {
					ctx, cancel := context.WithTimeout(context.Background(), socketiotest.Timeout)
					defer cancel()
					a, err := s.EmitWithAck(ctx, "question", []byte{1, 2, 3})
					var b []byte
					if err == nil {
						err = a.Decode(0, &b)
					}
					if err != nil {
						_ = e.Ack(err.Error())
						return
					}
					_ = e.Ack(b)
				}()
			})
		})
		srv.Of("/admin").Use(func(s *socketio.Socket) error {
			var auth struct{ Token string }
			_ = json.Unmarshal(s.Handshake().Auth, &auth)
			if auth.Token != "secret" {
				return &socketio.ConnectError{Message: "not authorized", Data: map[string]any{"code": 401}}
			}
			return nil
		})
		srv.Of("/admin").OnConnection(func(s *socketio.Socket) {
			s.On("whoami", func(e *socketio.Event) { _ = e.Ack("admin", s.Namespace().Name()) })
		})
		ts := socketiotest.Start(t, srv, "")

		opts := tr.Options()
		opts.Parser = Parser{}
		opts.ForceNew = true
		a, _ := socketiotest.Connect(t, ts.URL+"/", opts, func(s *sioclient.Socket) {
			s.On("question", func(e *sioclient.Event) {
				var b []byte
				_ = e.Decode(0, &b)
				_ = e.Ack(append(b, 4))
			})
		})
		shouted := make(chan [2]any, 4)
		b, _ := socketiotest.Connect(t, ts.URL+"/", opts, func(s *sioclient.Socket) {
			s.On("shouted", func(e *sioclient.Event) {
				var bin []byte
				_ = e.Decode(1, &bin)
				shouted <- [2]any{e.Value(0), string(bin)}
			})
		})
		ctx, cancel := context.WithTimeout(context.Background(), socketiotest.Timeout)
		defer cancel()

		// Ack with binary and nested values, echoed.
		ans, err := a.EmitWithAck(ctx, "echo", "s", 1.5, -7, map[string]any{"bin": []byte{9, 8}, "n": nil})
		if err != nil {
			t.Fatal(err)
		}
		var echoed struct{ Bin []byte }
		if ans.Value(0) != "s" || ans.Value(1) != 1.5 || ans.Value(2) != float64(-7) || ans.Decode(3, &echoed) != nil || !bytes.Equal(echoed.Bin, []byte{9, 8}) {
			t.Fatalf("echo answered %v", ans.Values())
		}
		// The server asks the client, with binary both ways.
		ans, err = a.EmitWithAck(ctx, "ask")
		var got []byte
		if err != nil || ans.Decode(0, &got) != nil || !bytes.Equal(got, []byte{1, 2, 3, 4}) {
			t.Fatalf("ask answered %v, %v", ans.Values(), err)
		}
		// A broadcast to a room reaches its member only.
		if ans, err := b.EmitWithAck(ctx, "join", "r"); err != nil || ans.Value(1) != "r" {
			t.Fatalf("join answered %v, %v", ans.Values(), err)
		}
		if err := a.Emit("shout", "r", map[string]any{"x": 1.0}); err != nil {
			t.Fatal(err)
		}
		v := socketiotest.Receive(t, shouted, "the room's broadcast")
		if m, ok := v[0].(map[string]any); !ok || m["x"] != 1.0 || v[1] != "\xde\xad" {
			t.Fatalf("broadcast carried %v", v)
		}
		// A second namespace on the same connection, refused then joined.
		refused := b.Manager().Socket("/admin", &sioclient.SocketOptions{Auth: map[string]any{"token": "wrong"}})
		lr := socketiotest.Watch(refused)
		refused.Connect()
		ce := socketiotest.Receive(t, lr.ConnectErrors, "/admin's refusal")
		if ce.Message != "not authorized" || string(ce.Data) != `{"code":401}` {
			t.Fatalf("refusal %+v", ce)
		}
		adm := a.Manager().Socket("/admin", &sioclient.SocketOptions{Auth: map[string]any{"token": "secret"}})
		la := socketiotest.Watch(adm)
		adm.Connect()
		socketiotest.Receive(t, la.Connected, "/admin's connection")
		ans, err = adm.EmitWithAck(ctx, "whoami")
		if err != nil || ans.Value(0) != "admin" || ans.Value(1) != "/admin" {
			t.Fatalf("whoami answered %v, %v", ans.Values(), err)
		}
	})
}

// closes reports the reasons of the server's closed sessions.
type closes chan string

func (c closes) ConnOpened(engineio.ConnOpen)      {}
func (c closes) ConnUpgraded(engineio.ConnUpgrade) {}
func (c closes) ConnRefused(engineio.ConnRefusal)  {}
func (c closes) ConnClosed(cl engineio.ConnClose)  { c <- cl.Reason }
func (c closes) VolatileDropped()                  {}

// The encodings do not mix: a client without the parser cannot join a
// server with it, nor the reverse; the server closes the connection as a
// parse error, and the client never connects.
func TestMismatchedParsers(t *testing.T) {
	for _, tc := range []struct {
		name           string
		server, client bool // which side has the msgpack parser
	}{{"msgpack server, default client", true, false}, {"default server, msgpack client", false, true}} {
		t.Run(tc.name, func(t *testing.T) {
			closed := make(closes, 4)
			opts := &socketio.Options{Logger: socketiotest.Logger()}
			opts.Engine.Observer = closed
			if tc.server {
				opts.Parser = Parser{}
			}
			srv := socketio.NewServer(opts)
			ts := socketiotest.Start(t, srv, "")
			copts := &sioclient.Options{ForceNew: true, DisableReconnection: true, Transports: []string{"websocket"}}
			if tc.client {
				copts.Parser = Parser{}
			}
			s, err := sioclient.New(ts.URL+"/", copts)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Manager().Close()
			l := socketiotest.Watch(s)
			s.Connect()
			if r := socketiotest.Receive(t, closed, "the server's close"); r != engineio.ReasonParseError {
				t.Fatalf("server closed the session with %q, want %q", r, engineio.ReasonParseError)
			}
			select {
			case id := <-l.Connected:
				t.Fatalf("connected (%s) with mismatched parsers", id)
			default:
			}
		})
	}
}

// Connection state recovery with the msgpack encoding: the packets the
// recovery log kept (in the parser package's form, with their offsets)
// reach the returning client converted, binary included.
func TestRecovery(t *testing.T) {
	socketiotest.EachTransport(t, func(t *testing.T, m socketiotest.Transport) {
		gone := make(chan string, 4)
		joined := make(chan bool, 4)
		srv := socketio.NewServer(&socketio.Options{
			Parser:                  Parser{},
			Engine:                  engineio.Options{PingInterval: 200 * time.Millisecond, PingTimeout: 500 * time.Millisecond},
			ConnectionStateRecovery: &socketio.Recovery{},
			Logger:                  socketiotest.Logger(),
		})
		srv.OnConnection(func(s *socketio.Socket) {
			if !s.Recovered() {
				s.Join("room")
			}
			// Never blocking a handler: a broken encoding would make the
			// client reconnect again and again.
			offer(joined, s.Recovered())
			s.OnDisconnect(func(r socketio.Reason) {
				offer(gone, string(r))
				_ = srv.To("room").Emit("news", "while away", []byte{1, 2})
			})
		})
		ts := socketiotest.Start(t, srv, "")
		opts := m.Options()
		opts.Parser = Parser{}
		// Longer than the server takes to notice the loss (see
		// sioclient's TestRecoveryWithGoServer).
		opts.ReconnectionDelay, opts.ReconnectionDelayMax = time.Second, time.Second
		seen := make(chan string, 16)
		s, l := socketiotest.Connect(t, ts.URL, opts, func(s *sioclient.Socket) {
			s.On("news", func(e *sioclient.Event) {
				var v string
				var b []byte
				_ = e.Decode(0, &v)
				_ = e.Decode(1, &b)
				offer(seen, v+" "+string(b))
			})
			s.OnConnect(func() { offer(seen, "connect") })
		})
		socketiotest.Receive(t, seen, "connect")
		socketiotest.Receive(t, joined, "the server's connection handler")
		socketiotest.WaitTransport(t, s.Manager(), m.Final)
		first := s.ID()
		_ = srv.To("room").Emit("news", "before", []byte{0})
		if got := socketiotest.Receive(t, seen, "news"); got != "before \x00" {
			t.Fatalf("got %q", got)
		}
		s.Manager().Engine().CloseWithReason(sioclient.ReasonTransportClose)
		socketiotest.Receive(t, l.Disconnected, "the client's disconnect")
		socketiotest.Receive(t, gone, "the server's disconnect")
		for _, want := range []string{"while away \x01\x02", "connect"} {
			if got := socketiotest.Receive(t, seen, want); got != want {
				t.Fatalf("got %q, want %q", got, want)
			}
		}
		if !s.Recovered() || s.ID() != first {
			t.Fatalf("recovered %v as %s, want %s", s.Recovered(), s.ID(), first)
		}
	})
}

// offer sends v unless ch is full.
func offer[T any](ch chan T, v T) {
	select {
	case ch <- v:
	default:
	}
}
