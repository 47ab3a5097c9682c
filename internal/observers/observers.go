// Package observers holds the metrics observers of one server, for the
// engine's and the Socket.IO server's own: the one given in the options
// and those attached later (Server.Observe). Reading them is one atomic
// load, so a server with none attached pays nothing more than a nil check.
package observers

import (
	"sync"
	"sync/atomic"
)

// Set is the observers of a server, of interface type O. Init it before
// use; then Get, Attach and the detach functions are safe for concurrent
// use.
type Set[O any] struct {
	cur atomic.Pointer[O] // what to call: nil when none

	mu       sync.Mutex // serializes Attach and detach
	base     O          // the options' observer; may be nil
	attached []*entry[O]
	fanOut   func([]O) O // one O reporting to several, in order
}

// entry gives each attachment an identity of its own: the same observer
// may be attached twice, and an O need not be comparable.
type entry[O any] struct{ o O }

// Init sets the options' observer (a nil one is none) and how several
// observers are made one.
func (s *Set[O]) Init(base O, fanOut func([]O) O) {
	s.base = base
	s.fanOut = fanOut
	s.publish()
}

// Get returns the observer to call: the zero O (nil) when there is none.
func (s *Set[O]) Get() O {
	if p := s.cur.Load(); p != nil {
		return *p
	}
	var none O
	return none
}

// Attach adds o, until the returned function is called (once or more).
// Events under way while o is attached or detached may or may not reach
// it; none that starts after detach has returned does.
func (s *Set[O]) Attach(o O) (detach func()) {
	e := &entry[O]{o: o}
	s.mu.Lock()
	s.attached = append(s.attached, e)
	s.publish()
	s.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			for i, a := range s.attached {
				if a == e {
					s.attached = append(s.attached[:i:i], s.attached[i+1:]...)
					break
				}
			}
			s.publish()
			s.mu.Unlock()
		})
	}
}

// publish stores what Get returns, from base and attached.
//
// requires s.mu (or no concurrent use, in Init)
func (s *Set[O]) publish() {
	var list []O
	if any(s.base) != nil {
		list = append(list, s.base)
	}
	for _, e := range s.attached {
		list = append(list, e.o)
	}
	switch len(list) {
	case 0:
		s.cur.Store(nil)
	case 1:
		s.cur.Store(&list[0])
	default:
		o := s.fanOut(list)
		s.cur.Store(&o)
	}
}
