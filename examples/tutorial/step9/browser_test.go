package main

import (
	"testing"

	tt "github.com/switchboard-go/socketio/examples/tutorial/internal/tutorialtest"
)

// In Chromium: two pages on two nodes chat together; what a page types
// while offline reaches the other node's page once it is back; a new page
// gets the whole history, once.
func TestBrowserTwoNodes(t *testing.T) {
	cfg := cluster(t)
	nodeA := tt.Start(t, node(cfg), "")
	nodeB := tt.Start(t, node(cfg), "")
	b := tt.StartBrowser(t)
	b.Open("A", nodeA.URL, true)
	b.Open("B", nodeB.URL, true)

	b.Send("A", "hello from A")
	b.WaitItems("B", "hello from A")
	b.WaitItems("A", "hello from A")
	b.Send("B", "hello from B")
	want := []string{"hello from A", "hello from B"}
	b.WaitItems("A", want...)
	b.WaitItems("B", want...)

	b.Offline("A", true)
	b.Disconnected("A")
	b.Send("A", "typed offline")
	b.Send("B", "while A was away")
	b.Offline("A", false)
	b.Connected("A")
	want = append(want, "while A was away", "typed offline")
	b.WaitItems("B", want...)
	b.WaitItems("A", want...)
	b.Screenshot("A", "step9-A.png")

	// A new page on node A: the whole history, once, then chats with both.
	b.Open("B2", nodeA.URL, true)
	b.WaitItems("B2", want...)
	b.Send("B2", "from B2")
	want = append(want, "from B2")
	b.WaitItems("B", want...)
	b.WaitItems("A", want...)
	b.WaitItems("B2", want...)
	b.Screenshot("B", "step9-B.png")
}
