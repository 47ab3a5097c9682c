package interop_test

// Interop of the Go client (sioclient) with the official Node.js server,
// socket.io@4 from interop/node/node_modules (run `npm ci` there). Each
// test starts `node server_main.js PORT` on 127.0.0.1 and drives the Go
// client over the transport matrix; the server prints what it observes as
// JSON lines, which the tests check too. The identifiers of this file
// start with "gc" so as not to collide with the other interop tests.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"reflect"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/switchboard-go/socketio/sioclient"
	"github.com/switchboard-go/socketio/socketiotest"
)

// gcNode is a running Node.js server script.
type gcNode struct {
	t      *testing.T
	script string
	port   int

	mu     sync.Mutex
	cmd    *exec.Cmd
	lines  []map[string]any
	stderr lockedBuffer // written by exec's copying goroutine
	news   chan struct{}
	exited chan struct{}
}

// gcStartNode starts `node script PORT` on a free port and waits until it
// prints {"ev":"listening"}. It is killed at the end of the test.
func gcStartNode(t *testing.T, script string) *gcNode {
	t.Helper()
	requireNode(t)
	ln := socketiotest.Listen(t, "")
	port := ln.Addr().(*net.TCPAddr).Port
	_ = ln.Close()
	n := &gcNode{t: t, script: script, port: port, news: make(chan struct{}, 1)}
	n.start()
	t.Cleanup(n.kill)
	return n
}

func (n *gcNode) start() {
	n.t.Helper()
	cmd := exec.Command("node", n.script, strconv.Itoa(n.port))
	cmd.Dir = nodeDir(n.t)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		n.t.Fatal(err)
	}
	n.stderr.Reset()
	cmd.Stderr = &n.stderr
	if err := cmd.Start(); err != nil {
		n.t.Fatalf("node %s: %v", n.script, err)
	}
	exited := make(chan struct{})
	n.mu.Lock()
	n.cmd, n.exited = cmd, exited
	mark := len(n.lines)
	n.mu.Unlock()
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
		for sc.Scan() {
			var m map[string]any
			if json.Unmarshal(sc.Bytes(), &m) != nil {
				m = map[string]any{"ev": "raw", "text": sc.Text()}
			}
			n.mu.Lock()
			n.lines = append(n.lines, m)
			n.mu.Unlock()
			select {
			case n.news <- struct{}{}:
			default:
			}
		}
		_ = cmd.Wait()
		close(exited)
	}()
	if _, ok := n.waitLine(mark, 20*time.Second, func(m map[string]any) bool { return m["ev"] == "listening" }); !ok {
		n.t.Fatalf("node %s did not start listening:\n%s", n.script, n.stderr.String())
	}
}

// lockedBuffer is a bytes.Buffer safe for a writer and a reader on
// different goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *lockedBuffer) Reset() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Reset()
}

func (n *gcNode) URL() string { return fmt.Sprintf("http://127.0.0.1:%d", n.port) }

// kill stops the server at once (SIGKILL: connections reset, as when a
// server crashes).
func (n *gcNode) kill() {
	n.mu.Lock()
	cmd, exited := n.cmd, n.exited
	n.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Kill()
	<-exited
}

// restart kills the server and starts it again on the same port.
func (n *gcNode) restart() {
	n.t.Helper()
	n.kill()
	n.start()
}

// signal sends sig to the server (SIGSTOP freezes it, SIGCONT thaws it).
func (n *gcNode) signal(sig syscall.Signal) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if err := n.cmd.Process.Signal(sig); err != nil {
		n.t.Fatal(err)
	}
}

// mark returns the number of lines printed so far, for waitLine.
func (n *gcNode) mark() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return len(n.lines)
}

// waitLine waits for a line after mark that match accepts.
func (n *gcNode) waitLine(from int, d time.Duration, match func(map[string]any) bool) (map[string]any, bool) {
	deadline := time.After(d)
	for {
		n.mu.Lock()
		for _, m := range n.lines[from:] {
			if match(m) {
				n.mu.Unlock()
				return m, true
			}
		}
		n.mu.Unlock()
		select {
		case <-n.news:
		case <-time.After(10 * time.Millisecond):
		case <-deadline:
			return nil, false
		}
	}
}

// linesOf returns the lines after from whose ev is ev.
func (n *gcNode) linesOf(from int, ev string) []map[string]any {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []map[string]any
	for _, m := range n.lines[from:] {
		if m["ev"] == ev {
			out = append(out, m)
		}
	}
	return out
}

