// Package listeners is the event-handler registry of a socket, shared by
// the server's and the client's Socket: handlers per event name (some to
// run once) and catch-all handlers.
package listeners

import (
	"slices"
	"sync"
)

// Registry is safe for concurrent use. The zero value is ready.
//
// Handler lists are copied on write and never changed in place, so Take
// can hand them out without copying: dispatching an event allocates
// nothing unless a once-handler has to be removed.
//
// Names are kept in a slice searched linearly, not a map: a server holds a
// registry per connected socket, most sockets have a handful of event
// names, and a map costs several hundred bytes per socket where the slice
// costs 48 bytes per name (see BENCHMARKS.md, memory per connection).
type Registry[E any] struct {
	mu    sync.Mutex
	named []entry[E]
	any   []func(E)
}

type entry[E any] struct {
	name string
	fns  []func(E) // never changed in place once stored: Take hands it out
	// once is parallel to fns; nil while the name has no once-handler. A
	// pointer, not a slice: 8 bytes where most entries have none, so an
	// entry is 48 bytes, not 64.
	once *[]bool
}

// On adds fn for name; handlers of one name run in the order added.
func (r *Registry[E]) On(name string, fn func(E)) { r.add(name, fn, false) }

// Once adds fn for the next event called name only.
func (r *Registry[E]) Once(name string, fn func(E)) { r.add(name, fn, true) }

// find returns the index of name's entry, or -1. r.mu must be held.
func (r *Registry[E]) find(name string) int {
	for i := range r.named {
		if r.named[i].name == name {
			return i
		}
	}
	return -1
}

func (r *Registry[E]) add(name string, fn func(E), once bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	i := r.find(name)
	if i < 0 {
		e := entry[E]{name: name, fns: []func(E){fn}}
		if once {
			e.once = &[]bool{true}
		}
		r.named = append(r.named, e)
		return
	}
	e := &r.named[i]
	n := len(e.fns)
	fns := append(make([]func(E), 0, n+1), e.fns...)
	e.fns = append(fns, fn)
	if once || e.once != nil {
		flags := make([]bool, n, n+1)
		if e.once != nil { // else the earlier handlers stay persistent
			copy(flags, *e.once)
		}
		flags = append(flags, once)
		e.once = &flags
	}
}

// Off removes every handler of name.
func (r *Registry[E]) Off(name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if i := r.find(name); i >= 0 {
		r.named = slices.Delete(r.named, i, i+1)
	}
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
	return r.any, r.takeNamedLocked(name)
}

// CatchAll returns the catch-all handlers, for an event that may yet be
// stopped before its own handlers run (TakeNamed). The slice is shared
// and must not be modified.
func (r *Registry[E]) CatchAll() []func(E) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.any
}

// TakeNamed is Take without the catch-all handlers.
func (r *Registry[E]) TakeNamed(name string) []func(E) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.takeNamedLocked(name)
}

// requires r.mu
func (r *Registry[E]) takeNamedLocked(name string) []func(E) {
	i := r.find(name)
	if i < 0 {
		return nil
	}
	e := &r.named[i]
	fns := e.fns
	if e.once != nil {
		var kept []func(E)
		for j, fn := range e.fns {
			if !(*e.once)[j] {
				kept = append(kept, fn)
			}
		}
		if len(kept) == 0 {
			r.named = slices.Delete(r.named, i, i+1)
		} else {
			e.fns, e.once = kept, nil
		}
	}
	return fns
}
