package interop_test

// Interop with the Python client: python-socketio 5.7 / python-engineio 4.3
// as packaged by Debian (apt-get install -y python3-socketio
// python3-requests python3-websocket), run with /usr/bin/python3 or the
// interpreter $SWITCHBOARD_PYTHON names. Every scenario runs over the
// transport matrix of helpers_test.go: polling only, WebSocket only, and
// python-engineio's default (polling, then an upgrade to WebSocket right
// after the handshake). The script
// python/sio_client.py prints what the client observed as JSON lines;
// the tests assert on both sides.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	socketio "github.com/switchboard-go/socketio"
	"github.com/switchboard-go/socketio/engineio"
)

const (
	pyInstallHint = "apt-get update && apt-get install -y python3-socketio python3-requests python3-websocket, or set SWITCHBOARD_PYTHON to a python3 that has python-socketio, requests and websocket-client"
	pyWait        = 10 * time.Second // server-side waits
)

// pyBin is the Python that runs the client: $SWITCHBOARD_PYTHON, else
// Debian's, which sees Debian's python3-socketio.
var pyBin = binary("SWITCHBOARD_PYTHON", "/usr/bin/python3")

var (
	pyCheckOnce sync.Once
	pyCheckErr  error
	pyVersions  string
)

// requirePython fails the test (never skips) when the Debian Python client
// cannot be imported.
func requirePython(t testing.TB) {
	t.Helper()
	pyCheckOnce.Do(func() {
		out, err := exec.Command(pyBin, "-c", `import socketio, engineio, requests, websocket
from importlib.metadata import version as v
print("python-socketio", v("python-socketio"), "python-engineio", v("python-engineio"), "websocket-client", v("websocket-client"))`).CombinedOutput()
		if err != nil {
			pyCheckErr = fmt.Errorf("the Python Socket.IO client is not usable with %s (%v):\n%s\ninstall it with: %s", pyBin, err, out, pyInstallHint)
			return
		}
		pyVersions = strings.TrimSpace(string(out))
	})
	if pyCheckErr != nil {
		t.Fatal(pyCheckErr)
	}
}

// runPython runs scenario of python/sio_client.py against url and returns
// its lines, failing the test unless the script finished cleanly.
func runPython(t *testing.T, url, mode, scenario string) lines {
	t.Helper()
	requirePython(t)
	dir, err := filepath.Abs("python")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s", pyVersions)
	ls := runPeer(t, dir, pyBin, "sio_client.py", url, mode, scenario)
	ls.expectExit(t)
	return ls
}

// pyBytes is how sio_client.py prints bytes.
func pyBytes(hexs string) map[string]any { return map[string]any{"$bytes": hexs} }

// pyJSON converts a server-side value for comparison with what the script
// prints: []byte becomes {"$bytes": hex}, recursively.
func pyJSON(v any) any {
	switch x := v.(type) {
	case []byte:
		return pyBytes(hex.EncodeToString(x))
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = pyJSON(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = pyJSON(e)
		}
		return out
	}
	return v
}

func pyErrText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// pyWantConnected checks the client's "connected" line: the transport it
// ended on.
func pyWantConnected(t *testing.T, ls lines, client, mode string) map[string]any {
	t.Helper()
	c := ls.one(t, "connected", "client", client)
	wantEqual(t, client+": python transport", c["transport"], any(wantTransport(mode)))
	return c
}

// pyTransports is what the server sees of the client's transports:
// the handshake's transport, and the one in use now.
func pyTransports(s *socketio.Socket) map[string]any {
	return map[string]any{"handshake": s.Handshake().Query.Get("transport"), "now": s.Conn().Transport()}
}

// pyHandshakeJSON is pyTransports as expected for mode.
func pyHandshakeJSON(mode string) string {
	first := "polling"
	if mode == modeWebSocket {
		first = "websocket"
	}
	return fmt.Sprintf(`{"handshake":%q,"now":%q}`, first, wantTransport(mode))
}

