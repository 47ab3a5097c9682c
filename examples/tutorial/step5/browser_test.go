package main

import (
	"testing"

	tt "github.com/switchboard-go/socketio/examples/tutorial/internal/tutorialtest"
)

// Two pages in Chromium: what either types shows in both.
func TestBrowserChat(t *testing.T) {
	srv := tt.Start(t, run, "")
	b := tt.StartBrowser(t)
	b.Open("A", srv.URL, true)
	b.Open("B", srv.URL, true)
	b.Send("A", "hello from A")
	b.WaitItems("A", "hello from A")
	b.WaitItems("B", "hello from A")
	b.Send("B", "hi A, B here")
	b.WaitItems("A", "hello from A", "hi A, B here")
	b.WaitItems("B", "hello from A", "hi A, B here")
	b.Screenshot("A", "step5-A.png")
	b.Screenshot("B", "step5-B.png")
}
