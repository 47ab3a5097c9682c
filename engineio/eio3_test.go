package engineio

import (
	"encoding/json"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// Engine.IO v3 sessions (Options.AllowEIO3): the handshake, v3 payloads on
// long-polling, v3 frames on WebSocket, the client-driven heartbeat.

func (ts *testServer) url3(query string) string {
	return ts.URL + "/socket.io/?EIO=3&" + query
}

// handshake3 opens a v3 polling session; the open packet comes as a v3
// text payload.
func handshake3(t *testing.T, ts *testServer, query string) (openPacket, *Conn) {
	t.Helper()
	status, hdr, body := do(t, "GET", ts.url3("transport=polling"+query), "")
	n, rest, found := strings.Cut(body, ":")
	if status != 200 || !found || !strings.HasPrefix(rest, "0{") {
		t.Fatalf("v3 handshake: %d %q", status, body)
	}
	if want := len([]rune(rest)); n != strconv.Itoa(want) { // the open packet is ASCII
		t.Fatalf("v3 handshake %q: length %s, want %d", body, n, want)
	}
	if ct := hdr.Get("Content-Type"); ct != "text/plain; charset=UTF-8" {
		t.Errorf("Content-Type = %q", ct)
	}
	var op openPacket
	if err := json.Unmarshal([]byte(rest[1:]), &op); err != nil {
		t.Fatalf("open packet %q: %v", body, err)
	}
	c := ts.nextConn(t)
	if c.Protocol() != 3 {
		t.Fatalf("Protocol() = %d, want 3", c.Protocol())
	}
	return op, c
}

// Without AllowEIO3 a v3 client is refused (TestHandshakeErrors checks
// the answer); with it, it gets a session, and a v4 client still gets v4.
func TestEIO3Admitted(t *testing.T) {
	ts := startServer(t, &Options{AllowEIO3: true, PingInterval: time.Hour}, false)
	op, _ := handshake3(t, ts, "")
	if op.SID == "" || op.PingInterval != 3600000 || op.PingTimeout != 20000 || op.MaxPayload != 1e6 || len(op.Upgrades) != 1 || op.Upgrades[0] != "websocket" {
		t.Errorf("v3 open packet %+v: want the v4 fields", op)
	}
	handshake(t, ts) // EIO=4: v4 framing ("0{" without a length)
	if c := ts.nextConn(t); c.Protocol() != 4 {
		t.Errorf("EIO=4: Protocol() = %d", c.Protocol())
	}
	// As in Node, any EIO but 4 is taken for v3.
	if status, _, body := do(t, "GET", ts.URL+"/socket.io/?transport=polling", ""); status != 200 || !strings.Contains(body, `:0{"sid":`) {
		t.Errorf("no EIO with AllowEIO3: %d %q", status, body)
	}
	ts.nextConn(t)

	ts4 := startServer(t, nil, false)
	if status, _, body := do(t, "GET", ts4.url3("transport=polling"), ""); status != 400 || body != `{"code":5,"message":"Unsupported protocol version"}` {
		t.Errorf("EIO=3 without AllowEIO3: %d %q", status, body)
	}
}

func TestEIO3PollingPayloads(t *testing.T) {
	ts := startServer(t, &Options{AllowEIO3: true, PingInterval: time.Hour}, true)
	op, _ := handshake3(t, ts, "")
	u := ts.url3("transport=polling&sid=" + op.SID)

	// Text in, echoed back with lengths in UTF-16 code units.
	if status, _, body := do(t, "POST", u, "6:4hello3:4😀"); status != 200 || body != "ok" {
		t.Fatalf("post: %d %q", status, body)
	}
	for _, want := range []string{"hello", "😀"} {
		if m := receive(t, ts.rec.msgs, "no message"); string(m.Data) != want || m.Binary {
			t.Fatalf("message %q (binary %v), want %q", m.Data, m.Binary, want)
		}
	}
	if _, _, body := do(t, "GET", u, ""); body != "6:4hello3:4😀" {
		t.Fatalf("poll %q", body)
	}

	// A binary message posted as base64 text comes back in a binary
	// payload: the client did not ask for base64.
	do(t, "POST", u, "6:b4AQID")
	if m := receive(t, ts.rec.msgs, "no message"); string(m.Data) != "\x01\x02\x03" || !m.Binary {
		t.Fatalf("message %q (binary %v)", m.Data, m.Binary)
	}
	_, hdr, body := do(t, "GET", u, "")
	if ct := hdr.Get("Content-Type"); ct != "application/octet-stream" || body != "\x01\x04\xff\x04\x01\x02\x03" {
		t.Fatalf("binary poll: %q %q", ct, body)
	}

	// A binary payload posted (application/octet-stream).
	do(t, "POST", u, "\x00\x03\xff4hi\x01\x03\xff\x04\xfe\xfd", "Content-Type", "application/octet-stream")
	if m := receive(t, ts.rec.msgs, "no message"); string(m.Data) != "hi" || m.Binary {
		t.Fatalf("message %q (binary %v)", m.Data, m.Binary)
	}
	if m := receive(t, ts.rec.msgs, "no message"); string(m.Data) != "\xfe\xfd" || !m.Binary {
		t.Fatalf("message %q (binary %v)", m.Data, m.Binary)
	}
	if _, _, body := do(t, "GET", u, ""); body != "\x00\x03\xff4hi\x01\x03\xff\x04\xfe\xfd" {
		t.Fatalf("poll %q", body)
	}
}

func TestEIO3PollingBase64(t *testing.T) {
	ts := startServer(t, &Options{AllowEIO3: true, PingInterval: time.Hour}, true)
	op, _ := handshake3(t, ts, "&b64=1")
	u := ts.url3("transport=polling&b64=1&sid=" + op.SID)
	do(t, "POST", u, "6:b4AQID2:4x")
	receive(t, ts.rec.msgs, "no message")
	receive(t, ts.rec.msgs, "no message")
	_, hdr, body := do(t, "GET", u, "")
	if ct := hdr.Get("Content-Type"); ct != "text/plain; charset=UTF-8" || body != "6:b4AQID2:4x" {
		t.Fatalf("b64 poll: %q %q", ct, body)
	}
}

// In v3 the client pings and the server answers; a client that stops
// pinging is closed PingInterval+PingTimeout after its last ping. The
// server never pings.
func TestEIO3Heartbeat(t *testing.T) {
	const interval, timeout = 200 * time.Millisecond, 400 * time.Millisecond
	ts := startServer(t, &Options{AllowEIO3: true, PingInterval: interval, PingTimeout: timeout}, false)
	op, c := handshake3(t, ts, "")
	u := ts.url3("transport=polling&sid=" + op.SID)
	for i := 0; i < 4; i++ {
		if status, _, _ := do(t, "POST", u, "1:2"); status != 200 {
			t.Fatalf("ping: %d", status)
		}
		// The answer is the pong alone: no ping of the server's.
		if _, _, body := do(t, "GET", u, ""); body != "1:3" {
			t.Fatalf("poll %d = %q, want the pong", i, body)
		}
		c.mu.Lock()
		waiting, due := c.awaitingPong, c.hbDue-time.Since(heartbeatEpoch)
		c.mu.Unlock()
		if !waiting || due <= interval || due > interval+timeout {
			t.Fatalf("after a ping: waiting %v, due in %v; want a timeout within PingInterval+PingTimeout", waiting, due)
		}
	}
	last := time.Now()
	if r := ts.closeReason(t); r != ReasonPingTimeout {
		t.Fatalf("reason %q", r)
	}
	if d := time.Since(last); d < interval+timeout-5*time.Millisecond {
		t.Fatalf("closed %v after the last ping, before PingInterval+PingTimeout", d)
	}
}

// A pong from a v3 client is a protocol error (Node: "invalid heartbeat
// direction"), and closes only its session.
func TestEIO3PongClosesSession(t *testing.T) {
	ts := startServer(t, &Options{AllowEIO3: true, PingInterval: time.Hour}, false)
	op, _ := handshake3(t, ts, "")
	other, _ := handshake3(t, ts, "")
	do(t, "POST", ts.url3("transport=polling&sid="+op.SID), "1:3")
	if r := ts.closeReason(t); r != ReasonTransportError {
		t.Fatalf("reason %q", r)
	}
	u := ts.url3("transport=polling&sid=" + other.SID)
	do(t, "POST", u, "1:2")
	if _, _, body := do(t, "GET", u, ""); body != "1:3" {
		t.Fatalf("the other session's poll: %q", body)
	}
}

// A malformed v3 body closes that session with "parse error"; others go on.
func TestEIO3MalformedPayloadClosesSession(t *testing.T) {
	ts := startServer(t, &Options{AllowEIO3: true, PingInterval: time.Hour}, false)
	other, _ := handshake3(t, ts, "")
	for _, b := range []struct{ body, ct string }{
		{"5:4hi", ""},
		{"4hello", ""},
		{"2:4😀", ""},
		{"\x00\x09\xff4", "application/octet-stream"},
		{"\x01\x02\xff\x02\x01", "application/octet-stream"},
	} {
		op, _ := handshake3(t, ts, "")
		status, _, _ := do(t, "POST", ts.url3("transport=polling&sid="+op.SID), b.body, "Content-Type", b.ct)
		if status != 200 {
			t.Errorf("%q: status %d", b.body, status)
		}
		if r := ts.closeReason(t); r != ReasonParseError {
			t.Fatalf("%q: reason %q", b.body, r)
		}
	}
	u := ts.url3("transport=polling&sid=" + other.SID)
	do(t, "POST", u, "1:2")
	if _, _, body := do(t, "GET", u, ""); body != "1:3" {
		t.Fatalf("the other session's poll: %q", body)
	}
}

func dialWS3(t *testing.T, ts *testServer, query string) *websocket.Conn {
	t.Helper()
	u := "ws" + strings.TrimPrefix(ts.url3("transport=websocket&"+query), "http")
	ws, _, err := websocket.DefaultDialer.Dial(u, nil)
	if err != nil {
		t.Fatalf("dial %s: %v", u, err)
	}
	t.Cleanup(func() { ws.Close() })
	return ws
}

func readFrame(t *testing.T, ws *websocket.Conn) (int, string) {
	t.Helper()
	_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	mt, data, err := ws.ReadMessage()
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return mt, string(data)
}

func TestEIO3WebSocket(t *testing.T) {
	for _, b64 := range []bool{false, true} {
		ts := startServer(t, &Options{AllowEIO3: true, PingInterval: time.Hour}, true)
		q := ""
		if b64 {
			q = "b64=1"
		}
		ws := dialWS3(t, ts, q)
		if _, open := readFrame(t, ws); !strings.HasPrefix(open, `0{"sid":`) {
			t.Fatalf("open %q", open)
		}
		c := ts.nextConn(t)
		if c.Protocol() != 3 {
			t.Fatalf("Protocol() = %d", c.Protocol())
		}
		// A binary frame carries the type byte; text may be base64.
		_ = ws.WriteMessage(websocket.BinaryMessage, []byte{4, 1, 2, 3})
		_ = ws.WriteMessage(websocket.TextMessage, []byte("b4BAU="))
		_ = ws.WriteMessage(websocket.TextMessage, []byte("4text"))
		_ = ws.WriteMessage(websocket.TextMessage, []byte("2"))
		for _, want := range []string{"\x01\x02\x03", "\x04\x05"} {
			if m := receive(t, ts.rec.msgs, "no message"); string(m.Data) != want || !m.Binary {
				t.Fatalf("message %q (binary %v), want binary %q", m.Data, m.Binary, want)
			}
		}
		wantBin := []struct {
			mt   int
			data string
		}{{websocket.BinaryMessage, "\x04\x01\x02\x03"}, {websocket.BinaryMessage, "\x04\x04\x05"}}
		if b64 {
			wantBin[0] = struct {
				mt   int
				data string
			}{websocket.TextMessage, "b4AQID"}
			wantBin[1].mt, wantBin[1].data = websocket.TextMessage, "b4BAU="
		}
		for _, w := range wantBin {
			if mt, data := readFrame(t, ws); mt != w.mt || data != w.data {
				t.Fatalf("b64 %v: frame %d %q, want %d %q", b64, mt, data, w.mt, w.data)
			}
		}
		if mt, data := readFrame(t, ws); mt != websocket.TextMessage || data != "4text" {
			t.Fatalf("frame %d %q", mt, data)
		}
		if mt, data := readFrame(t, ws); mt != websocket.TextMessage || data != "3" {
			t.Fatalf("answer to the ping: %d %q", mt, data)
		}
		// A binary frame that is not a message is a parse error.
		_ = ws.WriteMessage(websocket.BinaryMessage, []byte{2})
		if r := ts.closeReason(t); r != ReasonParseError {
			t.Fatalf("reason %q", r)
		}
	}
}

// The upgrade probe is the same as in v4; after it, binary goes in v3
// frames on the WebSocket.
func TestEIO3Upgrade(t *testing.T) {
	ts := startServer(t, &Options{AllowEIO3: true, PingInterval: time.Hour}, true)
	op, _ := handshake3(t, ts, "")
	u := ts.url3("transport=polling&sid=" + op.SID)
	pending := make(chan string, 1)
	go func() { _, _, b := do(t, "GET", u, ""); pending <- b }()
	ws := dialWS3(t, ts, "sid="+op.SID)
	_ = ws.WriteMessage(websocket.TextMessage, []byte("2probe"))
	if _, got := readFrame(t, ws); got != "3probe" {
		t.Fatalf("probe answer %q", got)
	}
	if b := <-pending; b != "1:6" {
		t.Fatalf("pending poll released with %q, want a v3 noop", b)
	}
	_ = ws.WriteMessage(websocket.TextMessage, []byte("5"))
	_ = ws.WriteMessage(websocket.BinaryMessage, []byte{4, 9})
	if mt, got := readFrame(t, ws); mt != websocket.BinaryMessage || got != "\x04\x09" {
		t.Fatalf("echo over websocket %d %q", mt, got)
	}
}

// openRecorder is a recorder that is an OpenHandler too: OnOpen sends a
// message, which must come before anything else the session delivers.
type openRecorder struct {
	*recorder
	opened chan *Conn
}

func (r openRecorder) OnOpen(c *Conn) {
	r.opened <- c
	_ = c.Send([]byte("opened"), false, false)
}

// OnOpen runs once per session, on every handshake transport, before the
// handshake's answer goes out, so what it queues comes with the open
// packet on polling.
func TestOpenHandler(t *testing.T) {
	rec := openRecorder{newRecorder(false), make(chan *Conn, 4)}
	eng := NewServer(testOptions(&Options{AllowEIO3: true, PingInterval: time.Hour}), func(c *Conn) Handler { return rec })
	hs := httptest.NewServer(eng)
	t.Cleanup(func() {
		_ = eng.Close()
		hs.Close()
	})
	ts := &testServer{Server: hs, eng: eng, rec: rec.recorder}

	_, _, body := do(t, "GET", ts.url3("transport=polling"), "")
	if !strings.HasSuffix(body, "7:4opened") {
		t.Fatalf("v3 handshake answer %q: want the open packet and OnOpen's message", body)
	}
	receive(t, rec.opened, "OnOpen not called on polling")
	_, _, body = do(t, "GET", ts.url("transport=polling"), "")
	if !strings.HasSuffix(body, "\x1e4opened") {
		t.Fatalf("v4 handshake answer %q", body)
	}
	receive(t, rec.opened, "OnOpen not called on v4 polling")

	ws := dialWS3(t, ts, "")
	readFrame(t, ws) // open
	if _, m := readFrame(t, ws); m != "4opened" {
		t.Fatalf("first message %q", m)
	}
	receive(t, rec.opened, "OnOpen not called on WebSocket")
	select {
	case <-rec.opened:
		t.Fatal("OnOpen called more than once per session")
	default:
	}
}
