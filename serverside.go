package socketio

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/switchboard-go/socketio/adapter"
)

// ServerSideEvent is an event another server of the cluster sent with
// ServerSideEmit or ServerSideEmitWithAck.
type ServerSideEvent struct {
	Name string
	Args
	ack   func(any)
	acked atomic.Bool
}

// WantsAck reports whether the sending server waits for an answer.
func (e *ServerSideEvent) WantsAck() bool { return e.ack != nil }

// Ack answers the sending server with one value (the reference takes one
// argument too). It may be called later and from any goroutine, once.
func (e *ServerSideEvent) Ack(answer any) error {
	if e.ack == nil {
		return ErrNoAck
	}
	if !e.acked.CompareAndSwap(false, true) {
		return ErrAlreadyAcked
	}
	e.ack(answer)
	return nil
}

// serverSideHandlers are a namespace's OnServerSideEmit handlers.
type serverSideHandlers struct {
	mu sync.RWMutex
	by map[string][]func(*ServerSideEvent)
}

// OnServerSideEmit registers fn for the events named event that other
// servers of the cluster send to this namespace (Node: namespace.on(event)
// on the server). Handlers run on a goroutine of their own per event, so
// that a slow one does not hold up the cluster's messages; the order of
// events is therefore not kept. Without a cluster adapter no event comes.
func (ns *Namespace) OnServerSideEmit(event string, fn func(*ServerSideEvent)) {
	h := &ns.serverSide
	h.mu.Lock()
	if h.by == nil {
		h.by = make(map[string][]func(*ServerSideEvent))
	}
	h.by[event] = append(h.by[event], fn)
	h.mu.Unlock()
}

// OnServerSideEmit registers fn on the main namespace.
func (s *Server) OnServerSideEmit(event string, fn func(*ServerSideEvent)) {
	s.root.OnServerSideEmit(event, fn)
}

// ServerSideEmitWithAck sends an event to the other servers and waits for
// one answer from each (each server's handlers answer once, with
// ServerSideEvent.Ack). Past ctx's deadline or the adapter's request
// timeout it returns the answers received and an error. Without a cluster
// there is nobody to ask: no answers, no error.
func (ns *Namespace) ServerSideEmitWithAck(ctx context.Context, event string, args ...any) ([]Args, error) {
	if isReserved(event) {
		return nil, ErrReservedEvent
	}
	acker, ok := ns.adapter.(adapter.ServerSideAcker)
	if !ok {
		return nil, nil
	}
	return acker.ServerSideEmitWithAck(ctx, append([]any{event}, args...))
}

// ServerSideEmitWithAck is Namespace.ServerSideEmitWithAck on the main
// namespace.
func (s *Server) ServerSideEmitWithAck(ctx context.Context, event string, args ...any) ([]Args, error) {
	return s.root.ServerSideEmitWithAck(ctx, event, args...)
}

// ServerSideEvent implements adapter.ServerSideReceiver.
func (h nsHost) ServerSideEvent(args adapter.Args, ack func(any)) {
	ns := h.ns
	var name string
	if args.Len() == 0 || args.Decode(0, &name) != nil {
		return
	}
	ns.serverSide.mu.RLock()
	fns := ns.serverSide.by[name]
	ns.serverSide.mu.RUnlock()
	if len(fns) == 0 {
		return
	}
	e := &ServerSideEvent{Name: name, Args: Args{Raw: args.Raw[1:], Attachments: args.Attachments}, ack: ack}
	go func() {
		for _, fn := range fns {
			func() {
				defer func() {
					if r := recover(); r != nil {
						ns.srv.logger.Error("socketio: a server-side event handler panicked", "nsp", ns.name, "event", name, "panic", fmt.Sprint(r))
					}
				}()
				fn(e)
			}()
		}
	}()
}

var _ adapter.ServerSideReceiver = nsHost{}
