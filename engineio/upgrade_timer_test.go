package engineio

import (
	"testing"

	"github.com/gorilla/websocket"

	"github.com/switchboard-go/socketio/internal/netpoll"
)

// The upgrade timer can fire the instant the upgrade packet stops it: its
// function then runs after the probe became the session's transport, and
// must leave that transport alone. The test runs the timer's function
// itself once the upgrade is done (testHookUpgradeTimer), on the poller
// and on a reader goroutine.
func TestUpgradeTimerFiringAtTheUpgradeKeepsTheTransport(t *testing.T) {
	for _, mode := range []struct {
		name     string
		disabled bool
	}{{"poller", false}, {"goroutine", true}} {
		t.Run(mode.name, func(t *testing.T) {
			expiries := make(chan func(), 1)
			testHookUpgradeTimer = func(expire func()) { expiries <- expire }
			t.Cleanup(func() { testHookUpgradeTimer = nil })
			ts := startServerRaw(t, &Options{DisablePoller: mode.disabled}, true)
			op := handshake(t, ts)
			ts.nextConn(t)
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
			_ = ws.WriteMessage(websocket.TextMessage, []byte("4upgraded"))
			if got := readText(t, ws); got != "4upgraded" {
				t.Fatalf("echo over websocket %q", got)
			}
			expire := receive(t, expiries, "no upgrade timer")
			expire()
			_ = ws.WriteMessage(websocket.TextMessage, []byte("4still"))
			if got := readText(t, ws); got != "4still" {
				t.Fatalf("echo after the timer %q", got)
			}
		})
	}
}

// A poll that comes while an upgrade request is being answered waits for
// that upgrade's probe, so that it sees what the client sent on the probe
// before polling (see Conn.catchUpProbe) — even when an earlier upgrade's
// request, whose probe failed, finishes only now: its end must not take
// the later upgrade's wait away. Arranged on the poller, where the upgrade
// timer is made inside the upgrade request: the test holds both requests
// there (testHookUpgradeTimer), expires the first probe, and sees the poll
// wait (its goroutine blocked in catchUpProbe) until the second request
// is done, then refused: the client had upgraded before polling.
func TestPollWaitsForTheProbeAfterAnEarlierUpgradeEnds(t *testing.T) {
	if !netpoll.Supported {
		t.Skip("no poller on this platform")
	}
	type held struct {
		expire  func()
		release chan struct{}
	}
	calls := make(chan held, 2)
	testHookUpgradeTimer = func(expire func()) {
		h := held{expire, make(chan struct{})}
		calls <- h
		<-h.release
	}
	t.Cleanup(func() { testHookUpgradeTimer = nil })
	ts := startServerRaw(t, nil, true)
	var releases []chan struct{}
	t.Cleanup(func() { // before the server closes
		for _, r := range releases {
			select {
			case <-r:
			default:
				close(r)
			}
		}
	})
	hold := func() held {
		h := receive(t, calls, "no upgrade timer")
		releases = append(releases, h.release)
		return h
	}
	op := handshake(t, ts)
	ts.nextConn(t)
	u := ts.url("transport=polling&sid=" + op.SID)
	requests := func() int { return countStacks("engineio.(*Conn).serveUpgrade(") }

	dialWS(t, ts, "sid="+op.SID)
	first := hold()
	first.expire() // the first probe's timer: the session may upgrade again
	ws := dialWS(t, ts, "sid="+op.SID)
	second := hold()
	// The client probes and upgrades at once, then polls.
	_ = ws.WriteMessage(websocket.TextMessage, []byte("2probe"))
	_ = ws.WriteMessage(websocket.TextMessage, []byte("5"))
	close(first.release)
	waitFor(t, func() bool { return requests() == 1 }) // the first request is done
	poll := make(chan int, 1)
	go func() { status, _, _ := do(t, "GET", u, ""); poll <- status }()
	waitFor(t, func() bool { return countStacks("engineio.(*Conn).catchUpProbe(") == 1 })
	close(second.release)
	if status := receive(t, poll, "poll not answered"); status != 400 {
		t.Fatalf("poll after the upgrade packet: %d, want 400", status)
	}
	if got := readText(t, ws); got != "3probe" {
		t.Fatalf("probe answer %q", got)
	}
	_ = ws.WriteMessage(websocket.TextMessage, []byte("4after"))
	if got := readText(t, ws); got != "4after" {
		t.Fatalf("echo over websocket %q", got)
	}
}