// pyWantClientDisconnect checks the server-side reason of the socket on
// namespace ns that the Python client closed with sio.disconnect(): the
// reason its input implies. python-socketio 5.7 queues a DISCONNECT packet
// for every connected namespace, then calls python-engineio 4.3's
// disconnect(abort=True), which queues a CLOSE packet and, on WebSocket,
// closes the socket at once from the calling thread while the engine.io
// write thread may not have sent the queued packets yet. So on WebSocket
// the server reads either the DISCONNECT packet or the end of the
// connection first, a race inside the client; the input log (in) says
// which, and the reason must follow: "client namespace disconnect" for the
// packet, "transport close" for the end (the reference server reports the
// same for the same input). On polling the write thread POSTs the
// DISCONNECT packets before the CLOSE, so the packet must have arrived.
// conn is the socket's *engineio.Conn, as the server recorded it.
func pyWantClientDisconnect(t *testing.T, in *inputLog, conn any, ns, mode string, reasons []any) {
	t.Helper()
	c, ok := conn.(*engineio.Conn)
	if !ok {
		t.Errorf("%s: no connection recorded (%v)", ns, conn)
		return
	}
	arrived := in.disconnected(t, c, ns)
	if mode == modePolling && !arrived {
		t.Errorf("%s: the DISCONNECT packet never reached the server over polling", ns)
	}
	want := socketio.ReasonTransportClose
	if arrived {
		want = socketio.ReasonClientNamespaceDisconnect
	}
	if len(reasons) != 1 || reasons[0] != string(want) {
		t.Errorf("%s: disconnect reasons %v, want [%s] (DISCONNECT packet read before the end: %v)", ns, reasons, want, arrived)
	}
}

// pyWantDisconnects checks the namespaces whose disconnect handler the
// Python client ran, in order, when the server disconnected them. The last
// one may appear twice: python-engineio handles the DISCONNECT packet on a
// thread of its own while its read thread sees the connection close right
// after and fires "disconnect" for every namespace still registered (a
// python-socketio 5.7 race, seen with PY_SIO_DEBUG=1: one "1" packet
// received, two handler calls, sometimes a "dictionary changed size during
// iteration" error inside the client). That tolerance stays: the server's
// input and output are the same either way (it sent one DISCONNECT packet,
// then closed), and which of the client's two threads gets there first is
// seen nowhere outside the client.
func pyWantDisconnects(t *testing.T, got any, want ...string) {
	t.Helper()
	if jsonEqual(got, want) {
		return
	}
	if jsonEqual(got, append(slices.Clone(want), want[len(want)-1])) {
		t.Logf("python ran its %q disconnect handler twice (client-side race)", want[len(want)-1])
		return
	}
	t.Errorf("python disconnect handlers ran for %v, want %v", got, want)
}

