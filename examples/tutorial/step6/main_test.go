package main

import (
	"reflect"
	"testing"

	tt "github.com/switchboard-go/socketio/examples/tutorial/internal/tutorialtest"
	"github.com/switchboard-go/socketio/internal/leakcheck"
)

// The step leaves no goroutine behind: servers, clients, proxies.
func TestMain(m *testing.M) { leakcheck.Main(m) }

// A client whose network goes away for a while gets its socket back when
// it returns, with the messages sent meanwhile, each once, in order.
func TestMissedMessagesAfterRecovery(t *testing.T) {
	srv := tt.Start(t, run, "")
	proxy := tt.NewProxy(t, srv.Addr)
	a := tt.Connect(t, proxy.URL, nil) // a's network can be cut
	b := tt.Connect(t, srv.URL, nil)

	// Messages carry the server's offset as their last argument now:
	// what a client sends back to say where it stands.
	say := func(from *tt.Client, msg string, to ...*tt.Client) {
		t.Helper()
		if err := from.Emit("chat message", msg); err != nil {
			t.Fatal(err)
		}
		for _, c := range to {
			got := c.Next(t)
			if len(got) != 2 || got[0] != msg {
				t.Fatalf("got %v, want [%s offset]", got, msg)
			}
			if _, ok := got[1].(string); !ok {
				t.Fatalf("offset %v (%T), want a string", got[1], got[1])
			}
		}
	}
	say(b, "before", a, b)
	id := a.ID()

	a.WaitUpgraded(t)
	proxy.Cut()
	if reason := a.WaitDisconnected(t); reason != "transport close" && reason != "transport error" {
		t.Errorf("a lost its connection with %q", reason)
	}
	say(b, "while away 1", b)
	say(b, "while away 2", b)
	proxy.Restore()

	if !a.WaitConnected(t) {
		t.Fatal("a's session was not recovered")
	}
	if a.ID() != id {
		t.Errorf("a's id %s after recovery, %s before", a.ID(), id)
	}
	var got []any
	for range 2 {
		got = append(got, a.Next(t)[0])
	}
	if want := []any{"while away 1", "while away 2"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("a got %v after recovery, want %v", got, want)
	}
	say(b, "after", a, b)
	a.None(t)
}