// gcConnectMain starts the Node server and connects a Go socket to its
// main namespace; the manager is closed when the test ends.
func gcConnectMain(t *testing.T, mode string) (*gcNode, *sioclient.Socket, *gcSocket) {
	t.Helper()
	node := gcStartNode(t, "server_main.js")
	s, err := sioclient.New(node.URL(), gcOptions(mode))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Manager().Close() })
	g := gcWatch(s)
	s.Connect()
	socketiotest.Receive(t, g.life.Connected, "connect")
	return node, s, g
}

func gcOptions(mode string) *sioclient.Options {
	o := &sioclient.Options{
		ReconnectionDelay:    50 * time.Millisecond,
		ReconnectionDelayMax: 200 * time.Millisecond,
		Timeout:              time.Second,
		Logger:               socketiotest.Logger(),
	}
	switch mode {
	case modePolling:
		o.Transports = []string{"polling"}
	case modeWebSocket:
		o.Transports = []string{"websocket"}
	}
	return o
}

// gcSocket is a socket with its lifecycle and its "welcome" events on
// channels.
type gcSocket struct {
	*sioclient.Socket
	life    *socketiotest.Lifecycle
	welcome chan map[string]any
}

func gcWatch(s *sioclient.Socket) *gcSocket {
	g := &gcSocket{Socket: s, life: socketiotest.Watch(s), welcome: make(chan map[string]any, 16)}
	s.On("welcome", func(e *sioclient.Event) {
		m, _ := e.Value(0).(map[string]any)
		g.welcome <- m
	})
	return g
}

// Namespaces multiplexed on one connection, auth (static and func), a
// refusal with data, acks both ways, binary both ways, the heartbeat.
func TestGoClientNodeServer(t *testing.T) {
	t.Parallel()
	eachMode(t, func(t *testing.T, mode string) {
		node := gcStartNode(t, "server_main.js")
		mgr, err := sioclient.NewManager(node.URL(), gcOptions(mode))
		if err != nil {
			t.Fatal(err)
		}
		defer mgr.Close()
		var authCalls atomic.Int32
		root := gcWatch(mgr.Socket("/", nil))
		chat := gcWatch(mgr.Socket("/chat", &sioclient.SocketOptions{Auth: map[string]any{"user": "ann"}}))
		admin := gcWatch(mgr.Socket("/admin", &sioclient.SocketOptions{AuthFunc: func() (any, error) {
			return map[string]any{"token": "secret", "n": authCalls.Add(1)}, nil
		}}))
		engines := map[string]any{}
		for _, s := range []*gcSocket{root, chat, admin} {
			s.Connect()
			socketiotest.Receive(t, s.life.Connected, "connect "+s.Namespace())
			w := socketiotest.Receive(t, s.welcome, "welcome "+s.Namespace())
			engines[s.Namespace()] = w["engine"]
			if w["id"] != s.ID() || w["nsp"] != s.Namespace() {
				t.Errorf("welcome %v for socket %s of %s", w, s.ID(), s.Namespace())
			}
			switch s.Namespace() {
			case "/chat":
				wantJSON(t, "chat auth", w["auth"], `{"user":"ann"}`)
			case "/admin":
				wantJSON(t, "admin auth", w["auth"], `{"token":"secret","n":1}`)
			}
		}
		if engines["/"] != engines["/chat"] || engines["/chat"] != engines["/admin"] || engines["/"] != mgr.Engine().ID() {
			t.Errorf("namespaces on several connections: %v", engines)
		}

		// Refused by the middleware: message and data of the server.
		opts := gcOptions(mode)
		opts.ForceNew = true
		opts.Auth = map[string]string{"token": "wrong"}
		bad, _ := sioclient.New(node.URL()+"/admin", opts)
		defer bad.Manager().Close()
		badw := gcWatch(bad)
		bad.Connect()
		ce := socketiotest.Receive(t, badw.life.ConnectErrors, "connect_error")
		if ce.Message != "unauthorized" || !ce.FromServer() {
			t.Errorf("connect error %+v", ce)
		}
		wantJSON(t, "connect error data", json.RawMessage(ce.Data), `{"code":401,"hint":"token"}`)
		if bad.Active() {
			t.Error("refused socket still active")
		}

		// Client → server acks, binary both ways.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		blob := bytes.Repeat([]byte{0, 0x1e, 0xff, 'b'}, 5000)
		ans, err := chat.EmitWithAck(ctx, "echo", "héllo", 1.5, map[string]any{"list": []any{true, nil, "x"}}, blob)
		if err != nil {
			t.Fatal(err)
		}
		want := []any{"héllo", 1.5, map[string]any{"list": []any{true, nil, "x"}}, blob}
		if got := ans.Values(); !reflect.DeepEqual(got, want) {
			t.Errorf("echo ack:\n got %#v\nwant %#v", got, want)
		}
		binEvents := make(chan map[string]any, 1)
		root.On("binary", func(e *sioclient.Event) {
			m, _ := e.Value(0).(map[string]any)
			binEvents <- m
		})
		acked := make(chan []any, 1)
		_ = root.Emit("binary", []byte{1, 2, 3, 4}, sioclient.AckFunc(func(a sioclient.Args, err error) {
			if err != nil {
				t.Errorf("binary ack: %v", err)
			}
			acked <- a.Values()
		}))
		if got := socketiotest.Receive(t, acked, "binary ack"); !reflect.DeepEqual(got, []any{[]byte{4, 3, 2, 1}}) {
			t.Errorf("binary ack %#v", got)
		}
		if got := socketiotest.Receive(t, binEvents, "binary event"); !reflect.DeepEqual(got, map[string]any{"reversed": []byte{4, 3, 2, 1}, "len": 4.0}) {
			t.Errorf("binary event %#v", got)
		}

		// Server → client with an ack (the client answers with binary).
		answers := make(chan []any, 1)
		admin.On("question", func(e *sioclient.Event) {
			var n float64
			var b []byte
			_ = e.Decode(0, &n)
			_ = e.Decode(1, &b)
			if err := e.Ack(n*2, append(b, 4)); err != nil {
				t.Errorf("Ack: %v", err)
			}
		})
		admin.On("answer", func(e *sioclient.Event) { answers <- e.Values() })
		_ = admin.Emit("ask", 21)
		if got := socketiotest.Receive(t, answers, "answer"); !reflect.DeepEqual(got, []any{42.0, []byte{1, 2, 3, 4}}) {
			t.Errorf("answer %#v", got)
		}

		// Heartbeat: the server pings every 300ms and drops a client
		// silent for 400ms more; nothing may drop for a while.
		socketiotest.WaitTransport(t, mgr, wantTransport(mode))
		id := mgr.Engine().ID()
		// The point of the sleep: real time passes, five ping intervals,
		// and nothing may drop meanwhile.
		time.Sleep(1500 * time.Millisecond)
		for _, s := range []*gcSocket{root, chat, admin} {
			select {
			case r := <-s.life.Disconnected:
				t.Errorf("%s disconnected: %s", s.Namespace(), r)
			default:
			}
		}
		if c := mgr.Engine(); c == nil || c.ID() != id {
			t.Error("the connection changed during the heartbeat check")
		}
	})
}

