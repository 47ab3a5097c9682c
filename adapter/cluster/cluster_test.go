package cluster_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/switchboard-go/socketio/adapter"
	"github.com/switchboard-go/socketio/adapter/adaptertest"
	"github.com/switchboard-go/socketio/adapter/cluster"
	"github.com/switchboard-go/socketio/internal/leakcheck"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

// TestConformanceInProcess runs the adapter suite on the cluster adapter
// over an in-process bus: what a backend adds is only transport, so this
// checks the cluster logic without one (redisadapter runs the same suite
// over Redis).
func TestConformanceInProcess(t *testing.T) {
	adaptertest.Run(t, func(t *testing.T, hosts []adapter.Host) []adapter.Adapter {
		hub := &hub{}
		factory := cluster.New(cluster.Config{Transport: hub.connect})
		out := make([]adapter.Adapter, len(hosts))
		for i, h := range hosts {
			out[i] = factory(h)
		}
		return out
	})
}

// A transport that fails leaves the namespace local: local operations
// work, cluster ones return the transport's error.
func TestTransportFailure(t *testing.T) {
	boom := errors.New("boom")
	factory := cluster.New(cluster.Config{Transport: func(context.Context, string, string, cluster.Receiver) (cluster.Bus, error) {
		return nil, boom
	}})
	h := adaptertest.NewHost("/")
	a := factory(h)
	h.Bind(a)
	defer a.Close()
	h.Connect("s1", "r")
	if err := a.Broadcast(adaptertestEvent(t), adapter.Options{}); !errors.Is(err, boom) {
		t.Fatalf("Broadcast: %v, want the transport's error", err)
	}
	if got := h.Delivered(); len(got) != 1 || got[0] != "s1" {
		t.Fatalf("local delivery %v, want s1", got)
	}
	if _, err := a.ServerCount(context.Background()); !errors.Is(err, boom) {
		t.Fatalf("ServerCount: %v", err)
	}
	if err := a.Broadcast(adaptertestEvent(t), adapter.Options{Flags: adapter.Flags{Local: true}}); err != nil {
		t.Fatalf("local Broadcast: %v", err)
	}
}

// hub is the in-process bus: every message goes, in publication order,
// to every connected server (the publisher included, as on Redis), each
// served by a goroutine of its own.
type hub struct {
	mu   sync.Mutex
	subs map[*sub]bool
}

type sub struct {
	h     *hub
	nsp   string
	rcv   cluster.Receiver
	mu    sync.Mutex
	inbox []func()
	wake  chan struct{}
	done  chan struct{}
	once  sync.Once
}

func (h *hub) connect(_ context.Context, nsp, _ string, rcv cluster.Receiver) (cluster.Bus, error) {
	s := &sub{h: h, nsp: nsp, rcv: rcv, wake: make(chan struct{}, 1), done: make(chan struct{})}
	h.mu.Lock()
	if h.subs == nil {
		h.subs = map[*sub]bool{}
	}
	h.subs[s] = true
	h.mu.Unlock()
	go s.run()
	return s, nil
}

func (s *sub) run() {
	defer close(s.done)
	for range s.wake {
		for {
			s.mu.Lock()
			if len(s.inbox) == 0 {
				s.mu.Unlock()
				break
			}
			f := s.inbox[0]
			s.inbox = s.inbox[1:]
			s.mu.Unlock()
			f()
		}
	}
}

// send queues f on every server of the namespace, under the hub's lock so
// that all of them see the hub's messages in one order.
func (s *sub) send(f func(r cluster.Receiver)) {
	s.h.mu.Lock()
	defer s.h.mu.Unlock()
	for o := range s.h.subs {
		if o.nsp != s.nsp {
			continue
		}
		o.mu.Lock()
		o.inbox = append(o.inbox, func() { f(o.rcv) })
		o.mu.Unlock()
		select {
		case o.wake <- struct{}{}:
		default:
		}
	}
}

func (s *sub) PublishBroadcast(_ context.Context, b *cluster.Broadcast) error {
	s.send(func(r cluster.Receiver) { r.OnBroadcast(b) })
	return nil
}

func (s *sub) PublishRequest(_ context.Context, req *cluster.Request) error {
	s.send(func(r cluster.Receiver) { r.OnRequest(req) })
	return nil
}

func (s *sub) PublishResponse(_ context.Context, _ *cluster.Request, resp *cluster.Response) error {
	s.send(func(r cluster.Receiver) { r.OnResponse(resp) })
	return nil
}

func (s *sub) ServerCount(context.Context) (int, error) {
	s.h.mu.Lock()
	defer s.h.mu.Unlock()
	n := 0
	for o := range s.h.subs {
		if o.nsp == s.nsp {
			n++
		}
	}
	return n, nil
}

func (s *sub) Close() error {
	s.once.Do(func() {
		s.h.mu.Lock()
		delete(s.h.subs, s)
		s.h.mu.Unlock()
		close(s.wake)
		<-s.done
	})
	return nil
}
