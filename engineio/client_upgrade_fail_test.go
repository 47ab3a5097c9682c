package engineio

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gorilla/websocket"
)

// A server that answers the probe with anything but "3probe": the client
// drops the WebSocket and carries on over polling, both ways.
func TestClientUpgradeProbeRefused(t *testing.T) {
	checkClientLeaks(t)
	f := &fakePolling{
		open:  `0{"sid":"abc","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000}`,
		gets:  make(chan string, 4),
		posts: make(chan fakePost),
	}
	up := websocket.Upgrader{}
	probed := make(chan string, 1)
	dropped := make(chan struct{})
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("transport") != TransportWebSocket {
			f.ServeHTTP(w, r)
			return
		}
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		_, data, err := ws.ReadMessage()
		if err != nil {
			return
		}
		probed <- string(data)
		_ = ws.WriteMessage(websocket.TextMessage, []byte("3nope"))
		for {
			if _, _, err := ws.ReadMessage(); err != nil {
				close(dropped)
				return
			}
		}
	}))
	defer ts.Close()
	r := newRecClient()
	c := dialTest(t, ts.URL, r, DialOptions{Logger: slog.New(slog.DiscardHandler)})
	if got := receive(t, probed, "no probe"); got != "2probe" {
		t.Fatalf("probe %q", got)
	}
	// The client drops the WebSocket at once (not at UpgradeTimeout).
	receive(t, dropped, "the WebSocket was not dropped")
	// Polling goes on: a message each way.
	if err := c.Send([]byte("up"), false, false); err != nil {
		t.Fatal(err)
	}
	p := receive(t, f.posts, "no POST after the failed upgrade")
	close(p.release)
	if p.body != "4up" {
		t.Fatalf("POST %q", p.body)
	}
	f.gets <- "4down"
	if m := r.next(t); m.data != "down" {
		t.Fatalf("got %q", m.data)
	}
	if got := c.Transport(); got != TransportPolling {
		t.Fatalf("transport %q after a refused probe", got)
	}
}
