package main

import (
	"reflect"
	"testing"

	tt "github.com/switchboard-go/socketio/examples/tutorial/internal/tutorialtest"
	"github.com/switchboard-go/socketio/internal/leakcheck"
)

// The step leaves no goroutine behind: servers, clients, proxies.
func TestMain(m *testing.M) { leakcheck.Main(m) }

// A chat message goes to everyone, its author included, as the only
// argument of a "chat message" event.
func TestBroadcastToEveryone(t *testing.T) {
	srv := tt.Start(t, run, "")
	a := tt.Connect(t, srv.URL, nil)
	b := tt.Connect(t, srv.URL, nil)
	c := tt.Connect(t, srv.URL, nil)
	// One author after the other: messages of different connections
	// have no order between them.
	for _, send := range []struct {
		from *tt.Client
		msg  string
	}{{a, "hi all"}, {b, "hi a"}} {
		if err := send.from.Emit("chat message", send.msg); err != nil {
			t.Fatal(err)
		}
		for _, cl := range []*tt.Client{a, b, c} {
			if got := cl.Next(t); !reflect.DeepEqual(got, tt.Message{send.msg}) {
				t.Fatalf("got %v, want [%s]", got, send.msg)
			}
		}
	}
	// What the page does not send is not relayed.
	if err := a.Emit("chat message", 42); err != nil {
		t.Fatal(err)
	}
	if err := a.Emit("chat message", "after"); err != nil {
		t.Fatal(err)
	}
	if got := c.Next(t); !reflect.DeepEqual(got, tt.Message{"after"}) {
		t.Fatalf("got %v, want [after]", got)
	}
}
