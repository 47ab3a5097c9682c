package engineio

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/switchboard-go/socketio/internal/leakcheck"
	"github.com/switchboard-go/socketio/internal/testnet"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

// recorder is a Handler that records what the engine delivers and, when
// echo is set, sends every message back.
type recorder struct {
	echo   bool
	msgs   chan Message
	closed chan string
	conns  chan *Conn
}

func newRecorder(echo bool) *recorder {
	return &recorder{echo: echo, msgs: make(chan Message, 64), closed: make(chan string, 4), conns: make(chan *Conn, 4)}
}

func (r *recorder) OnMessage(c *Conn, data []byte, binary bool) {
	if r.echo {
		_ = c.Send(data, binary, false)
	}
	r.msgs <- Message{Data: data, Binary: binary}
}

func (r *recorder) OnClose(c *Conn, reason string) { r.closed <- reason }

type testServer struct {
	*httptest.Server
	eng *Server
	rec *recorder
}

func startServer(t *testing.T, opts *Options, echo bool) *testServer {
	t.Helper()
	rec := newRecorder(echo)
	eng := NewServer(testOptions(opts), func(c *Conn) Handler {
		rec.conns <- c
		return rec
	})
	ts := httptest.NewServer(eng)
	t.Cleanup(func() {
		_ = eng.Close()
		ts.Close()
	})
	return &testServer{Server: ts, eng: eng, rec: rec}
}

// nextConn returns the next session the server accepted.
func (ts *testServer) nextConn(t *testing.T) *Conn {
	t.Helper()
	return receive(t, ts.rec.conns, "no connection")
}

// closeReason returns the reason of the next session close the handler
// heard.
func (ts *testServer) closeReason(t *testing.T) string {
	t.Helper()
	return receive(t, ts.rec.closed, "session not closed")
}

// receive returns the next value from ch, failing the test with missing
// after 5 s.
func receive[T any](t *testing.T, ch <-chan T, missing string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(5 * time.Second):
		t.Fatal(missing)
		var zero T
		return zero
	}
}

func (ts *testServer) url(query string) string {
	return ts.URL + "/socket.io/?EIO=4&" + query
}

