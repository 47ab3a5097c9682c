package adapter_test

import (
	"strconv"
	"sync"
	"testing"

	"github.com/switchboard-go/socketio/adapter"
)

// Logged broadcasts reach a socket in offset order even when they are
// sent from many goroutines at once. A client keeps the offset of the last
// event it received and, after a drop, asks for what follows it: had an
// event with a later offset overtaken one with an earlier offset, a drop
// between the two would lose the earlier one for good (the chat's
// 500-client test lost messages this way).
func TestRecoveryOffsetsQueuedInOrder(t *testing.T) {
	h, a := newRecovering(t, adapter.RecoveryConfig{})
	h.Connect("s1")
	const senders, each = 8, 300
	var wg sync.WaitGroup
	for g := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				if err := a.Broadcast(eventPacket(t, g, i), adapter.Options{}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	got := deliveredTo(h, "s1")
	if len(got) != senders*each {
		t.Fatalf("delivered %d packets, want %d", len(got), senders*each)
	}
	prev := int64(-1)
	for i, f := range got {
		_, off := split(t, f)
		n, err := strconv.ParseInt(off, 36, 64)
		if err != nil {
			t.Fatal(err)
		}
		if n <= prev {
			t.Fatalf("packet %d has offset %d after offset %d: delivered out of order", i, n, prev)
		}
		prev = n
	}
}
