package socketio

import (
	"errors"
	"testing"
)

// Socket middleware (Node: socket.use) sees every event after OnAny and
// before its handlers, in order; it may rewrite the arguments; an error or
// a panic stops the event, keeps its once-handler, and reaches OnError.
func TestSocketMiddleware(t *testing.T) {
	srv, url := newTestServer(t, nil)
	seen := make(chan string, 32)
	srv.OnConnection(func(s *Socket) {
		s.OnAny(func(e *Event) { seen <- "any " + e.Name })
		s.Use(func(e *Event) error {
			seen <- "mw1 " + e.Name
			var arg string
			if e.Name == "forbidden" && e.Len() > 0 && e.Decode(0, &arg) == nil && arg == "deny" {
				return errors.New("unauthorized event")
			}
			if e.Name == "rewrite" {
				e.Args.Raw = e.Args.Raw[:0]
			}
			return nil
		})
		s.Use(func(e *Event) error {
			seen <- "mw2 " + e.Name
			if e.Name == "boom" {
				panic("a bug in a check")
			}
			return nil
		})
		s.Once("forbidden", func(*Event) { seen <- "handler forbidden" })
		s.On("boom", func(*Event) { seen <- "handler boom" })
		s.On("rewrite", func(e *Event) { seen <- "handler rewrite " + string(rune('0'+e.Len())) })
		s.On("allowed", func(e *Event) { _ = e.Ack("ok") })
		s.On("leave", func(*Event) { s.Disconnect(false) })
		s.OnError(func(err error) { seen <- "error " + err.Error() })
	})
	c := dialRaw(t, url)
	c.connect("/")

	c.send(`21["allowed",1]`)
	if got := c.recv(); got != `31["ok"]` {
		t.Fatalf("ack %q", got)
	}
	c.send(`2["rewrite",1,2]`)
	c.send(`2["boom"]`)
	c.send(`2["forbidden","deny"]`)
	c.send(`2["forbidden","please"]`)
	c.send(`2["forbidden","again"]`)
	c.send(`2["leave"]`)
	if got := c.recv(); got != `1` {
		t.Fatalf("got %q, want the DISCONNECT", got)
	}
	want := []string{
		"any allowed", "mw1 allowed", "mw2 allowed",
		"any rewrite", "mw1 rewrite", "mw2 rewrite", "handler rewrite 0",
		"any boom", "mw1 boom", "mw2 boom", "error middleware error",
		"any forbidden", "mw1 forbidden", "error unauthorized event",
		// The once-handler was kept for the next one, and only that.
		"any forbidden", "mw1 forbidden", "mw2 forbidden", "handler forbidden",
		"any forbidden", "mw1 forbidden", "mw2 forbidden",
		"any leave", "mw1 leave", "mw2 leave",
	}
	expectExactly(t, seen, want...)
}

// A namespace middleware that panics refuses the connection: a check that
// could not finish must not let the client in.
func TestPanickingMiddlewareRefuses(t *testing.T) {
	srv, url := newTestServer(t, nil)
	srv.Use(func(*Socket) error { panic("a bug in the auth check") })
	srv.OnConnection(func(*Socket) { t.Error("connected through a panicking middleware") })
	c := dialRaw(t, url)
	c.send("0")
	if got := c.recv(); got != `4{"message":"middleware error"}` {
		t.Fatalf("answer %q, want a CONNECT_ERROR", got)
	}
}
