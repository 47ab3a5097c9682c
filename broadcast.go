package socketio

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/switchboard-go/socketio/adapter"
)

// BroadcastOperator selects sockets of a namespace (rooms, exceptions,
// flags) and acts on them. It is an immutable value: every method returns
// a modified copy, so operators can be shared between goroutines and kept.
type BroadcastOperator struct {
	nss     func() []*Namespace // one namespace, or a dynamic parent's children
	rooms   []string
	except  []string
	flags   adapter.Flags
	timeout time.Duration
}

func newBroadcast(ns *Namespace) BroadcastOperator {
	return BroadcastOperator{nss: func() []*Namespace { return []*Namespace{ns} }}
}

// with appends to a copy, never to a slice another operator shares.
func with(list []string, more []string) []string {
	return append(slices.Clip(list), more...)
}

// To adds rooms to the targets (a union).
func (b BroadcastOperator) To(rooms ...string) BroadcastOperator {
	b.rooms = with(b.rooms, rooms)
	return b
}

// In is To.
func (b BroadcastOperator) In(rooms ...string) BroadcastOperator { return b.To(rooms...) }

// Except excludes the sockets in rooms.
func (b BroadcastOperator) Except(rooms ...string) BroadcastOperator {
	b.except = with(b.except, rooms)
	return b
}

// Volatile lets the packets be dropped for clients that are behind.
func (b BroadcastOperator) Volatile() BroadcastOperator { b.flags.Volatile = true; return b }

// Compress(false) sends the packets uncompressed even to clients that
// negotiated compression (Node: compress). By default packets of 1 KiB
// and more are compressed where the client allows it: permessage-deflate
// (Options.Engine.PerMessageDeflate) and long-polling responses.
func (b BroadcastOperator) Compress(c bool) BroadcastOperator { b.flags.NoCompress = !c; return b }

// Local restricts the broadcast to this server.
func (b BroadcastOperator) Local() BroadcastOperator { b.flags.Local = true; return b }

// Timeout bounds EmitWithAck.
func (b BroadcastOperator) Timeout(d time.Duration) BroadcastOperator { b.timeout = d; return b }

func (b BroadcastOperator) opts() adapter.Options {
	return adapter.Options{Rooms: b.rooms, Except: b.except, Flags: b.flags}
}

// Send emits the "message" event to the selected sockets (Node: send).
func (b BroadcastOperator) Send(args ...any) error { return b.Emit("message", args...) }

// Emit sends event to the selected sockets. The packet is encoded once and
// the same bytes are queued to every target. To collect answers use
// EmitWithAck.
func (b BroadcastOperator) Emit(event string, args ...any) error {
	if isReserved(event) {
		return ErrReservedEvent
	}
	for _, ns := range b.nss() {
		pkt, err := eventPacket(ns.name, event, args)
		if err != nil {
			return err
		}
		if err := ns.adapter.Broadcast(&pkt, b.opts()); err != nil {
			return err
		}
	}
	return nil
}

