package adaptertest_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/switchboard-go/socketio/adapter"
	"github.com/switchboard-go/socketio/adapter/adaptertest"
	"github.com/switchboard-go/socketio/internal/leakcheck"
	"github.com/switchboard-go/socketio/parser"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

// TestToyCluster runs the suite, cross-server tests included, on a toy
// cluster: in-memory adapters that forward operations to each other
// through per-server inboxes processed in order on a goroutine of their
// own, so that remote effects are asynchronous as over a real bus. It
// checks the suite's cluster machinery (barriers, waits, per-server
// counts) and shows what a NewCluster looks like.
func TestToyCluster(t *testing.T) {
	adaptertest.Run(t, func(t *testing.T, hosts []adapter.Host) []adapter.Adapter {
		servers := make([]*toyServer, len(hosts))
		for i, h := range hosts {
			servers[i] = &toyServer{Adapter: adapter.NewInMemory(h), wake: make(chan struct{}, 1), done: make(chan struct{})}
		}
		out := make([]adapter.Adapter, len(hosts))
		for i, s := range servers {
			s.peers = servers
			s.self = i
			go s.run()
			out[i] = s
		}
		return out
	})
}

// toyServer is one server of the toy cluster. Index operations are the
// embedded in-memory adapter's.
type toyServer struct {
	adapter.Adapter
	peers []*toyServer
	self  int

	mu     sync.Mutex
	inbox  []func()
	closed bool
	wake   chan struct{}
	done   chan struct{}
}

var errClosed = errors.New("toy cluster: closed")

func (s *toyServer) run() {
	defer close(s.done)
	for range s.wake {
		for {
			s.mu.Lock()
			if len(s.inbox) == 0 {
				closed := s.closed
				s.mu.Unlock()
				if closed {
					return
				}
				break
			}
			fn := s.inbox[0]
			s.inbox = s.inbox[1:]
			s.mu.Unlock()
			fn()
		}
	}
}

// post queues fn on server s (unbounded, in order).
func (s *toyServer) post(fn func()) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.inbox = append(s.inbox, fn)
	select {
	case s.wake <- struct{}{}:
	default:
	}
	return true
}

// others runs fn(peer) on every other server's goroutine unless local.
func (s *toyServer) others(local bool, fn func(p *toyServer)) {
	if local {
		return
	}
	for i, p := range s.peers {
		if i != s.self {
			p.post(func() { fn(p) })
		}
	}
}

func localOpts(opts adapter.Options) adapter.Options {
	opts.Flags.Local = true
	return opts
}

func (s *toyServer) Broadcast(pkt *parser.Packet, opts adapter.Options) error {
	s.others(opts.Flags.Local, func(p *toyServer) { _ = p.Adapter.Broadcast(pkt, localOpts(opts)) })
	return s.Adapter.Broadcast(pkt, opts)
}

func (s *toyServer) BroadcastWithAck(pkt *parser.Packet, opts adapter.Options, onClientCount func(int), onAck func(adapter.Args)) error {
	s.others(opts.Flags.Local, func(p *toyServer) {
		_ = p.Adapter.BroadcastWithAck(pkt, localOpts(opts), onClientCount, onAck)
	})
	return s.Adapter.BroadcastWithAck(pkt, opts, onClientCount, onAck)
}

func (s *toyServer) ServerCount(context.Context) (int, error) { return len(s.peers), nil }

func (s *toyServer) FetchSockets(ctx context.Context, opts adapter.Options) ([]adapter.SocketDetails, error) {
	out, err := s.Adapter.FetchSockets(ctx, opts)
	if err != nil || opts.Flags.Local {
		return out, err
	}
	for i, p := range s.peers {
		if i == s.self {
			continue
		}
		reply := make(chan []adapter.SocketDetails, 1)
		if !p.post(func() {
			ds, _ := p.Adapter.FetchSockets(ctx, localOpts(opts))
			reply <- ds
		}) {
			return nil, errClosed
		}
		select {
		case ds := <-reply:
			out = append(out, ds...)
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return out, nil
}

func (s *toyServer) AddSockets(opts adapter.Options, rooms []string) error {
	s.others(opts.Flags.Local, func(p *toyServer) { _ = p.Adapter.AddSockets(localOpts(opts), rooms) })
	return s.Adapter.AddSockets(opts, rooms)
}

func (s *toyServer) DelSockets(opts adapter.Options, rooms []string) error {
	s.others(opts.Flags.Local, func(p *toyServer) { _ = p.Adapter.DelSockets(localOpts(opts), rooms) })
	return s.Adapter.DelSockets(opts, rooms)
}

func (s *toyServer) DisconnectSockets(opts adapter.Options, close bool) error {
	s.others(opts.Flags.Local, func(p *toyServer) { _ = p.Adapter.DisconnectSockets(localOpts(opts), close) })
	return s.Adapter.DisconnectSockets(opts, close)
}

func (s *toyServer) ServerSideEmit(context.Context, []any) error { return nil }

// Close stops the server's goroutine once its inbox is drained.
func (s *toyServer) Close() error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
	<-s.done
	return s.Adapter.Close()
}
