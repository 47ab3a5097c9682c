package engineio

import (
	"sync"
	"sync/atomic"
)

// observers are the Observers a server reports to: Options.Observer and
// those attached by Observe. The engine reads them with one atomic load,
// so an event costs nothing more than before when none is attached.
type observers struct {
	cur atomic.Pointer[observerSet] // nil: none

	mu       sync.Mutex // serializes attach and detach
	attached []*observerEntry
	base     Observer // Options.Observer; nil: none
}

// observerSet is what the engine calls: the only observer, or a fan-out
// to several.
type observerSet struct{ o Observer }

// observerEntry gives each attachment an identity of its own (the same
// Observer may be attached twice, and an Observer need not be comparable).
type observerEntry struct{ o Observer }

func (ob *observers) init(base Observer) {
	ob.base = base
	ob.publish()
}

// get returns the observer to call, nil when none.
func (ob *observers) get() Observer {
	if p := ob.cur.Load(); p != nil {
		return p.o
	}
	return nil
}

// publish stores the set built from base and attached.
// requires ob.mu held (or no concurrent use, in init)
func (ob *observers) publish() {
	var list fanOut
	if ob.base != nil {
		list = append(list, ob.base)
	}
	for _, e := range ob.attached {
		list = append(list, e.o)
	}
	switch len(list) {
	case 0:
		ob.cur.Store(nil)
	case 1:
		ob.cur.Store(&observerSet{o: list[0]})
	default:
		ob.cur.Store(&observerSet{o: list})
	}
}

func (ob *observers) attach(o Observer) (detach func()) {
	e := &observerEntry{o: o}
	ob.mu.Lock()
	ob.attached = append(ob.attached, e)
	ob.publish()
	ob.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			ob.mu.Lock()
			for i, a := range ob.attached {
				if a == e {
					ob.attached = append(ob.attached[:i:i], ob.attached[i+1:]...)
					break
				}
			}
			ob.publish()
			ob.mu.Unlock()
		})
	}
}

// Observe attaches o to the server, beside Options.Observer, until the
// returned function is called; it may be called at any time, from any
// goroutine, and more than once. Events that happen while o is being
// attached or detached may or may not reach it; none reaches it after
// detach has returned, except calls already under way then. o is called
// as Options.Observer is (see Observer): concurrently, from the
// connections' goroutines, sometimes under the engine's locks.
//
// With nothing attached and no Options.Observer, the server reports
// nothing, at no cost.
func (s *Server) Observe(o Observer) (detach func()) {
	if o == nil {
		return func() {}
	}
	return s.observers.attach(o)
}

// observer returns the observer to report to, nil when none.
func (s *Server) observer() Observer { return s.observers.get() }

// fanOut reports to several observers, in order.
type fanOut []Observer

func (f fanOut) ConnOpened(e ConnOpen) {
	for _, o := range f {
		o.ConnOpened(e)
	}
}

func (f fanOut) ConnUpgraded(e ConnUpgrade) {
	for _, o := range f {
		o.ConnUpgraded(e)
	}
}

func (f fanOut) ConnRefused(e ConnRefusal) {
	for _, o := range f {
		o.ConnRefused(e)
	}
}

func (f fanOut) ConnClosed(e ConnClose) {
	for _, o := range f {
		o.ConnClosed(e)
	}
}

func (f fanOut) VolatileDropped() {
	for _, o := range f {
		o.VolatileDropped()
	}
}
