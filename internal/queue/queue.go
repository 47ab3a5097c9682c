// Package queue is the per-connection outbound queue: bounded by bytes, never
// blocking the producer, with a named policy for what happens when it fills.
//
// Producers (broadcasters, handlers, the heartbeat) call Push from any
// goroutine; one consumer at a time drains it: a pending long-polling GET
// (or a client's writer) waits for Ready, while the server's WebSocket
// writer is started by the pusher itself. The queue lives with the
// Engine.IO session, not with a transport, so items survive an upgrade from
// long-polling to WebSocket.
package queue

import (
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// Item is one queued message. Data is shared, immutable bytes: a broadcast
// enqueues the same slice to every target, so nobody may modify it.
type Item struct {
	Kind     byte // the Engine.IO packet type, opaque here
	Binary   bool // binary message (WebSocket binary frame, "b" record in polling)
	Volatile bool // may be dropped rather than queued when the client is slow
	// NoCompress asks that the message go uncompressed even where
	// compression was negotiated (Node: compress(false)).
	NoCompress bool
	Data       []byte // payload without the packet type
	// Frames, when set, are the WebSocket frames of this message, built
	// once for a broadcast and shared by every target. A pointer rather
	// than the bytes themselves: every queued item carries this field.
	Frames *Frames
}

// Frames are the WebSocket frames of one message queued to many
// connections. Plain is built before the message is queued; the
// compressed frame only if some receiver negotiated permessage-deflate,
// by the first such receiver's writer, and then shared by all of them:
// with no context takeover the compressed bytes are the same for every
// connection, so a broadcast is compressed once, not once per receiver.
type Frames struct {
	// Plain is the complete uncompressed frame.
	Plain []byte

	deflateOnce sync.Once
	deflated    []byte
}

// Deflated returns the frame for receivers that negotiated
// permessage-deflate: build(Plain) on the first call, the same bytes on
// every later one. Concurrent first callers wait for the one build rather
// than compressing the message again; build must not take locks a caller
// may hold.
func (f *Frames) Deflated(build func(plain []byte) []byte) []byte {
	f.deflateOnce.Do(func() { f.deflated = build(f.Plain) })
	return f.deflated
}

// Size is the number of bytes the item is charged for.
func (it Item) Size() int { return len(it.Data) + 1 }

// Errors returned by Push.
var (
	// ErrFull means a non-volatile item did not fit: the caller must
	// disconnect the client (its reader is too slow), because silently
	// dropping a non-volatile message would break ordering guarantees.
	ErrFull = errors.New("queue: full")
	// ErrClosed means the queue was closed; the item was discarded.
	ErrClosed = errors.New("queue: closed")
	// ErrDropped means a volatile item was dropped because the queue is
	// past its soft mark: the volatile contract, not a failure.
	ErrDropped = errors.New("queue: volatile item dropped")
)

// Queue is a FIFO of Items bounded by MaxBytes. The zero value is not
// usable; call New.
type Queue struct {
	mu       sync.Mutex
	items    []Item // ring buffer
	head     int
	n        int
	bytes    int
	peak     int // the most bytes held at once
	maxBytes int
	softMark int    // volatile items are dropped once bytes passes this mark
	dropped  uint64 // volatile items dropped

	// Congestion: the queue holds more than half of maxBytes. over is
	// read without q.mu by senders (one atomic load per push); overSince
	// (since epoch: a monotonic reading in 8 bytes) and below are guarded
	// by q.mu. below is made by Below on demand and closed when the queue
	// falls back under the mark or closes.
	overSince time.Duration
	below     chan struct{}

	// ready has capacity 1: a pending signal means "there may be items or
	// the queue was closed". The consumer re-checks after each signal.
	ready chan struct{}

	// inline is the ring while one item at a time is queued, as on an
	// idle or lightly loaded connection: no ring is allocated until a
	// second item waits (40 bytes here against 80 for the smallest ring).
	inline [1]Item

	over   atomic.Bool
	closed bool // after over: the two share a word, and a queue fits 160 bytes
}

// epoch is the origin of overSince.
var epoch = time.Now()

// New returns a queue holding at most maxBytes bytes of data. Volatile items
// are refused once the queue holds more than a quarter of that, so that a
// burst of volatile traffic never pushes out reliable messages.
func New(maxBytes int) *Queue {
	if maxBytes <= 0 {
		maxBytes = 1 << 20
	}
	// The ring (2 items to start) and the ready channel are made on first
	// use: a WebSocket connection never waits on Ready.
	return &Queue{
		maxBytes: maxBytes,
		softMark: maxBytes / 4,
	}
}

// Push appends it. It never blocks. A volatile item that does not fit under
// the soft mark is dropped and Push returns ErrDropped.
func (q *Queue) Push(it Item) error {
	one := [1]Item{it}
	return q.PushAll(one[:], it.Volatile)
}

// PushAll appends items atomically: no other Push lands between them (a
// Socket.IO binary packet is one text message followed by its attachments,
// which must stay adjacent). Volatile batches are dropped whole.
func (q *Queue) PushAll(items []Item, volatile bool) error {
	size := 0
	for _, it := range items {
		size += it.Size()
	}
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return ErrClosed
	}
	if volatile && q.bytes+size > q.softMark {
		q.dropped++
		q.mu.Unlock()
		return ErrDropped
	}
	if q.bytes+size > q.maxBytes && q.n > 0 {
		q.mu.Unlock()
		return ErrFull
	}
	for _, it := range items {
		q.pushLocked(it, it.Size())
	}
	if !q.over.Load() && q.bytes > q.maxBytes/2 {
		q.overSince = time.Since(epoch)
		q.over.Store(true)
	}
	ready := q.ready
	q.mu.Unlock()
	notify(ready)
	return nil
}

