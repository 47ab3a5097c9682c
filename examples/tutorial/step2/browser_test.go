package main

import (
	"testing"

	tt "github.com/switchboard-go/socketio/examples/tutorial/internal/tutorialtest"
)

// Chromium shows the empty list and the form at the bottom of the window.
func TestBrowserPage(t *testing.T) {
	srv := tt.Start(t, run, "")
	b := tt.StartBrowser(t)
	b.Open("A", srv.URL, false)
	b.WaitItems("A")
	if got := b.Eval("A", `document.title`); got != "Socket.IO chat" {
		t.Errorf("title %q", got)
	}
	// The form is fixed at the bottom: its lower edge is the window's.
	if got := b.Eval("A", `Math.round(document.getElementById("form").getBoundingClientRect().bottom) === window.innerHeight`); got != true {
		t.Error("the form is not at the bottom of the window")
	}
	if got := b.Eval("A", `typeof io`); got != "undefined" {
		t.Errorf("typeof io %q: no client in step 2", got)
	}
	b.Screenshot("A", "step2.png")
}
