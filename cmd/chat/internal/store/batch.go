package store

import (
	"context"
	"time"
)

// The message writer. Every AddMessage hands its message to one goroutine,
// which takes whatever else is waiting at that moment too and stores the
// lot in one transaction: concurrent senders share one commit, the costly
// part of a durable write (an fsync), instead of queueing for one each.
// A lone sender pays nothing for it: there is no timer, a batch is simply
// what arrived while the previous one was being committed.

// maxBatch bounds one transaction, so that one huge burst does not keep the
// first sender of it waiting for the last.
const maxBatch = 256

// batchTimeout bounds one batch's transaction: the batch is shared by
// several callers, so no one caller's context may cancel it.
const batchTimeout = 30 * time.Second

type addRes struct {
	m   Message
	dup bool
	err error
}

type addReq struct {
	ctx  context.Context
	m    Message
	res  addRes
	done chan struct{}
}

type batcher struct {
	reqs    chan *addReq
	run     func(context.Context, []*addReq)
	stopped chan struct{}
}

func newBatcher(run func(context.Context, []*addReq)) *batcher {
	b := &batcher{reqs: make(chan *addReq), run: run, stopped: make(chan struct{})}
	return b
}

// start runs the writer until closed is closed.
func (b *batcher) start(closed <-chan struct{}) {
	go func() {
		defer close(b.stopped)
		for {
			var first *addReq
			select {
			case first = <-b.reqs:
			case <-closed:
				return
			}
			batch := []*addReq{first}
		more:
			for len(batch) < maxBatch {
				select {
				case r := <-b.reqs:
					batch = append(batch, r)
				default:
					break more
				}
			}
			// A sender that gave up before its turn is answered now and
			// not stored: it was never told its message was.
			live := batch[:0]
			for _, r := range batch {
				if err := r.ctx.Err(); err != nil {
					r.res.err = err
					close(r.done)
					continue
				}
				live = append(live, r)
			}
			if len(live) > 0 {
				ctx, cancel := context.WithTimeout(context.Background(), batchTimeout)
				b.run(ctx, live)
				cancel()
				for _, r := range live {
					close(r.done)
				}
			}
		}
	}()
}

// add hands m to the writer and waits for its transaction to end. Once
// handed over, it waits for the outcome even if ctx ends meanwhile: the
// message may be committed by then, and the caller must learn whether.
func (b *batcher) add(ctx context.Context, closed <-chan struct{}, m Message) (Message, bool, error) {
	r := &addReq{ctx: ctx, m: m, done: make(chan struct{})}
	select {
	case b.reqs <- r:
	case <-closed:
		return Message{}, false, ErrClosed
	case <-ctx.Done():
		return Message{}, false, ctx.Err()
	}
	<-r.done
	return r.res.m, r.res.dup, r.res.err
}

// wait returns when the writer has stopped (after its closed channel was
// closed and its last batch committed).
func (b *batcher) wait() { <-b.stopped }
