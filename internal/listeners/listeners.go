// Package listeners is the event-handler registry of a socket, shared by
// the server's and the client's Socket: handlers per event name (some to
// run once) and catch-all handlers.
package listeners

import "sync"

// Registry is safe for concurrent use. The zero value is ready.
//
// Handler lists are copied on write and never changed in place, so Take
// can hand them out without copying: dispatching an event allocates
// nothing unless a once-handler has to be removed.
type Registry[E any] struct {
	mu     sync.Mutex
	byName map[string]*list[E] // allocated on first use: idle sockets are many
	any    []func(E)
}

type list[E any] struct {
	fns  []func(E)
	once []bool // parallel to fns
	nOne int    // how many once-handlers fns holds
}

// On adds fn for name; handlers of one name run in the order added.
func (r *Registry[E]) On(name string, fn func(E)) { r.add(name, fn, false) }

// Once adds fn for the next event called name only.
func (r *Registry[E]) Once(name string, fn func(E)) { r.add(name, fn, true) }

func (r *Registry[E]) add(name string, fn func(E), once bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.byName == nil {
		r.byName = make(map[string]*list[E])
	}
	old := r.byName[name]
	l := &list[E]{}
	if old != nil {
		l.fns = append(make([]func(E), 0, len(old.fns)+1), old.fns...)
		l.once = append(make([]bool, 0, len(old.once)+1), old.once...)
		l.nOne = old.nOne
	}
	l.fns = append(l.fns, fn)
	l.once = append(l.once, once)
	if once {
		l.nOne++
	}
	r.byName[name] = l
}

// Off removes every handler of name.
func (r *Registry[E]) Off(name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.byName, name)
}

// OnAny adds a catch-all handler.
func (r *Registry[E]) OnAny(fn func(E)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.any = append(r.any[:len(r.any):len(r.any)], fn) // copy on write
}

// OffAny removes every catch-all handler.
func (r *Registry[E]) OffAny() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.any = nil
}

// Take returns the handlers one event called name runs — the catch-all
// handlers, then the event's own, in that order — and forgets the
// once-handlers among them. The slices are shared and must not be
// modified; the caller runs them without any lock held.
func (r *Registry[E]) Take(name string) (catchAll, named []func(E)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	l := r.byName[name]
	if l == nil {
		return r.any, nil
	}
	if l.nOne > 0 {
		kept := &list[E]{}
		for i, fn := range l.fns {
			if !l.once[i] {
				kept.fns = append(kept.fns, fn)
				kept.once = append(kept.once, false)
			}
		}
		if len(kept.fns) == 0 {
			delete(r.byName, name)
		} else {
			r.byName[name] = kept
		}
	}
	return r.any, l.fns
}
