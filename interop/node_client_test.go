package interop_test

// Interop with the official Node.js client, socket.io-client@4 (from
// interop/node/node_modules; run `npm ci` there). Every scenario runs over
// the transport matrix: polling only, WebSocket only, polling upgraded to
// WebSocket. The Go server runs in-process; a Node script (node/client_*.js)
// connects to it and prints what it observed as JSON lines; the test asserts
// on both sides.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"sync"
	"testing"
	"time"

	socketio "github.com/switchboard-go/socketio"
)

// 1. Namespaces: "/", custom ones, multiplexing, unknown, dynamic.
func TestNodeNamespaces(t *testing.T) {
	t.Parallel()
	eachMode(t, func(t *testing.T, mode string) {
		rec := newRecorder()
		url := startServer(t, nil, func(srv *socketio.Server) {
			welcome := func(s *socketio.Socket) {
				mw, _ := s.Get("mw")
				rec.add("connect "+s.Namespace().Name(), map[string]any{"id": s.ID(), "conn": s.Conn().ID()})
				_ = s.Emit("welcome", map[string]any{"nsp": s.Namespace().Name(), "id": s.ID(), "conn": s.Conn().ID(), "mw": mw})
				s.On("whoami", func(e *socketio.Event) {
					var from string
					_ = e.Decode(0, &from)
					_ = e.Ack(s.Namespace().Name(), from)
				})
			}
			srv.OnConnection(welcome)
			srv.Of("/a").OnConnection(welcome)
			srv.Of("b").OnConnection(welcome) // leading slash added, as in Node
			dyn := srv.OfRegexp(regexp.MustCompile(`^/dyn-\d+$`))
			dyn.Use(func(s *socketio.Socket) error {
				rec.add("dyn middleware", s.Namespace().Name())
				if s.Namespace().Name() == "/dyn-13" {
					return &socketio.ConnectError{Message: "unlucky", Data: map[string]any{"nsp": "/dyn-13"}}
				}
				s.Set("mw", "parent")
				return nil
			})
			dyn.OnConnection(func(s *socketio.Socket) {
				welcome(s)
				s.On("fanout", func(e *socketio.Event) {
					var msg string
					_ = e.Decode(0, &msg)
					if err := dyn.Emit("fan", s.Namespace().Name(), msg); err != nil {
						rec.add("error", err.Error())
					}
				})
			})
		})

		out := runNode(t, "client_connect.js", url, mode)
		out.expectExit(t)

		// "/" on its own connection; the socket id the client sees is the
		// server's.
		rootID := out.one(t, "connect", "nsp", "/")["id"]
		w := obj(out.one(t, "welcome", "nsp", "/")["data"])
		wantEqual(t, "root socket id (client vs server)", w["id"], rootID)
		wantEqual(t, "root nsp", w["nsp"], any("/"))

		// Multiplexing: one manager on the client, one engine connection on
		// the server, distinct socket ids.
		wantEqual(t, "client manager shared", out.one(t, "multiplex")["same"], any(true))
		wa := obj(out.one(t, "welcome", "nsp", "/a")["data"])
		wb := obj(out.one(t, "welcome", "nsp", "/b")["data"])
		wantEqual(t, "/a socket id", wa["id"], out.one(t, "connect", "nsp", "/a")["id"])
		wantEqual(t, "/b socket id", wb["id"], out.one(t, "connect", "nsp", "/b")["id"])
		if wa["conn"] != wb["conn"] || wa["conn"] == nil {
			t.Errorf("/a and /b not multiplexed: engine ids %v and %v", wa["conn"], wb["conn"])
		}
		if wa["conn"] == w["conn"] {
			t.Errorf("/a shares the engine connection of the forceNew \"/\" socket (%v)", w["conn"])
		}
		if wa["id"] == wb["id"] {
			t.Errorf("/a and /b have the same socket id %v", wa["id"])
		}
		wantJSON(t, "ack on /a", out.one(t, "whoami", "nsp", "/a")["ack"], `["/a","from-a"]`)
		wantJSON(t, "ack on /b", out.one(t, "whoami", "nsp", "/b")["ack"], `["/b","from-b"]`)

		// Unknown namespace.
		ce := out.one(t, "connect_error", "nsp", "/nope")
		wantEqual(t, "unknown namespace message", ce["message"], any("Invalid namespace"))
		wantJSON(t, "unknown namespace data", ce["data"], `{"$undefined":true}`)
		wantEqual(t, "unknown namespace socket active", out.one(t, "active", "nsp", "/nope")["active"], any(false))

		// Dynamic namespaces: parent middleware ran, parent broadcast reached
		// every child.
		for _, nsp := range []string{"/dyn-1", "/dyn-2"} {
			d := obj(out.one(t, "welcome", "nsp", nsp)["data"])
			wantEqual(t, nsp+" nsp", d["nsp"], any(nsp))
			wantEqual(t, nsp+" middleware value", d["mw"], any("parent"))
			wantEqual(t, nsp+" socket id", d["id"], out.one(t, "connect", "nsp", nsp)["id"])
			wantJSON(t, nsp+" parent broadcast", out.one(t, "fan", "nsp", nsp)["args"], `["/dyn-1","hello children"]`)
		}
		ce = out.one(t, "connect_error", "nsp", "/dyn-13")
		wantEqual(t, "dynamic refusal message", ce["message"], any("unlucky"))
		wantJSON(t, "dynamic refusal data", ce["data"], `{"nsp":"/dyn-13"}`)
		if len(out.all("connect", "nsp", "/dyn-13")) != 0 {
			t.Errorf("/dyn-13 connected despite middleware error")
		}
		wantEqual(t, "middleware runs", len(rec.get("dyn middleware")), 3)
		wantEqual(t, "server errors", rec.get("error"), []any(nil))
		wantEqual(t, "server saw /dyn-13 connect", rec.get("connect /dyn-13"), []any(nil))

		wantEqual(t, "final transport /", out.one(t, "transport", "nsp", "/")["name"], any(wantTransport(mode)))
		wantEqual(t, "final transport /a", out.one(t, "transport", "nsp", "/a")["name"], any(wantTransport(mode)))
	})
}

