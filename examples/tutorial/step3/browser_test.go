package main

import (
	"slices"
	"testing"

	tt "github.com/switchboard-go/socketio/examples/tutorial/internal/tutorialtest"
)

// Each page Chromium opens connects with the official client and is
// logged; a reload is a disconnection and a new connection.
func TestBrowserConnectLogged(t *testing.T) {
	srv := tt.Start(t, run, "")
	b := tt.StartBrowser(t)
	b.Open("A", srv.URL, true)
	srv.ExpectLog(t, "a user connected")
	b.Open("B", srv.URL, true)
	srv.ExpectLog(t, "a user connected")

	b.Reload("A")
	b.Connected("A")
	// The old page's connection may end before or after the new page's
	// begins.
	got := []string{srv.NextLog(t), srv.NextLog(t)}
	slices.Sort(got)
	if want := []string{"a user connected", "user disconnected"}; !slices.Equal(got, want) {
		t.Errorf("after a reload: %q, want %q in any order", got, want)
	}
}