// 1. Events both ways with JSON values, acks both ways, send().
func TestPythonEvents(t *testing.T) {
	t.Parallel()
	eachMode(t, func(t *testing.T, mode string) {
		rec := newRecorder()
		ts, in := startRecordedServer(t, nil, func(srv *socketio.Server) {
			srv.OnConnection(func(s *socketio.Socket) {
				rec.add("conn", s.Conn())
				rec.add("auth", string(s.Handshake().Auth))
				s.On("hello", func(e *socketio.Event) {
					rec.add("hello", map[string]any{"args": e.Values(), "wantsAck": e.WantsAck(), "transport": pyTransports(s)})
					_ = s.Emit("welcome", map[string]any{"echo": e.Value(0), "from": "go"}, "second", 3)
				})
				s.On("sum", func(e *socketio.Event) {
					var xs []float64
					err := e.Decode(0, &xs)
					total := 0.0
					for _, x := range xs {
						total += x
					}
					rec.add("sum", map[string]any{"xs": xs, "err": pyErrText(err)})
					_ = e.Ack(total, "sum")
				})
				s.On("noargs", func(e *socketio.Event) {
					rec.add("noargs", map[string]any{"len": e.Len(), "wantsAck": e.WantsAck()})
					_ = e.Ack()
				})
				s.On("ask", func(e *socketio.Event) {
					go func() { // EmitWithAck must not run on the dispatch goroutine
						ctx, cancel := context.WithTimeout(context.Background(), pyWait)
						defer cancel()
						a, err := s.EmitWithAck(ctx, "question", "what is", 21)
						rec.add("answer", map[string]any{"args": a.Values(), "err": pyErrText(err)})
						_ = s.Emit("verdict", a.Values()...)
					}()
				})
				s.On("message", func(e *socketio.Event) {
					rec.add("message", e.Values())
					_ = s.Emit("got_message", e.Values()...)
				})
				s.On("multi", func(e *socketio.Event) {
					rec.add("multi", e.Values())
					_ = e.Ack(e.Values()...)
				})
				s.OnDisconnect(func(r socketio.Reason) { rec.add("disconnect", string(r)) })
			})
		})
		ls := runPython(t, ts.URL, mode, "events")
		pyWantConnected(t, ls, "a", mode)

		// python -> Go
		wantJSON(t, "auth (python sends {} when none is given)", rec.one(t, "auth"), `"{}"`)
		wantJSON(t, "hello", rec.one(t, "hello"), `{"args":[{"text":"héllo ✓","n":42,"f":1.5,"neg":-7,"ok":true,"none":null,
			"list":[1,"x",[2,3],{"deep":false}],"empty":{}}],"wantsAck":false,"transport":`+pyHandshakeJSON(mode)+`}`)
		wantJSON(t, "sum", rec.one(t, "sum"), `{"xs":[1,2,3,4.5],"err":""}`)
		wantJSON(t, "noargs", rec.one(t, "noargs"), `{"len":0,"wantsAck":true}`)
		wantJSON(t, "send()", rec.get("message"), `[["plain message"],[{"as":"dict"}]]`)
		wantJSON(t, "multi", rec.one(t, "multi"), `["one",2,{"three":[3]}]`)
		rec.waitFor(t, "answer", 1, pyWait)
		wantJSON(t, "EmitWithAck answer", rec.one(t, "answer"), `{"args":["answer",{"double":42,"list":[1,"two",null,true]}],"err":""}`)

		// Go -> python
		wantJSON(t, "welcome", ls.one(t, "recv", "event", "welcome")["args"],
			`[{"echo":{"text":"héllo ✓","n":42,"f":1.5,"neg":-7,"ok":true,"none":null,"list":[1,"x",[2,3],{"deep":false}],"empty":{}},"from":"go"},"second",3]`)
		wantJSON(t, "sum ack", ls.one(t, "ack", "event", "sum")["value"], `[10.5,"sum"]`)
		wantJSON(t, "empty ack", ls.one(t, "ack", "event", "noargs")["value"], `null`)
		wantJSON(t, "multi ack", ls.one(t, "ack", "event", "multi")["value"], `["one",2,{"three":[3]}]`)
		wantJSON(t, "question", ls.one(t, "recv", "event", "question")["args"], `["what is",21]`)
		wantJSON(t, "verdict", ls.one(t, "recv", "event", "verdict")["args"], `["answer",{"double":42,"list":[1,"two",null,true]}]`)
		// python-engineio handles every message on a thread of its own: the
		// two got_message handlers may run in either order.
		var gotMsgs []string
		for _, l := range ls.all("recv", "event", "got_message") {
			j, _ := json.Marshal(l["args"])
			gotMsgs = append(gotMsgs, string(j))
		}
		slices.Sort(gotMsgs)
		wantEqual(t, "got_message", gotMsgs, []string{`["plain message"]`, `[{"as":"dict"}]`})

		rec.waitFor(t, "disconnect", 1, pyWait)
		pyWantClientDisconnect(t, in, rec.one(t, "conn"), "/", mode, rec.get("disconnect"))
		wantJSON(t, "python closed", ls.one(t, "closed", "client", "a")["connected"], `false`)
	})
}