// 2. Auth payload, middleware errors, handshake query and headers.
func TestNodeAuthMiddleware(t *testing.T) {
	t.Parallel()
	eachMode(t, func(t *testing.T, mode string) {
		rec := newRecorder()
		url := startServer(t, nil, func(srv *socketio.Server) {
			srv.Use(func(s *socketio.Socket) error {
				var auth struct {
					Token string `json:"token"`
				}
				rec.add("middleware auth", string(s.Handshake().Auth))
				if err := json.Unmarshal(s.Handshake().Auth, &auth); err != nil || auth.Token != "s3cret" {
					return &socketio.ConnectError{Message: "not authorized", Data: map[string]any{"code": 4001, "reason": "bad token"}}
				}
				return nil
			})
			srv.OnConnection(func(s *socketio.Socket) {
				hs := s.Handshake()
				rec.add("handshake", hs)
				_ = s.Emit("handshake", map[string]any{
					"auth":   hs.Auth,
					"query":  map[string]any{"q1": hs.Query.Get("q1"), "x y": hs.Query.Get("x y"), "EIO": hs.Query.Get("EIO"), "transport": hs.Query.Get("transport")},
					"header": hs.Headers.Get("X-Test"),
				})
			})
			srv.Of("/plain").Use(func(s *socketio.Socket) error { return errors.New("plain failure") })
			srv.Of("/plain").OnConnection(func(s *socketio.Socket) { rec.add("plain connected", s.ID()) })
		})

		out := runNode(t, "client_auth.js", url, mode)
		out.expectExit(t)

		ce := out.one(t, "connect_error", "label", "wrong-token")
		wantEqual(t, "refusal message", ce["message"], any("not authorized"))
		wantJSON(t, "refusal data", ce["data"], `{"code":4001,"reason":"bad token"}`)
		wantEqual(t, "refused socket active", ce["active"], any(false))

		initial := "polling"
		if mode == modeWebSocket {
			initial = "websocket"
		}
		hs := out.one(t, "handshake")["data"]
		wantJSON(t, "handshake seen by server (echoed)", hs, `{
			"auth": {"token":"s3cret","n":1,"nested":{"ok":true,"list":[1,"two",null]}},
			"query": {"q1":"v1","x y":"z&w","EIO":"4","transport":"`+initial+`"},
			"header": "hdr-value"}`)
		wantJSON(t, "auth function", obj(out.one(t, "handshake-func")["data"])["auth"], `{"token":"s3cret","fn":true}`)
		if out.one(t, "connect", "label", "good-token")["id"] == nil {
			t.Errorf("no socket id after retry")
		}

		ce = out.one(t, "connect_error", "label", "plain")
		wantEqual(t, "plain error message", ce["message"], any("plain failure"))
		wantJSON(t, "plain error data", ce["data"], `{"$undefined":true}`)
		wantEqual(t, "plain namespace connections", rec.get("plain connected"), []any(nil))

		wantJSON(t, "middleware auth payloads", rec.get("middleware auth"),
			`["{\"token\":\"wrong\"}", "{\"token\":\"s3cret\",\"n\":1,\"nested\":{\"ok\":true,\"list\":[1,\"two\",null]}}", "{\"token\":\"s3cret\",\"fn\":true}"]`)
		for _, v := range rec.get("handshake") {
			h := v.(socketio.Handshake)
			wantEqual(t, "handshake address", h.Address, "127.0.0.1")
			if h.Issued == 0 || h.Time.IsZero() {
				t.Errorf("handshake time not set: %+v", h)
			}
			if h.URL == "" || h.URL[:len("/socket.io/?")] != "/socket.io/?" {
				t.Errorf("handshake URL = %q", h.URL)
			}
		}
		wantEqual(t, "final transport", out.one(t, "transport")["name"], any(wantTransport(mode)))
	})
}

