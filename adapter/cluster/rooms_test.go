package cluster_test

import (
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/switchboard-go/socketio/adapter"
	"github.com/switchboard-go/socketio/adapter/adaptertest"
	"github.com/switchboard-go/socketio/adapter/cluster"
)

// roomBus is a bus that listens per room: it records the room changes it
// is told of and the SyncRooms calls.
type roomBus struct {
	mu      sync.Mutex
	changes []adapter.RoomChange
	syncs   int
}

func (b *roomBus) PublishBroadcast(context.Context, *cluster.Broadcast) error { return nil }
func (b *roomBus) PublishRequest(context.Context, *cluster.Request) error     { return nil }
func (b *roomBus) PublishResponse(context.Context, *cluster.Request, *cluster.Response) error {
	return nil
}
func (b *roomBus) ServerCount(context.Context) (int, error) { return 1, nil }
func (b *roomBus) Close() error                             { return nil }

func (b *roomBus) RoomsChanged(changes []adapter.RoomChange) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, c := range changes {
		if c.Kind == adapter.RoomCreated || c.Kind == adapter.RoomDeleted {
			b.changes = append(b.changes, c)
		}
	}
}

func (b *roomBus) SyncRooms(context.Context) {
	b.mu.Lock()
	b.syncs++
	b.mu.Unlock()
}

// observingHost is a Host that also observes room changes, as the root
// package's namespaces do when OnRoom has a handler.
type observingHost struct {
	*adaptertest.Host
	mu   sync.Mutex
	seen []adapter.RoomChange
}

func (h *observingHost) ObservingRooms() bool { return true }
func (h *observingHost) RoomsChanged(c []adapter.RoomChange) {
	h.mu.Lock()
	h.seen = append(h.seen, c...)
	h.mu.Unlock()
}

// A RoomSubscriber bus hears the rooms the local index creates and
// deletes; the adapter is a RoomSyncer that asks the bus; the namespace's
// own room observer still hears every change.
func TestRoomSubscriber(t *testing.T) {
	bus := &roomBus{}
	factory := cluster.New(cluster.Config{Transport: func(context.Context, string, string, cluster.Receiver) (cluster.Bus, error) {
		return bus, nil
	}})
	h := &observingHost{Host: adaptertest.NewHost("/")}
	a := factory(h)
	h.Bind(a)
	defer a.Close()
	a.AddAll("s1", []string{"s1", "r"})
	a.(adapter.RoomSyncer).SyncRooms()
	a.DelAll("s1")

	bus.mu.Lock()
	got := slices.Clone(bus.changes)
	syncs := bus.syncs
	bus.mu.Unlock()
	want := []adapter.RoomChange{
		{Kind: adapter.RoomCreated, Room: "s1"}, {Kind: adapter.RoomCreated, Room: "r"},
		{Kind: adapter.RoomDeleted, Room: "s1"}, {Kind: adapter.RoomDeleted, Room: "r"},
	}
	slices.SortStableFunc(got[2:], func(x, y adapter.RoomChange) int { return -cmpString(x.Room, y.Room) })
	if !slices.Equal(got, want) {
		t.Fatalf("bus heard %v, want %v", got, want)
	}
	if syncs != 1 {
		t.Fatalf("SyncRooms reached the bus %d times, want 1", syncs)
	}
	h.mu.Lock()
	seen := len(h.seen)
	h.mu.Unlock()
	if seen != 8 { // created, joined for s1 and r; left, deleted for both
		t.Fatalf("the host's observer heard %d changes, want 8", seen)
	}
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