// Congested reports whether the queue holds more than half of its bound
// (non-volatile items pushed it there; the consumer has not caught up).
// It takes no lock.
func (q *Queue) Congested() bool { return q.over.Load() }

// Below returns a channel closed once the queue is no longer congested
// (it drained to half of its bound, or closed), and since when it has
// been congested; a queue that is not congested returns a closed channel.
func (q *Queue) Below() (ch <-chan struct{}, since time.Time) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if !q.over.Load() {
		return closedChan, time.Time{}
	}
	if q.below == nil {
		q.below = make(chan struct{})
	}
	return q.below, epoch.Add(q.overSince)
}

var closedChan = func() chan struct{} {
	ch := make(chan struct{})
	close(ch)
	return ch
}()

// requires q.mu
func (q *Queue) uncongestLocked() {
	q.over.Store(false)
	if q.below != nil {
		close(q.below)
		q.below = nil
	}
}

// PushControl appends an item that bypasses the byte limit (pings, close and
// noop packets: a few bytes that keep the session alive or end it).
func (q *Queue) PushControl(it Item) error {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return ErrClosed
	}
	q.pushLocked(it, it.Size())
	ready := q.ready
	q.mu.Unlock()
	notify(ready)
	return nil
}

// requires q.mu
func (q *Queue) pushLocked(it Item, size int) {
	switch {
	case len(q.items) == 0:
		q.items, q.head = q.inline[:], 0
	case q.n == len(q.items):
		grown := make([]Item, max(2, 2*len(q.items)))
		for i := 0; i < q.n; i++ {
			grown[i] = q.items[(q.head+i)%len(q.items)]
		}
		q.inline[0] = Item{} // not to keep its data alive once the ring is elsewhere
		q.items = grown
		q.head = 0
	}
	q.items[(q.head+q.n)%len(q.items)] = it
	q.n++
	q.bytes += size
	if q.bytes > q.peak {
		q.peak = q.bytes
	}
}

// Peak returns the most bytes the queue has held at once: its
// high-water mark.
func (q *Queue) Peak() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.peak
}

// Signal wakes the consumer; used when a consumer hands the queue over to
// another one (a long-poll ending because the session upgraded).
func (q *Queue) Signal() { q.signal() }

func (q *Queue) signal() {
	q.mu.Lock()
	ready := q.ready
	q.mu.Unlock()
	notify(ready)
}

// notify leaves a token in ready (nil: nobody has asked for Ready yet).
func notify(ready chan struct{}) {
	select {
	case ready <- struct{}{}:
	default:
	}
}

// Ready fires when items may be available or the queue was closed.
func (q *Queue) Ready() <-chan struct{} {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.ready == nil {
		// Born with a token: a push that came before the channel existed
		// signalled nobody, so the first wait must re-check the queue.
		q.ready = make(chan struct{}, 1)
		q.ready <- struct{}{}
	}
	return q.ready
}

// Drain moves queued items into dst (appending) until about maxBytes bytes
// are taken (at least one item is always taken when any is queued) and
// returns the extended slice. maxBytes <= 0 means no limit.
func (q *Queue) Drain(dst []Item, maxBytes int) []Item {
	q.mu.Lock()
	taken := 0
	for q.n > 0 {
		it := q.items[q.head]
		size := it.Size()
		if maxBytes > 0 && taken > 0 && taken+size > maxBytes {
			break
		}
		dst = append(dst, it)
		q.items[q.head] = Item{}
		q.head = (q.head + 1) % len(q.items)
		q.n--
		q.bytes -= size
		taken += size
	}
	more := q.n > 0
	if q.bytes <= q.maxBytes/2 && q.over.Load() {
		q.uncongestLocked()
	}
	// A ring that grew for a burst goes back once empty, so an idle
	// connection does not keep a large one. A small ring stays: making it
	// again for every message costs more CPU (about 4 % of a broadcast
	// delivery, measured) than its bytes are worth.
	if q.n == 0 && len(q.items) > 8 {
		q.items = nil
		q.head = 0
	}
	ready := q.ready
	q.mu.Unlock()
	if more {
		notify(ready)
	}
	return dst
}

// Len returns the number of queued items and bytes.
func (q *Queue) Len() (items, bytes int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.n, q.bytes
}

// Dropped returns how many volatile items were dropped so far.
func (q *Queue) Dropped() uint64 {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.dropped
}

// Close refuses further pushes and wakes the consumer. Items already queued
// stay drainable so a graceful close can flush them. Close is idempotent.
func (q *Queue) Close() {
	q.mu.Lock()
	q.closed = true
	q.uncongestLocked()
	ready := q.ready
	q.mu.Unlock()
	notify(ready)
}

// Closed reports whether Close was called.
func (q *Queue) Closed() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.closed
}
