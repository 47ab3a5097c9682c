// Package adaptertest is a conformance suite for implementations of
// adapter.Adapter, in the spirit of testing/fstest and
// golang.org/x/net/nettest: an adapter package runs
//
//	func TestConformance(t *testing.T) {
//		adaptertest.RunSingle(t, adapter.NewInMemory)
//	}
//
// and a cluster adapter passes Run a function that makes several adapters
// sharing one cluster (one bus), so that the suite also checks cross-server
// behaviour. The package also provides Host, a recording fake of
// adapter.Host, for any test that needs one.
//
// # What a cluster must guarantee for the suite
//
// Effects on other servers may be asynchronous: the suite waits for them
// (up to Timeout). To check that something did not happen on another
// server, it broadcasts a marker event from every server to every socket
// and waits until each server has delivered the markers; it therefore
// assumes that the messages one server publishes are applied by each other
// server in the order they were published, as Socket.IO's cluster adapters
// (Redis pub/sub, the Node cluster adapter) do. The markers are events
// named BarrierEvent; the suite ignores them when it counts deliveries.
package adaptertest

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-go/socketio/adapter"
	"github.com/switchboard-go/socketio/parser"
)

// NewCluster makes one adapter per host, all serving the same namespace of
// one cluster, adapters[i] calling back into hosts[i]. It may register
// cleanups on t for its own resources (a bus); the suite closes the
// adapters themselves before those run. (A single-server adapter uses
// RunSingle instead.)
type NewCluster func(t *testing.T, hosts []adapter.Host) []adapter.Adapter

// RunSingle runs the tests that need one server against a single-server
// adapter made by f. The cross-server tests are left out, not skipped: a
// single-server adapter has no cluster to test, and a skip would read as a
// test that could not run.
func RunSingle(t *testing.T, f adapter.Factory) {
	t.Helper()
	one := NewCluster(func(t *testing.T, hosts []adapter.Host) []adapter.Adapter {
		return []adapter.Adapter{f(hosts[0])}
	})
	for _, tt := range suite {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, one.make(t, 1)) })
	}
}

// Namespace is the namespace name of every Host the suite makes.
const Namespace = "/conformance"

// BarrierEvent is the name of the marker events the suite broadcasts to
// know that earlier operations have reached every server.
const BarrierEvent = "adaptertest:barrier"

// Timeout bounds every wait of the suite: for an effect on another
// server, for a barrier, and for an operation that might deadlock.
var Timeout = 10 * time.Second

// clusterSize is the number of servers of the cross-server tests: with
// three, "the other servers" is plural and a broadcast from any server
// has both kinds of remote.
const clusterSize = 3

// Run runs the conformance tests against adapters made by newCluster.
// Every test asks for one server; the cross-server tests (names starting
// with "Cluster") then ask for three. The suite makes a Host per server, binds it to its adapter
// (Host.Bind) and closes the adapters when the test ends, reporting an
// error from Close.
func Run(t *testing.T, newCluster NewCluster) {
	t.Helper()
	for _, tt := range suite {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, newCluster.make(t, 1)) })
	}
	for _, tt := range suite {
		if tt.cluster {
			t.Run("Cluster"+tt.name, func(t *testing.T) { tt.fn(t, newCluster.make(t, clusterSize)) })
		}
	}
}

// suite is the table of the conformance tests.
var suite = []struct {
	name    string
	fn      func(t *testing.T, c *cluster)
	cluster bool // also run on clusterSize servers
}{
	{"AddAll", testAddAll, false},
	{"Del", testDel, false},
	{"DelAll", testDelAll, false},
	{"Sockets", testSockets, false},
	{"ResultsAreCopies", testResultsAreCopies, false},
	{"RoomChanges", testRoomChanges, false},
	{"IndexIsLocal", testIndexIsLocal, true},
	{"Broadcast", testBroadcast, true},
	{"BroadcastNoTarget", testBroadcastNoTarget, true},
	{"BroadcastFrames", testBroadcastFrames, true},
	{"BroadcastFlags", testBroadcastFlags, true},
	{"LocalFlag", testLocalFlag, true},
	{"BroadcastWithAck", testBroadcastWithAck, true},
	{"BroadcastWithAckNoTarget", testBroadcastWithAckNoTarget, true},
	{"ServerCount", testServerCount, true},
	{"ServerSideEmit", testServerSideEmit, true},
	{"FetchSockets", testFetchSockets, true},
	{"AddSockets", testAddSockets, true},
	{"DelSockets", testDelSockets, true},
	{"DisconnectSockets", testDisconnectSockets, true},
	{"Reentrant", testReentrant, true},
	{"Concurrent", testConcurrent, true},
}

