package main

import (
	"testing"

	tt "github.com/switchboard-go/socketio/examples/tutorial/internal/tutorialtest"
)

// What is typed in Chromium reaches the server's log; no page shows it.
func TestBrowserMessageLogged(t *testing.T) {
	srv := tt.Start(t, run, "")
	b := tt.StartBrowser(t)
	b.Open("A", srv.URL, true)
	b.Open("B", srv.URL, true)
	b.Send("A", "typed in A")
	srv.ExpectLog(t, "message: typed in A")
	b.Send("B", "typed in B")
	srv.ExpectLog(t, "message: typed in B")
	b.WaitItems("A")
	b.WaitItems("B")
	b.Screenshot("A", "step4.png")
}