// A socket the server disconnects stays disconnected.
func TestGoClientNodeServerDisconnect(t *testing.T) {
	t.Parallel()
	eachMode(t, func(t *testing.T, mode string) {
		node, s, g := gcConnectMain(t, mode)
		if _, ok := node.waitLine(0, 5*time.Second, func(m map[string]any) bool { return m["ev"] == "connection" }); !ok {
			t.Fatal("the server did not report the connection")
		}
		mark := node.mark()
		_ = s.Emit("kick")
		if r := socketiotest.Receive(t, g.life.Disconnected, "disconnect"); r != sioclient.ReasonIOServerDisconnect {
			t.Errorf("reason %q", r)
		}
		if _, ok := node.waitLine(mark, 5*time.Second, func(m map[string]any) bool {
			return m["ev"] == "disconnect" && m["reason"] == "server namespace disconnect"
		}); !ok {
			t.Error("the server did not report the disconnection")
		}
		// The point of the sleep: a reconnection would come within a few
		// reconnection delays (50-200 ms); none may come in 500 ms.
		time.Sleep(500 * time.Millisecond)
		if n := len(node.linesOf(mark, "connection")); n != 0 || s.Active() || s.Connected() {
			t.Errorf("after the server's disconnect: %d new connections, active %v", n, s.Active())
		}
	})
}

