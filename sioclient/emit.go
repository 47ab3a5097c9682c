package sioclient

import (
	"context"
	"errors"
	"slices"
	"sync/atomic"
	"time"

	"github.com/switchboard-go/socketio/parser"
)

// Args is a received argument list. Decode(i, &v) decodes the i-th
// argument like encoding/json (a binary attachment decodes into []byte),
// Value(i) returns it as a generic value.
type Args = parser.Args

// RawArg is one received argument kept as it arrived, to pass on
// unchanged: e.Arg(i) returns one, e.RawArgs() all of them. Emit, Ack and
// EmitWithAck write its JSON as the server sent it and carry the binary
// attachments it refers to (see parser.RawArg).
type RawArg = parser.RawArg

// Event is one received event: its name, its arguments (without the name),
// and the acknowledgement the server may be waiting for.
type Event struct {
	Name string
	Args
	socket *Socket
	gen    uint64 // the connection it came on; an ack goes back on it only
	ackID  uint64
	hasAck bool
	acked  atomic.Bool
}

// Socket returns the socket that received the event.
func (e *Event) Socket() *Socket { return e.socket }

// WantsAck reports whether the server waits for an acknowledgement.
func (e *Event) WantsAck() bool { return e.hasAck }

// Ack answers the server's acknowledgement callback with args. It may be
// called later and from any goroutine, at most once; []byte arguments
// travel as binary attachments. It fails with ErrDisconnected when the
// connection the event came on is gone.
func (e *Event) Ack(args ...any) error {
	if !e.hasAck {
		return ErrNoAck
	}
	if !e.acked.CompareAndSwap(false, true) {
		return ErrAlreadyAcked
	}
	return e.socket.sendAck(e.gen, e.ackID, args)
}

// AckFunc, given as the last argument of Emit, is called once with the
// server's answer, or with an error: ErrTimeout after the timeout
// (Socket.Timeout or Options.AckTimeout), ErrDisconnected when the socket
// disconnects after the emit was sent, an error wrapping ErrRefused when
// the server refuses the socket's connection to its namespace. It runs on the manager's callback
// goroutine, like the handlers.
type AckFunc func(args Args, err error)

// Emit sends event with args. []byte arguments (also nested in []any and
// map[string]any) travel as binary attachments. If the last argument is an
// AckFunc (or a func(Args, error)), the server's acknowledgement is passed
// to it.
//
// While the socket is disconnected the emit is buffered and sent on
// connection; Emit fails with ErrBufferFull when the buffer is full, with
// ErrQueueOverflow when the connection's queue is, with ErrReservedEvent
// or an encoding error for a bad event, and, for an emit asking for an
// acknowledgement, with an error wrapping ErrRefused after the server
// refused the socket (until Connect is called again).
func (s *Socket) Emit(event string, args ...any) error { return Emitter{s: s}.Emit(event, args...) }

// Send emits the "message" event (Node: socket.send).
func (s *Socket) Send(args ...any) error { return s.Emit("message", args...) }

// EmitWithAck sends event and waits for the server's acknowledgement, the
// end of ctx (ErrTimeout for a deadline, else ctx's error), the socket
// disconnecting after the emit was sent (ErrDisconnected), or the
// refusal of the socket's connection to its namespace (an error wrapping
// ErrRefused and the *ConnectError; at once, where the reference client
// waits for the timeout).
func (s *Socket) EmitWithAck(ctx context.Context, event string, args ...any) (Args, error) {
	return Emitter{s: s}.EmitWithAck(ctx, event, args...)
}

// Volatile returns an emitter whose events are dropped rather than
// buffered or queued when they cannot be sent at once: while the socket is
// disconnected, during an upgrade, or when the connection is behind (Node:
// socket.volatile).
func (s *Socket) Volatile() Emitter { return Emitter{s: s, volatile: true} }

// Timeout returns an emitter whose acknowledgements fail with ErrTimeout
// after d (Node: socket.timeout(d)).
func (s *Socket) Timeout(d time.Duration) Emitter { return Emitter{s: s, timeout: d} }

// Emitter emits on a socket with flags. It is an immutable value: its
// methods return modified copies, so it can be shared between goroutines.
type Emitter struct {
	s        *Socket
	volatile bool
	timeout  time.Duration
}

// Volatile returns a copy with the volatile flag set.
func (e Emitter) Volatile() Emitter { e.volatile = true; return e }

