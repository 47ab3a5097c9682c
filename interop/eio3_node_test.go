package interop_test

// Interop with the official Socket.IO v2 client, socket.io-client@2
// (Engine.IO v3, Socket.IO protocol v4; from interop/node-eio3/node_modules,
// run `npm ci` there), served by Options.Engine.AllowEIO3. The scenario
// runs over the transport matrix, and over polling and WebSocket once more
// with the client asking for binary as base64 (forceBase64, "b64=1"). In
// Node the v2 client's XMLHttpRequest has no binary responses, so it asks
// for base64 on polling anyway; the binary payloads browsers use are
// checked against the client's own v3 parser in TestNodeEIO3BinaryPayload.

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	socketio "github.com/switchboard-go/socketio"
	"github.com/switchboard-go/socketio/engineio"
)

// nodeEIO3Dir is the directory of the v2 client script and its
// node_modules.
func nodeEIO3Dir(t testing.TB) string {
	t.Helper()
	dir, err := filepath.Abs("node-eio3")
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

var (
	nodeEIO3Once sync.Once
	nodeEIO3Err  error
)

// requireNodeEIO3 fails the test (never skips) when node or
// socket.io-client@2 is missing.
func requireNodeEIO3(t testing.TB) {
	t.Helper()
	dir := nodeEIO3Dir(t)
	nodeEIO3Once.Do(func() {
		if _, err := exec.LookPath("node"); err != nil {
			nodeEIO3Err = fmt.Errorf("node is not on PATH (Node.js 18+ is needed for the interop tests): %v", err)
			return
		}
		if _, err := os.Stat(filepath.Join(dir, "node_modules", "socket.io-client", "package.json")); err != nil {
			nodeEIO3Err = fmt.Errorf("socket.io-client@2 is not installed in %s: run `npm ci` in interop/node-eio3, or scripts/test.sh, which does (%v)", dir, err)
		}
	})
	if nodeEIO3Err != nil {
		t.Fatal(nodeEIO3Err)
	}
}

// eio3Server starts a server that admits v3 clients, with a short
// heartbeat so that the client pings several times during the scenario.
func eio3Server(t *testing.T, rec *recorder) string {
	t.Helper()
	opts := &socketio.Options{Engine: engineio.Options{
		AllowEIO3:    true,
		PingInterval: 150 * time.Millisecond,
		PingTimeout:  2 * time.Second,
	}}
	var roots sync.Map // engine id → the client's socket on "/"
	return startServer(t, opts, func(srv *socketio.Server) {
		srv.OnConnection(func(s *socketio.Socket) {
			roots.Store(s.Conn().ID(), s)
			rec.add("connect /", map[string]any{"id": s.ID(), "conn": s.Conn().ID(), "protocol": s.Conn().Protocol()})
			_ = s.Emit("welcome", map[string]any{
				"id":       s.ID(),
				"protocol": s.Conn().Protocol(),
				"query":    s.Handshake().Query.Get("client"),
			})
			s.On("echo", func(e *socketio.Event) { _ = e.Ack(e.RawArgs()...) })
			s.On("bin", func(e *socketio.Event) {
				var b []byte
				var obj struct {
					Data []byte `json:"data"`
					List []any  `json:"list"`
				}
				if err := e.Decode(0, &b); err != nil {
					rec.add("error", err.Error())
				}
				if err := e.Decode(1, &obj); err != nil {
					rec.add("error", err.Error())
				}
				rec.add("bin", map[string]any{"b": b, "data": string(obj.Data), "list0": obj.List[0]})
				_ = e.Ack([]byte{9, 8}, map[string]any{"x": []byte("y")})
			})
			s.On("send-bin", func(*socketio.Event) {
				_ = s.Emit("srvbin", []byte{0, 1, 255}, "text", map[string]any{"nested": []byte{7}})
			})
			s.On("bigbin", func(e *socketio.Event) {
				var b []byte
				_ = e.Decode(0, &b)
				_ = e.Ack(b)
			})
			s.On("kick", func(*socketio.Event) { s.Disconnect(false) })
			s.OnDisconnect(func(r socketio.Reason) { rec.add("disconnect /", string(r)) })
		})
		admin := srv.Of("/admin")
		admin.OnConnection(func(s *socketio.Socket) {
			rec.add("connect /admin", map[string]any{"id": s.ID(), "conn": s.Conn().ID(), "auth": string(s.Handshake().Auth)})
			_ = s.Emit("welcome", map[string]any{"id": s.ID(), "nsp": s.Namespace().Name()})
			s.On("echo", func(e *socketio.Event) { _ = e.Ack(e.RawArgs()...) })
			s.OnDisconnect(func(r socketio.Reason) {
				rec.add("disconnect /admin", string(r))
				// Tell the client on "/", so that it waits for the
				// server to have seen the leave.
				if root, ok := roots.Load(s.Conn().ID()); ok {
					_ = root.(*socketio.Socket).Emit("admin-gone", string(r))
				}
			})
		})
		srv.Of("/private").Use(func(*socketio.Socket) error {
			return &socketio.ConnectError{Message: "not authorized"}
		})
		srv.Of("/private-data").Use(func(*socketio.Socket) error {
			return &socketio.ConnectError{Message: "ignored", Data: map[string]any{"code": 42}}
		})
	})
}

func TestNodeEIO3Client(t *testing.T) {
	t.Parallel()
	run := func(t *testing.T, mode string, b64 bool) {
		requireNodeEIO3(t)
		rec := newRecorder()
		url := eio3Server(t, rec)
		args := []string{"client_v2.js", url, mode}
		if b64 {
			args = append(args, "b64")
		}
		out := runPeer(t, nodeEIO3Dir(t), "node", args...)
		out.expectExit(t)

		// "/" joined without the client asking; the socket id is the
		// session id, as the v2 client computes it itself.
		c := out.one(t, "connect", "nsp", "/")
		wantEqual(t, "root socket id is the engine id", c["id"], c["engineId"])
		srvRoot := rec.one(t, "connect /").(map[string]any)
		wantEqual(t, "server socket id", any(srvRoot["id"]), c["id"])
		wantEqual(t, "protocol", srvRoot["protocol"], any(3))
		wantJSON(t, "welcome", out.one(t, "welcome")["args"], fmt.Sprintf(`{"id":%q,"protocol":3,"query":"v2"}`, c["id"]))

		wantJSON(t, "echo ack", out.one(t, "echo")["ack"], `["h€llo 😀",{"n":1,"s":"ünïcode"}]`)
		wantJSON(t, "binary ack", out.one(t, "bin")["ack"], `[{"$bin":"0908"},{"x":{"$bin":"79"}}]`)
		wantJSON(t, "binary at the server", rec.one(t, "bin"), `{"b":"AQID","data":"hi","list0":""}`)
		wantJSON(t, "server binary emit", out.one(t, "srvbin")["args"], `[{"$bin":"0001ff"},"text",{"nested":{"$bin":"07"}}]`)
		wantJSON(t, "big binary round trip", out.one(t, "bigbin"), `{"ev":"bigbin","equal":true,"len":70000}`)

		// A second namespace on the same connection, its query string as
		// the auth; its socket id is "<nsp>#<engine id>".
		a := out.one(t, "connect", "nsp", "/admin")
		wantEqual(t, "admin socket id", a["id"], any("/admin#"+c["engineId"].(string)))
		srvAdmin := rec.one(t, "connect /admin").(map[string]any)
		wantEqual(t, "admin multiplexed", srvAdmin["conn"], srvRoot["conn"])
		wantJSON(t, "admin auth from the query", srvAdmin["auth"], `"{\"n\":\"1\",\"token\":\"abc\"}"`)
		wantJSON(t, "admin welcome", out.one(t, "welcome-admin")["args"], fmt.Sprintf(`{"id":%q,"nsp":"/admin"}`, a["id"]))
		wantJSON(t, "admin echo", out.one(t, "admin-echo")["ack"], `["on admin"]`)

		// Middleware refusals as the v2 client's "error" event.
		wantJSON(t, "refusal message", out.one(t, "error", "nsp", "/private")["args"], `["not authorized"]`)
		wantJSON(t, "refusal data", out.one(t, "error", "nsp", "/private-data")["args"], `[{"code":42}]`)

		hb := out.one(t, "heartbeat")
		if n, _ := hb["pongs"].(float64); n < 3 {
			t.Errorf("the client had %v pongs for its pings, want 3 or more", hb["pongs"])
		}
		wantEqual(t, "connected through the heartbeats", hb["connected"], any(true))
		wantEqual(t, "transport", out.one(t, "transport")["name"], any(wantTransport(mode)))

		wantJSON(t, "admin leave seen by the server", out.one(t, "admin-gone")["args"], `["client namespace disconnect"]`)
		wantEqual(t, "client disconnect reason", out.one(t, "disconnect")["reason"], any("io server disconnect"))
		rec.waitFor(t, "disconnect /", 1, 5*time.Second)
		wantJSON(t, "server disconnect reasons", rec.get("disconnect /"), `["server namespace disconnect"]`)
		wantEqual(t, "server errors", rec.get("error"), []any(nil))
	}
	eachMode(t, func(t *testing.T, mode string) { run(t, mode, false) })
	for _, mode := range []string{modePolling, modeWebSocket} {
		t.Run(mode+"-b64", func(t *testing.T) {
			t.Parallel()
			run(t, mode, true)
		})
	}
}

// Without AllowEIO3 the v2 client is refused at the handshake: the
// server's answer is code 5, which the client reports as a connection
// error.
func TestNodeEIO3Refused(t *testing.T) {
	t.Parallel()
	requireNodeEIO3(t)
	url := startServer(t, nil, nil)
	out := runPeer(t, nodeEIO3Dir(t), "node", "client_v2_refused.js", url)
	out.expectExit(t)
	ce := out.one(t, "connect_error")
	// engine.io-client 3 reports a refused poll by its HTTP status.
	wantEqual(t, "refusal", ce["message"], any("xhr poll error"))
	wantEqual(t, "refusal status", ce["description"], any("400"))
}

// The binary payloads a browser's v2 client uses (Node's cannot take
// binary responses), checked against the client's own v3 parser
// (engine.io-parser 2.x): the server's answer to a client that did not ask
// for base64 decodes there, and what that parser encodes, binary and
// text, the server reads.
func TestNodeEIO3BinaryPayload(t *testing.T) {
	t.Parallel()
	requireNodeEIO3(t)
	rec := newRecorder()
	opts := &socketio.Options{Engine: engineio.Options{AllowEIO3: true}}
	url := startServer(t, opts, func(srv *socketio.Server) {
		srv.OnConnection(func(s *socketio.Socket) {
			_ = s.Emit("bin", []byte{1, 2, 3}, "h€llo 😀")
			s.On("up", func(e *socketio.Event) {
				var b []byte
				var str string
				_ = e.Decode(0, &b)
				_ = e.Decode(1, &str)
				rec.add("up", fmt.Sprintf("%x %s", b, str))
			})
		})
	}) + "/socket.io/?EIO=3&transport=polling"

	// The handshake's answer holds the open packet, CONNECT and the
	// binary event: a binary payload.
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if ct := res.Header.Get("Content-Type"); ct != "application/octet-stream" {
		t.Fatalf("handshake answer %q: %q", ct, body)
	}
	out := runPeer(t, nodeEIO3Dir(t), "node", "payload_v3.js", "decode", hex.EncodeToString(body))
	out.expectExit(t)
	pkts := out.all("packet")
	if len(pkts) != 4 {
		t.Fatalf("the client's parser decoded %d packets, want 4:\n%s", len(pkts), out)
	}
	var open struct {
		SID string `json:"sid"`
	}
	if pkts[0]["type"] != "open" || json.Unmarshal([]byte(pkts[0]["data"].(string)), &open) != nil || open.SID == "" {
		t.Fatalf("open packet %v", pkts[0])
	}
	wantJSON(t, "CONNECT", pkts[1], `{"ev":"packet","type":"message","data":"0"}`)
	wantJSON(t, "event", pkts[2], `{"ev":"packet","type":"message","data":"51-[\"bin\",{\"_placeholder\":true,\"num\":0},\"h€llo 😀\"]"}`)
	wantJSON(t, "attachment", pkts[3], `{"ev":"packet","type":"message","data":{"$bin":"010203"}}`)

	// What the client's parser encodes, the server reads: a binary
	// payload (application/octet-stream) and a text one with base64.
	sidURL := url + "&sid=" + open.SID
	n := 0
	for _, kind := range []string{"binary", "text"} {
		enc := runPeer(t, nodeEIO3Dir(t), "node", "payload_v3.js", "encode", kind,
			`[["message","51-[\"up\",{\"_placeholder\":true,\"num\":0},\"`+kind+` é😀\"]"],["message",{"$bin":"0a0b"}]]`)
		enc.expectExit(t)
		payload, err := hex.DecodeString(enc.one(t, "payload")["hex"].(string))
		if err != nil {
			t.Fatal(err)
		}
		ct := "text/plain;charset=UTF-8"
		if kind == "binary" {
			ct = "application/octet-stream"
		}
		res, err := http.Post(sidURL, ct, bytes.NewReader(payload))
		if err != nil {
			t.Fatal(err)
		}
		ok, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || string(ok) != "ok" {
			t.Fatalf("%s POST: %d %q", kind, res.StatusCode, ok)
		}
		n++
		rec.waitFor(t, "up", n, 5*time.Second)
		if ups := rec.get("up"); len(ups) == n {
			wantEqual(t, kind+" payload read", ups[n-1], any("0a0b "+kind+" é😀"))
		}
	}
	wantEqual(t, "events read", len(rec.get("up")), 2)
}
