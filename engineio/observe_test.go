package engineio

import (
	"testing"

	"github.com/gorilla/websocket"
)

// An observer attached with Observe hears the sessions beside
// Options.Observer, an upgrade with the session's id; detached, it hears
// nothing more while the other still does.
func TestObserveAttachAndDetach(t *testing.T) {
	base := newEventObserver()
	ts := startServer(t, &Options{Observer: base}, false)
	if ts.eng.Observe(nil)(); ts.eng.observer() != base {
		t.Fatal("Observe(nil) changed the observer")
	}
	extra := newEventObserver()
	detach := ts.eng.Observe(extra)

	op := handshake(t, ts)
	ts.nextConn(t)
	for _, o := range []*eventObserver{base, extra} {
		if e := o.next(t); e != (ConnOpen{Transport: TransportPolling}) {
			t.Fatalf("opened: %#v", e)
		}
	}
	ws := dialWS(t, ts, "sid="+op.SID)
	_ = ws.WriteMessage(websocket.TextMessage, []byte("2probe"))
	if got := readText(t, ws); got != "3probe" {
		t.Fatalf("probe answer %q", got)
	}
	_ = ws.WriteMessage(websocket.TextMessage, []byte("5"))
	for _, o := range []*eventObserver{base, extra} {
		if e := o.next(t); e != (ConnUpgrade{ID: op.SID, From: TransportPolling, To: TransportWebSocket}) {
			t.Fatalf("upgraded: %#v", e)
		}
	}

	detach()
	detach() // a second call does nothing
	if ts.eng.observer() != base {
		t.Fatal("detach left a fan-out")
	}
	_ = ws.WriteMessage(websocket.TextMessage, []byte("1"))
	if e, ok := base.next(t).(ConnClose); !ok || e.Reason != ReasonTransportClose {
		t.Fatalf("closed: %#v", e)
	}
	extra.none(t, "after detach")
}