// Timeout returns a copy with the acknowledgement timeout set.
func (e Emitter) Timeout(d time.Duration) Emitter { e.timeout = d; return e }

// Emit sends event; see Socket.Emit.
func (e Emitter) Emit(event string, args ...any) error {
	var a *pendingAck
	if n := len(args); n > 0 {
		switch fn := args[n-1].(type) {
		case AckFunc:
			a, args = &pendingAck{fn: fn}, args[:n-1]
		case func(Args, error):
			a, args = &pendingAck{fn: fn}, args[:n-1]
		}
	}
	if e.s.m.cfg.Retries > 0 && !e.volatile {
		var done func(Args, error)
		if a != nil {
			done = a.fn
		}
		return e.s.enqueueRetry(event, args, e.timeout, done)
	}
	_, err := e.s.emit(event, args, e.volatile, e.timeout, a)
	if errors.Is(err, errDropped) {
		return nil // dropping is the volatile contract
	}
	return err
}

// EmitWithAck sends event and waits for the answer; see
// Socket.EmitWithAck. The emitter's timeout, when set, also applies; a
// volatile emit that is dropped fails with ErrDisconnected.
func (e Emitter) EmitWithAck(ctx context.Context, event string, args ...any) (Args, error) {
	if err := ctx.Err(); err != nil {
		return Args{}, ctxError(ctx)
	}
	ch := make(chan ackResult, 1)
	if e.s.m.cfg.Retries > 0 && !e.volatile {
		// The queue answers; ctx ending abandons the wait, not the emit.
		if err := e.s.enqueueRetry(event, args, e.timeout, func(a Args, err error) { ch <- ackResult{a, err} }); err != nil {
			return Args{}, err
		}
		select {
		case r := <-ch:
			return r.args, r.err
		case <-ctx.Done():
			return Args{}, ctxError(ctx)
		}
	}
	id, err := e.s.emit(event, args, e.volatile, e.timeout, &pendingAck{ch: ch})
	if errors.Is(err, errDropped) {
		return Args{}, ErrDisconnected
	}
	if err != nil {
		return Args{}, err
	}
	select {
	case r := <-ch:
		return r.args, r.err
	case <-ctx.Done():
		e.s.cancelAck(id)
		return Args{}, ctxError(ctx)
	}
}

// ctxError maps a context's deadline to ErrTimeout, so callers test one
// error whichever way the timeout was set.
func ctxError(ctx context.Context) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return ErrTimeout
	}
	return ctx.Err()
}

// errDropped: a volatile emit was dropped.
var errDropped = errors.New("sioclient: volatile emit dropped")

type ackResult struct {
	args Args
	err  error
}

// pendingAck is an acknowledgement awaited: an AckFunc, called on the
// executor, or the channel of an EmitWithAck, answered directly so that
// EmitWithAck works even from a handler.
type pendingAck struct {
	fn       func(Args, error)
	ch       chan ackResult // capacity 1
	timer    *time.Timer
	buffered bool // its emit waits in the buffer, not sent yet
}

// resolve delivers the outcome; it is called once, by whoever removed the
// ack from the socket's table. abort, when not nil, makes the delivery an
// inbound one (see executor.postInbound).
func (a *pendingAck) resolve(ex *executor, args Args, err error, abort <-chan struct{}) {
	if a.timer != nil {
		a.timer.Stop()
	}
	if a.ch != nil {
		a.ch <- ackResult{args, err}
		return
	}
	fn := a.fn
	call := func() { fn(args, err) }
	if abort != nil {
		ex.postInbound(call, abort)
	} else {
		ex.post(call)
	}
}

