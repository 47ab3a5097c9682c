package observers

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

type counter interface{ Count(string) }

type log struct{ got *[]string }

func (l log) Count(e string) { *l.got = append(*l.got, e) }

type fan []counter

func (f fan) Count(e string) {
	for _, c := range f {
		c.Count(e)
	}
}

func newSet(base counter) *Set[counter] {
	var s Set[counter]
	s.Init(base, func(l []counter) counter { return fan(l) })
	return &s
}

func report(s *Set[counter], e string) {
	if o := s.Get(); o != nil {
		o.Count(e)
	}
}

// The options' observer, then each attached one in order, hear every
// event while attached; one attached twice hears it twice; a detached one
// nothing more; with none, Get is nil.
func TestAttachDetach(t *testing.T) {
	var base, a, b []string
	s := newSet(log{&base})
	report(s, "1")
	detachA := s.Attach(log{&a})
	detachB := s.Attach(log{&b})
	detachB2 := s.Attach(log{&b})
	report(s, "2")
	detachB()
	detachB() // again: nothing more
	report(s, "3")
	detachA()
	detachB2()
	report(s, "4")
	got := fmt.Sprint(base, a, b)
	if want := "[1 2 3 4] [2 3] [2 2 3]"; got != want {
		t.Fatalf("heard %s, want %s", got, want)
	}
}

func TestNone(t *testing.T) {
	s := newSet(nil)
	if s.Get() != nil {
		t.Fatal("an observer without any")
	}
	var a []string
	detach := s.Attach(log{&a})
	if _, ok := s.Get().(log); !ok {
		t.Fatalf("one attached: got %T, want it called directly", s.Get())
	}
	report(s, "x")
	detach()
	if s.Get() != nil || !slices.Equal(a, []string{"x"}) {
		t.Fatalf("after detach: %v, heard %s", s.Get(), strings.Join(a, ","))
	}
}