// 3. Events with JSON values both ways; acknowledgements both ways.
func TestNodeEmitAck(t *testing.T) {
	t.Parallel()
	eachModeServed(t, func(t *testing.T, mode string, startServer serverStarter) {
		rec := newRecorder()
		url := startServer(t, nil, func(srv *socketio.Server) {
			srv.OnConnection(func(s *socketio.Socket) {
				err := s.Emit("types", "str", 42, 3.5, true, nil,
					[]any{1, "two", map[string]any{"three": 3}},
					map[string]any{"nested": map[string]any{"a": []any{1, 2}, "b": nil}},
					struct {
						A int      `json:"a"`
						B []string `json:"b"`
					}{1, []string{"x"}},
					json.RawMessage(`{"raw":true}`), int64(9007199254740991), uint8(255), float32(0.5),
					"héllo ✓ 😀 \u2028 <>&", "", []any{}, map[string]any{})
				rec.add("emit types", err)
				s.On("types", func(e *socketio.Event) {
					rec.add("types", e.Values())
					rec.add("types len", e.Len())
					var str string
					var n int
					var f float64
					var obj struct {
						Nested struct {
							A []int `json:"a"`
							B *int  `json:"b"`
						} `json:"nested"`
					}
					rec.add("types decode", []any{e.Decode(0, &str), e.Decode(1, &n), e.Decode(3, &f), e.Decode(9, &obj)})
					rec.add("types decoded", []any{str, n, f, obj.Nested.A, obj.Nested.B == nil})
					rec.add("ack without id", e.Ack("x"))
				})
				s.On("echo", func(e *socketio.Event) {
					rec.add("echo wants ack", e.WantsAck())
					_ = e.Ack(e.Values()...)
				})
				s.On("later", func(e *socketio.Event) {
					go func() {
						// The point of the sleep: the ack comes late, and
						// the client must still match it to its emit.
						time.Sleep(100 * time.Millisecond)
						rec.add("later ack", e.Ack("later-ok", 7))
						rec.add("later ack twice", e.Ack("again"))
					}()
				})
				s.On("empty", func(e *socketio.Event) { _ = e.Ack() })
				s.On("never", func(e *socketio.Event) { rec.add("never wants ack", e.WantsAck()) })
				s.On("ready", func(*socketio.Event) {
					go func() {
						ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
						defer cancel()
						a, err := s.EmitWithAck(ctx, "question", 21)
						rec.add("question", []any{a.Values(), err})

						ch := make(chan []any, 1)
						err = s.Timeout(300*time.Millisecond).Emit("noanswer", "x", socketio.AckFunc(func(a socketio.Args, err error) {
							ch <- []any{a.Len(), err}
						}))
						rec.add("noanswer emit", err)
						rec.add("noanswer ack", <-ch)

						err = s.Timeout(3*time.Second).Emit("answer", "y", socketio.AckFunc(func(a socketio.Args, err error) {
							ch <- []any{a.Values(), err}
						}))
						rec.add("answer emit", err)
						rec.add("answer ack", <-ch)

						short, cancel2 := context.WithTimeout(context.Background(), 300*time.Millisecond)
						defer cancel2()
						a, err = s.EmitWithAck(short, "noanswer", "z")
						rec.add("ctx timeout", []any{a.Len(), err})

						rec.add("reserved", s.Emit("connect"))
						_ = s.Emit("server-done")
					}()
				})
			})
		})

		out := runNode(t, "client_emit.js", url, mode)
		out.expectExit(t)

		// Server → client.
		wantEqual(t, "server emit error", rec.one(t, "emit types"), any(nil))
		wantJSON(t, "client received", out.one(t, "types")["args"], `["str",42,3.5,true,null,
			[1,"two",{"three":3}], {"nested":{"a":[1,2],"b":null}}, {"a":1,"b":["x"]},
			{"raw":true}, 9007199254740991, 255, 0.5, "héllo ✓ 😀 \u2028 <>&", "", [], {}]`)

		// Client → server.
		wantJSON(t, "server received", rec.one(t, "types"), `["str",42,-7,3.14,1e21,true,false,null,
			[1,"two",{"three":3}], {"nested":{"a":[1,2],"b":null}},
			"héllo ✓ 😀 \u2028 \"q\" \\ <>&", 9007199254740991, "", {}, []]`)
		wantEqual(t, "server received count", rec.one(t, "types len"), any(15))
		wantEqual(t, "decode errors", rec.one(t, "types decode"), any([]any{nil, nil, nil, nil}))
		wantJSON(t, "decoded", rec.one(t, "types decoded"), `["str",42,3.14,[1,2],true]`)
		wantEqual(t, "Ack on event without ack id", rec.one(t, "ack without id"), any(socketio.ErrNoAck))

		// Client acks.
		wantEqual(t, "echo WantsAck", rec.get("echo wants ack"), []any{true, true})
		wantJSON(t, "sync ack", out.one(t, "ack", "label", "sync")["args"], `["a",1,{"b":[true]}]`)
		wantJSON(t, "later ack", out.one(t, "ack", "label", "later")["args"], `["later-ok",7]`)
		wantEqual(t, "later Ack error", rec.one(t, "later ack"), any(nil))
		wantEqual(t, "second Ack error", rec.one(t, "later ack twice"), any(socketio.ErrAlreadyAcked))
		wantJSON(t, "empty ack", out.one(t, "ack", "label", "empty")["args"], `[]`)
		wantEqual(t, "never WantsAck", rec.one(t, "never wants ack"), any(true))
		never := out.one(t, "ack", "label", "never")
		wantEqual(t, "client timeout", never["error"], any("operation has timed out"))
		wantJSON(t, "emitWithAck", out.one(t, "ack", "label", "emitWithAck")["args"], `["promise"]`)

		// Server acks.
		wantJSON(t, "server EmitWithAck", rec.one(t, "question"), `[[42,"ok",{"n":21}],null]`)
		wantJSON(t, "client saw question", out.one(t, "question"), `{"ev":"question","n":21}`)
		wantEqual(t, "noanswer emit", rec.one(t, "noanswer emit"), any(nil))
		wantEqual(t, "Timeout(d).Emit without answer", rec.one(t, "noanswer ack"), any([]any{0, socketio.ErrTimeout}))
		wantEqual(t, "answer emit", rec.one(t, "answer emit"), any(nil))
		wantJSON(t, "Timeout(d).Emit answered", rec.one(t, "answer ack"), `[["answered","y"],null]`)
		wantEqual(t, "EmitWithAck ctx deadline", rec.one(t, "ctx timeout"), any([]any{0, socketio.ErrTimeout}))
		wantEqual(t, "reserved event", rec.one(t, "reserved"), any(socketio.ErrReservedEvent))
		for _, l := range out.all("noanswer") {
			wantEqual(t, "noanswer carries a callback", l["hasCallback"], any(true))
		}
		wantEqual(t, "final transport", out.one(t, "transport")["name"], any(wantTransport(mode)))
	})
}