// 2. Binary (bytes) both ways: as arguments, nested in dicts and lists, in
// acks both ways, empty, and 64 KiB of every byte value.
func TestPythonBinary(t *testing.T) {
	t.Parallel()
	big := make([]byte, 256*256)
	for i := range big {
		big[i] = byte(i)
	}
	bigSum := sha256.Sum256(big)
	eachMode(t, func(t *testing.T, mode string) {
		rec := newRecorder()
		url := startServer(t, nil, func(srv *socketio.Server) {
			srv.OnConnection(func(s *socketio.Socket) {
				s.On("bin", func(e *socketio.Event) {
					var b []byte
					var st struct {
						Name string `json:"name"`
						Data []byte `json:"data"`
					}
					err0, err1 := e.Decode(0, &b), e.Decode(1, &st)
					rec.add("bin", pyJSON(e.Values()))
					rec.add("bin typed", pyJSON(map[string]any{"b": b, "name": st.Name, "data": st.Data, "errs": []any{pyErrText(err0), pyErrText(err1)}}))
					_ = s.Emit("bin_back", []byte{0xca, 0xfe}, map[string]any{
						"nested": []byte{1, 2, 3}, "n": 7, "list": []any{[]byte{9}, "x"}, "empty": []byte{},
					})
				})
				s.On("bin_ack", func(e *socketio.Event) {
					var b []byte
					err := e.Decode(0, &b)
					rec.add("bin_ack", pyJSON(map[string]any{"args": e.Values(), "err": pyErrText(err)}))
					rev := slices.Clone(b)
					slices.Reverse(rev)
					_ = e.Ack(rev, map[string]any{"got": b, "len": len(b)})
				})
				s.On("bin_ask", func(e *socketio.Event) {
					go func() {
						ctx, cancel := context.WithTimeout(context.Background(), pyWait)
						defer cancel()
						a, err := s.EmitWithAck(ctx, "bin_question", []byte{1, 2, 3, 250})
						rec.add("bin_answer", pyJSON(map[string]any{"args": a.Values(), "err": pyErrText(err)}))
						_ = s.Emit("bin_verdict", a.Values()...)
					}()
				})
				s.On("bin_big", func(e *socketio.Event) {
					var b []byte
					err := e.Decode(0, &b)
					sum := sha256.Sum256(b)
					rec.add("bin_big", map[string]any{"len": len(b), "sha": hex.EncodeToString(sum[:]), "err": pyErrText(err)})
					_ = e.Ack(len(b), hex.EncodeToString(sum[:]), b)
				})
			})
		})
		ls := runPython(t, url, mode, "binary")
		pyWantConnected(t, ls, "a", mode)

		wantJSON(t, "bin (generic)", rec.one(t, "bin"),
			`[{"$bytes":"000102ff"},{"name":"blob","data":{"$bytes":"deadbeef"},"list":[{"$bytes":"01"},2,{"more":{"$bytes":""}}]}]`)
		wantJSON(t, "bin (typed)", rec.one(t, "bin typed"),
			`{"b":{"$bytes":"000102ff"},"name":"blob","data":{"$bytes":"deadbeef"},"errs":["",""]}`)
		wantJSON(t, "bin_back", ls.one(t, "recv", "event", "bin_back")["args"],
			`[{"$bytes":"cafe"},{"empty":{"$bytes":""},"list":[{"$bytes":"09"},"x"],"n":7,"nested":{"$bytes":"010203"}}]`)
		wantJSON(t, "bin_ack (server)", rec.one(t, "bin_ack"), `{"args":[{"$bytes":"102030"}],"err":""}`)
		wantJSON(t, "bin_ack (python)", ls.one(t, "ack", "event", "bin_ack")["value"],
			`[{"$bytes":"302010"},{"got":{"$bytes":"102030"},"len":3}]`)
		wantJSON(t, "bin_question", ls.one(t, "recv", "event", "bin_question")["args"], `[{"$bytes":"010203fa"}]`)
		rec.waitFor(t, "bin_answer", 1, pyWait)
		wantJSON(t, "bin_answer", rec.one(t, "bin_answer"),
			`{"args":[{"$bytes":"fa030201"},{"echo":{"$bytes":"010203fa"},"len":4}],"err":""}`)
		wantJSON(t, "bin_verdict", ls.one(t, "recv", "event", "bin_verdict")["args"],
			`[{"$bytes":"fa030201"},{"echo":{"$bytes":"010203fa"},"len":4}]`)
		sum := hex.EncodeToString(bigSum[:])
		wantJSON(t, "bin_big (server)", rec.one(t, "bin_big"), fmt.Sprintf(`{"len":65536,"sha":%q,"err":""}`, sum))
		wantJSON(t, "bin_big (python)", ls.one(t, "big"), fmt.Sprintf(
			`{"ev":"big","client":"a","len":65536,"sha":%q,"sent_sha":%q,"echo_equal":true}`, sum, sum))
	})
}