// The server dies and comes back on the same port: the client reconnects
// by itself, every namespace joins again (the AuthFunc is called again),
// and what was emitted meanwhile is delivered, acks included.
func TestGoClientNodeRestart(t *testing.T) {
	t.Parallel()
	eachMode(t, func(t *testing.T, mode string) {
		node := gcStartNode(t, "server_main.js")
		mgr, err := sioclient.NewManager(node.URL(), gcOptions(mode))
		if err != nil {
			t.Fatal(err)
		}
		defer mgr.Close()
		var authCalls atomic.Int32
		root := gcWatch(mgr.Socket("/", nil))
		admin := gcWatch(mgr.Socket("/admin", &sioclient.SocketOptions{AuthFunc: func() (any, error) {
			return map[string]any{"token": "secret", "n": authCalls.Add(1)}, nil
		}}))
		for _, s := range []*gcSocket{root, admin} {
			s.Connect()
			socketiotest.Receive(t, s.life.Connected, "connect "+s.Namespace())
			socketiotest.Receive(t, s.welcome, "welcome "+s.Namespace())
		}
		socketiotest.WaitTransport(t, mgr, wantTransport(mode))
		attemptsFailed := make(chan error, 16)
		mgr.OnReconnectError(func(err error) {
			select {
			case attemptsFailed <- err:
			default:
			}
		})

		node.kill()
		for _, s := range []*gcSocket{root, admin} {
			if r := socketiotest.Receive(t, s.life.Disconnected, "disconnect"); r != sioclient.ReasonTransportClose && r != sioclient.ReasonTransportError {
				t.Errorf("%s: reason %q", s.Namespace(), r)
			}
		}
		for i := range 3 {
			if err := root.Emit("note", i); err != nil {
				t.Fatal(err)
			}
		}
		acked := make(chan []any, 1)
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			a, err := admin.EmitWithAck(ctx, "note", "admin")
			if err != nil {
				t.Errorf("buffered EmitWithAck: %v", err)
			}
			acked <- a.Values()
		}()
		// What is buffered survives failed attempts: let two fail.
		for i := range 2 {
			socketiotest.Receive(t, attemptsFailed, fmt.Sprint("failed reconnection attempt ", i+1))
		}

		mark := node.mark()
		node.restart()
		for _, s := range []*gcSocket{root, admin} {
			socketiotest.Receive(t, s.life.Connected, "reconnect "+s.Namespace())
		}
		w := socketiotest.Receive(t, admin.welcome, "welcome after reconnection")
		if n, _ := w["auth"].(map[string]any)["n"].(float64); int32(n) != authCalls.Load() || n < 2 {
			t.Errorf("auth after reconnection %v, AuthFunc called %d times", w["auth"], authCalls.Load())
		}
		if got := socketiotest.Receive(t, acked, "buffered ack"); !reflect.DeepEqual(got, []any{"noted", "admin"}) {
			t.Errorf("buffered ack %v", got)
		}
		if _, ok := node.waitLine(mark, 5*time.Second, func(m map[string]any) bool {
			return m["ev"] == "note" && m["nsp"] == "/" && m["x"] == 2.0
		}); !ok {
			t.Fatal("buffered notes not delivered")
		}
		var xs []any
		for _, m := range node.linesOf(mark, "note") {
			if m["nsp"] == "/" {
				xs = append(xs, m["x"])
			}
		}
		if !reflect.DeepEqual(xs, []any{0.0, 1.0, 2.0}) {
			t.Errorf("notes after the restart: %v", xs)
		}
		socketiotest.WaitTransport(t, mgr, wantTransport(mode))
	})
}

// A frozen server (SIGSTOP) stops pinging: the client notices after
// pingInterval + pingTimeout and reconnects once it is thawed.
func TestGoClientNodeFrozenServer(t *testing.T) {
	t.Parallel()
	eachMode(t, func(t *testing.T, mode string) {
		node, s, g := gcConnectMain(t, mode)
		socketiotest.WaitTransport(t, s.Manager(), wantTransport(mode))
		attempts := make(chan error, 16)
		s.Manager().OnReconnectError(func(err error) { attempts <- err })

		node.signal(syscall.SIGSTOP)
		thawed := false
		defer func() {
			if !thawed {
				node.signal(syscall.SIGCONT)
			}
		}()
		start := time.Now()
		if r := socketiotest.Receive(t, g.life.Disconnected, "disconnect"); r != sioclient.ReasonPingTimeout {
			t.Errorf("reason %q", r)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("detected after %v; pingInterval+pingTimeout is 700ms", d)
		}
		// An attempt into the frozen server times out: by the attempt's
		// context (polling), or by the deadline of the WebSocket
		// handshake's read.
		if err := socketiotest.Receive(t, attempts, "a failed attempt while frozen"); !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("attempt failed with %v, want a timeout", err)
		}
		node.signal(syscall.SIGCONT)
		thawed = true
		socketiotest.Receive(t, g.life.Connected, "reconnect")
	})
}
