package redisadapter

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/switchboard-go/socketio/adapter/cluster"
)

// startNodeNode runs nodetest/server.js (socket.io 4 with the official
// Redis adapter, from the lockfile: scripts/test.sh runs npm ci there) and
// returns its URL.
func startNodeNode(t *testing.T, key string, args ...string) string {
	t.Helper()
	cmd := exec.Command("node", append([]string{"server.js", key}, args...)...)
	cmd.Dir = "nodetest"
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("node: %v (run npm ci in redisadapter/nodetest)", err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		_ = stdin.Close() // the server exits when its stdin closes
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		if t.Failed() && stderr.Len() > 0 {
			t.Logf("node server stderr:\n%s", stderr.String())
		}
	})
	port := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if p, ok := strings.CutPrefix(sc.Text(), "listening "); ok {
				port <- p
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	select {
	case p := <-port:
		return "http://127.0.0.1:" + p
	case <-exited:
		t.Fatalf("node server exited: %s", stderr.String())
	case <-time.After(20 * time.Second):
		t.Fatal("node server did not start")
	}
	return ""
}

// waitServers waits until n servers listen to the namespace "/" of key:
// the Node adapter subscribes in the background after it starts.
func waitServers(t *testing.T, rdb *redis.Client, key string, n int) {
	t.Helper()
	ch := key + "-request#/#"
	deadline := time.Now().Add(10 * time.Second)
	for {
		res, err := rdb.PubSubNumSub(context.Background(), ch).Result()
		if err == nil && res[ch] == int64(n) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d servers subscribed to %s, want %d (%v)", res[ch], ch, n, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// rawEmit publishes a broadcast straight to Redis in the adapter's format,
// as a server without sockets (or an emitter) would: it reaches every
// server through Redis, after whatever was published before it.
func rawEmit(t *testing.T, rdb *redis.Client, key string, rooms []string, data ...any) {
	t.Helper()
	msg, err := encodeBroadcast(&cluster.Broadcast{UID: "test-emitter", Rooms: rooms,
		Packet: cluster.Packet{Type: 2, Nsp: "/", Data: data}})
	if err != nil {
		t.Fatal(err)
	}
	ch := key + "#/#"
	if len(rooms) == 1 {
		ch += rooms[0] + "#"
	}
	if err := rdb.Publish(context.Background(), ch, msg).Err(); err != nil {
		t.Fatal(err)
	}
}

type nodeResult struct {
	OK     bool            `json:"ok"`
	Result json.RawMessage `json:"result"`
	Error  string          `json:"error"`
}

// do runs one operation on the Node server through its control socket.
func do(t *testing.T, ctl *client, op map[string]any) json.RawMessage {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	args, err := ctl.s.EmitWithAck(ctx, "do", op)
	if err != nil {
		t.Fatalf("node %v: %v", op, err)
	}
	var r nodeResult
	if err := args.Decode(0, &r); err != nil {
		t.Fatal(err)
	}
	if !r.OK {
		t.Fatalf("node %v: %s", op, r.Error)
	}
	return r.Result
}

// mixedFlavor is what differs between the mixed-cluster tests of the
// classic and the sharded adapter.
type mixedFlavor struct {
	goNode   func(t testing.TB, key string) *goNode
	nodeArgs []string
	// servers counts the servers of namespace "/".
	servers func(rdb *redis.Client, key string) (int64, error)
	// rawEmit publishes a broadcast straight to Redis, as an emitter would.
	rawEmit func(t *testing.T, rdb *redis.Client, key string, rooms []string, data ...any)
	// roomListeners counts the servers that hear a broadcast to room
	// alone, or returns -1 when every server does (no channel per room).
	roomListeners func(rdb *redis.Client, key, room string) int64
}

var classicFlavor = mixedFlavor{
	goNode: startGoNode,
	servers: func(rdb *redis.Client, key string) (int64, error) {
		ch := key + "-request#/#"
		res, err := rdb.PubSubNumSub(context.Background(), ch).Result()
		return res[ch], err
	},
	rawEmit:       rawEmit,
	roomListeners: func(*redis.Client, string, string) int64 { return -1 },
}

// A Go server and a Node.js server (socket.io 4 + @socket.io/redis-adapter
// 8) share one cluster; every operation works in both directions.
func TestMixedGoNodeCluster(t *testing.T) { testMixedCluster(t, classicFlavor) }

// waitFor waits until count returns n.
func waitFor(t *testing.T, what string, count func() (int64, error), n int64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, err := count()
		if err == nil && got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d, want %d (%v)", what, got, n, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func testMixedCluster(t *testing.T, f mixedFlavor) {
	key := uniqueKey(t)
	rdb := newRedis(t)
	g := f.goNode(t, key)
	nodeURL := startNodeNode(t, key, f.nodeArgs...)
	waitFor(t, "servers", func() (int64, error) { return f.servers(rdb, key) }, 2)
	rawEmit := f.rawEmit
	// A server hears a broadcast to one room once it listens to the
	// room's channel: Node subscribes after its join returns (and ours
	// too after a remote join).
	roomReady := func(room string, n int64) {
		t.Helper()
		if f.roomListeners(rdb, key, room) >= 0 {
			waitFor(t, "servers listening to room "+room, func() (int64, error) { return f.roomListeners(rdb, key, room), nil }, n)
		}
	}

	g1 := connect(t, g.url, "g1", "r1")
	g2 := connect(t, g.url, "g2", "r2")
	n1 := connect(t, nodeURL, "n1", "r1")
	n2 := connect(t, nodeURL, "n2", "r2")
	ctl := connect(t, nodeURL, "ctl", "")
	roomReady("r1", 2)
	roomReady("r2", 2)
	all := []*client{g1, g2, n1, n2, ctl}
	fence := func() error { rawEmit(t, rdb, key, nil, "fence"); return nil }
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	if n, err := g.srv.Of("/").Adapter().ServerCount(ctx); err != nil || n != 2 {
		t.Fatalf("Go ServerCount = %d, %v", n, err)
	}
	if got := string(do(t, ctl, map[string]any{"op": "serverCount"})); got != "2" {
		t.Fatalf("Node serverCount = %s", got)
	}

	type step struct {
		name string
		do   func()
		want []*client
		ev   string
	}
	goEmit := func(f func() error) func() {
		return func() {
			if err := f(); err != nil {
				t.Fatal(err)
			}
		}
	}
	nodeEmit := func(op map[string]any) func() {
		return func() { op["op"] = "emit"; op["event"] = "ev"; do(t, ctl, op) }
	}
	steps := []step{
		{"go: all", goEmit(func() error { return g.srv.Emit("ev", "go-all") }), all, "go-all"},
		{"go: to r1", goEmit(func() error { return g.srv.To("r1").Emit("ev", "go-r1") }), []*client{g1, n1}, "go-r1"},
		{"go: except r1", goEmit(func() error { return g.srv.Except("r1").Emit("ev", "go-not-r1") }), []*client{g2, n2, ctl}, "go-not-r1"},
		{"go: r1+r2 except r2", goEmit(func() error { return g.srv.To("r1", "r2").Except("r2").Emit("ev", "go-multi") }), []*client{g1, n1}, "go-multi"},
		{"go: binary to r2", goEmit(func() error { return g.srv.To("r2").Emit("ev", []byte{0xde, 0xad}) }), []*client{g2, n2}, "bin:dead"},
		{"go: local", goEmit(func() error { return g.srv.Local().Emit("ev", "go-local") }), []*client{g1, g2}, "go-local"},
		{"go: volatile", goEmit(func() error { return g.srv.Volatile().Emit("ev", "go-volatile") }), all, "go-volatile"},
		{"node: all", nodeEmit(map[string]any{"args": []any{"node-all"}}), all, "node-all"},
		{"node: to r1", nodeEmit(map[string]any{"to": []string{"r1"}, "args": []any{"node-r1"}}), []*client{g1, n1}, "node-r1"},
		{"node: except r1", nodeEmit(map[string]any{"except": []string{"r1"}, "args": []any{"node-not-r1"}}), []*client{g2, n2, ctl}, "node-not-r1"},
		{"node: r1+r2 except r2", nodeEmit(map[string]any{"to": []string{"r1", "r2"}, "except": []string{"r2"}, "args": []any{"node-multi"}}), []*client{g1, n1}, "node-multi"},
		{"node: binary to r2", nodeEmit(map[string]any{"to": []string{"r2"}, "binary": true, "args": []any{"beef"}}), []*client{g2, n2}, "bin:beef"},
		{"node: local", nodeEmit(map[string]any{"local": true, "args": []any{"node-local"}}), []*client{n1, n2, ctl}, "node-local"},
		// Not to ctl: Node's sharded adapter delivers to its own sockets
		// once the publish is done, when ctl's transport may be busy with
		// the answer to "do", and a volatile packet is then dropped.
		{"node: volatile", nodeEmit(map[string]any{"volatile": true, "to": []string{"r1", "r2"}, "args": []any{"node-volatile"}}), []*client{g1, g2, n1, n2}, "node-volatile"},
	}
	for _, st := range steps {
		st.do()
		want := map[*client][]string{}
		for _, c := range st.want {
			want[c] = []string{st.ev}
		}
		t.Run(st.name, func(t *testing.T) { expectEvents(t, fence, all, want) })
	}
	if t.Failed() {
		return
	}

	// Node makes r2 (g2 on Go, n2 on Node) join r3; Go makes them leave.
	do(t, ctl, map[string]any{"op": "join", "to": []string{"r2"}, "rooms": []string{"r3"}})
	roomReady("r3", 2)
	rawEmit(t, rdb, key, []string{"r3"}, "ev", "r3")
	expectEvents(t, fence, all, map[*client][]string{g2: {"r3"}, n2: {"r3"}})
	if err := g.srv.In("r3").SocketsLeave("r3"); err != nil {
		t.Fatal(err)
	}
	rawEmit(t, rdb, key, []string{"r3"}, "ev", "r3 again")
	expectEvents(t, fence, all, nil)
	// And the other way round.
	if err := g.srv.In("r1").SocketsJoin("r4"); err != nil {
		t.Fatal(err)
	}
	roomReady("r4", 2)
	rawEmit(t, rdb, key, []string{"r4"}, "ev", "r4")
	expectEvents(t, fence, all, map[*client][]string{g1: {"r4"}, n1: {"r4"}})

	// FetchSockets from Go sees Node's sockets with their handshake.
	socks, err := g.srv.In("r1").FetchSockets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]string{}
	for _, s := range socks {
		names[s.ID] = s.Handshake.Query.Get("name")
		// Node sends the time as Date.prototype.toString() prints it.
		if age := time.Since(s.Handshake.Time); age < 0 || age > time.Minute {
			t.Errorf("socket %s handshake time %v", s.ID, s.Handshake.Time)
		}
		if !slices.Contains(s.Rooms, "r4") {
			t.Errorf("socket %s rooms %v, want r4 among them", s.ID, s.Rooms)
		}
	}
	if len(names) != 2 || names[g1.s.ID()] != "g1" || names[n1.s.ID()] != "n1" {
		t.Fatalf("Go FetchSockets(r1) = %v", names)
	}
	// The handles FetchSockets returns act on Node's socket from Go.
	for _, s := range socks {
		if s.ID != n1.s.ID() {
			continue
		}
		if err := s.Join("r5"); err != nil {
			t.Fatal(err)
		}
		if err := s.Emit("ev", "direct"); err != nil {
			t.Fatal(err)
		}
	}
	roomReady("r5", 1)
	rawEmit(t, rdb, key, []string{"r5"}, "ev", "r5")
	expectEvents(t, fence, all, map[*client][]string{n1: {"direct", "r5"}})
	// And from Node, Go's.
	var fetched []struct {
		ID    string            `json:"id"`
		Rooms []string          `json:"rooms"`
		Query map[string]string `json:"query"`
	}
	if err := json.Unmarshal(do(t, ctl, map[string]any{"op": "fetch", "to": []string{"r1"}}), &fetched); err != nil {
		t.Fatal(err)
	}
	names = map[string]string{}
	for _, s := range fetched {
		names[s.ID] = s.Query["name"]
	}
	if len(names) != 2 || names[g1.s.ID()] != "g1" || names[n1.s.ID()] != "n1" {
		t.Fatalf("Node fetchSockets(r1) = %+v", fetched)
	}

	// Broadcasts with acks gather every client's answer, both ways.
	wantNames := []string{"ctl", "g1", "g2", "n1", "n2"}
	answers, err := g.srv.Timeout(5*time.Second).EmitWithAck(ctx, "ask")
	if err != nil {
		t.Fatalf("Go EmitWithAck: %v", err)
	}
	var got []string
	for _, a := range answers {
		var n string
		_ = a.Decode(0, &n)
		got = append(got, n)
	}
	slices.Sort(got)
	if !slices.Equal(got, wantNames) {
		t.Fatalf("Go EmitWithAck answers %v, want %v", got, wantNames)
	}
	got = nil
	if err := json.Unmarshal(do(t, ctl, map[string]any{"op": "emitWithAck", "event": "ask"}), &got); err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	if !slices.Equal(got, wantNames) {
		t.Fatalf("Node emitWithAck answers %v, want %v", got, wantNames)
	}

	// Server-side emits from Go reach Node's listeners, with and without
	// an acknowledgement.
	if err := g.srv.ServerSideEmit(ctx, "sse", "hi"); err != nil {
		t.Fatal(err)
	}
	expectEvents(t, fence, all, map[*client][]string{n1: {"sse:hi"}, n2: {"sse:hi"}, ctl: {"sse:hi"}})
	acks, err := g.srv.ServerSideEmitWithAck(ctx, "sseack", "yo")
	if err != nil || len(acks) != 1 || acks[0].Value(0) != "node:yo" {
		t.Fatalf("ServerSideEmitWithAck = %v, %v", acks, err)
	}
	// And from Node to Go.
	do(t, ctl, map[string]any{"op": "serverSideEmit", "event": "sse", "args": []any{"ho"}})
	// Go runs server-side handlers on goroutines of their own: wait for
	// their effect, then for the fence.
	for _, c := range []*client{g1, g2} {
		select {
		case v := <-c.got:
			if v != "sse:ho" {
				t.Fatalf("%s got %q, want sse:ho", c.name, v)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: no sse:ho", c.name)
		}
	}
	expectEvents(t, fence, all, nil)
	var nodeAcks []string
	if err := json.Unmarshal(do(t, ctl, map[string]any{"op": "serverSideEmitWithAck", "event": "sseack", "args": []any{"hey"}}), &nodeAcks); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(nodeAcks, []string{"go:hey"}) {
		t.Fatalf("Node serverSideEmitWithAck answers %v", nodeAcks)
	}

	// Node disconnects r1: g1 on Go and n1 on Node.
	do(t, ctl, map[string]any{"op": "disconnect", "to": []string{"r1"}})
	for _, c := range []*client{g1, n1} {
		select {
		case r := <-c.gone:
			if r != "io server disconnect" {
				t.Fatalf("%s: %s", c.name, r)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s was not disconnected", c.name)
		}
	}
	expectEvents(t, fence, []*client{g2, n2, ctl}, nil)
}