// 3. Namespaces "/" and "/chat" on one connection, the auth dict reaching
// both, routing of events per namespace, socket ids per namespace.
func TestPythonNamespaces(t *testing.T) {
	t.Parallel()
	eachMode(t, func(t *testing.T, mode string) {
		rec := newRecorder()
		ts, in := startRecordedServer(t, nil, func(srv *socketio.Server) {
			handler := func(s *socketio.Socket) {
				ns := s.Namespace().Name()
				rec.add("conn "+ns, s.Conn())
				var auth any
				err := json.Unmarshal(s.Handshake().Auth, &auth)
				rec.add("connect "+ns, map[string]any{"id": s.ID(), "conn": s.Conn().ID(), "auth": auth, "err": pyErrText(err)})
				s.On("whoami", func(e *socketio.Event) { _ = e.Ack(map[string]any{"ns": ns, "id": s.ID()}) })
				s.On("route_me", func(e *socketio.Event) {
					rec.add("route_me "+ns, e.Values())
					_ = s.Emit("where", ns, e.Value(0))
				})
				s.OnDisconnect(func(r socketio.Reason) { rec.add("disconnect "+ns, string(r)) })
			}
			srv.OnConnection(handler)
			srv.Of("/chat").OnConnection(handler)
		})
		ls := runPython(t, ts.URL, mode, "namespaces")
		c := pyWantConnected(t, ls, "a", mode)

		const auth = `{"token":"s3cret","user":{"id":7,"tags":["a","b"]}}`
		main, _ := rec.one(t, "connect /").(map[string]any)
		chat, _ := rec.one(t, "connect /chat").(map[string]any)
		wantJSON(t, "auth on /", main["auth"], auth)
		wantJSON(t, "auth on /chat", chat["auth"], auth)
		if main["id"] == chat["id"] || main["conn"] != chat["conn"] {
			t.Errorf("want two sockets on one connection, got / %v and /chat %v", main, chat)
		}
		wantJSON(t, "python sids", c["sids"], fmt.Sprintf(`{"/":%q,"/chat":%q}`, main["id"], chat["id"]))
		wantJSON(t, "whoami on /chat", ls.one(t, "ack", "event", "whoami", "ns", "/chat")["value"], fmt.Sprintf(`{"ns":"/chat","id":%q}`, chat["id"]))
		wantJSON(t, "whoami on /", ls.one(t, "ack", "event", "whoami", "ns", "/")["value"], fmt.Sprintf(`{"ns":"/","id":%q}`, main["id"]))
		wantJSON(t, "route_me on /chat", rec.get("route_me /chat"), `[["to chat"]]`)
		wantJSON(t, "route_me on /", rec.get("route_me /"), `[["to main"]]`)
		wantJSON(t, "where", ls.all("recv", "event", "where"), `[
			{"ev":"recv","client":"a","event":"where","ns":"/chat","args":["/chat","to chat"]},
			{"ev":"recv","client":"a","event":"where","ns":"/","args":["/","to main"]}]`)

		rec.waitFor(t, "disconnect /", 1, pyWait)
		rec.waitFor(t, "disconnect /chat", 1, pyWait)
		pyWantClientDisconnect(t, in, rec.one(t, "conn /"), "/", mode, rec.get("disconnect /"))
		pyWantClientDisconnect(t, in, rec.one(t, "conn /chat"), "/chat", mode, rec.get("disconnect /chat"))
	})
}