func do(t *testing.T, method, url, body string, hdr ...string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := http.DefaultTransport.(*http.Transport).RoundTrip(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header, string(b)
}

type openPacket struct {
	SID          string   `json:"sid"`
	Upgrades     []string `json:"upgrades"`
	PingInterval int      `json:"pingInterval"`
	PingTimeout  int      `json:"pingTimeout"`
	MaxPayload   int      `json:"maxPayload"`
}

func handshake(t *testing.T, ts *testServer) openPacket {
	t.Helper()
	status, hdr, body := do(t, "GET", ts.url("transport=polling"), "")
	if status != 200 || !strings.HasPrefix(body, "0{") {
		t.Fatalf("handshake: %d %q", status, body)
	}
	if ct := hdr.Get("Content-Type"); ct != "text/plain; charset=UTF-8" {
		t.Errorf("Content-Type = %q", ct)
	}
	var op openPacket
	if err := json.Unmarshal([]byte(body[1:]), &op); err != nil {
		t.Fatalf("open packet %q: %v", body, err)
	}
	return op
}

func TestHandshakeOpenPacket(t *testing.T) {
	ts := startServer(t, nil, false)
	op := handshake(t, ts)
	if len(op.SID) != 20 || op.PingInterval != 25000 || op.PingTimeout != 20000 || op.MaxPayload != 1000000 ||
		len(op.Upgrades) != 1 || op.Upgrades[0] != "websocket" {
		t.Fatalf("open packet = %+v", op)
	}
	if ts.eng.Count() != 1 {
		t.Fatalf("Count = %d", ts.eng.Count())
	}
}

func TestHandshakeErrors(t *testing.T) {
	ts := startServer(t, &Options{
		AllowRequest: func(r *http.Request) error {
			if r.URL.Query().Get("token") == "bad" {
				return errors.New("go away")
			}
			return nil
		},
	}, false)
	cases := []struct {
		name, method, query string
		status              int
		body                string
	}{
		{"EIO=3", "GET", "EIO=3&transport=polling", 400, `{"code":5,"message":"Unsupported protocol version"}`},
		{"no EIO", "GET", "transport=polling", 400, `{"code":5,"message":"Unsupported protocol version"}`},
		{"unknown transport", "GET", "EIO=4&transport=carrier-pigeon", 400, `{"code":0,"message":"Transport unknown"}`},
		{"no transport", "GET", "EIO=4", 400, `{"code":0,"message":"Transport unknown"}`},
		{"unknown sid", "GET", "EIO=4&transport=polling&sid=nope", 400, `{"code":1,"message":"Session ID unknown"}`},
		{"POST handshake", "POST", "EIO=4&transport=polling", 400, `{"code":2,"message":"Bad handshake method"}`},
		{"websocket without upgrade", "GET", "EIO=4&transport=websocket", 400, `{"code":3,"message":"Bad request"}`},
		{"forbidden", "GET", "EIO=4&transport=polling&token=bad", 403, `{"code":4,"message":"go away"}`},
		// A repeated parameter counts by its last value, as the reference
		// server (engine.io 6.6) reads its query: these answers are its.
		{"EIO=4&EIO=3", "GET", "EIO=4&EIO=3&transport=polling", 400, `{"code":5,"message":"Unsupported protocol version"}`},
		{"transport polling then websocket", "GET", "EIO=4&transport=polling&transport=websocket", 400, `{"code":3,"message":"Bad request"}`},
		{"sid given twice, the last unknown", "GET", "EIO=4&transport=polling&sid=" + handshake(t, ts).SID + "&sid=nope", 400, `{"code":1,"message":"Session ID unknown"}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, hdr, body := do(t, c.method, ts.URL+"/socket.io/?"+c.query, "")
			if status != c.status || body != c.body {
				t.Fatalf("got %d %s, want %d %s", status, body, c.status, c.body)
			}
			if ct := hdr.Get("Content-Type"); ct != "application/json" {
				t.Fatalf("Content-Type = %q", ct)
			}
		})
	}
	// The last value also admits: the reference accepts EIO=3&EIO=4.
	if status, _, body := do(t, "GET", ts.URL+"/socket.io/?EIO=3&EIO=4&transport=websocket&transport=polling", ""); status != 200 || !strings.HasPrefix(body, `0{"sid":`) {
		t.Fatalf("EIO=3&EIO=4, websocket then polling: %d %s", status, body)
	}
	if status, _, _ := do(t, "GET", ts.URL+"/elsewhere/?EIO=4&transport=polling", ""); status != 404 {
		t.Fatalf("other path: %d, want 404", status)
	}
}

func TestTransportsRestricted(t *testing.T) {
	ts := startServer(t, &Options{Transports: []string{TransportWebSocket}}, false)
	status, _, body := do(t, "GET", ts.url("transport=polling"), "")
	if status != 400 || body != `{"code":0,"message":"Transport unknown"}` {
		t.Fatalf("got %d %s", status, body)
	}
}

func TestPollingEcho(t *testing.T) {
	ts := startServer(t, nil, true)
	op := handshake(t, ts)
	u := ts.url("transport=polling&sid=" + op.SID)
	status, hdr, body := do(t, "POST", u, "4hello\x1ebAQIDBA==\x1e4€")
	if status != 200 || body != "ok" || hdr.Get("Content-Type") != "text/html" {
		t.Fatalf("POST: %d %q %q", status, body, hdr.Get("Content-Type"))
	}
	want := []Message{{Data: []byte("hello")}, {Data: []byte{1, 2, 3, 4}, Binary: true}, {Data: []byte("€")}}
	for _, w := range want {
		got := <-ts.rec.msgs
		if !bytes.Equal(got.Data, w.Data) || got.Binary != w.Binary {
			t.Fatalf("delivered %+v, want %+v", got, w)
		}
	}
	_, _, body = do(t, "GET", u, "")
	if body != "4hello\x1ebAQIDBA==\x1e4€" {
		t.Fatalf("poll = %q", body)
	}
}

func TestPollingOverlapClosesSession(t *testing.T) {
	ts := startServer(t, nil, false)
	op := handshake(t, ts)
	u := ts.url("transport=polling&sid=" + op.SID)
	first := make(chan string, 1)
	go func() {
		_, _, body := do(t, "GET", u, "")
		first <- body
	}()
	waitFor(t, func() bool {
		c := <-ts.rec.conns
		ts.rec.conns <- c
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.polling
	})
	status, _, body := do(t, "GET", u, "")
	if status != 400 || !strings.Contains(body, `"code":3`) {
		t.Fatalf("overlapping GET: %d %s", status, body)
	}
	if r := <-ts.rec.closed; r != ReasonTransportError {
		t.Fatalf("reason %q", r)
	}
	if b := <-first; b != "1" {
		t.Fatalf("pending GET got %q, want close packet", b)
	}
	if status, _, _ := do(t, "GET", u, ""); status != 400 {
		t.Fatalf("closed session still answers %d", status)
	}
}

// A client that drops its pending poll is gone: the session ends at once
// with "transport error", as in the reference server ("poll connection
// closed prematurely"), not a heartbeat later.
func TestDroppedPollEndsSession(t *testing.T) {
	ts := startServer(t, nil, false) // heartbeat 25 s + 20 s: far beyond the wait
	op := handshake(t, ts)
	c := ts.nextConn(t)
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, "GET", ts.url("transport=polling&sid="+op.SID), nil)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		res, err := http.DefaultClient.Do(req)
		if err == nil {
			res.Body.Close()
		}
		done <- err
	}()
	waitFor(t, func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.polling
	})
	cancel()
	if err := receive(t, done, "the GET did not end"); err == nil {
		t.Fatal("the cancelled GET got an answer")
	}
	if r := ts.closeReason(t); r != ReasonTransportError {
		t.Fatalf("reason %q, want %q", r, ReasonTransportError)
	}
}

func TestPostTooLarge(t *testing.T) {
	ts := startServer(t, &Options{MaxPayload: 100}, false)
	op := handshake(t, ts)
	status, _, _ := do(t, "POST", ts.url("transport=polling&sid="+op.SID), "4"+strings.Repeat("x", 200))
	if status != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d", status)
	}
	if r := <-ts.rec.closed; r != ReasonTransportError {
		t.Fatalf("reason %q", r)
	}
}

func TestPostGarbageIsParseError(t *testing.T) {
	ts := startServer(t, nil, false)
	op := handshake(t, ts)
	status, _, body := do(t, "POST", ts.url("transport=polling&sid="+op.SID), "9nonsense")
	if status != 200 || body != "ok" {
		t.Fatalf("%d %q", status, body)
	}
	if r := <-ts.rec.closed; r != ReasonParseError {
		t.Fatalf("reason %q", r)
	}
}

func TestPingPongAndTimeout(t *testing.T) {
	ts := startServer(t, &Options{PingInterval: 30 * time.Millisecond, PingTimeout: 60 * time.Millisecond}, false)
	op := handshake(t, ts)
	if op.PingInterval != 30 || op.PingTimeout != 60 {
		t.Fatalf("open %+v", op)
	}
	u := ts.url("transport=polling&sid=" + op.SID)
	for i := 0; i < 4; i++ { // answering keeps the session alive
		if _, _, body := do(t, "GET", u, ""); body != "2" {
			t.Fatalf("poll %d = %q, want ping", i, body)
		}
		if status, _, _ := do(t, "POST", u, "3"); status != 200 {
			t.Fatalf("pong: %d", status)
		}
	}
	select {
	case r := <-ts.rec.closed:
		t.Fatalf("closed while answering pings: %q", r)
	default:
	}
	start := time.Now()
	select {
	case r := <-ts.rec.closed:
		if r != ReasonPingTimeout {
			t.Fatalf("reason %q", r)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("ping timeout took %v", d)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no ping timeout")
	}
}

func dialWS(t *testing.T, ts *testServer, query string) *websocket.Conn {
	t.Helper()
	u := "ws" + strings.TrimPrefix(ts.url("transport=websocket&"+query), "http")
	ws, res, err := websocket.DefaultDialer.Dial(u, nil)
	if err != nil {
		status := 0
		if res != nil {
			status = res.StatusCode
		}
		t.Fatalf("dial %s: %v (%d)", u, err, status)
	}
	t.Cleanup(func() { ws.Close() })
	return ws
}

func readText(t *testing.T, ws *websocket.Conn) string {
	t.Helper()
	_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	mt, data, err := ws.ReadMessage()
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if mt != websocket.TextMessage {
		t.Fatalf("frame type %d, want text", mt)
	}
	return string(data)
}

func TestWebSocketOnly(t *testing.T) {
	ts := startServer(t, nil, true)
	ws := dialWS(t, ts, "")
	open := readText(t, ws)
	var op openPacket
	if !strings.HasPrefix(open, "0") || json.Unmarshal([]byte(open[1:]), &op) != nil || len(op.Upgrades) != 0 {
		t.Fatalf("open = %q", open)
	}
	_ = ws.WriteMessage(websocket.TextMessage, []byte("4hi"))
	if got := readText(t, ws); got != "4hi" {
		t.Fatalf("echo %q", got)
	}
	_ = ws.WriteMessage(websocket.BinaryMessage, []byte{0, 1, 2})
	_, data, err := ws.ReadMessage()
	if err != nil || !bytes.Equal(data, []byte{0, 1, 2}) {
		t.Fatalf("binary echo %v %v", data, err)
	}
	_ = ws.WriteMessage(websocket.TextMessage, []byte("1"))
	if r := <-ts.rec.closed; r != ReasonTransportClose {
		t.Fatalf("reason %q", r)
	}
}

func TestWebSocketLimits(t *testing.T) {
	t.Run("too large", func(t *testing.T) {
		ts := startServer(t, &Options{MaxPayload: 100}, false)
		ws := dialWS(t, ts, "")
		readText(t, ws)
		_ = ws.WriteMessage(websocket.TextMessage, []byte("4"+strings.Repeat("x", 200)))
		if r := <-ts.rec.closed; r != ReasonTransportError {
			t.Fatalf("reason %q", r)
		}
	})
	t.Run("garbage", func(t *testing.T) {
		ts := startServer(t, nil, false)
		ws := dialWS(t, ts, "")
		readText(t, ws)
		_ = ws.WriteMessage(websocket.TextMessage, []byte("x"))
		if r := <-ts.rec.closed; r != ReasonParseError {
			t.Fatalf("reason %q", r)
		}
	})
}

func TestUpgrade(t *testing.T) {
	ts := startServer(t, nil, true)
	op := handshake(t, ts)
	u := ts.url("transport=polling&sid=" + op.SID)
	pending := make(chan string, 1)
	go func() { _, _, b := do(t, "GET", u, ""); pending <- b }()
	ws := dialWS(t, ts, "sid="+op.SID)
	_ = ws.WriteMessage(websocket.TextMessage, []byte("2probe"))
	if got := readText(t, ws); got != "3probe" {
		t.Fatalf("probe answer %q", got)
	}
	if b := <-pending; b != "6" {
		t.Fatalf("pending poll released with %q, want noop", b)
	}
	_ = ws.WriteMessage(websocket.TextMessage, []byte("5"))
	_ = ws.WriteMessage(websocket.TextMessage, []byte("4after"))
	if got := readText(t, ws); got != "4after" {
		t.Fatalf("echo over websocket %q", got)
	}
	if status, _, _ := do(t, "GET", u, ""); status != 400 {
		t.Fatalf("poll after upgrade: %d", status)
	}
}

func TestUpgradeTimeoutKeepsPolling(t *testing.T) {
	ts := startServer(t, &Options{UpgradeTimeout: 50 * time.Millisecond}, true)
	op := handshake(t, ts)
	ws := dialWS(t, ts, "sid="+op.SID)
	_ = ws.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, _, err := ws.ReadMessage(); err == nil {
		t.Fatal("probe websocket not closed after the upgrade timeout")
	}
	u := ts.url("transport=polling&sid=" + op.SID)
	do(t, "POST", u, "4still")
	if _, _, b := do(t, "GET", u, ""); b != "4still" {
		t.Fatalf("polling after failed upgrade: %q", b)
	}
}

func TestCORSAndCookie(t *testing.T) {
	ts := startServer(t, &Options{
		CORS:   &CORSOptions{Origins: []string{"https://example.com"}, Credentials: true},
		Cookie: &http.Cookie{Name: "io", HttpOnly: true, SameSite: http.SameSiteLaxMode},
		InitialHeaders: func(h http.Header, r *http.Request) {
			h.Set("X-Initial", "yes")
		},
	}, false)
	status, hdr, _ := do(t, "OPTIONS", ts.url("transport=polling"), "", "Origin", "https://example.com", "Access-Control-Request-Headers", "x-token")
	if status != 204 || hdr.Get("Access-Control-Allow-Origin") != "https://example.com" ||
		hdr.Get("Access-Control-Allow-Credentials") != "true" || hdr.Get("Access-Control-Allow-Headers") != "x-token" {
		t.Fatalf("preflight %d %v", status, hdr)
	}
	status, hdr, body := do(t, "GET", ts.url("transport=polling"), "", "Origin", "https://example.com")
	if status != 200 || hdr.Get("Access-Control-Allow-Origin") != "https://example.com" || hdr.Get("X-Initial") != "yes" {
		t.Fatalf("handshake %d %v", status, hdr)
	}
	var op openPacket
	_ = json.Unmarshal([]byte(body[1:]), &op)
	if c := hdr.Get("Set-Cookie"); !strings.HasPrefix(c, "io="+op.SID) || !strings.Contains(c, "HttpOnly") {
		t.Fatalf("Set-Cookie %q", c)
	}
	u := "ws" + strings.TrimPrefix(ts.url("transport=websocket"), "http")
	_, res, err := websocket.DefaultDialer.Dial(u, http.Header{"Origin": {"https://evil.example"}})
	if err == nil || res == nil || res.StatusCode != 400 {
		t.Fatalf("cross-origin websocket accepted: %v", err)
	}
}

func TestPollingCompression(t *testing.T) {
	ts := startServer(t, nil, true)
	op := handshake(t, ts)
	u := ts.url("transport=polling&sid=" + op.SID)
	big := strings.Repeat("abcdefgh", 300)
	do(t, "POST", u, "4"+big)
	<-ts.rec.msgs
	status, hdr, body := do(t, "GET", u, "", "Accept-Encoding", "gzip")
	if status != 200 || hdr.Get("Content-Encoding") != "gzip" {
		t.Fatalf("%d %v", status, hdr)
	}
	zr, err := gzip.NewReader(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := io.ReadAll(zr)
	if string(plain) != "4"+big {
		t.Fatalf("decompressed %d bytes", len(plain))
	}
}

func TestQueueOverflowDisconnects(t *testing.T) {
	ts := startServer(t, &Options{MaxQueueBytes: 1000}, false)
	op := handshake(t, ts)
	c := <-ts.rec.conns
	if c.ID() != op.SID {
		t.Fatalf("conn %s, handshake %s", c.ID(), op.SID)
	}
	var err error
	for i := 0; i < 100 && err == nil; i++ {
		err = c.Send([]byte(strings.Repeat("x", 100)), false, false)
	}
	if !errors.Is(err, ErrQueueOverflow) {
		t.Fatalf("err = %v", err)
	}
	if r := <-ts.rec.closed; r != ReasonQueueOverflow {
		t.Fatalf("reason %q", r)
	}
	if st := ts.eng.Stats(); st.QueueOverflows != 1 || st.Handshakes != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestVolatileDroppedWhenBehind(t *testing.T) {
	ts := startServer(t, &Options{MaxQueueBytes: 1000}, false)
	op := handshake(t, ts)
	c := <-ts.rec.conns
	for i := 0; i < 50; i++ {
		if err := c.Send([]byte(strings.Repeat("v", 50)), false, true); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Send([]byte("reliable"), false, false); err != nil {
		t.Fatalf("reliable send after volatile burst: %v", err)
	}
	if st := ts.eng.Stats(); st.VolatileDropped == 0 || st.VolatileDropped >= 50 {
		t.Fatalf("stats %+v", st)
	}
	_, _, body := do(t, "GET", ts.url("transport=polling&sid="+op.SID), "")
	records := strings.Split(body, "\x1e")
	if n := len(records); n >= 50 || records[n-1] != "4reliable" {
		t.Fatalf("%d records, last %q", n, records[n-1])
	}
}

func TestShutdownFlushes(t *testing.T) {
	ts := startServer(t, nil, false)
	op := handshake(t, ts)
	c := <-ts.rec.conns
	_ = c.Send([]byte("bye"), false, false)
	var wg sync.WaitGroup
	wg.Add(1)
	returned := make(chan struct{})
	go func() { defer wg.Done(); _ = ts.eng.Shutdown(t.Context()); close(returned) }()
	// Closed, though still reachable for the last poll: no longer counted.
	waitFor(t, func() bool { return ts.eng.Count() == 0 })
	u := ts.url("transport=polling&sid=" + op.SID)
	if _, _, body := do(t, "GET", u, ""); body != "4bye" {
		t.Fatalf("poll after shutdown = %q", body)
	}
	select {
	case <-returned:
		t.Fatal("Shutdown returned before the client collected the close packet")
	case <-time.After(50 * time.Millisecond):
	}
	if _, _, body := do(t, "GET", u, ""); body != "1" {
		t.Fatalf("next poll = %q, want the close packet alone", body)
	}
	wg.Wait()
	if r := <-ts.rec.closed; r != ReasonForcedServerClose {
		t.Fatalf("reason %q", r)
	}
	if status, _, _ := do(t, "GET", ts.url("transport=polling"), ""); status != http.StatusServiceUnavailable {
		t.Fatalf("handshake after shutdown: %d", status)
	}
}

// stackHas reports whether a goroutine's stack holds every one of parts (a
// state such as "[sync.Mutex.Lock", function names): the event of a
// goroutine reaching a point that has no other signal.
func stackHas(parts ...string) bool {
	buf := make([]byte, 8<<20)
	buf = buf[:runtime.Stack(buf, true)]
stacks:
	for _, g := range strings.Split(string(buf), "\n\n") {
		for _, p := range parts {
			if !strings.Contains(g, p) {
				continue stacks
			}
		}
		return true
	}
	return false
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 5s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// A client that does not read is disconnected with "write timeout",
// counted in Stats, on the poller and on a writer goroutine (the mutation
// run passes no -nopoller: the second is named here).
func TestWriteTimeoutDisconnects(t *testing.T) {
	for _, mode := range []struct {
		name     string
		disabled bool
	}{{"poller", false}, {"goroutine", true}} {
		t.Run(mode.name, func(t *testing.T) {
			opts := &Options{MaxQueueBytes: 64 << 20, WriteTimeout: 100 * time.Millisecond, DisablePoller: mode.disabled}
			ts := startServerRaw(t, opts, false)
			ws := dialWS(t, ts, "") // never reads after this
			c := <-ts.rec.conns
			chunk := []byte(strings.Repeat("x", 256<<10))
			for i := 0; i < 160; i++ { // 40 MiB: more than loopback socket buffers hold
				if err := c.Send(chunk, false, false); err != nil {
					break
				}
			}
			select {
			case r := <-ts.rec.closed:
				if r != ReasonWriteTimeout {
					t.Fatalf("reason %q", r)
				}
				if st := ts.eng.Stats(); st.WriteTimeouts != 1 {
					t.Fatalf("stats %+v", st)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("a client that does not read was not disconnected")
			}
			_ = ws.Close()
		})
	}
}

func TestPerMessageDeflate(t *testing.T) {
	ts := startServer(t, &Options{PerMessageDeflate: true}, true)
	d := websocket.Dialer{EnableCompression: true}
	u := "ws" + strings.TrimPrefix(ts.url("transport=websocket"), "http")
	ws, res, err := d.Dial(u, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	if ext := res.Header.Get("Sec-Websocket-Extensions"); !strings.Contains(ext, "permessage-deflate") {
		t.Fatalf("extension not negotiated: %q", ext)
	}
	readText(t, ws)
	for _, n := range []int{10, 5000} {
		msg := "4" + strings.Repeat("z", n)
		_ = ws.WriteMessage(websocket.TextMessage, []byte(msg))
		if got := readText(t, ws); got != msg {
			t.Fatalf("echo of %d bytes differs", n)
		}
	}
}

// The server frames WebSocket messages itself (wswrite.go): every length
// class of RFC 6455 must round-trip, text and binary, in one batch.
func TestWebSocketFrameLengths(t *testing.T) {
	for _, deflate := range []bool{false, true} {
		t.Run(map[bool]string{false: "raw", true: "deflate"}[deflate], func(t *testing.T) {
			ts := startServer(t, &Options{PerMessageDeflate: deflate}, false)
			d := websocket.Dialer{EnableCompression: deflate}
			ws, _, err := d.Dial("ws"+strings.TrimPrefix(ts.url("transport=websocket"), "http"), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer ws.Close()
			readText(t, ws)
			c := <-ts.rec.conns
			sizes := []int{0, 1, 124, 125, 126, 127, 1023, 1024, 65534, 65535, 65536, 70000}
			var msgs []Message
			for _, n := range sizes {
				data := bytes.Repeat([]byte{byte('a' + n%26)}, n)
				msgs = append(msgs, Message{Data: data}, Message{Data: data, Binary: true})
			}
			if err := c.SendMessages(msgs, false); err != nil { // one unit: one batch
				t.Fatal(err)
			}
			for _, m := range msgs {
				_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
				mt, data, err := ws.ReadMessage()
				if err != nil {
					t.Fatal(err)
				}
				want := m.Data
				if mt == websocket.TextMessage {
					if m.Binary || len(data) == 0 || data[0] != '4' {
						t.Fatalf("text frame %q for %d-byte message (binary %v)", data[:min(len(data), 8)], len(m.Data), m.Binary)
					}
					data = data[1:]
				} else if !m.Binary {
					t.Fatalf("binary frame for a text message")
				}
				if !bytes.Equal(data, want) {
					t.Fatalf("%d-byte message came back as %d bytes", len(want), len(data))
				}
			}
		})
	}
}

// A prepared unit (a broadcast) reaches WebSocket and polling sessions
// alike, with the same bytes.
func TestSendPrepared(t *testing.T) {
	ts := startServer(t, nil, false)
	ws := dialWS(t, ts, "")
	readText(t, ws)
	wsConn := <-ts.rec.conns
	op := handshake(t, ts)
	pollConn := <-ts.rec.conns
	p := Prepare([]Message{{Data: []byte(`51-["file",{"_placeholder":true,"num":0}]`)}, {Data: []byte{0xde, 0xad}, Binary: true}})
	for _, c := range []*Conn{wsConn, pollConn, wsConn} {
		if err := c.SendPrepared(p, false); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 2; i++ {
		if got := readText(t, ws); got != `451-["file",{"_placeholder":true,"num":0}]` {
			t.Fatalf("text %q", got)
		}
		if mt, data, err := ws.ReadMessage(); err != nil || mt != websocket.BinaryMessage || !bytes.Equal(data, []byte{0xde, 0xad}) {
			t.Fatalf("binary %v %v %v", mt, data, err)
		}
	}
	_, _, body := do(t, "GET", ts.url("transport=polling&sid="+op.SID), "")
	if body != "451-[\"file\",{\"_placeholder\":true,\"num\":0}]\x1eb3q0=" {
		t.Fatalf("poll %q", body)
	}
}

// An idle WebSocket session holds no writer goroutine.
func TestIdleWebSocketHasNoWriter(t *testing.T) {
	ts := startServer(t, nil, true)
	ws := dialWS(t, ts, "")
	readText(t, ws)
	c := <-ts.rec.conns
	waitFor(t, func() bool { return !c.writing.Load() })
	_ = ws.WriteMessage(websocket.TextMessage, []byte("4x"))
	if got := readText(t, ws); got != "4x" {
		t.Fatalf("echo %q", got)
	}
	waitFor(t, func() bool { return !c.writing.Load() })
}

// Request rebuilds the handshake request from what the session kept, for
// both transports, and each call returns a request of its own.
func TestConnRequest(t *testing.T) {
	ts := startServer(t, nil, false)
	status, _, body := do(t, "GET", ts.url("transport=polling&name=ann"), "", "X-Token", "t0k", "X-Multi", "a")
	if status != 200 || !strings.HasPrefix(body, "0{") {
		t.Fatalf("handshake: %d %q", status, body)
	}
	dialWS(t, ts, "name=bob")
	for _, want := range []struct{ name, transport string }{{"ann", "polling"}, {"bob", "websocket"}} {
		c := ts.nextConn(t)
		r := c.Request()
		if r.Method != "GET" || r.URL.Path != "/socket.io/" || r.URL.Query().Get("name") != want.name ||
			r.URL.Query().Get("transport") != want.transport || r.RequestURI != r.URL.RequestURI() {
			t.Errorf("%s: %s %v (%q)", want.name, r.Method, r.URL, r.RequestURI)
		}
		if want.name == "ann" && r.Header.Get("X-Token") != "t0k" {
			t.Errorf("headers %v", r.Header)
		}
		if !strings.HasPrefix(r.RemoteAddr, "127.0.0.1:") || r.Host != strings.TrimPrefix(ts.URL, "http://") ||
			r.ProtoMajor != 1 || r.TLS != nil || r.Context().Err() != nil {
			t.Errorf("%s: remote %q host %q proto %d", want.name, r.RemoteAddr, r.Host, r.ProtoMajor)
		}
		if n, _ := r.Body.Read(make([]byte, 1)); n != 0 {
			t.Error("body not empty")
		}
		if again := c.Request(); again == r || again.URL == r.URL || fmt.Sprint(again.Header) != fmt.Sprint(r.Header) {
			t.Error("Request returned a shared request")
		}
	}
}

// Done's channel is made on demand: asked before or after the close, it is
// closed by then, and Closed agrees.
func TestConnDoneAndClosed(t *testing.T) {
	ts := startServer(t, nil, false)
	dialWS(t, ts, "")
	dialWS(t, ts, "")
	early, late := ts.nextConn(t), ts.nextConn(t)
	done := early.Done()
	if early.Closed() || late.Closed() {
		t.Fatal("closed too early")
	}
	select {
	case <-done:
		t.Fatal("Done closed while open")
	default:
	}
	_ = early.Close()
	_ = late.Close()
	for _, ch := range []<-chan struct{}{done, late.Done()} {
		select {
		case <-ch:
		case <-time.After(5 * time.Second):
			t.Fatal("Done not closed")
		}
	}
	if !early.Closed() || !late.Closed() {
		t.Fatal("Closed false after Close")
	}
}

// A client's WebSocket ping must not shorten the server's write deadline:
// a message sent well after the pong still goes out (both WebSocket
// paths; gorilla's default pong handler left a one-second deadline).
func TestClientPingKeepsWriting(t *testing.T) {
	ts := startServer(t, &Options{WriteTimeout: 10 * time.Second}, false)
	ws := dialWS(t, ts, "")
	c := ts.nextConn(t)
	pong := make(chan string, 1)
	ws.SetPongHandler(func(data string) error { pong <- data; return nil })
	if err := ws.WriteControl(websocket.PingMessage, []byte("hi"), time.Now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	got := make(chan string, 4)
	go func() {
		for {
			_, data, err := ws.ReadMessage() // runs the pong handler too
			if err != nil {
				close(got)
				return
			}
			got <- string(data)
		}
	}()
	select {
	case p := <-pong:
		if p != "hi" {
			t.Fatalf("pong %q", p)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no pong")
	}
	// The sleep is the subject: the message goes out after the one second
	// that gorilla's pong handler used to leave as the write deadline.
	time.Sleep(1200 * time.Millisecond)
	if err := c.Send([]byte("later"), false, false); err != nil {
		t.Fatal(err)
	}
	for {
		select {
		case m, ok := <-got:
			if !ok {
				t.Fatal("connection closed before the message")
			}
			if m == "4later" {
				return
			}
		case <-time.After(5 * time.Second):
			t.Fatal("message not delivered")
		}
	}
}

// A session closed while its handler is still being made (the factory
// handed it to another goroutine) still reports the close to the handler
// the factory returns.
func TestCloseDuringHandlerFactory(t *testing.T) {
	rec := newRecorder(false)
	eng := NewServer(testOptions(nil), func(c *Conn) Handler {
		closed := make(chan struct{})
		go func() { _ = c.Close(); close(closed) }()
		<-closed
		// The close notification has started and waits for the handler
		// this factory is about to return.
		// (Not waitStack: this is the server's goroutine, where t.Fatal
		// must not be called.)
		for deadline := time.Now().Add(5 * time.Second); !stackHas("[sync.Mutex.Lock", "engineio.(*Conn).close.func"); time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Error("the close notification never waited for the handler")
				break
			}
		}
		return rec
	})
	ts := httptest.NewServer(eng)
	defer ts.Close()
	defer eng.Close()
	_, _, _ = do(t, "GET", ts.URL+"/socket.io/?EIO=4&transport=polling", "")
	select {
	case r := <-rec.closed:
		if r != ReasonForcedClose {
			t.Fatalf("reason %q", r)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the handler never heard of the close")
	}
}

// OnConnectionError hears every request refused before it reaches a
// session, with the code and message the client gets; a panic in it is
// contained.
func TestOnConnectionError(t *testing.T) {
	type refusal struct {
		code    int
		message string
	}
	got := make(chan refusal, 8)
	ts := startServer(t, &Options{
		AllowRequest: func(r *http.Request) error {
			if r.URL.Query().Get("token") == "bad" {
				return errors.New("go away")
			}
			return nil
		},
		Logger: slog.New(slog.DiscardHandler), // the panic below is logged at error level
		OnConnectionError: func(r *http.Request, code int, message string) {
			got <- refusal{code, message}
			if r.URL.Query().Get("panic") != "" {
				panic("a bug in a logging hook")
			}
		},
	}, false)
	for _, tc := range []struct {
		method, query string
		want          refusal
		status        int
	}{
		{"GET", "EIO=3&transport=polling", refusal{CodeUnsupportedProtocol, "Unsupported protocol version"}, 400},
		{"GET", "EIO=4&transport=carrier-pigeon", refusal{CodeUnknownTransport, "Transport unknown"}, 400},
		{"GET", "EIO=4&transport=polling&sid=nope", refusal{CodeUnknownSID, "Session ID unknown"}, 400},
		{"POST", "EIO=4&transport=polling", refusal{CodeBadHandshakeMethod, "Bad handshake method"}, 400},
		{"GET", "EIO=4&transport=polling&token=bad&panic=1", refusal{CodeForbidden, "go away"}, 403},
	} {
		status, _, body := do(t, tc.method, ts.URL+"/socket.io/?"+tc.query, "")
		if status != tc.status || !strings.Contains(body, tc.want.message) {
			t.Errorf("%s %s: %d %s", tc.method, tc.query, status, body)
		}
		if r := receive(t, got, "no OnConnectionError"); r != tc.want {
			t.Errorf("%s %s: OnConnectionError got %+v, want %+v", tc.method, tc.query, r, tc.want)
		}
	}
	handshake(t, ts) // a good one is not reported
	select {
	case r := <-got:
		t.Fatalf("reported %+v for a good handshake", r)
	default:
	}
}

// Message.NoCompress (Node: compress(false)) keeps a large message out of
// permessage-deflate, and a polling response that holds only such
// messages out of HTTP compression; other messages are still compressed.
func TestNoCompress(t *testing.T) {
	big := bytes.Repeat([]byte("abcdefgh"), 1000) // 8,000 bytes, deflates to a few dozen
	t.Run("websocket", func(t *testing.T) {
		ts := startServer(t, &Options{PerMessageDeflate: true}, false)
		var wire atomic.Int64
		d := websocket.Dialer{EnableCompression: true, NetDial: testnet.CountingDial(&wire)}
		ws, _, err := d.Dial("ws"+strings.TrimPrefix(ts.url("transport=websocket"), "http"), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer ws.Close()
		readText(t, ws)
		c := ts.nextConn(t)
		for _, noCompress := range []bool{false, true} {
			before := wire.Load()
			if err := c.SendMessages([]Message{{Data: big, NoCompress: noCompress}}, false); err != nil {
				t.Fatal(err)
			}
			if got := readText(t, ws); got != "4"+string(big) {
				t.Fatalf("message of %d bytes", len(got))
			}
			n := wire.Load() - before
			if noCompress != (n > int64(len(big))) {
				t.Fatalf("NoCompress %v: %d bytes on the wire for %d", noCompress, n, len(big))
			}
		}
	})
	t.Run("polling", func(t *testing.T) {
		ts := startServer(t, nil, false)
		op := handshake(t, ts)
		c := ts.nextConn(t)
		u := ts.url("transport=polling&sid=" + op.SID)
		for _, noCompress := range []bool{false, true} {
			if err := c.SendMessages([]Message{{Data: big, NoCompress: noCompress}}, false); err != nil {
				t.Fatal(err)
			}
			_, hdr, _ := do(t, "GET", u, "", "Accept-Encoding", "gzip")
			if got := hdr.Get("Content-Encoding"); (got == "gzip") == noCompress {
				t.Fatalf("NoCompress %v: Content-Encoding %q", noCompress, got)
			}
		}
	})
}

// A client that closes over polling (POST "1") while its GET is pending
// gets a noop on that GET, as from the reference server (its polling
// transport answers a waiting poll with noop when the client closes); the
// close packet is for closes the server starts.
func TestClientCloseReleasesPollWithNoop(t *testing.T) {
	ts := startServer(t, nil, false)
	op := handshake(t, ts)
	u := ts.url("transport=polling&sid=" + op.SID)
	c := ts.nextConn(t)
	pending := make(chan string, 1)
	go func() { _, _, b := do(t, "GET", u, ""); pending <- b }()
	waitFor(t, func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.polling
	})
	if status, _, body := do(t, "POST", u, "1"); status != 200 || body != "ok" {
		t.Fatalf("POST close: %d %q", status, body)
	}
	if b := receive(t, pending, "pending GET not released"); b != "6" {
		t.Fatalf("pending GET got %q, want noop", b)
	}
	if r := ts.closeReason(t); r != ReasonTransportClose {
		t.Fatalf("reason %q", r)
	}
	if status, _, _ := do(t, "GET", u, ""); status != 400 {
		t.Fatalf("closed session still answers %d", status)
	}
}

// A poll the client sent before its close but that reached the session
// after it (another connection, scheduled later) still gets the noop it
// would have got pending, not "Session ID unknown"; the poll after that
// finds no session. The official protocol suite sends the two at once.
func TestClientCloseAnswersARacingPoll(t *testing.T) {
	ts := startServer(t, nil, false)
	op := handshake(t, ts)
	u := ts.url("transport=polling&sid=" + op.SID)
	if status, _, body := do(t, "POST", u, "1"); status != 200 || body != "ok" {
		t.Fatalf("POST close: %d %q", status, body)
	}
	if status, _, body := do(t, "GET", u, ""); status != 200 || body != "6" {
		t.Fatalf("poll racing the close: %d %q, want noop", status, body)
	}
	if status, _, _ := do(t, "GET", u, ""); status != 400 {
		t.Fatalf("closed session still answers %d", status)
	}
	if r := ts.closeReason(t); r != ReasonTransportClose {
		t.Fatalf("reason %q", r)
	}
}
