// Package listeners is the event-handler registry of a socket, shared by
// the server's and the client's Socket: handlers per event name (some to
// run once) and catch-all handlers.
package listeners

import "sync"

// Registry is safe for concurrent use. The zero value is ready.
type Registry[E any] struct {
	mu     sync.Mutex
	byName map[string][]entry[E] // allocated on first use: idle sockets are many
	any    []func(E)
}

type entry[E any] struct {
	fn   func(E)
	once bool
}

// On adds fn for name; handlers of one name run in the order added.
func (r *Registry[E]) On(name string, fn func(E)) { r.add(name, fn, false) }

// Once adds fn for the next event called name only.
func (r *Registry[E]) Once(name string, fn func(E)) { r.add(name, fn, true) }

func (r *Registry[E]) add(name string, fn func(E), once bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.byName == nil {
		r.byName = make(map[string][]entry[E])
	}
	r.byName[name] = append(r.byName[name], entry[E]{fn: fn, once: once})
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
	r.any = append(r.any, fn)
}

// OffAny removes every catch-all handler.
func (r *Registry[E]) OffAny() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.any = nil
}

// Take returns the handlers one event called name runs — the catch-all
// handlers first, then the event's own — and forgets the once-handlers
// among them. The caller runs them without any lock held.
func (r *Registry[E]) Take(name string) []func(E) {
	r.mu.Lock()
	defer r.mu.Unlock()
	named := r.byName[name]
	out := make([]func(E), 0, len(r.any)+len(named))
	out = append(out, r.any...)
	kept := named[:0:0]
	for _, e := range named {
		out = append(out, e.fn)
		if !e.once {
			kept = append(kept, e)
		}
	}
	switch {
	case len(kept) == len(named):
	case len(kept) == 0:
		delete(r.byName, name)
	default:
		r.byName[name] = kept
	}
	return out
}
