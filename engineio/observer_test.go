package engineio

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// eventObserver is an Observer that hands every call on as a value.
type eventObserver struct{ ev chan any }

type volatileDrop struct{}

func newEventObserver() *eventObserver { return &eventObserver{ev: make(chan any, 64)} }

func (o *eventObserver) ConnOpened(e ConnOpen)      { o.ev <- e }
func (o *eventObserver) ConnUpgraded(e ConnUpgrade) { o.ev <- e }
func (o *eventObserver) ConnRefused(e ConnRefusal)  { o.ev <- e }
func (o *eventObserver) ConnClosed(e ConnClose)     { o.ev <- e }
func (o *eventObserver) VolatileDropped()           { o.ev <- volatileDrop{} }
func (o *eventObserver) next(t *testing.T) any {
	t.Helper()
	return receive(t, o.ev, "no observer call")
}
func (o *eventObserver) none(t *testing.T, when string) {
	t.Helper()
	select {
	case e := <-o.ev:
		t.Fatalf("%s: observer heard %#v", when, e)
	default:
	}
}

// The Observer hears each session opened with its transport, refused
// requests with their code, an upgrade, each close with the transport it
// ended on, its reason, its age and its queue's high-water mark, and a
// dropped volatile message: once each.
func TestObserverHearsSessions(t *testing.T) {
	obs := newEventObserver()
	ts := startServer(t, &Options{Observer: obs}, false)

	// A polling session that queued 100 bytes, closed at once.
	op := handshake(t, ts)
	c := ts.nextConn(t)
	if e := obs.next(t); e != (ConnOpen{Transport: TransportPolling}) {
		t.Fatalf("opened: %#v", e)
	}
	if err := c.Send([]byte(strings.Repeat("m", 100)), false, false); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	c.CloseWithReason(ReasonParseError)
	e, ok := obs.next(t).(ConnClose)
	if !ok || e.Transport != TransportPolling || e.Reason != ReasonParseError || e.QueuePeak < 100 || e.Duration < start.Sub(c.Created()) || e.Duration > time.Since(c.Created()) {
		t.Fatalf("closed: %#v", e)
	}
	ts.closeReason(t)

	// A closed session drops a volatile message, once heard.
	if err := c.Send([]byte("v"), false, true); err != nil {
		t.Fatal(err)
	}
	if e := obs.next(t); e != (volatileDrop{}) {
		t.Fatalf("volatile: %#v", e)
	}
	if got := ts.eng.Stats().VolatileDropped; got != 1 {
		t.Fatalf("Stats().VolatileDropped = %d", got)
	}

	// The session is gone: a poll for it is refused.
	if status, _, _ := do(t, "GET", ts.url("transport=polling&sid="+op.SID), ""); status != http.StatusBadRequest {
		t.Fatalf("poll of a closed session: %d", status)
	}
	if e := obs.next(t); e != (ConnRefusal{Code: CodeUnknownSID, Message: "Session ID unknown"}) {
		t.Fatalf("refused: %#v", e)
	}

	// A session upgraded to WebSocket, closed by the client there.
	op = handshake(t, ts)
	ts.nextConn(t)
	if e := obs.next(t); e != (ConnOpen{Transport: TransportPolling}) {
		t.Fatalf("opened: %#v", e)
	}
	ws := dialWS(t, ts, "sid="+op.SID)
	_ = ws.WriteMessage(websocket.TextMessage, []byte("2probe"))
	if got := readText(t, ws); got != "3probe" {
		t.Fatalf("probe answer %q", got)
	}
	_ = ws.WriteMessage(websocket.TextMessage, []byte("5"))
	if e := obs.next(t); e != (ConnUpgrade{ID: op.SID, From: TransportPolling, To: TransportWebSocket}) {
		t.Fatalf("upgraded: %#v", e)
	}
	_ = ws.WriteMessage(websocket.TextMessage, []byte("1"))
	e, ok = obs.next(t).(ConnClose)
	if !ok || e.Transport != TransportWebSocket || e.Reason != ReasonTransportClose {
		t.Fatalf("closed: %#v", e)
	}
	ts.closeReason(t)

	// A WebSocket session from the start.
	ws = dialWS(t, ts, "")
	readText(t, ws)
	c = ts.nextConn(t)
	if e := obs.next(t); e != (ConnOpen{Transport: TransportWebSocket}) {
		t.Fatalf("opened: %#v", e)
	}
	_ = c.Close()
	e, ok = obs.next(t).(ConnClose)
	if !ok || e.Transport != TransportWebSocket || e.Reason != ReasonForcedClose {
		t.Fatalf("closed: %#v", e)
	}
	ts.closeReason(t)
	obs.none(t, "after the last close")
}