// EmitWithAck sends event to the selected sockets and waits until every
// one of them has answered, the operator's Timeout passes or ctx ends. It
// returns each client's answer; on timeout it returns the answers received
// so far with ErrTimeout.
func (b BroadcastOperator) EmitWithAck(ctx context.Context, event string, args ...any) ([]Args, error) {
	if isReserved(event) {
		return nil, ErrReservedEvent
	}
	if b.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, b.timeout)
		defer cancel()
	}
	opts := b.opts()
	if dl, ok := ctx.Deadline(); ok {
		opts.Flags.Timeout = time.Until(dl)
	}
	var (
		mu       sync.Mutex
		answers  []Args
		expected int
		servers  int
		done     = make(chan struct{})
		closed   bool
	)
	nss := b.nss()
	wantServers := 0
	check := func() { // requires mu
		if !closed && servers == wantServers && len(answers) == expected {
			closed = true
			close(done)
		}
	}
	for _, ns := range nss {
		n, err := ns.adapter.ServerCount(ctx)
		if err != nil {
			return nil, err
		}
		wantServers += n
	}
	_, hasDeadline := ctx.Deadline()
	for _, ns := range nss {
		pkt, err := eventPacket(ns.name, event, args)
		if err != nil {
			return nil, err
		}
		pkt.ID, pkt.HasID = ns.nextAckID(), true
		if !hasDeadline {
			// Without a deadline no timer forgets the sockets' pending
			// acks; forget them when this call returns.
			defer ns.forgetAck(pkt.ID)
		}
		err = ns.adapter.BroadcastWithAck(&pkt, opts,
			func(n int) {
				mu.Lock()
				expected += n
				servers++
				check()
				mu.Unlock()
			},
			func(a Args) {
				mu.Lock()
				if !closed {
					answers = append(answers, a)
					check()
				}
				mu.Unlock()
			})
		if err != nil {
			return nil, err
		}
	}
	mu.Lock()
	check()
	mu.Unlock()
	select {
	case <-done:
		mu.Lock()
		defer mu.Unlock()
		return answers, nil
	case <-ctx.Done():
		mu.Lock()
		defer mu.Unlock()
		closed = true
		return slices.Clone(answers), ctxError(ctx)
	}
}

// FetchSockets returns handles on the selected sockets.
func (b BroadcastOperator) FetchSockets(ctx context.Context) ([]*RemoteSocket, error) {
	var out []*RemoteSocket
	for _, ns := range b.nss() {
		ds, err := ns.adapter.FetchSockets(ctx, b.opts())
		if err != nil {
			return nil, err
		}
		for _, d := range ds {
			out = append(out, &RemoteSocket{ID: d.ID, Handshake: d.Handshake, Rooms: d.Rooms, Data: d.Data, ns: ns})
		}
	}
	return out, nil
}

// SocketsJoin makes the selected sockets join rooms.
func (b BroadcastOperator) SocketsJoin(rooms ...string) error {
	for _, ns := range b.nss() {
		if err := ns.adapter.AddSockets(b.opts(), rooms); err != nil {
			return err
		}
	}
	return nil
}

// SocketsLeave makes the selected sockets leave rooms.
func (b BroadcastOperator) SocketsLeave(rooms ...string) error {
	for _, ns := range b.nss() {
		if err := ns.adapter.DelSockets(b.opts(), rooms); err != nil {
			return err
		}
	}
	return nil
}

// DisconnectSockets disconnects the selected sockets (close: also their
// underlying connections).
func (b BroadcastOperator) DisconnectSockets(close bool) error {
	for _, ns := range b.nss() {
		if err := ns.adapter.DisconnectSockets(b.opts(), close); err != nil {
			return err
		}
	}
	return nil
}

// RemoteSocket is a handle on a socket returned by FetchSockets; with a
// cluster adapter it may live on another server. Its methods act through
// the adapter.
type RemoteSocket struct {
	ID        string
	Handshake Handshake
	Rooms     []string
	Data      any
	ns        *Namespace
}

func (r *RemoteSocket) self() BroadcastOperator { return newBroadcast(r.ns).To(r.ID) }

// Emit sends event to the socket.
func (r *RemoteSocket) Emit(event string, args ...any) error { return r.self().Emit(event, args...) }

// Timeout returns a broadcast to the socket alone with the acknowledgement
// timeout set, for EmitWithAck (Node: remoteSocket.timeout(ms).emit).
func (r *RemoteSocket) Timeout(d time.Duration) BroadcastOperator { return r.self().Timeout(d) }

// Join makes the socket join rooms.
func (r *RemoteSocket) Join(rooms ...string) error { return r.self().SocketsJoin(rooms...) }

// Leave makes the socket leave rooms.
func (r *RemoteSocket) Leave(rooms ...string) error { return r.self().SocketsLeave(rooms...) }

// Disconnect disconnects the socket.
func (r *RemoteSocket) Disconnect(close bool) error { return r.self().DisconnectSockets(close) }