// 4. Refused connections: middleware returning a ConnectError with data,
// a plain error, an unknown namespace.
func TestPythonConnectError(t *testing.T) {
	t.Parallel()
	eachMode(t, func(t *testing.T, mode string) {
		rec := newRecorder()
		url := startServer(t, nil, func(srv *socketio.Server) {
			srv.Use(func(s *socketio.Socket) error {
				var a struct {
					Token string `json:"token"`
				}
				_ = json.Unmarshal(s.Handshake().Auth, &a)
				rec.add("mw /", a.Token)
				if a.Token != "good" {
					return &socketio.ConnectError{Message: "not authorized", Data: map[string]any{"code": 401, "hint": "use a good token"}}
				}
				return nil
			})
			srv.OnConnection(func(s *socketio.Socket) {
				rec.add("connect /", s.ID())
				s.On("whoami", func(e *socketio.Event) { _ = e.Ack(s.ID()) })
			})
			admin := srv.Of("/admin")
			admin.Use(func(s *socketio.Socket) error {
				rec.add("mw /admin", string(s.Handshake().Auth))
				return errors.New("admins only")
			})
			admin.OnConnection(func(s *socketio.Socket) { rec.add("connect /admin", s.ID()) })
		})
		ls := runPython(t, url, mode, "connect_error")

		// Refused "/": the connect_error handler gets the CONNECT_ERROR
		// payload; connect() raises ConnectionError (python-socketio's
		// generic message, after wait_timeout).
		wantJSON(t, "bad connect_error", ls.all("connect_error", "client", "bad"),
			`[{"ev":"connect_error","client":"bad","ns":"/","data":[{"message":"not authorized","data":{"code":401,"hint":"use a good token"}}]}]`)
		wantJSON(t, "bad connect", ls.one(t, "connect_failed", "client", "bad"),
			`{"ev":"connect_failed","client":"bad","error":"One or more namespaces failed to connect","connected":false}`)
		wantJSON(t, "bad connected", ls.all("connect", "client", "bad"), `null`)

		// python-engineio handles each CONNECT_ERROR on a thread of its own:
		// the two handlers may print in either order.
		wantEqual(t, "mixed connect_error count", len(ls.all("connect_error", "client", "mixed")), 2)
		wantJSON(t, "mixed connect_error /admin", ls.all("connect_error", "client", "mixed", "ns", "/admin"),
			`[{"ev":"connect_error","client":"mixed","ns":"/admin","data":[{"message":"admins only"}]}]`)
		wantJSON(t, "mixed connect_error /nope", ls.all("connect_error", "client", "mixed", "ns", "/nope"),
			`[{"ev":"connect_error","client":"mixed","ns":"/nope","data":[{"message":"Invalid namespace"}]}]`)
		wantJSON(t, "mixed connect", ls.all("connect", "client", "mixed"), `[{"ev":"connect","client":"mixed","ns":"/"}]`)
		wantJSON(t, "mixed connect_failed", ls.one(t, "connect_failed", "client", "mixed")["error"], `"One or more namespaces failed to connect"`)

		pyWantConnected(t, ls, "good", mode)
		ids := rec.get("connect /")
		wantJSON(t, "middleware of / saw", rec.get("mw /"), `["wrong","good","good"]`)
		wantJSON(t, "middleware of /admin saw", rec.get("mw /admin"), `["{\"token\":\"good\"}"]`)
		wantJSON(t, "connections to /admin", rec.get("connect /admin"), `null`)
		if len(ids) != 2 {
			t.Fatalf("want 2 connections to / (mixed, good), got %v", ids)
		}
		wantJSON(t, "good whoami", ls.one(t, "ack", "client", "good", "event", "whoami")["value"], fmt.Sprintf("%q", ids[1]))
	})
}

