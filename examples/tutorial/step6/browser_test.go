package main

import (
	"testing"

	tt "github.com/switchboard-go/socketio/examples/tutorial/internal/tutorialtest"
)

// In Chromium with the official client: page A goes offline, B types
// meanwhile; once A is back online it shows B's messages, in order, once,
// with the same socket.
func TestBrowserRecovery(t *testing.T) {
	srv := tt.Start(t, run, "")
	b := tt.StartBrowser(t)
	b.Open("A", srv.URL, true)
	b.Open("B", srv.URL, true)
	id := b.Eval("A", "socket.id")

	b.Send("A", "hello from A")
	b.WaitItems("A", "hello from A")
	b.WaitItems("B", "hello from A")

	b.Offline("A", true)
	b.Disconnected("A")
	b.Send("B", "while A is away")
	b.Send("B", "still away")
	b.WaitItems("B", "hello from A", "while A is away", "still away")
	b.Screenshot("A", "step6-A-offline.png")
	b.WaitItems("A", "hello from A")

	b.Offline("A", false)
	b.Connected("A")
	if r := b.Eval("A", "socket.recovered"); r != true {
		t.Errorf("socket.recovered %v after coming back", r)
	}
	if got := b.Eval("A", "socket.id"); got != id {
		t.Errorf("socket.id %v after coming back, %v before", got, id)
	}
	b.WaitItems("A", "hello from A", "while A is away", "still away")
	b.Send("A", "back")
	b.WaitItems("B", "hello from A", "while A is away", "still away", "back")
	b.WaitItems("A", "hello from A", "while A is away", "still away", "back")
	b.Screenshot("A", "step6-A-back.png")
	b.Screenshot("B", "step6-B.png")
}
