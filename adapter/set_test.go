package adapter

import (
	"slices"
	"testing"
)

func members(s set) []string {
	var out []string
	for x := range s.all {
		out = append(out, x)
	}
	slices.Sort(out)
	return out
}

func TestSet(t *testing.T) {
	var s set
	if s.len() != 0 || s.contains("") || members(s) != nil {
		t.Fatal("zero set not empty")
	}
	for _, x := range []string{"a", "", "b", "c"} {
		if !s.add(x) {
			t.Fatalf("add(%q) reported a duplicate", x)
		}
	}
	if s.add("b") || s.add("") {
		t.Fatal("adding a member again reported new")
	}
	if got := members(s); !slices.Equal(got, []string{"", "a", "b", "c"}) || s.len() != 4 {
		t.Fatalf("members %q, len %d", got, s.len())
	}
	s.del("a") // the inline member: refilled from the map
	s.del("zz")
	if got := members(s); !slices.Equal(got, []string{"", "b", "c"}) || s.len() != 3 || s.contains("a") {
		t.Fatalf("after del: %q", got)
	}
	s.del("")
	s.del("b")
	s.del("c")
	if s.len() != 0 || s.has || s.more != nil {
		t.Fatalf("emptied set holds %+v", s)
	}
	s.add("x")
	if s.more != nil {
		t.Fatal("a one-member set allocated a map")
	}
}