// 5. Rooms: three clients; the server joins a and b to r1, c to r2, then
// broadcasts to r1, from a's socket to r1, and to everyone but r1; a final
// broadcast to all marks the end, so a missing event is one not received.
func TestPythonRooms(t *testing.T) {
	t.Parallel()
	eachMode(t, func(t *testing.T, mode string) {
		rec := newRecorder()
		url := startServer(t, nil, func(srv *socketio.Server) {
			srv.OnConnection(func(s *socketio.Socket) {
				s.On("join", func(e *socketio.Event) {
					var room string
					_ = e.Decode(0, &room)
					s.Join(room)
					rooms := slices.DeleteFunc(s.Rooms(), func(r string) bool { return r == s.ID() })
					slices.Sort(rooms)
					rec.add("join", rooms)
					_ = e.Ack(rooms)
				})
				s.On("trigger", func(e *socketio.Event) {
					errs := []string{
						pyErrText(srv.To("r1").Emit("news", "for r1", 1)),
						pyErrText(s.To("r1").Emit("news_from_a", "from a")),
						pyErrText(srv.Except("r1").Emit("outside", "not in r1")),
						pyErrText(srv.Emit("done")),
					}
					rec.add("trigger", errs)
					_ = e.Ack("ok")
				})
			})
		})
		ls := runPython(t, url, mode, "rooms")
		for _, c := range []string{"a", "b", "c"} {
			pyWantConnected(t, ls, c, mode)
		}
		wantJSON(t, "join acks", ls.all("ack", "event", "join"), `[
			{"ev":"ack","client":"a","event":"join","ns":"/","value":["r1"]},
			{"ev":"ack","client":"b","event":"join","ns":"/","value":["r1"]},
			{"ev":"ack","client":"c","event":"join","ns":"/","value":["r2"]}]`)
		wantJSON(t, "broadcast errors", rec.one(t, "trigger"), `["","","",""]`)
		// Handler order is not arrival order in python-engineio (one thread
		// per message), so compare what each client received as a set.
		for c, want := range map[string][]string{
			"a": {"done", "news"},
			"b": {"done", "news", "news_from_a"},
			"c": {"done", "outside"},
		} {
			var got []string
			for _, e := range ls.one(t, "sequence", "client", c)["events"].([]any) {
				got = append(got, e.(string))
			}
			slices.Sort(got)
			wantEqual(t, c+" received", got, want)
		}
		wantJSON(t, "news to a", ls.one(t, "recv", "event", "news", "client", "a")["args"], `["for r1",1]`)
		wantJSON(t, "news to b", ls.one(t, "recv", "event", "news", "client", "b")["args"], `["for r1",1]`)
		wantJSON(t, "news_from_a", ls.one(t, "recv", "event", "news_from_a")["args"], `["from a"]`)
		wantJSON(t, "outside", ls.one(t, "recv", "event", "outside")["args"], `["not in r1"]`)
		wantJSON(t, "done", ls.one(t, "recv", "event", "done", "client", "c")["args"], `[]`)
	})
}

// 6. Server-side disconnects: Socket.Disconnect(false) on /chat, then
// Disconnect(true) on "/"; the client's disconnect handlers run once per
// namespace and it does not reconnect.
func TestPythonServerDisconnect(t *testing.T) {
	t.Parallel()
	eachMode(t, func(t *testing.T, mode string) {
		rec := newRecorder()
		ts := startTestServer(t, nil, nil, func(srv *socketio.Server) {
			srv.OnConnection(func(s *socketio.Socket) {
				s.On("still_here", func(e *socketio.Event) { _ = e.Ack("yes") })
				s.On("kick_all", func(e *socketio.Event) { s.Disconnect(true) })
				s.OnDisconnect(func(r socketio.Reason) { rec.add("disconnect /", string(r)) })
			})
			srv.Of("/chat").OnConnection(func(s *socketio.Socket) {
				s.On("kick", func(e *socketio.Event) { s.Disconnect(false) })
				s.OnDisconnect(func(r socketio.Reason) { rec.add("disconnect /chat", string(r)) })
			})
		})
		ls := runPython(t, ts.URL, mode, "server_disconnect")
		pyWantConnected(t, ls, "a", mode)
		wantJSON(t, "after kick", ls.one(t, "state", "client", "a"), `{"ev":"state","client":"a","namespaces":["/"],"connected":true}`)
		wantJSON(t, "still_here", ls.one(t, "ack", "event", "still_here")["value"], `"yes"`)
		pyWantDisconnects(t, ls.one(t, "disconnects", "client", "a")["namespaces"], "/chat", "/")
		wantJSON(t, "python end state", ls.one(t, "closed", "client", "a"), `{"ev":"closed","client":"a","connected":false,"eio_state":"disconnected"}`)

		rec.waitFor(t, "disconnect /", 1, pyWait)
		wantJSON(t, "server reason /chat", rec.get("disconnect /chat"), `["server namespace disconnect"]`)
		wantJSON(t, "server reason /", rec.get("disconnect /"), `["server namespace disconnect"]`)
		// The engine's count has no event: poll it, with a deadline.
		deadline := time.Now().Add(pyWait)
		for ts.Srv.Engine().Count() != 0 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		wantEqual(t, "engine connections left", ts.Srv.Engine().Count(), 0)
	})
}

