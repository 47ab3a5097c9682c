package server

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-go/socketio/cmd/chat/internal/store"
	"github.com/switchboard-go/socketio/socketiotest"
)

// holdingStore stops a message whose text is holdText between its commit
// and its publication: AddMessage returns once hold is closed, having
// told stored its id.
type holdingStore struct {
	store.Store
	stored chan int64
	hold   chan struct{}
}

const holdText = "held after its commit"

func (h *holdingStore) AddMessage(ctx context.Context, m store.Message) (store.Message, bool, error) {
	got, dup, err := h.Store.AddMessage(ctx, m)
	if err == nil && m.Text == holdText {
		h.stored <- got.ID
		<-h.hold
	}
	return got, dup, err
}

// TestCatchUpStopsAtPublished: a client that connects while a message is
// committed but not yet published is caught up to the last published id
// only, and gets the held message live once, when it is published; a
// message sent meanwhile by someone else waits for the held one and
// follows it, in id order.
func TestCatchUpStopsAtPublished(t *testing.T) {
	hs := &holdingStore{Store: openSQLite(t), stored: make(chan int64, 1), hold: make(chan struct{})}
	e := newEnv(t, hs, Config{})
	// Released before the server shuts down (cleanups run last first),
	// should the test stop early.
	var once sync.Once
	release := func() { once.Do(func() { close(hs.hold) }) }
	t.Cleanup(release)
	alice, bob := e.signup("alice"), e.signup("bob")
	a := e.connect(alice, nil, nil)
	before := a.send("general", "before")

	heldAck := make(chan int64, 1)
	go func() {
		var r sentResult
		if msg := a.ack("message", map[string]any{"room": "general", "text": holdText}, &r); msg != "" {
			t.Errorf("held message: %s", msg)
		}
		heldAck <- r.ID
	}()
	var held int64
	select {
	case held = <-hs.stored:
	case <-time.After(wait):
		t.Fatal("the held message was not stored")
	}
	if held <= before {
		t.Fatalf("held id %d after %d", held, before)
	}

	// Bob comes back from before "before": his catch-up holds "before"
	// and must stop there, since the held message is not published.
	from := before - 1
	b := e.connect(bob, nil, func() (any, error) { return map[string]any{"lastId": from}, nil })
	b.waitFor("the catch-up", func() bool { return b.ids[before] == 1 })
	b.mu.Lock()
	early := b.ids[held]
	b.mu.Unlock()
	if early != 0 {
		t.Fatalf("the held message %d was in the catch-up before its publication", held)
	}

	// Carol sends while the held message waits: hers waits for it.
	carol := e.connect(e.signup("carol"), nil, nil)
	after := make(chan int64, 1)
	go func() { after <- carol.send("general", "after") }()

	release()
	select {
	case id := <-heldAck:
		if id != held {
			t.Fatalf("held message acknowledged as %d, stored as %d", id, held)
		}
	case <-time.After(wait):
		t.Fatal("the held message was not acknowledged")
	}
	last := <-after
	for _, c := range []*client{a, b, carol} {
		c.waitFor("the last message", func() bool { return c.ids[last] == 1 })
		c.mu.Lock()
		var ids []int64
		for _, m := range c.msgs {
			ids = append(ids, m.ID)
			if k := c.ids[m.ID]; k != 1 {
				t.Errorf("%s received %d %d times", c.u.name, m.ID, k)
			}
		}
		c.mu.Unlock()
		if !slices.IsSorted(ids) || !slices.Contains(ids, held) {
			t.Errorf("%s received %v: want %d among them, in id order", c.u.name, ids, held)
		}
	}
}

// countingStore counts the messages stored while another AddMessage is
// in progress: how many senders shared the writer's time.
type countingStore struct {
	store.Store
	mu             sync.Mutex
	inFlight, most int
}

func (c *countingStore) AddMessage(ctx context.Context, m store.Message) (store.Message, bool, error) {
	c.mu.Lock()
	c.inFlight++
	c.most = max(c.most, c.inFlight)
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.inFlight--
		c.mu.Unlock()
	}()
	return c.Store.AddMessage(ctx, m)
}

// TestConcurrentSendersShareRounds: messages sent at once are stored
// together (several AddMessage calls in progress at a time, so that the
// store's writer can put them in one transaction), and every member still
// receives every message once, in id order.
func TestConcurrentSendersShareRounds(t *testing.T) {
	cs := &countingStore{Store: openSQLite(t)}
	e := newEnv(t, cs, Config{})
	const senders, each = 8, 10
	watcher := e.connect(e.signup("watcher"), nil, nil)
	clients := make([]*client, senders)
	for i := range clients {
		clients[i] = e.connect(e.signup(fmt.Sprintf("sender%d", i)), socketiotest.WebSocket.Options(), nil)
	}
	var wg sync.WaitGroup
	ids := make(chan int64, senders*each)
	for _, c := range clients {
		wg.Go(func() {
			for j := range each {
				ids <- c.send("general", fmt.Sprintf("%s %d", c.u.name, j))
			}
		})
	}
	wg.Wait()
	close(ids)
	var sent []int64
	for id := range ids {
		sent = append(sent, id)
	}
	for _, c := range append(clients, watcher) {
		c.waitFor("every message", func() bool {
			for _, id := range sent {
				if c.ids[id] == 0 {
					return false
				}
			}
			return true
		})
		c.mu.Lock()
		var got []int64
		for _, m := range c.msgs {
			got = append(got, m.ID)
		}
		c.mu.Unlock()
		if len(got) != len(sent) || !slices.IsSorted(got) {
			t.Errorf("%s received %v: want the %d messages once each, in id order", c.u.name, got, len(sent))
		}
	}
	cs.mu.Lock()
	most := cs.most
	cs.mu.Unlock()
	if most < 2 {
		t.Errorf("at most %d message stored at a time by %d concurrent senders: rounds are not shared", most, senders)
	}
	t.Logf("%d senders × %d: up to %d messages stored at a time", senders, each, most)
}
