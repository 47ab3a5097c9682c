package socketio

import (
	"regexp"
	"slices"
	"testing"
)

// An emit on a dynamic parent goes to every child namespace, not only to
// the first one.
func TestParentEmitReachesEveryChild(t *testing.T) {
	srv, url := newTestServer(t, nil)
	parent := srv.OfRegexp(regexp.MustCompile(`^/room-\d+$`))
	c := dialRaw(t, url)
	c.connect("/room-1")
	c.connect("/room-2")
	c.connect("/room-3")
	if err := parent.Emit("hi", 1); err != nil {
		t.Fatal(err)
	}
	got := []string{c.recv(), c.recv(), c.recv()}
	slices.Sort(got)
	want := []string{`2/room-1,["hi",1]`, `2/room-2,["hi",1]`, `2/room-3,["hi",1]`}
	if !slices.Equal(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
}