// 3b. No message lost or reordered in either direction while the client
// upgrades; heartbeats with short intervals keep the connection up.
func TestNodeOrderingAndHeartbeat(t *testing.T) {
	t.Parallel()
	eachModeServed(t, func(t *testing.T, mode string, startServer serverStarter) {
		rec := newRecorder()
		opts := &socketio.Options{}
		opts.Engine.PingInterval = 100 * time.Millisecond
		opts.Engine.PingTimeout = 500 * time.Millisecond
		url := startServer(t, opts, func(srv *socketio.Server) {
			srv.OnConnection(func(s *socketio.Socket) {
				var mu sync.Mutex
				var got []int
				s.On("cseq", func(e *socketio.Event) {
					var i int
					_ = e.Decode(0, &i)
					mu.Lock()
					got = append(got, i)
					mu.Unlock()
				})
				s.On("cseq-count", func(e *socketio.Event) {
					mu.Lock()
					n, ordered := len(got), true
					for i, v := range got {
						ordered = ordered && v == i
					}
					mu.Unlock()
					_ = e.Ack(n, ordered)
				})
				s.OnDisconnect(func(r socketio.Reason) { rec.add("disconnect", string(r)) })
				go func() {
					for i := range 300 {
						if err := s.Emit("seq", i); err != nil {
							rec.add("error", err.Error())
						}
					}
					_ = s.Emit("seq-done", 300)
				}()
			})
		})
		out := runNode(t, "client_order.js", url, mode)
		out.expectExit(t)
		wantEqual(t, "server errors", rec.get("error"), []any(nil))
		wantJSON(t, "server → client", out.one(t, "seq"), `{"ev":"seq","count":300,"inOrder":true,"n":300}`)
		wantJSON(t, "client → server", out.one(t, "cseq")["args"], `[300,true]`)
		hb := out.one(t, "heartbeat")
		wantEqual(t, "connected after 1s of 100ms pings", hb["connected"], any(true))
		if n, _ := hb["pings"].(float64); n < 5 {
			t.Errorf("client saw %v pings in 1s, want about 10", n)
		}
		wantEqual(t, "final transport", out.one(t, "transport")["name"], any(wantTransport(mode)))
		rec.waitFor(t, "disconnect", 1, 5*time.Second)
		wantEqual(t, "server reason", rec.get("disconnect"), []any{"client namespace disconnect"})
	})
}

