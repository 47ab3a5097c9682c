package engineio

import (
	"bytes"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// expectCloseFrame reads ws until the server's close frame.
func expectCloseFrame(t *testing.T, ws *websocket.Conn) {
	t.Helper()
	_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		_, data, err := ws.ReadMessage()
		if err == nil {
			t.Logf("read %q before the close", data)
			continue
		}
		var ce *websocket.CloseError
		if !errors.As(err, &ce) {
			t.Fatalf("want a close frame, got %v", err)
		}
		return
	}
}

// A second WebSocket for a session that is upgrading or already upgraded
// gets its handshake completed and is then closed with a close frame, as
// the reference server does (and the protocol asks); an HTTP error would
// surface in Node's ws client as an uncaught "Unexpected server response".
// The session itself carries on.
func TestSecondWebSocketIsClosed(t *testing.T) {
	ts := startServer(t, nil, true)
	op := handshake(t, ts)
	probe := dialWS(t, ts, "sid="+op.SID)

	// Upgrading: a probe WebSocket exists.
	second := dialWS(t, ts, "sid="+op.SID)
	expectCloseFrame(t, second)

	// The first probe still upgrades.
	_ = probe.WriteMessage(websocket.TextMessage, []byte("2probe"))
	if got := readText(t, probe); got != "3probe" {
		t.Fatalf("probe answer %q", got)
	}
	_ = probe.WriteMessage(websocket.TextMessage, []byte("5"))
	_ = probe.WriteMessage(websocket.TextMessage, []byte("4after"))
	if got := readText(t, probe); got != "4after" {
		t.Fatalf("echo over websocket %q", got)
	}

	// Upgraded.
	third := dialWS(t, ts, "sid="+op.SID)
	expectCloseFrame(t, third)
	_ = probe.WriteMessage(websocket.TextMessage, []byte("4still"))
	if got := readText(t, probe); got != "4still" {
		t.Fatalf("echo over websocket %q", got)
	}

	// A session that started on WebSocket has nothing to upgrade.
	wsOnly := dialWS(t, ts, "")
	open := readText(t, wsOnly)
	sid := open[strings.Index(open, `"sid":"`)+7:]
	sid = sid[:strings.IndexByte(sid, '"')]
	fourth := dialWS(t, ts, "sid="+sid)
	expectCloseFrame(t, fourth)
}

// wrappedWriter is logging middleware's ResponseWriter: it implements
// neither http.Hijacker nor, unless unwrap is set, Unwrap.
type wrappedWriter struct {
	http.ResponseWriter
	status int
}

func (w *wrappedWriter) WriteHeader(status int) {
	w.status = status
	w.ResponseWriter.WriteHeader(status)
}

type unwrappingWriter struct{ wrappedWriter }

func (w *unwrappingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// syncBuffer is a log destination safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Why a WebSocket upgrade was refused reaches OnConnectionError and the
// log: a handler wrapper that hides http.Hijacker, a bad handshake. A
// wrapper that offers Unwrap (as http.ResponseController expects) works.
func TestUpgradeRefusalReason(t *testing.T) {
	type refusal struct {
		code    int
		message string
	}
	got := make(chan refusal, 8)
	var logs syncBuffer
	eng := NewServer(testOptions(&Options{
		Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		OnConnectionError: func(r *http.Request, code int, message string) {
			got <- refusal{code, message}
		},
	}), nil)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("unwrap") != "" {
			eng.ServeHTTP(&unwrappingWriter{wrappedWriter{ResponseWriter: w}}, r)
			return
		}
		eng.ServeHTTP(&wrappedWriter{ResponseWriter: w}, r)
	}))
	t.Cleanup(func() {
		_ = eng.Close()
		ts.Close()
	})
	wsURL := "ws" + strings.TrimPrefix(ts.URL, "http") + "/socket.io/?EIO=4&transport=websocket"

	// Hidden Hijacker: the reason names it.
	_, res, err := websocket.DefaultDialer.Dial(wsURL, nil)
	if err == nil {
		t.Fatal("upgrade through a wrapper without Hijacker succeeded")
	}
	if res == nil || res.StatusCode != http.StatusInternalServerError {
		t.Errorf("status %v, want 500 (a server misconfiguration)", res)
	}
	r := receive(t, got, "no OnConnectionError for the hidden Hijacker")
	if r.code != CodeBadRequest || !strings.Contains(r.message, "http.Hijacker") {
		t.Errorf("OnConnectionError got %+v", r)
	}
	if !strings.Contains(logs.String(), "http.Hijacker") {
		t.Errorf("reason not logged: %s", logs.String())
	}
	// A server that cannot do WebSocket as deployed (500) is an error.
	if !strings.Contains(logs.String(), `level=ERROR msg="engineio: WebSocket upgrade failed"`) {
		t.Errorf("500 not logged as an error: %s", logs.String())
	}

	// Unwrap reaches the Hijacker.
	ws, _, err := websocket.DefaultDialer.Dial(wsURL+"&unwrap=1", nil)
	if err != nil {
		t.Fatalf("upgrade through a wrapper with Unwrap: %v", err)
	}
	defer ws.Close()
	if open := readText(t, ws); !strings.HasPrefix(open, "0{") {
		t.Fatalf("open packet %q", open)
	}

	// A bad Sec-WebSocket-Key.
	status, _, body := do(t, "GET", ts.URL+"/socket.io/?EIO=4&transport=websocket&unwrap=1", "",
		"Connection", "Upgrade", "Upgrade", "websocket", "Sec-WebSocket-Version", "13", "Sec-WebSocket-Key", "short")
	if status != 400 || !strings.Contains(body, "Sec-WebSocket-Key") {
		t.Errorf("bad key: %d %s", status, body)
	}
	r = receive(t, got, "no OnConnectionError for the bad key")
	// A client's bad handshake (400) is only a debug line.
	if n := strings.Count(logs.String(), "level=ERROR"); n != 1 || !strings.Contains(logs.String(), `level=DEBUG msg="engineio: WebSocket upgrade refused" status=400`) {
		t.Errorf("400 not logged at debug level alone: %s", logs.String())
	}
	if r.code != CodeBadRequest || !strings.Contains(r.message, "Sec-WebSocket-Key") {
		t.Errorf("OnConnectionError got %+v", r)
	}
}
