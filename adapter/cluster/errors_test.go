package cluster_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-go/socketio/adapter"
	"github.com/switchboard-go/socketio/adapter/adaptertest"
	"github.com/switchboard-go/socketio/adapter/cluster"
)

// refusingBus accepts requests but refuses broadcasts and responses, and
// counts two servers of which the other never answers.
type refusingBus struct {
	rcv cluster.Receiver
	err error
}

func (b *refusingBus) PublishBroadcast(context.Context, *cluster.Broadcast) error { return b.err }
func (b *refusingBus) PublishRequest(context.Context, *cluster.Request) error     { return nil }
func (b *refusingBus) PublishResponse(context.Context, *cluster.Request, *cluster.Response) error {
	return b.err
}
func (b *refusingBus) ServerCount(context.Context) (int, error) { return 2, nil }
func (b *refusingBus) Close() error                             { return nil }

// errorLog records what Config.OnError hears.
type errorLog struct {
	mu   sync.Mutex
	errs []cluster.Error
	more chan struct{}
}

func (l *errorLog) add(e cluster.Error) {
	l.mu.Lock()
	l.errs = append(l.errs, e)
	l.mu.Unlock()
	l.more <- struct{}{}
}

// next waits for the next error and returns its namespace and kind.
func (l *errorLog) next(t *testing.T) (string, cluster.ErrorKind, error) {
	t.Helper()
	select {
	case <-l.more:
	case <-time.After(5 * time.Second):
		t.Fatal("no error reported")
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.errs[len(l.errs)-1]
	return e.Namespace, e.Kind, e.Err
}

// Every failure reaches Config.OnError with its namespace and kind: a
// publication refused (the caller gets the same error), a request not
// answered in time, an answer that cannot be published, a message the bus
// could not decode, and a bus that could not be set up.
func TestErrorsReported(t *testing.T) {
	boom := errors.New("boom")
	log := &errorLog{more: make(chan struct{}, 16)}
	var bus *refusingBus
	factory := cluster.New(cluster.Config{
		RequestTimeout: 50 * time.Millisecond,
		OnError:        log.add,
		Transport: func(_ context.Context, _, _ string, rcv cluster.Receiver) (cluster.Bus, error) {
			bus = &refusingBus{rcv: rcv, err: boom}
			return bus, nil
		},
	})
	h := adaptertest.NewHost("/chat")
	a := factory(h)
	h.Bind(a)
	defer a.Close()

	if err := a.Broadcast(adaptertestEvent(t), adapter.Options{}); !errors.Is(err, boom) {
		t.Fatalf("Broadcast: %v", err)
	}
	if nsp, kind, err := log.next(t); nsp != "/chat" || kind != cluster.ErrorPublish || !errors.Is(err, boom) {
		t.Fatalf("after a refused broadcast: %s %s %v", nsp, kind, err)
	}

	if _, err := a.FetchSockets(context.Background(), adapter.Options{}); !errors.Is(err, cluster.ErrTimeout) {
		t.Fatalf("FetchSockets: %v", err)
	}
	if _, kind, err := log.next(t); kind != cluster.ErrorTimeout || !errors.Is(err, cluster.ErrTimeout) {
		t.Fatalf("after a request timed out: %s %v", kind, err)
	}

	bus.rcv.OnRequest(&cluster.Request{UID: "other", RequestID: "r1", Type: cluster.AllRooms})
	if _, kind, err := log.next(t); kind != cluster.ErrorRespond || !errors.Is(err, boom) {
		t.Fatalf("after an answer was refused: %s %v", kind, err)
	}

	bad := errors.New("not msgpack")
	bus.rcv.Malformed(bad)
	if _, kind, err := log.next(t); kind != cluster.ErrorMalformed || err != bad {
		t.Fatalf("after a malformed message: %s %v", kind, err)
	}

	// Local operations fail nothing.
	if err := a.Broadcast(adaptertestEvent(t), adapter.Options{Flags: adapter.Flags{Local: true}}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-log.more:
		t.Fatalf("a local broadcast reported %v", log.errs)
	default:
	}

	failing := cluster.New(cluster.Config{
		OnError: log.add,
		Transport: func(context.Context, string, string, cluster.Receiver) (cluster.Bus, error) {
			return nil, boom
		},
	})
	h2 := adaptertest.NewHost("/other")
	a2 := failing(h2)
	h2.Bind(a2)
	defer a2.Close()
	if nsp, kind, err := log.next(t); nsp != "/other" || kind != cluster.ErrorSetup || !errors.Is(err, boom) {
		t.Fatalf("after a failed setup: %s %s %v", nsp, kind, err)
	}
	log.mu.Lock()
	kinds := make([]cluster.ErrorKind, len(log.errs))
	for i, e := range log.errs {
		kinds[i] = e.Kind
	}
	log.mu.Unlock()
	if want := []cluster.ErrorKind{cluster.ErrorPublish, cluster.ErrorTimeout, cluster.ErrorRespond, cluster.ErrorMalformed, cluster.ErrorSetup}; !slices.Equal(kinds, want) {
		t.Fatalf("reported %v, want %v", kinds, want)
	}
}