// 4. Binary attachments both ways, nested, and in acknowledgements.
func TestNodeBinary(t *testing.T) {
	t.Parallel()
	eachMode(t, func(t *testing.T, mode string) {
		rec := newRecorder()
		url := startServer(t, nil, func(srv *socketio.Server) {
			srv.OnConnection(func(s *socketio.Socket) {
				rec.add("emit", s.Emit("srvbin",
					map[string]any{"img": []byte{0, 1, 2, 254}, "arr": []any{[]byte("a"), "s", 1}},
					[]byte{}, []any{[]byte{255}}, "text"))
				s.On("bin", func(e *socketio.Event) {
					rec.add("bin values", e.Values())
					var v struct {
						Name string `json:"name"`
						Data []byte `json:"data"`
						List []any  `json:"list"`
					}
					rec.add("bin decode err", e.Decode(1, &v))
					rec.add("bin decoded", v)
					var first []byte
					rec.add("bin decode0 err", e.Decode(0, &first))
					rec.add("bin decoded0", first)
					rec.add("bin ack", e.Ack([]byte{9, 8, 7}, map[string]any{"b": []byte("ack"), "n": []any{[]byte{1}, nil}}))
				})
				s.On("typed", func(e *socketio.Event) {
					rec.add("typed values", e.Values())
					_ = e.Ack(e.Values()...)
				})
				s.On("bigbin", func(e *socketio.Event) {
					var b []byte
					err := e.Decode(0, &b)
					rec.add("bigbin", []any{err, len(b)})
					_ = e.Ack(b)
				})
				s.On("ready", func(*socketio.Event) {
					go func() {
						ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
						defer cancel()
						a, err := s.EmitWithAck(ctx, "binq", []byte{1}, map[string]any{"k": []byte{2, 3}})
						rec.add("binq", []any{a.Values(), err})
						_ = s.Emit("server-done")
					}()
				})
			})
		})

		out := runNode(t, "client_binary.js", url, mode)
		out.expectExit(t)

		// Server → client: Buffers, nested; an empty one too.
		wantEqual(t, "emit error", rec.one(t, "emit"), any(nil))
		wantJSON(t, "client received", out.one(t, "srvbin")["args"], `[
			{"img":{"$bin":"000102fe","$type":"Buffer"},"arr":[{"$bin":"61","$type":"Buffer"},"s",1]},
			{"$bin":"","$type":"Buffer"}, [{"$bin":"ff","$type":"Buffer"}], "text"]`)

		// Client → server: Value and Decode give []byte, also nested.
		wantEqual(t, "bin values", rec.one(t, "bin values"), any([]any{
			[]byte{1, 2, 3},
			map[string]any{"name": "x", "data": []byte("hello"), "list": []any{[]byte{0, 255}, 5.0, map[string]any{"deep": []byte{7}}}},
			"plain",
		}))
		wantEqual(t, "bin decode err", rec.one(t, "bin decode err"), any(nil))
		// A []byte field gets the attachment. (An interface nested in the
		// struct, like List's elements, gets the base64 string instead:
		// the documented limitation of parser.Unmarshal; Value gives []byte.)
		type binStruct = struct {
			Name string `json:"name"`
			Data []byte `json:"data"`
			List []any  `json:"list"`
		}
		bs, _ := rec.one(t, "bin decoded").(binStruct)
		wantEqual(t, "bin decoded name", bs.Name, "x")
		wantEqual(t, "bin decoded []byte field", bs.Data, []byte("hello"))
		if len(bs.List) != 3 || bs.List[1] != 5.0 {
			t.Errorf("bin decoded list = %#v", bs.List)
		}
		wantEqual(t, "bin decode0", rec.one(t, "bin decoded0"), any([]byte{1, 2, 3}))
		wantEqual(t, "bin ack err", rec.one(t, "bin ack"), any(nil))
		wantJSON(t, "binary ack to client", out.one(t, "bin-ack")["args"], `[
			{"$bin":"090807","$type":"Buffer"},
			{"b":{"$bin":"61636b","$type":"Buffer"},"n":[{"$bin":"01","$type":"Buffer"},null]}]`)

		wantEqual(t, "typed values", rec.one(t, "typed values"), any([]any{[]byte{10, 11}, []byte{12, 13}}))
		wantJSON(t, "typed ack", out.one(t, "typed-ack")["args"], `[{"$bin":"0a0b","$type":"Buffer"},{"$bin":"0c0d","$type":"Buffer"}]`)

		wantEqual(t, "bigbin server", rec.one(t, "bigbin"), any([]any{nil, 100000}))
		wantJSON(t, "bigbin client", out.one(t, "bigbin-ack"), `{"ev":"bigbin-ack","isBuffer":true,"equal":true,"len":100000}`)

		// Server EmitWithAck with binary, client answers with binary.
		wantJSON(t, "client saw binq", out.one(t, "binq")["args"], `[{"$bin":"01","$type":"Buffer"},{"k":{"$bin":"0203","$type":"Buffer"}}]`)
		wantEqual(t, "binary ack from client", rec.one(t, "binq"), any([]any{
			[]any{[]byte{4, 5, 6}, map[string]any{"x": []byte("y"), "list": []any{[]byte{}, 1.0}}},
			nil,
		}))
		wantEqual(t, "final transport", out.one(t, "transport")["name"], any(wantTransport(mode)))
	})
}

