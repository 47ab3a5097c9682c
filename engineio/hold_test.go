package engineio

import (
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// holdHandler holds a session's reads for holdFor when it gets "hold"
// (answering "held"), and reports when it gets "after".
type holdHandler struct {
	until chan time.Time // when the hold ends, as asked
	after chan time.Time // when "after" was handled
	long  bool           // ask for an hour instead of holdFor
}

const holdFor = 300 * time.Millisecond

func (h *holdHandler) OnMessage(c *Conn, data []byte, binary bool) {
	switch string(data) {
	case "hold":
		until := time.Now().Add(holdFor)
		if h.long {
			until = time.Now().Add(time.Hour)
		}
		c.HoldReads(until)
		c.HoldReads(until.Add(-time.Millisecond)) // an earlier end changes nothing
		h.until <- until
		_ = c.Send([]byte("held"), false, false)
	case "after":
		h.after <- time.Now()
	}
}

func (h *holdHandler) OnClose(*Conn, string) {}

// HoldReads: what the client sends after a hold began is read once the
// hold is over, on each transport (a WebSocket on the poller, on a reader
// goroutine, and long-polling POSTs). The client sends "after" only once
// the server answered "held", so it cannot have been read with "hold".
func TestHoldReads(t *testing.T) {
	for _, tc := range []struct {
		name    string
		poller  bool
		polling bool
	}{
		{"websocket on the poller", true, false},
		{"websocket on a reader goroutine", false, false},
		{"polling", false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := &holdHandler{until: make(chan time.Time, 1), after: make(chan time.Time, 1)}
			saved := *noPoller
			*noPoller = false
			conns := make(chan *Conn, 1)
			eng := NewServer(testOptions(&Options{DisablePoller: !tc.poller}), func(c *Conn) Handler { conns <- c; return h })
			*noPoller = saved
			ts := &testServer{Server: httptest.NewServer(eng), eng: eng}
			t.Cleanup(func() {
				_ = eng.Close()
				ts.Close()
			})
			if tc.polling {
				sid := handshake(t, ts).SID
				u := ts.url("transport=polling&sid=" + sid)
				if st, _, _ := do(t, "POST", u, "4hold"); st != 200 {
					t.Fatalf("POST: %d", st)
				}
				if _, _, body := do(t, "GET", u, ""); body != "4held" {
					t.Fatalf("poll: %q", body)
				}
				if st, _, _ := do(t, "POST", u, "4after"); st != 200 {
					t.Fatalf("POST after the hold: %d", st)
				}
			} else {
				ws := dialWS(t, ts, "")
				readText(t, ws)
				c := receive(t, conns, "no session")
				if _, onPoller := transportOf(c).(*pollWS); onPoller != tc.poller {
					t.Fatalf("transport %T", transportOf(c))
				}
				_ = ws.WriteMessage(websocket.TextMessage, []byte("4hold"))
				if got := readText(t, ws); got != "4held" {
					t.Fatalf("got %q", got)
				}
				_ = ws.WriteMessage(websocket.TextMessage, []byte("4after"))
			}
			until := receive(t, h.until, "no hold")
			at := receive(t, h.after, "the packet after the hold was never read")
			if at.Before(until) {
				t.Fatalf("read %v before the hold's end", until.Sub(at))
			}
		})
	}
}

// A hold ends 5 s after the call at most, and within half of PingTimeout:
// a held client cannot answer pings either.
func TestHoldReadsBounded(t *testing.T) {
	h := &holdHandler{until: make(chan time.Time, 1), after: make(chan time.Time, 1), long: true}
	eng := NewServer(testOptions(&Options{PingTimeout: 400 * time.Millisecond}), func(*Conn) Handler { return h })
	ts := &testServer{Server: httptest.NewServer(eng), eng: eng}
	t.Cleanup(func() {
		_ = eng.Close()
		ts.Close()
	})
	ws := dialWS(t, ts, "")
	readText(t, ws)
	start := time.Now()
	_ = ws.WriteMessage(websocket.TextMessage, []byte("4hold"))
	if got := readText(t, ws); got != "4held" {
		t.Fatalf("got %q", got)
	}
	_ = ws.WriteMessage(websocket.TextMessage, []byte("4after"))
	receive(t, h.until, "no hold")
	at := receive(t, h.after, "the hold of an hour was not cut short")
	if held := at.Sub(start); held < 200*time.Millisecond {
		t.Fatalf("read after %v: the hold was shorter than PingTimeout/2", held)
	}
}

// A client that answers pings keeps its session through a hold: the hold
// ends within half of PingTimeout, so a pong held back with the rest of
// its input is still read in time (with PingInterval 100 ms, the first
// ping comes during the hold).
func TestHoldReadsKeepsTheSession(t *testing.T) {
	h := &holdHandler{until: make(chan time.Time, 1), after: make(chan time.Time, 1), long: true}
	closed := make(chan string, 1)
	eng := NewServer(testOptions(&Options{PingInterval: 100 * time.Millisecond, PingTimeout: 400 * time.Millisecond}),
		func(*Conn) Handler { return &closeNotifier{Handler: h, closed: closed} })
	ts := &testServer{Server: httptest.NewServer(eng), eng: eng}
	t.Cleanup(func() {
		_ = eng.Close()
		ts.Close()
	})
	ws := dialWS(t, ts, "")
	readText(t, ws)
	held := make(chan struct{}, 1)
	var wmu sync.Mutex
	write := func(s string) {
		wmu.Lock()
		defer wmu.Unlock()
		_ = ws.WriteMessage(websocket.TextMessage, []byte(s))
	}
	go func() { // answers pings, as a client does
		for {
			_, m, err := ws.ReadMessage()
			if err != nil {
				return
			}
			switch string(m) {
			case "2":
				write("3")
			case "4held":
				held <- struct{}{}
			}
		}
	}()
	write("4hold")
	receive(t, held, "no answer to hold")
	write("4after")
	receive(t, h.after, "the packet after the hold was never read")
	select {
	case reason := <-closed:
		t.Fatalf("the session closed during the hold: %s", reason)
	default:
	}
}

// closeNotifier tells when its session closes.
type closeNotifier struct {
	Handler
	closed chan string
}

func (n *closeNotifier) OnClose(c *Conn, reason string) {
	n.closed <- reason
	n.Handler.OnClose(c, reason)
}