func (s *Socket) emit(event string, args []any, volatile bool, timeout time.Duration, a *pendingAck) (uint64, error) {
	if isReserved(event) {
		return 0, ErrReservedEvent
	}
	all := make([]any, 0, 1+len(args))
	all = append(all, event)
	all = append(all, args...)
	data, atts, err := parser.EncodeArgs(all)
	if err != nil {
		return 0, err
	}
	pkt := parser.Packet{Type: parser.Event, Namespace: s.nsp, Data: data, Attachments: atts}
	size := len(data)
	if len(atts) > 0 {
		pkt.Type = parser.BinaryEvent
		for _, b := range atts {
			size += len(b)
		}
	}
	if timeout <= 0 {
		timeout = s.m.cfg.AckTimeout
	}
	expired := s.m.pingExpired()

	s.mu.Lock()
	defer s.mu.Unlock()
	connected := s.connected && !expired
	if volatile && !connected {
		return 0, errDropped
	}
	if a != nil && s.refusal != nil {
		return 0, s.refusal
	}
	if a != nil {
		pkt.ID, pkt.HasID = s.nextAckID, true
		s.nextAckID++
		s.acks[pkt.ID] = a
		if timeout > 0 {
			id := pkt.ID
			a.timer = time.AfterFunc(timeout, func() {
				if a := s.cancelAck(id); a != nil {
					a.resolve(&s.m.exec, Args{}, ErrTimeout, nil)
				}
			})
		}
	}
	if connected {
		err := s.m.writePacket(s.gen, &pkt, volatile)
		switch {
		case err == nil:
			s.sentLocked(event, args)
			return pkt.ID, nil
		case volatile:
			s.dropAckLocked(pkt)
			return 0, errDropped
		case !connGone(err):
			// The connection's queue is full, or Options.Parser cannot
			// encode the packet: another connection would not take it
			// either.
			s.dropAckLocked(pkt)
			return 0, err
		}
		// The connection is going away: keep the emit for the next one.
	}
	if s.bufBytes+size > s.m.cfg.MaxBufferBytes {
		s.dropAckLocked(pkt)
		return 0, ErrBufferFull
	}
	s.buf = append(s.buf, outPacket{pkt: pkt, size: size, event: event, args: args})
	s.bufBytes += size
	if a != nil {
		a.buffered = true
	}
	return pkt.ID, nil
}

// requires s.mu
func (s *Socket) dropAckLocked(pkt parser.Packet) {
	if !pkt.HasID {
		return
	}
	if a := s.acks[pkt.ID]; a != nil {
		delete(s.acks, pkt.ID)
		if a.timer != nil {
			a.timer.Stop()
		}
	}
}

// takeAck removes and returns the ack awaited under id (nil if gone).
func (s *Socket) takeAck(id uint64) *pendingAck {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.acks[id]
	delete(s.acks, id)
	return a
}

// cancelAck removes the ack awaited under id and, if its emit is still
// buffered, the emit too: an answer nobody waits for is not worth
// sending (the reference client does the same on timeout). It returns
// the ack, nil if it was already gone.
func (s *Socket) cancelAck(id uint64) *pendingAck {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.acks[id]
	if a == nil {
		return nil
	}
	delete(s.acks, id)
	if a.timer != nil {
		a.timer.Stop()
	}
	if a.buffered {
		if i := slices.IndexFunc(s.buf, func(op outPacket) bool { return op.pkt.HasID && op.pkt.ID == id }); i >= 0 {
			s.bufBytes -= s.buf[i].size
			s.buf = slices.Delete(s.buf, i, i+1)
		}
	}
	return a
}

func (s *Socket) sendAck(gen, id uint64, args []any) error {
	if args == nil {
		args = []any{}
	}
	data, atts, err := parser.EncodeArgs(args)
	if err != nil {
		return err
	}
	t := parser.Ack
	if len(atts) > 0 {
		t = parser.BinaryAck
	}
	s.mu.Lock()
	ok := s.connected && s.gen == gen
	s.mu.Unlock()
	if !ok {
		return ErrDisconnected
	}
	err = s.m.writePacket(gen, &parser.Packet{Type: t, Namespace: s.nsp, ID: id, HasID: true, Data: data, Attachments: atts}, false)
	if errors.Is(err, errNoConn) {
		return ErrDisconnected
	}
	return err
}

// The methods below are those of the embedded Args, declared again so
// that go doc lists them with Event.

// Len returns the number of arguments.
func (e *Event) Len() int { return e.Args.Len() }

// Decode decodes argument i into v like encoding/json; a binary
// attachment decodes into a []byte variable or field.
func (e *Event) Decode(i int, v any) error { return e.Args.Decode(i, v) }

// Value returns argument i as a generic value (string, float64, bool,
// nil, []any, map[string]any, or []byte for an attachment); nil when out
// of range or invalid.
func (e *Event) Value(i int) any { return e.Args.Value(i) }

// Values returns every argument as Value does.
func (e *Event) Values() []any { return e.Args.Values() }

// Arg returns argument i as received, to pass on unchanged (see RawArg).
func (e *Event) Arg(i int) RawArg { return e.Args.Arg(i) }

// RawArgs returns every argument as received, to spread into an emit.
func (e *Event) RawArgs() []any { return e.Args.RawArgs() }