// clientName reads the "name" field of a socket's auth payload.
func clientName(s *socketio.Socket) string {
	var a struct {
		Name string `json:"name"`
	}
	_ = json.Unmarshal(s.Handshake().Auth, &a)
	return a.Name
}

// readyGroup starts fn once n sockets have emitted "ready"; fn gets the
// sockets by client name.
type readyGroup struct {
	mu    sync.Mutex
	n     int
	socks map[string]*socketio.Socket
	ready int
	fn    func(map[string]*socketio.Socket)
}

func newReadyGroup(n int, fn func(map[string]*socketio.Socket)) *readyGroup {
	return &readyGroup{n: n, socks: make(map[string]*socketio.Socket), fn: fn}
}

func (g *readyGroup) add(s *socketio.Socket) {
	g.mu.Lock()
	g.socks[clientName(s)] = s
	g.mu.Unlock()
	s.On("ready", func(*socketio.Event) {
		g.mu.Lock()
		g.ready++
		start := g.ready == g.n
		socks := maps.Clone(g.socks)
		g.mu.Unlock()
		if start {
			go g.fn(socks)
		}
	})
}

// receivers maps each event name to the sorted names of the clients that
// received it ("recv" lines of client_rooms.js), one entry per reception.
func receivers(out lines) map[string][]string {
	m := make(map[string][]string)
	for _, l := range out.all("recv") {
		ev, _ := l["event"].(string)
		m[ev] = append(m[ev], str(l["client"]))
	}
	for _, v := range m {
		slices.Sort(v)
	}
	return m
}

// ackNames returns the sorted first arguments of broadcast answers.
func ackNames(answers []socketio.Args) []string {
	var out []string
	for _, a := range answers {
		var name string
		_ = a.Decode(0, &name)
		out = append(out, name)
	}
	slices.Sort(out)
	return out
}

