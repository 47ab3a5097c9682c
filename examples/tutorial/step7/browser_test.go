package main

import (
	"path/filepath"
	"testing"

	tt "github.com/switchboard-go/socketio/examples/tutorial/internal/tutorialtest"
)

// In Chromium: a reloaded page shows the whole history; a page that was
// offline while the server restarted (so no session to recover) shows
// what it missed, once.
func TestBrowserServerDelivery(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "chat.db")
	srv := tt.Start(t, withDB(dbPath), "")
	b := tt.StartBrowser(t)
	b.Open("A", srv.URL, true)
	b.Open("B", srv.URL, true)
	b.Send("A", "one")
	b.WaitItems("B", "one")
	b.Send("B", "two")
	b.WaitItems("A", "one", "two")
	b.WaitItems("B", "one", "two")

	b.Reload("B")
	b.Connected("B")
	b.WaitItems("B", "one", "two")
	b.Screenshot("B", "step7-B-reloaded.png")

	b.Offline("A", true)
	b.Disconnected("A")
	srv.Stop(t)
	// On the same address: the pages' clients reconnect to it.
	tt.Start(t, withDB(dbPath), srv.Addr)
	b.Connected("B")
	if r := b.Eval("B", "socket.recovered"); r != false {
		t.Errorf("B: socket.recovered %v from a new server", r)
	}
	b.Send("B", "three, while A is away")
	b.WaitItems("B", "one", "two", "three, while A is away")
	b.Offline("A", false)
	b.Connected("A")
	b.WaitItems("A", "one", "two", "three, while A is away")
	if r := b.Eval("A", "socket.recovered"); r != false {
		t.Errorf("A: socket.recovered %v from a new server", r)
	}
	// A's offset followed: the next message comes once.
	b.Send("A", "four")
	b.WaitItems("B", "one", "two", "three, while A is away", "four")
	b.WaitItems("A", "one", "two", "three, while A is away", "four")
	b.Screenshot("A", "step7-A.png")
}
