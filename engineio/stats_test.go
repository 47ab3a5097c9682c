package engineio

import (
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// waitStats polls the server's Stats until ok accepts them.
func waitStats(t *testing.T, eng *Server, what string, ok func(Stats) bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		st := eng.Stats()
		if ok(st) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: stats %+v", what, st)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestStatsPolling follows Stats.Polling: sessions that start on polling
// count until they upgrade or close; WebSocket-only sessions never do.
func TestStatsPolling(t *testing.T) {
	ts := startServer(t, nil, true)
	a := handshake(t, ts)
	b := handshake(t, ts)
	dialWS(t, ts, "")
	waitStats(t, ts.eng, "two polling, one websocket", func(st Stats) bool {
		return st.Connections == 3 && st.Polling == 2
	})

	// a upgrades.
	u := ts.url("transport=polling&sid=" + a.SID)
	pending := make(chan string, 1)
	go func() { _, _, body := do(t, "GET", u, ""); pending <- body }()
	up := dialWS(t, ts, "sid="+a.SID)
	_ = up.WriteMessage(websocket.TextMessage, []byte("2probe"))
	if got := readText(t, up); got != "3probe" {
		t.Fatalf("probe answer %q", got)
	}
	<-pending
	_ = up.WriteMessage(websocket.TextMessage, []byte("5"))
	waitStats(t, ts.eng, "a upgraded", func(st Stats) bool {
		return st.Connections == 3 && st.Polling == 1
	})

	// b closes while polling.
	if status, _, _ := do(t, "POST", ts.url("transport=polling&sid="+b.SID), "1"); status != 200 {
		t.Fatalf("close POST: %d", status)
	}
	waitStats(t, ts.eng, "b closed", func(st Stats) bool {
		return st.Connections == 2 && st.Polling == 0
	})

	// The upgraded session closing does not count it again.
	_ = up.Close()
	waitStats(t, ts.eng, "a closed", func(st Stats) bool {
		return st.Connections == 1 && st.Polling == 0
	})
}