// 5. Rooms and broadcasts between four clients.
func TestNodeRoomsBroadcast(t *testing.T) {
	t.Parallel()
	eachMode(t, func(t *testing.T, mode string) {
		rec := newRecorder()
		var g *readyGroup
		url := startServer(t, nil, func(srv *socketio.Server) {
			g = newReadyGroup(4, func(c map[string]*socketio.Socket) {
				check := func(what string, err error) {
					if err != nil {
						rec.add("error", what+": "+err.Error())
					}
				}
				check("b1", srv.To("A").Emit("b1", 1))
				check("b2", srv.To("A").To("B").Emit("b2", 2)) // union, c1 once
				check("b2in", srv.In("A", "B").Emit("b2in"))
				check("b3", srv.Except("A").Emit("b3"))
				check("b4", srv.To("B").Except("A").Emit("b4"))
				check("b5", c["c1"].To("A").Emit("b5")) // not to the sender
				check("b6", c["c0"].Broadcast().Emit("b6"))
				check("b7", c["c0"].Except("B").Emit("b7"))
				check("b8", srv.Emit("b8", map[string]any{"all": true}))
				c["c3"].Join("C")
				rec.add("c3 rooms after join", sorted(c["c3"].Rooms()))
				c["c3"].Leave("C")
				rec.add("c3 rooms after leave", sorted(c["c3"].Rooms()))
				rec.add("c3 id", c["c3"].ID())
				check("b9", srv.To("C").Emit("b9"))
				check("b10", srv.To("D").Emit("b10"))
				check("b11", srv.To(c["c2"].ID()).Emit("b11")) // a socket's own room
				check("b12", srv.To("A").Except(c["c0"].ID()).Emit("b12"))
				a := srv.To("A")
				_ = a.Except("B") // operators are values: a is unchanged
				check("b13", a.Emit("b13"))

				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				answers, err := srv.Timeout(3*time.Second).EmitWithAck(ctx, "q1", "all")
				rec.add("q1", []any{ackNames(answers), err})
				answers, err = srv.To("A").EmitWithAck(ctx, "q1", "room A")
				rec.add("q1 A", []any{ackNames(answers), err})
				start := time.Now()
				answers, err = srv.Timeout(500*time.Millisecond).EmitWithAck(ctx, "q2", "c3 is silent")
				rec.add("q2", []any{ackNames(answers), isTimeout(err)})
				rec.add("q2 elapsed", time.Since(start))
				answers, err = srv.To("nobody").Timeout(time.Second).EmitWithAck(ctx, "q1", "empty room")
				rec.add("q1 empty", []any{len(answers), err})
				check("end", srv.Emit("end"))
			})
			srv.OnConnection(func(s *socketio.Socket) {
				switch clientName(s) {
				case "c0":
					s.Join("A")
				case "c1":
					s.Join("A", "B")
				case "c2":
					s.Join("B")
				}
				s.On("join", func(e *socketio.Event) {
					var room string
					_ = e.Decode(0, &room)
					s.Join(room)
					_ = e.Ack(slices.Contains(s.Rooms(), room), len(s.Rooms()))
				})
				g.add(s)
			})
		})

		out := runNode(t, "client_rooms.js", url, mode, "4")
		out.expectExit(t)
		wantEqual(t, "server errors", rec.get("error"), []any(nil))

		got := receivers(out)
		want := map[string][]string{
			"b1":   {"c0", "c1"},
			"b2":   {"c0", "c1", "c2"},
			"b2in": {"c0", "c1", "c2"},
			"b3":   {"c2", "c3"},
			"b4":   {"c2"},
			"b5":   {"c0"},
			"b6":   {"c1", "c2", "c3"},
			"b7":   {"c3"},
			"b8":   {"c0", "c1", "c2", "c3"},
			"b10":  {"c2"},
			"b11":  {"c2"},
			"b12":  {"c1"},
			"b13":  {"c0", "c1"},
			"q1":   {"c0", "c0", "c1", "c1", "c2", "c3"}, // all, then room A
			"q2":   {"c0", "c1", "c2", "c3"},
			"end":  {"c0", "c1", "c2", "c3"},
		}
		wantEqual(t, "receivers per event", got, want)
		wantJSON(t, "b1 args", out.one(t, "recv", "client", "c0", "event", "b1")["args"], `[1]`)
		wantJSON(t, "b8 args", out.one(t, "recv", "client", "c3", "event", "b8")["args"], `[{"all":true}]`)

		c3 := rec.one(t, "c3 id")
		wantEqual(t, "c3 id", c3, out.one(t, "connect", "client", "c3")["id"])
		wantEqual(t, "c3 rooms after join", rec.one(t, "c3 rooms after join"), any(sorted([]string{"C", str(c3)})))
		wantEqual(t, "c3 rooms after leave", rec.one(t, "c3 rooms after leave"), any([]string{str(c3)}))
		wantJSON(t, "join ack", out.one(t, "joined")["args"], `[true,3]`) // B, D and its own id

		wantEqual(t, "broadcast ack, all answer", rec.one(t, "q1"), any([]any{[]string{"c0", "c1", "c2", "c3"}, nil}))
		wantEqual(t, "broadcast ack to room A", rec.one(t, "q1 A"), any([]any{[]string{"c0", "c1"}, nil}))
		wantEqual(t, "broadcast ack, c3 silent", rec.one(t, "q2"), any([]any{[]string{"c0", "c1", "c2"}, true}))
		if d, _ := rec.one(t, "q2 elapsed").(time.Duration); d < 450*time.Millisecond || d > 3*time.Second {
			t.Errorf("timed-out broadcast ack returned after %v, want about 500ms", d)
		}
		wantEqual(t, "broadcast ack to nobody", rec.one(t, "q1 empty"), any([]any{0, nil}))
		for i := range 4 {
			name := fmt.Sprintf("c%d", i)
			wantEqual(t, name+" final transport", out.one(t, "transport", "client", name)["name"], any(wantTransport(mode)))
		}
	})
}

