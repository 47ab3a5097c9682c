package interop_test

// Interop with socket.io-msgpack-parser (npm): the official client with it
// against a Go server with msgpackparser, and the Go client with
// msgpackparser against the official server with it.

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	socketio "github.com/switchboard-go/socketio"
	"github.com/switchboard-go/socketio/msgpackparser"
	"github.com/switchboard-go/socketio/sioclient"
	"github.com/switchboard-go/socketio/socketiotest"
)

func TestNodeMsgpackClient(t *testing.T) {
	t.Parallel()
	eachMode(t, func(t *testing.T, mode string) {
		rec := newRecorder()
		url := startServer(t, &socketio.Options{Parser: msgpackparser.Parser{}}, func(srv *socketio.Server) {
			srv.OnConnection(func(s *socketio.Socket) {
				_ = s.Emit("welcome", map[string]any{"id": s.ID(), "bin": []byte{1, 2, 3}, "n": 1.5, "nested": map[string]any{"list": []any{1, "two", nil}}})
				s.On("echo", func(e *socketio.Event) {
					var bin []byte
					if err := e.Decode(4, &bin); err != nil {
						rec.add("error", "echo's Buffer: "+err.Error())
					}
					rec.add("echo bin", bin)
					_ = e.Ack(e.RawArgs()...)
				})
				s.On("ask", func(*socketio.Event) {
					_ = s.Timeout(5*time.Second).Emit("binq", []byte{7, 8}, socketio.AckFunc(func(a socketio.Args, err error) {
						var b []byte
						if err == nil {
							err = a.Decode(0, &b)
						}
						if err != nil {
							rec.add("error", "binq: "+err.Error())
							return
						}
						_ = s.Emit("asked", b, len(b))
					}))
				})
				s.On("join", func(e *socketio.Event) {
					var room string
					_ = e.Decode(0, &room)
					s.Join(room)
					_ = e.Ack("joined")
				})
				s.On("shout", func(e *socketio.Event) {
					var room string
					_ = e.Decode(0, &room)
					_ = srv.To(room).Emit("shouted", e.Arg(1), []byte{0xbe, 0xef})
					_ = e.Ack()
				})
			})
			admin := srv.Of("/admin")
			admin.Use(func(s *socketio.Socket) error {
				var auth struct{ Token string }
				_ = json.Unmarshal(s.Handshake().Auth, &auth)
				if auth.Token != "secret" {
					return &socketio.ConnectError{Message: "unauthorized", Data: map[string]any{"code": 401}}
				}
				return nil
			})
			admin.OnConnection(func(s *socketio.Socket) {
				s.On("whoami", func(e *socketio.Event) { _ = e.Ack(s.Namespace().Name(), []byte("ok")) })
			})
		})

		out := runNode(t, "client_msgpack.js", url, mode)
		out.expectExit(t)

		w, _ := out.one(t, "welcome")["args"].([]any)
		id := ""
		if len(w) == 1 {
			id, _ = obj(w[0])["id"].(string)
		}
		wantJSON(t, "welcome", w, `[{"id":"`+id+`","bin":{"$bin":"010203","$type":"Buffer"},"n":1.5,"nested":{"list":[1,"two",null]}}]`)
		wantJSON(t, "echo ack", out.one(t, "echo-ack")["args"],
			`["héllo",42,-1.5,{"list":[1,"two",null],"bin":{"$bin":"0102","$type":"Buffer"}},{"$bin":"ff00","$type":"Buffer"}]`)
		wantJSON(t, "binq", out.one(t, "binq")["args"], `[{"$bin":"0708","$type":"Buffer"}]`)
		wantJSON(t, "asked", out.one(t, "asked")["args"], `[{"$bin":"070809","$type":"Buffer"},3]`)
		sh := out.one(t, "shouted")
		wantJSON(t, "room broadcast", sh["args"], `[{"hi":"there"},{"$bin":"beef","$type":"Buffer"}]`)
		wantEqual(t, "broadcast to the sender", sh["leaked"], any(0.0))
		ref := out.one(t, "refused")
		wantEqual(t, "refusal message", ref["message"], any("unauthorized"))
		wantJSON(t, "refusal data", ref["data"], `{"code":401}`)
		wantJSON(t, "whoami", out.one(t, "whoami")["ack"], `["/admin",{"$bin":"6f6b","$type":"Buffer"}]`)
		wantEqual(t, "final transport", out.one(t, "transport")["name"], any(wantTransport(mode)))
		if got := rec.get("echo bin"); !reflect.DeepEqual(got, []any{[]byte{0xff, 0}}) {
			t.Errorf("server decoded echo's Buffer as %v", got)
		}
		wantEqual(t, "server errors", rec.get("error"), []any(nil))
	})
}