// cluster is what a test works on: n servers, each an adapter and the
// Host it calls.
type cluster struct {
	hosts    []*Host
	adapters []adapter.Adapter
	barriers int // markers sent so far, per server
}

func (f NewCluster) make(t *testing.T, n int) *cluster {
	t.Helper()
	c := &cluster{hosts: make([]*Host, n)}
	hs := make([]adapter.Host, n)
	for i := range hs {
		c.hosts[i] = NewHost(Namespace)
		hs[i] = c.hosts[i]
	}
	c.adapters = f(t, hs)
	if len(c.adapters) != n {
		t.Fatalf("newCluster made %d adapters for %d hosts", len(c.adapters), n)
	}
	for i, a := range c.adapters {
		if a == nil {
			t.Fatalf("newCluster made a nil adapter %d", i)
		}
		c.hosts[i].Bind(a)
	}
	t.Cleanup(func() {
		for i, a := range c.adapters {
			if err := a.Close(); err != nil {
				t.Errorf("adapter %d: Close: %v", i, err)
			}
		}
	})
	return c
}

func (c *cluster) n() int { return len(c.hosts) }

// spread connects the sockets of layout (id → rooms besides its own),
// socket i of the sorted ids on server i mod n, and returns which server
// each is on.
func (c *cluster) spread(layout map[string][]string) map[string]int {
	ids := make([]string, 0, len(layout))
	for id := range layout {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	where := make(map[string]int, len(ids))
	for i, id := range ids {
		where[id] = i % c.n()
		c.hosts[i%c.n()].Connect(id, layout[id]...)
	}
	return where
}

// testLayout is the room layout most tests use: every socket is also in
// its own room, as in the root package.
func testLayout() map[string][]string {
	return map[string][]string{
		"s0": {"a"},
		"s1": {"a", "b"},
		"s2": {"b"},
		"s3": {"c"},
		"s4": nil,
		"s5": {"a", "c"},
		"s6": {"b", "c"},
		"s7": {"a", "b", "c"},
		"s8": {"d"},
	}
}

// selected computes from layout the sockets Options rooms/except select,
// sorted.
func selected(layout map[string][]string, rooms, except []string) []string {
	in := func(id string, rs []string) bool {
		for _, r := range rs {
			if r == id || slices.Contains(layout[id], r) {
				return true
			}
		}
		return false
	}
	var out []string
	for id := range layout {
		if (len(rooms) == 0 || in(id, rooms)) && !in(id, except) {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

// sync waits until every marker broadcast from every server has reached
// every server that has sockets, so that any effect of an operation made
// before it has happened (see the package comment).
func (c *cluster) sync(t *testing.T) {
	t.Helper()
	c.barriers++
	seq := c.barriers
	for i, a := range c.adapters {
		pkt := event(BarrierEvent, seq, i)
		if err := a.Broadcast(pkt, adapter.Options{}); err != nil {
			t.Fatalf("barrier: server %d: Broadcast: %v", i, err)
		}
	}
	want := make([][]byte, c.n())
	for i := range want {
		want[i] = event(BarrierEvent, seq, i).Encode()
	}
	eventually(t, "barrier broadcasts to reach every server", func() error {
		for hi, h := range c.hosts {
			if len(h.Sockets()) == 0 {
				continue
			}
			for si, w := range want {
				found := false
				for _, d := range h.Deliveries() {
					if len(d.Frames) > 0 && sameFrame(c.adapters[hi], d.Frames[0].Data, w) {
						found = true
						break
					}
				}
				if !found {
					return fmt.Errorf("server %d has not delivered the marker broadcast from server %d", hi, si)
				}
			}
		}
		return nil
	})
}

// settle waits until check passes, then, after a barrier, checks that it
// still does: the expected effects happened and nothing more came late.
func (c *cluster) settle(t *testing.T, what string, check func() error) {
	t.Helper()
	eventually(t, what, check)
	c.sync(t)
	if err := check(); err != nil {
		t.Fatalf("%s: after a barrier: %v", what, err)
	}
}

// deliveries returns the deliveries host h recorded, barriers left out.
func deliveries(h *Host) []Delivery {
	var out []Delivery
	for _, d := range h.Deliveries() {
		if !isBarrier(d) {
			out = append(out, d)
		}
	}
	return out
}

// sameFrame compares a delivered frame with the one expected. An adapter
// that keeps a log for connection state recovery (adapter.SessionAware)
// appends an offset, a string, to the arguments of the events it logs;
// from such an adapter the frame may carry one.
func sameFrame(a adapter.Adapter, got, want []byte) bool {
	if bytes.Equal(got, want) {
		return true
	}
	if _, ok := a.(adapter.SessionAware); !ok || len(want) < 2 || want[len(want)-1] != ']' {
		return false
	}
	rest, ok := bytes.CutPrefix(got, want[:len(want)-1])
	if !ok || len(rest) < 4 || string(rest[:2]) != `,"` || string(rest[len(rest)-2:]) != `"]` {
		return false
	}
	return !bytes.ContainsAny(rest[2:len(rest)-2], "\"\\")
}

func isBarrier(d Delivery) bool {
	return len(d.Frames) > 0 && bytes.Contains(d.Frames[0].Data, []byte(`"`+BarrierEvent+`"`))
}

// delivered returns the ids host h was asked to deliver to (barriers left
// out), sorted, with repetitions.
func delivered(h *Host) []string {
	var out []string
	for _, d := range deliveries(h) {
		out = append(out, d.IDs...)
	}
	slices.Sort(out)
	return out
}

// checkDelivered compares the targets of every host with the sockets of
// want that live there, each delivered once.
func (c *cluster) checkDelivered(want []string, where map[string]int) error {
	for i, h := range c.hosts {
		var local []string
		for _, id := range want {
			if where[id] == i {
				local = append(local, id)
			}
		}
		if got := delivered(h); !slices.Equal(got, local) {
			return fmt.Errorf("server %d delivered to %q, want %q", i, got, local)
		}
	}
	return nil
}

// reset forgets what every host recorded.
func (c *cluster) reset() {
	for _, h := range c.hosts {
		h.Reset()
	}
}

// event returns an EVENT packet of namespace Namespace for name and args.
func event(name string, args ...any) *parser.Packet {
	data, atts, err := parser.EncodeArgs(append([]any{name}, args...))
	if err != nil {
		panic(err)
	}
	t := parser.Event
	if len(atts) > 0 {
		t = parser.BinaryEvent
	}
	return &parser.Packet{Type: t, Namespace: Namespace, Data: data, Attachments: atts}
}

// eventually polls check until it returns nil, failing the test with its
// last error after Timeout.
func eventually(t *testing.T, what string, check func() error) {
	t.Helper()
	deadline := time.Now().Add(Timeout)
	wait := time.Millisecond
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still failing after %v: %v", what, Timeout, err)
		}
		time.Sleep(wait)
		wait = min(2*wait, 50*time.Millisecond)
	}
}

// within runs fn on a goroutine and fails the test, with the stacks of
// every goroutine, when it does not return within Timeout: an adapter that
// deadlocks fails rather than hanging the test binary.
func within(t *testing.T, what string, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn()
	}()
	select {
	case <-done:
	case <-time.After(Timeout):
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		t.Fatalf("%s: did not return within %v (deadlock?); goroutines:\n%s", what, Timeout, buf)
	}
}

// ctx returns a context bounded by Timeout.
func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), Timeout)
	t.Cleanup(cancel)
	return c
}

// sorted returns a sorted copy of s, nil for an empty s.
func sorted(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// counter collects values from callbacks that may run on any goroutine.
type counter[T any] struct {
	mu   sync.Mutex
	vals []T
}

func (c *counter[T]) add(v T) {
	c.mu.Lock()
	c.vals = append(c.vals, v)
	c.mu.Unlock()
}

func (c *counter[T]) get() []T {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.vals)
}
