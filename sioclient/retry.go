package sioclient

import (
	"time"

	"github.com/switchboard-go/socketio/parser"
)

// Delivery with retries (Options.Retries; Node: the client's retries
// option). The socket keeps its emits in a queue and sends the first one
// at a time, always asking for an acknowledgement; a failed attempt (the
// acknowledgement timed out, or the connection was lost) is sent again,
// until it succeeds or has been retried Retries times. Only then does the
// next emit go out: order is kept, at the price of one round trip per
// emit. The server may receive an emit more than once.

// retryEmit is an emit waiting in the retry queue.
type retryEmit struct {
	event   string
	args    []any
	timeout time.Duration
	size    int
	tries   int
	pending bool                       // an attempt is on the wire
	done    func(args Args, err error) // the caller's answer; nil when none was asked for
}

// enqueueRetry queues an emit for delivery with retries. done, when not
// nil, gets the answer or the last error, on the callback goroutine.
//
// requires nothing; takes s.mu
func (s *Socket) enqueueRetry(event string, args []any, timeout time.Duration, done func(Args, error)) error {
	if isReserved(event) {
		return ErrReservedEvent
	}
	all := append(append(make([]any, 0, 1+len(args)), event), args...)
	data, atts, err := parser.EncodeArgs(all) // for the size bound, and to fail early on bad arguments
	if err != nil {
		return err
	}
	size := len(data)
	for _, b := range atts {
		size += len(b)
	}
	s.mu.Lock()
	if done != nil && s.refusal != nil {
		err := s.refusal
		s.mu.Unlock()
		return err
	}
	if s.retryBytes+size > s.m.cfg.MaxBufferBytes {
		s.mu.Unlock()
		return ErrBufferFull
	}
	s.retryQ = append(s.retryQ, &retryEmit{event: event, args: args, timeout: timeout, size: size, done: done})
	s.retryBytes += size
	s.mu.Unlock()
	s.drainRetries(false)
	return nil
}

// drainRetries sends the first queued emit unless an attempt is already
// on the wire; force (a new connection) sends it again regardless, since
// an attempt on the connection that was lost will never be answered.
func (s *Socket) drainRetries(force bool) {
	s.mu.Lock()
	if !s.connected || len(s.retryQ) == 0 {
		s.mu.Unlock()
		return
	}
	head := s.retryQ[0]
	if head.pending && !force {
		s.mu.Unlock()
		return
	}
	head.pending = true
	head.tries++
	attempt := head.tries
	s.mu.Unlock()
	// Volatile: an attempt that cannot go out now (disconnected, or the
	// connection is behind) is dropped rather than buffered; the queue
	// sends it again on the next connection or after its timeout.
	_, err := s.emit(head.event, head.args, true, head.timeout, &pendingAck{fn: func(args Args, err error) {
		s.retryAnswered(head, attempt, args, err)
	}})
	if err != nil {
		s.mu.Lock()
		if len(s.retryQ) > 0 && s.retryQ[0] == head {
			head.pending = false // the next connection sends it
		}
		s.mu.Unlock()
	}
}

// retryAnswered handles the outcome of an attempt, on the callback
// goroutine: success or the last failure ends the emit; another failure
// leaves it first in the queue for the next attempt. A failure of an
// earlier attempt than the last (its connection was lost after a new one
// had resent the emit) changes nothing; a late success still counts.
func (s *Socket) retryAnswered(head *retryEmit, attempt int, args Args, err error) {
	s.mu.Lock()
	if len(s.retryQ) == 0 || s.retryQ[0] != head || err != nil && attempt != head.tries {
		s.mu.Unlock()
		return
	}
	head.pending = false
	finished := err == nil || head.tries > s.m.cfg.Retries
	if finished {
		s.retryQ[0] = nil
		s.retryQ = s.retryQ[1:]
		if len(s.retryQ) == 0 {
			s.retryQ = nil
		}
		s.retryBytes -= head.size
	}
	s.mu.Unlock()
	if finished && head.done != nil {
		s.m.exec.safely(func() { head.done(args, err) })
	}
	s.drainRetries(false)
}
