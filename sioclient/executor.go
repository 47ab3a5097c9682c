package sioclient

import (
	"log/slog"
	"runtime/debug"
	"sync"
)

// executor runs the user's callbacks of one Manager one at a time, in the
// order they were posted, on a goroutine that exists only while there is
// work: an idle manager holds no goroutine.
//
// Why not call handlers on the connection's reader, as the server does?
// The client's callbacks also come from timers (ack timeouts), from the
// goroutine that connects (connect errors) and from user calls
// (Disconnect); running them all here is what makes "one at a time, in
// order" true for every callback of a socket, not only for events.
//
// Inbound packets are posted with postInbound, which blocks the reader
// while too much is pending: a slow handler then slows the reading of the
// connection, and TCP pushes back on the server, instead of the backlog
// growing without bound. Every other post never blocks (callers may hold
// no lock but may be the executor itself).
type executor struct {
	logger *slog.Logger

	mu      sync.Mutex
	q       []func()
	running bool
	space   chan struct{} // closed when the backlog falls below maxPending
}

// maxPending is the backlog at which postInbound blocks.
const maxPending = 1024

func (e *executor) post(fn func()) {
	e.mu.Lock()
	e.q = append(e.q, fn)
	start := !e.running
	e.running = true
	e.mu.Unlock()
	if start {
		go e.run()
	}
}

// postInbound posts fn, first waiting while the backlog is full, unless
// abort is closed (the connection ended: its last packets are still
// delivered, past the limit, rather than lost).
func (e *executor) postInbound(fn func(), abort <-chan struct{}) {
	for {
		e.mu.Lock()
		if len(e.q) < maxPending {
			e.mu.Unlock()
			break
		}
		if e.space == nil {
			e.space = make(chan struct{})
		}
		space := e.space
		e.mu.Unlock()
		select {
		case <-space:
			continue
		case <-abort:
		}
		break
	}
	e.post(fn)
}

func (e *executor) run() {
	for {
		e.mu.Lock()
		if len(e.q) == 0 {
			e.q = nil // drop the backing array of a burst
			e.running = false
			e.mu.Unlock()
			return
		}
		fn := e.q[0]
		e.q[0] = nil
		e.q = e.q[1:]
		if e.space != nil && len(e.q) < maxPending/2 {
			close(e.space)
			e.space = nil
		}
		e.mu.Unlock()
		e.safely(fn)
	}
}

// safely runs user code: a panic is logged and contained to this call, so
// that it neither kills the program nor stops the callbacks after it.
func (e *executor) safely(fn func()) {
	defer func() {
		if r := recover(); r != nil {
			e.logger.Error("sioclient: handler panicked", "panic", r, "stack", string(debug.Stack()))
		}
	}()
	fn()
}
