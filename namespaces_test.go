package socketio

import (
	"regexp"
	"slices"
	"testing"
	"time"
)

// OnNewNamespace hears every namespace created but the main one: by Of,
// once, and for the first client of a dynamic name, before its middleware.
func TestOnNewNamespace(t *testing.T) {
	srv, url := newTestServer(t, nil)
	created := make(chan string, 8)
	srv.OnNewNamespace(func(ns *Namespace) { created <- "new " + ns.Name() })
	srv.Of("/static")
	srv.Of("/static")
	srv.Of("/")
	dyn := srv.OfRegexp(regexp.MustCompile(`^/dyn-\d+$`))
	dyn.Use(func(s *Socket) error { created <- "middleware " + s.Namespace().Name(); return nil })
	c := dialRaw(t, url)
	c.connect("/dyn-1")
	c.connect("/dyn-2")
	expectExactly(t, created, "new /static", "new /dyn-1", "middleware /dyn-1", "new /dyn-2", "middleware /dyn-2")
}

// With CleanupEmptyChildNamespaces, a dynamic namespace goes with its last
// socket and comes back new for the next client; static ones stay, and
// without the option dynamic ones stay too.
func TestCleanupEmptyChildNamespaces(t *testing.T) {
	for _, cleanup := range []bool{true, false} {
		srv, url := newTestServer(t, &Options{CleanupEmptyChildNamespaces: cleanup})
		dyn := srv.OfRegexp(regexp.MustCompile(`^/dyn$`))
		gone := make(chan bool, 4)
		dyn.OnConnection(func(s *Socket) { s.OnDisconnect(func(Reason) { gone <- true }) })
		srv.Of("/static").OnConnection(func(s *Socket) { s.OnDisconnect(func(Reason) { gone <- true }) })

		c := dialRaw(t, url)
		c.connect("/dyn")
		c.connect("/static")
		first := dyn.Children()
		if len(first) != 1 {
			t.Fatalf("children %d, want 1", len(first))
		}
		c.send("1/dyn,")
		c.send("1/static,")
		recvWithin(t, gone)
		recvWithin(t, gone)
		// The namespace is dropped after the disconnect handlers ran, with
		// no event of its own: poll the children, with a deadline.
		deadline := time.Now().Add(5 * time.Second)
		for cleanup && len(dyn.Children()) != 0 && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		if n := len(dyn.Children()); cleanup != (n == 0) {
			t.Fatalf("cleanup %v: %d children after the last socket left", cleanup, n)
		}
		c.connect("/dyn")
		c.connect("/static")
		again := dyn.Children()
		if len(again) != 1 || (again[0] != first[0]) == !cleanup {
			t.Fatalf("cleanup %v: the namespace after reconnecting is new: %v", cleanup, again[0] != first[0])
		}
		if err := srv.Of("/dyn").Emit("hello"); err != nil { // Of finds the child again
			t.Fatal(err)
		}
		if got := c.recv(); got != `2/dyn,["hello"]` {
			t.Fatalf("cleanup %v: got %q", cleanup, got)
		}
	}
}

// Namespaces lists the main namespace, static ones and the dynamic
// children that exist, sorted by name; a cleaned-up child leaves it.
func TestNamespaces(t *testing.T) {
	srv, url := newTestServer(t, &Options{CleanupEmptyChildNamespaces: true})
	names := func() []string {
		var out []string
		for _, ns := range srv.Namespaces() {
			out = append(out, ns.Name())
		}
		return out
	}
	srv.Of("/b")
	srv.Of("/a")
	dyn := srv.OfRegexp(regexp.MustCompile(`^/dyn-\d+$`))
	gone := make(chan bool, 1)
	dyn.OnConnection(func(s *Socket) { s.OnDisconnect(func(Reason) { gone <- true }) })
	if got := names(); !slices.Equal(got, []string{"/", "/a", "/b"}) {
		t.Fatalf("namespaces %q", got)
	}
	c := dialRaw(t, url)
	c.connect("/dyn-1")
	if got := names(); !slices.Equal(got, []string{"/", "/a", "/b", "/dyn-1"}) {
		t.Fatalf("namespaces with a child %q", got)
	}
	c.send("1/dyn-1,")
	recvWithin(t, gone)
	deadline := time.Now().Add(5 * time.Second)
	for len(names()) != 3 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if got := names(); !slices.Equal(got, []string{"/", "/a", "/b"}) {
		t.Fatalf("namespaces after the child's cleanup %q", got)
	}
}
