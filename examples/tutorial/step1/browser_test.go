package main

import (
	"testing"

	tt "github.com/switchboard-go/socketio/examples/tutorial/internal/tutorialtest"
)

// Chromium shows the greeting.
func TestBrowserHello(t *testing.T) {
	srv := tt.Start(t, run, "")
	b := tt.StartBrowser(t)
	b.Open("A", srv.URL, false)
	if got := b.Eval("A", `document.querySelector("h1").textContent`); got != "Hello world" {
		t.Errorf("h1 %q", got)
	}
	b.Screenshot("A", "step1.png")
}
