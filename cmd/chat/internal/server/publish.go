package server

import (
	"context"
	"slices"
	"sync"

	"github.com/switchboard-go/socketio/cmd/chat/internal/store"
)

// Publishing in rounds. A durable write costs a commit (an fsync on
// SQLite, a round trip and a WAL flush on PostgreSQL); one message per
// commit caps the chat at the inverse of that latency however many people
// send at once. So messages are not stored one at a time under pubMu:
// whatever arrives while a round is being stored waits for the next round,
// and a round stores all its messages at once (the store's writer puts
// concurrent AddMessage calls into one transaction), then broadcasts them
// in id order under pubMu and answers their senders.
//
// Ids are published in order: a round's messages are written after the
// previous round has been published, so every id of a round is above every
// id published before it, and within a round they are sorted. A message
// stored but not yet published has an id above lastID; whoever reads the
// store under pubMu (a connecting client's catch-up, a join's history)
// stops at lastID and receives the rest live, since it joined its rooms
// before they are broadcast.

// maxRound bounds the messages stored and published in one round.
const maxRound = 256

type pubReq struct {
	ctx    context.Context
	m      store.Message
	stored store.Message
	dup    bool
	err    error
	done   chan struct{}
}

// publisher queues messages for rounds. Its goroutine runs while there is
// something to publish and ends when the queue is empty.
type publisher struct {
	mu    sync.Mutex
	queue []*pubReq
	// ended is closed when the running goroutine ends; nil when none
	// runs.
	ended chan struct{}
}

// idle returns a channel closed once nothing is being published.
func (p *publisher) idle() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ended == nil {
		c := make(chan struct{})
		close(c)
		return c
	}
	return p.ended
}

// publish stores m and sends it to everyone who may see it: the Socket.IO
// rooms of its room (or of its two users) and the /ws clients. A retry of
// a message already stored (same author and clientId) is not sent again.
// It returns once m is stored and broadcast, or could not be stored; once
// queued, it waits for the outcome even if ctx ends, since the message may
// be committed by then and the caller must learn whether.
func (s *Server) publish(ctx context.Context, m store.Message) (store.Message, error) {
	r := &pubReq{ctx: ctx, m: m, done: make(chan struct{})}
	p := &s.pub
	p.mu.Lock()
	p.queue = append(p.queue, r)
	var ended chan struct{}
	if p.ended == nil {
		ended = make(chan struct{})
		p.ended = ended
	}
	p.mu.Unlock()
	if ended != nil {
		go s.publishRounds(ended)
	}
	<-r.done
	return r.stored, r.err
}

// publishRounds runs rounds until the queue is empty.
func (s *Server) publishRounds(ended chan struct{}) {
	p := &s.pub
	for {
		p.mu.Lock()
		n := min(len(p.queue), maxRound)
		if n == 0 {
			p.ended = nil
			p.queue = nil
			p.mu.Unlock()
			close(ended)
			return
		}
		round := slices.Clone(p.queue[:n])
		p.queue = p.queue[n:]
		p.mu.Unlock()
		s.publishRound(round)
	}
}

// publishRound stores the messages of round together, then publishes the
// new ones in id order and answers every sender.
func (s *Server) publishRound(round []*pubReq) {
	var wg sync.WaitGroup
	for _, r := range round[1:] {
		wg.Go(func() { r.stored, r.dup, r.err = s.st.AddMessage(r.ctx, r.m) })
	}
	r0 := round[0]
	r0.stored, r0.dup, r0.err = s.st.AddMessage(r0.ctx, r0.m)
	wg.Wait()

	fresh := make([]*pubReq, 0, len(round))
	for _, r := range round {
		if r.err == nil && !r.dup {
			fresh = append(fresh, r)
		}
	}
	slices.SortFunc(fresh, func(a, b *pubReq) int {
		switch {
		case a.stored.ID < b.stored.ID:
			return -1
		case a.stored.ID > b.stored.ID:
			return 1
		}
		return 0
	})
	s.pubMu.Lock()
	for _, r := range fresh {
		s.broadcast(r.ctx, r.stored)
	}
	s.pubMu.Unlock()
	for _, r := range round {
		close(r.done)
	}
}

// broadcast sends a stored message to everyone who may see it.
//
// requires s.pubMu
func (s *Server) broadcast(ctx context.Context, stored store.Message) {
	s.lastID = max(s.lastID, stored.ID)
	w := toWire(stored)
	var targets []string
	if stored.Room != "" {
		targets = []string{roomKey(stored.Room)}
	} else {
		targets = []string{userKey(stored.From), userKey(stored.To)}
	}
	if err := s.io.To(targets...).Emit("message", w); err != nil {
		s.log.Error("chat: broadcast", "err", err)
	}
	for _, c := range s.hub.wsFor(stored.Room, stored.From, stored.To) {
		c.send(w)
	}
	s.wsToOthers(ctx, w)
}