// 7. Client-side disconnects: the DISCONNECT packet for one namespace
// (what sio.disconnect() sends for each), then sio.disconnect().
func TestPythonClientDisconnect(t *testing.T) {
	t.Parallel()
	eachMode(t, func(t *testing.T, mode string) {
		rec := newRecorder()
		ts, in := startRecordedServer(t, nil, func(srv *socketio.Server) {
			handler := func(s *socketio.Socket) {
				ns := s.Namespace().Name()
				rec.add("conn "+ns, s.Conn())
				s.On("ready", func(e *socketio.Event) { _ = e.Ack(ns) })
				s.OnDisconnect(func(r socketio.Reason) { rec.add("disconnect "+ns, string(r)) })
			}
			srv.OnConnection(handler)
			srv.Of("/chat").OnConnection(handler)
			srv.OnConnection(func(s *socketio.Socket) {
				s.On("chat_sockets", func(e *socketio.Event) {
					n := 0
					for _, c := range srv.Of("/chat").Sockets() {
						if c.Conn() == s.Conn() {
							n++
						}
					}
					_ = e.Ack(n, rec.get("disconnect /chat"))
				})
			})
		})
		ls := runPython(t, ts.URL, mode, "client_disconnect")
		pyWantConnected(t, ls, "a", mode)
		wantJSON(t, "ready /", ls.one(t, "ack", "event", "ready", "ns", "/")["value"], `"/"`)
		wantJSON(t, "ready /chat", ls.one(t, "ack", "event", "ready", "ns", "/chat")["value"], `"/chat"`)
		// The DISCONNECT packet alone: /chat is gone, "/" still answers.
		wantJSON(t, "after DISCONNECT /chat", ls.one(t, "ack", "event", "chat_sockets")["value"], `[0,["client namespace disconnect"]]`)
		rec.waitFor(t, "disconnect /", 1, pyWait)
		wantJSON(t, "server reason /chat", rec.get("disconnect /chat"), `["client namespace disconnect"]`)
		pyWantClientDisconnect(t, in, rec.one(t, "conn /"), "/", mode, rec.get("disconnect /"))
		// python-socketio still counted /chat as connected (it has no
		// per-namespace disconnect), so both of its handlers ran, once each.
		wantJSON(t, "python disconnect handlers", ls.all("disconnect"), `[
			{"ev":"disconnect","client":"a","ns":"/"},{"ev":"disconnect","client":"a","ns":"/chat"}]`)
		// The engine's count has no event: poll it, with a deadline.
		deadline := time.Now().Add(pyWait)
		for ts.Srv.Engine().Count() != 0 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		wantEqual(t, "engine connections left", ts.Srv.Engine().Count(), 0)
	})
}

// 8. Heartbeat: with a 200ms ping interval and 1s timeout the client stays
// connected for 2s, so it answered the server's pings on every transport;
// then the server closes the connection.
func TestPythonHeartbeat(t *testing.T) {
	t.Parallel()
	eachMode(t, func(t *testing.T, mode string) {
		rec := newRecorder()
		opts := &socketio.Options{Engine: engineio.Options{PingInterval: 200 * time.Millisecond, PingTimeout: time.Second}}
		url := startServer(t, opts, func(srv *socketio.Server) {
			srv.OnConnection(func(s *socketio.Socket) {
				start := time.Now()
				s.On("still_here", func(e *socketio.Event) {
					rec.add("still_here", map[string]any{"transport": s.Conn().Transport(), "after2s": time.Since(start) >= 2*time.Second})
					_ = e.Ack("yes")
				})
				s.On("bye", func(e *socketio.Event) { s.Disconnect(true) })
				s.OnDisconnect(func(r socketio.Reason) { rec.add("disconnect", string(r)) })
			})
		})
		ls := runPython(t, url, mode, "heartbeat")
		pyWantConnected(t, ls, "a", mode)
		wantJSON(t, "still_here", ls.one(t, "ack", "event", "still_here")["value"], `"yes"`)
		var discs []any
		for _, l := range ls.all("disconnect", "client", "a") {
			discs = append(discs, l["ns"])
		}
		pyWantDisconnects(t, discs, "/")
		rec.waitFor(t, "disconnect", 1, pyWait)
		// Nothing ended the connection before the server did.
		wantJSON(t, "server sequence", rec.all(), fmt.Sprintf(
			`[{"Key":"still_here","Val":{"transport":%q,"after2s":true}},{"Key":"disconnect","Val":"server namespace disconnect"}]`,
			wantTransport(mode)))
	})
}
