package adapter_test

import (
	"testing"

	"github.com/switchboard-go/socketio/adapter"
)

// callsHost counts the calls an observer receives, empty or not.
type callsHost struct {
	countHost
	calls [][]adapter.RoomChange
}

func (h *callsHost) ObservingRooms() bool { return true }
func (h *callsHost) RoomsChanged(changes []adapter.RoomChange) {
	h.calls = append(h.calls, changes)
}

// An operation that changes no room tells the observer nothing: it hears
// of changes, not of every call.
func TestObserverHearsOnlyChanges(t *testing.T) {
	h := &callsHost{}
	a := adapter.NewInMemory(h)
	a.AddAll("s1", []string{"s1", "r"})
	if len(h.calls) != 1 {
		t.Fatalf("joining two rooms: %d calls, want 1", len(h.calls))
	}
	h.calls = nil
	a.AddAll("s1", []string{"r"})                                             // already in it
	a.Del("s1", "elsewhere")                                                  // not in it
	a.Del("s2", "r")                                                          // no such socket
	a.DelAll("s2")                                                            // no such socket
	_ = a.AddSockets(adapter.Options{Rooms: []string{"none"}}, []string{"x"}) // nobody selected
	_ = a.DelSockets(adapter.Options{}, []string{"elsewhere"})                // nobody in it
	if len(h.calls) != 0 {
		t.Errorf("operations that changed nothing reported %v", h.calls)
	}
}