// The Go client with msgpackparser against the official server with
// socket.io-msgpack-parser (server_msgpack.js: server_main.js with it).
func TestGoClientNodeMsgpackServer(t *testing.T) {
	t.Parallel()
	eachMode(t, func(t *testing.T, mode string) {
		node := gcStartNode(t, "server_msgpack.js")
		opts := gcOptions(mode)
		opts.Parser = msgpackparser.Parser{}
		mgr, err := sioclient.NewManager(node.URL(), opts)
		if err != nil {
			t.Fatal(err)
		}
		defer mgr.Close()
		root := gcWatch(mgr.Socket("/", nil))
		admin := gcWatch(mgr.Socket("/admin", &sioclient.SocketOptions{Auth: map[string]any{"token": "secret"}}))
		for _, s := range []*gcSocket{root, admin} {
			s.Connect()
			socketiotest.Receive(t, s.life.Connected, "connect "+s.Namespace())
			w := socketiotest.Receive(t, s.welcome, "welcome "+s.Namespace())
			if w["id"] != s.ID() || w["nsp"] != s.Namespace() || w["engine"] != mgr.Engine().ID() {
				t.Errorf("welcome %v for socket %s of %s", w, s.ID(), s.Namespace())
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()

		// Client → server with an ack, binary nested and at the top.
		blob := []byte{0, 0x1e, 0xff, 'b'}
		ans, err := admin.EmitWithAck(ctx, "echo", "héllo", 1.5, -3.0, map[string]any{"list": []any{true, nil, "x"}, "b": []byte{5}}, blob)
		if err != nil {
			t.Fatal(err)
		}
		want := []any{"héllo", 1.5, -3.0, map[string]any{"list": []any{true, nil, "x"}, "b": []byte{5}}, blob}
		if got := ans.Values(); !reflect.DeepEqual(got, want) {
			t.Errorf("echo ack:\n got %#v\nwant %#v", got, want)
		}
		// Binary both ways, and a server emit.
		binEvents := make(chan map[string]any, 1)
		root.On("binary", func(e *sioclient.Event) {
			m, _ := e.Value(0).(map[string]any)
			binEvents <- m
		})
		ans, err = root.EmitWithAck(ctx, "binary", []byte{1, 2, 3, 4})
		if err != nil || !reflect.DeepEqual(ans.Values(), []any{[]byte{4, 3, 2, 1}}) {
			t.Errorf("binary ack %#v, %v", ans.Values(), err)
		}
		if got := socketiotest.Receive(t, binEvents, "binary event"); !reflect.DeepEqual(got, map[string]any{"reversed": []byte{4, 3, 2, 1}, "len": 4.0}) {
			t.Errorf("binary event %#v", got)
		}
		// Server → client with an ack; the client answers with binary.
		answers := make(chan []any, 1)
		root.On("question", func(e *sioclient.Event) {
			var n float64
			var b []byte
			_ = e.Decode(0, &n)
			_ = e.Decode(1, &b)
			_ = e.Ack(n*2, append(b, 4))
		})
		root.On("answer", func(e *sioclient.Event) { answers <- e.Values() })
		_ = root.Emit("ask", 21)
		if got := socketiotest.Receive(t, answers, "answer"); !reflect.DeepEqual(got, []any{42.0, []byte{1, 2, 3, 4}}) {
			t.Errorf("answer %#v", got)
		}
		// A refusal with data.
		bopts := gcOptions(mode)
		bopts.Parser = msgpackparser.Parser{}
		bopts.ForceNew = true
		bopts.Auth = map[string]string{"token": "wrong"}
		bad, _ := sioclient.New(node.URL()+"/admin", bopts)
		defer bad.Manager().Close()
		badw := gcWatch(bad)
		bad.Connect()
		ce := socketiotest.Receive(t, badw.life.ConnectErrors, "connect_error")
		if ce.Message != "unauthorized" || !ce.FromServer() {
			t.Errorf("connect error %+v", ce)
		}
		wantJSON(t, "connect error data", json.RawMessage(ce.Data), `{"code":401,"hint":"token"}`)
		socketiotest.WaitTransport(t, mgr, wantTransport(mode))
	})
}