// 6. Volatile emits are delivered under normal conditions, in order.
func TestNodeVolatile(t *testing.T) {
	t.Parallel()
	eachMode(t, func(t *testing.T, mode string) {
		rec := newRecorder()
		var g *readyGroup
		url := startServer(t, nil, func(srv *socketio.Server) {
			g = newReadyGroup(2, func(c map[string]*socketio.Socket) {
				for i := range 20 {
					if err := srv.Volatile().Emit("v", i); err != nil {
						rec.add("error", err.Error())
					}
				}
				if err := c["c1"].Volatile().Emit("sv", "only c1"); err != nil {
					rec.add("error", err.Error())
				}
				if err := srv.Volatile().To("A").Emit("va", []byte{1}); err != nil {
					rec.add("error", err.Error())
				}
				_ = srv.Emit("end")
			})
			srv.OnConnection(func(s *socketio.Socket) {
				if clientName(s) == "c0" {
					s.Join("A")
				}
				g.add(s)
			})
		})
		out := runNode(t, "client_rooms.js", url, mode, "2")
		out.expectExit(t)
		wantEqual(t, "server errors", rec.get("error"), []any(nil))
		for _, name := range []string{"c0", "c1"} {
			var seq []any
			for _, l := range out.all("recv", "client", name, "event", "v") {
				if a, ok := l["args"].([]any); ok && len(a) > 0 {
					seq = append(seq, a[0])
				}
			}
			want := make([]any, 20)
			for i := range want {
				want[i] = float64(i)
			}
			wantEqual(t, name+" volatile sequence", seq, want)
		}
		got := receivers(out)
		wantEqual(t, "socket volatile", got["sv"], []string{"c1"})
		wantEqual(t, "volatile binary to room", got["va"], []string{"c0"})
		wantJSON(t, "volatile binary args", out.one(t, "recv", "event", "va")["args"], `[{"$bin":"01","$type":"Buffer"}]`)
	})
}

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// obj returns v as a JSON object, or an empty one (so that a missing
// line fails an assertion rather than panicking).
func obj(v any) map[string]any {
	m, _ := v.(map[string]any)
	if m == nil {
		m = map[string]any{}
	}
	return m
}

// str returns v as a string ("" if it is none).
func str(v any) string {
	s, _ := v.(string)
	return s
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// Issue 15 item 4: Disconnect(true) during the polling→WebSocket upgrade
// reaches the official client at once (the reference finishes the upgrade
// and flushes the DISCONNECT over the WebSocket), in every one of 40
// trials.
func TestNodeKickDuringUpgrade(t *testing.T) {
	t.Parallel()
	url := startServer(t, nil, func(srv *socketio.Server) {
		srv.OnConnection(func(s *socketio.Socket) {
			s.On("kick-me", func(*socketio.Event) { s.Disconnect(true) })
		})
	})
	got := runNode(t, "client_kick_upgrade.js", url, "upgrade", "40").one(t, "kicked")
	if got["heard"] != float64(40) {
		t.Fatalf("DISCONNECT heard in %v of 40 trials; others: %v", got["heard"], got["others"])
	}
}
