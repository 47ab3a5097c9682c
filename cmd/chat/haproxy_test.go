package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql's "pgx", for the schema
	"github.com/redis/go-redis/v9"

	"github.com/switchboard-go/socketio/sioclient"
	"github.com/switchboard-go/socketio/socketiotest"
)

// wait bounds each wait of these tests; a passing test does not wait
// for it (the machines are shared, the race detector slows everything).
const wait = 30 * time.Second

// TestHAProxy runs two nodes of the chat, as the README's commands do,
// behind HAProxy with deploy/haproxy.cfg (its ports replaced by free
// ones): long-polling clients, WebSocket clients and upgrading ones, on
// either node, see each other's messages, private messages and presence.
func TestHAProxy(t *testing.T) {
	haproxy := haproxyBinary(t)
	dsn := postgresSchema(t)
	redisURL := testRedisURL(t)
	key := "chat-test-" + randomHex()
	nodes := []string{startNode(t, dsn, redisURL, key), startNode(t, dsn, redisURL, key)}
	lb := startHAProxy(t, haproxy, nodes)

	// Users sign up through the load balancer; the first answer gives
	// each jar a node's cookie. Alice and bob are then pinned to a node
	// each, carol keeps the one HAProxy gave her.
	alice, bob, carol := signup(t, lb, "alice"), signup(t, lb, "bob"), signup(t, lb, "carol")
	alice.pin(t, "n1")
	bob.pin(t, "n2")
	for _, c := range []struct {
		u    *lbUser
		node string
	}{{alice, "n1"}, {bob, "n2"}} {
		if got := c.u.node(t); got != c.node {
			t.Fatalf("%s is served by %q, want %s (X-Chat-Node)", c.u.name, got, c.node)
		}
	}
	carolNode := carol.node(t)
	if carolNode != "n1" && carolNode != "n2" {
		t.Fatalf("carol is served by %q", carolNode)
	}

	// Alice polls only (each request must reach n1, where her Engine.IO
	// session is), bob uses WebSocket only, carol starts polling and
	// upgrades (the upgrade must reach her node too).
	ca := dial(t, lb, alice, []string{"polling"})
	cb := dial(t, lb, bob, []string{"websocket"})
	cc := dial(t, lb, carol, nil)

	// Presence crosses: bob, on n2, sees alice, on n1.
	online := func(want ...string) func(string, json.RawMessage) bool {
		return func(name string, arg json.RawMessage) bool {
			var p struct {
				Room   string   `json:"room"`
				Online []string `json:"online"`
			}
			return name == "presence" && json.Unmarshal(arg, &p) == nil && p.Room == "general" && slices.Equal(p.Online, want)
		}
	}
	cb.waitFor(t, "alice, bob and carol online", online("alice", "bob", "carol"))
	ca.waitFor(t, "alice, bob and carol online", online("alice", "bob", "carol"))

	// Room messages from each client reach the others, whatever their
	// node and transport; a private message crosses from n2 to n1.
	ca.send(t, map[string]any{"room": "general", "text": "from alice on n1"})
	cb.send(t, map[string]any{"room": "general", "text": "from bob on n2"})
	cc.send(t, map[string]any{"room": "general", "text": "from carol on " + carolNode})
	for _, c := range []*lbClient{ca, cb, cc} {
		for _, text := range []string{"from alice on n1", "from bob on n2", "from carol on " + carolNode} {
			c.waitMsg(t, text)
		}
	}
	cb.send(t, map[string]any{"to": "alice", "text": "psst alice"})
	ca.waitMsg(t, "psst alice")

	// A burst from both pinned clients at once: every message reaches
	// every client, through the cluster and the proxy.
	const burst = 100
	start := time.Now()
	var wg sync.WaitGroup
	for _, c := range []*lbClient{ca, cb} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range burst {
				c.send(t, map[string]any{"room": "general", "text": fmt.Sprintf("burst %s %d", c.name, i)})
			}
		}()
	}
	wg.Wait()
	for _, c := range []*lbClient{ca, cb, cc} {
		for _, from := range []string{"alice", "bob"} {
			for i := range burst {
				c.waitMsg(t, fmt.Sprintf("burst %s %d", from, i))
			}
		}
	}
	elapsed := time.Since(start)
	t.Logf("%d messages sent through HAProxy by a polling client on n1 and a WebSocket client on n2, each received by 3 clients, in %v (%.0f messages/s)",
		2*burst, elapsed.Round(time.Millisecond), 2*burst/elapsed.Seconds())

	// Alice leaves: bob, on the other node, sees her offline.
	_ = ca.s.Manager().Close()
	cb.waitFor(t, "alice offline", online("bob", "carol"))
}

// TestREADMEMultiNode keeps the README's two-node commands true: its
// nodes listen where deploy/haproxy.cfg sends the requests, HAProxy runs
// that file, and each node's command line parses and names Redis and a
// PostgreSQL database.
func TestREADMEMultiNode(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := os.ReadFile("deploy/haproxy.cfg")
	if err != nil {
		t.Fatal(err)
	}
	var nodes []string
	var sawHAProxy bool
	sc := bufio.NewScanner(bytes.NewReader(readme))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "haproxy -f cmd/chat/deploy/haproxy.cfg") {
			sawHAProxy = true
		}
		args, ok := strings.CutPrefix(line, "go run ./cmd/chat -addr ")
		if !ok {
			continue
		}
		fs := flag.NewFlagSet("chat", flag.ContinueOnError)
		c := flags(fs, func(string) string { return "" })
		if err := fs.Parse(append([]string{"-addr"}, strings.Fields(args)...)); err != nil {
			t.Fatalf("README: %q: %v", line, err)
		}
		if c.redis == "" || !strings.HasPrefix(c.db, "postgres://") {
			t.Fatalf("README: %q: a node needs -redis and -db postgres://", line)
		}
		nodes = append(nodes, c.addr)
	}
	if !sawHAProxy {
		t.Fatal("README: no line runs haproxy -f cmd/chat/deploy/haproxy.cfg")
	}
	var servers []string
	for _, m := range regexp.MustCompile(`(?m)^\s*server \S+ (\S+)`).FindAllSubmatch(cfg, -1) {
		servers = append(servers, string(m[1]))
	}
	if len(nodes) != 2 || !slices.Equal(nodes, servers) {
		t.Fatalf("README's nodes listen on %q, deploy/haproxy.cfg sends to %q", nodes, servers)
	}
}

// haproxyBinary finds HAProxy; its absence fails the test (Debian:
// apt-get install -y haproxy, which .ci/run does).
func haproxyBinary(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("haproxy"); err == nil {
		return p
	}
	if _, err := os.Stat("/usr/sbin/haproxy"); err == nil {
		return "/usr/sbin/haproxy" // not on a non-root PATH
	}
	t.Fatal("haproxy is not installed: apt-get install -y haproxy (.ci/run installs it)")
	return ""
}

// postgresSchema makes a fresh schema of the PostgreSQL at
// CHAT_TEST_POSTGRES (default the local test database), dropped at the
// end, and returns the URL of a database on it.
func postgresSchema(t *testing.T) string {
	t.Helper()
	base := os.Getenv("CHAT_TEST_POSTGRES")
	if base == "" {
		base = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = admin.Close() })
	schema := "chat_main_test_" + randomHex()
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("PostgreSQL at %s (CHAT_TEST_POSTGRES names another): %v", base, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("dropping %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// testRedisURL is the Redis at CHAT_TEST_REDIS (default
// redis://127.0.0.1:6379); it being unreachable fails the test.
func testRedisURL(t *testing.T) string {
	t.Helper()
	u := os.Getenv("CHAT_TEST_REDIS")
	if u == "" {
		u = "redis://127.0.0.1:6379"
	}
	opts, err := redis.ParseURL(u)
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opts)
	defer rdb.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := rdb.Ping(ctx).Err(); err != nil {
		t.Fatalf("Redis at %s (CHAT_TEST_REDIS names another): %v", u, err)
	}
	return u
}

func randomHex() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// startNode runs a node of the chat with the flags the README gives it,
// on a free port, until the end of the test; it returns its address.
func startNode(t *testing.T, dsn, redisURL, key string) string {
	t.Helper()
	fs := flag.NewFlagSet("chat", flag.ContinueOnError)
	c := flags(fs, func(string) string { return "" })
	if err := fs.Parse([]string{"-addr", "127.0.0.1:0", "-db", dsn, "-redis", redisURL, "-redis-key", key, "-log-level", "warn"}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	logs := &syncWriter{w: &bytes.Buffer{}}
	go func() { done <- run(ctx, c, logs, ready) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("node: %v", err)
			}
		case <-time.After(wait):
			t.Error("node: no shutdown")
		}
		if t.Failed() {
			t.Logf("node's logs:\n%s", logs.String())
		}
	})
	select {
	case addr := <-ready:
		return addr
	case err := <-done:
		t.Fatal(err)
	case <-time.After(wait):
		t.Fatal("node not ready")
	}
	return ""
}

// startHAProxy runs HAProxy on deploy/haproxy.cfg, listening on a free
// port and sending to nodes, until the end of the test; it returns its
// URL.
func startHAProxy(t *testing.T, haproxy string, nodes []string) string {
	t.Helper()
	cfg, err := os.ReadFile("deploy/haproxy.cfg")
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	front := ln.Addr().String()
	_ = ln.Close()
	text := string(cfg)
	for old, addr := range map[string]string{"bind 127.0.0.1:8080": "bind " + front, "server n1 127.0.0.1:8081 ": "server n1 " + nodes[0] + " ", "server n2 127.0.0.1:8082 ": "server n2 " + nodes[1] + " "} {
		if strings.Count(text, old) != 1 {
			t.Fatalf("deploy/haproxy.cfg: want %q once", old)
		}
		text = strings.Replace(text, old, addr, 1)
	}
	path := filepath.Join(t.TempDir(), "haproxy.cfg")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	// Written by exec's copying goroutine while the test may read it.
	out := &syncWriter{w: &bytes.Buffer{}}
	cmd := exec.Command(haproxy, "-db", "-f", path)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{}) // closed when waitErr is set
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("haproxy's output:\n%s", out.String())
		}
	})
	base := "http://" + front
	// Ready when it answers from both nodes (its health checks have
	// seen them up).
	seen := map[string]bool{}
	deadline := time.Now().Add(wait)
	for len(seen) < 2 {
		select {
		case <-exited:
			t.Fatalf("haproxy exited: %v\n%s", waitErr, out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("haproxy at %s: answered from %v only\n%s", base, seen, out.String())
		}
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			if resp.StatusCode == 200 {
				seen[resp.Header.Get("X-Chat-Node")] = true
			}
			resp.Body.Close()
		}
		time.Sleep(50 * time.Millisecond)
	}
	return base
}

// lbUser is an account with a logged-in HTTP client (its jar holds the
// session and the node cookie).
type lbUser struct {
	name string
	base *url.URL
	jar  *cookiejar.Jar
	hc   *http.Client
}

func signup(t *testing.T, base, name string) *lbUser {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	bu, _ := url.Parse(base)
	u := &lbUser{name: name, base: bu, jar: jar, hc: &http.Client{Jar: jar, Timeout: wait}}
	var s struct {
		CSRF string `json:"csrfToken"`
	}
	resp, err := u.hc.Get(base + "/api/session")
	if err != nil {
		t.Fatal(err)
	}
	_ = json.NewDecoder(resp.Body).Decode(&s)
	resp.Body.Close()
	body, _ := json.Marshal(map[string]string{"username": name, "password": "password-" + name})
	req, _ := http.NewRequest("POST", base+"/api/signup", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-CSRF-Token", s.CSRF)
	resp, err = u.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("signup %s: %d", name, resp.StatusCode)
	}
	return u
}

// pin makes HAProxy send u's requests to node, as if it had chosen it.
func (u *lbUser) pin(t *testing.T, node string) {
	t.Helper()
	u.jar.SetCookies(u.base, []*http.Cookie{{Name: "CHATNODE", Value: node, Path: "/"}})
}

// node is the node that answers u's requests.
func (u *lbUser) node(t *testing.T) string {
	t.Helper()
	resp, err := u.hc.Get(u.base.String() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.Header.Get("X-Chat-Node")
}

// lbClient is a Socket.IO client of a user, recording what it receives.
type lbClient struct {
	name string
	s    *sioclient.Socket

	mu      sync.Mutex
	changed chan struct{}
	events  []lbEvent
	texts   map[string]bool // the texts of the "message" events
}

type lbEvent struct {
	name string
	arg  json.RawMessage
}

// dial connects u's client with the given transports (nil: the default,
// polling then WebSocket) and waits for its "session" event.
func dial(t *testing.T, base string, u *lbUser, transports []string) *lbClient {
	t.Helper()
	s, err := sioclient.New(base, &sioclient.Options{
		ForceNew: true, Jar: u.jar, Transports: transports, Logger: socketiotest.Logger(),
		WriteTimeout:      time.Minute,
		ReconnectionDelay: 100 * time.Millisecond, ReconnectionDelayMax: 500 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	c := &lbClient{name: u.name, s: s, changed: make(chan struct{}), texts: map[string]bool{}}
	s.OnAny(func(ev *sioclient.Event) {
		var arg json.RawMessage
		if ev.Len() > 0 {
			arg = append(json.RawMessage(nil), ev.Arg(0).Raw...)
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		c.events = append(c.events, lbEvent{ev.Name, arg})
		if ev.Name == "message" {
			var m struct {
				Text string `json:"text"`
			}
			_ = json.Unmarshal(arg, &m)
			c.texts[m.Text] = true
		}
		close(c.changed)
		c.changed = make(chan struct{})
	})
	t.Cleanup(func() { _ = s.Manager().Close() })
	s.Connect()
	c.waitFor(t, "session", func(name string, _ json.RawMessage) bool { return name == "session" })
	return c
}

// waitFor waits for an event that match accepts.
func (c *lbClient) waitFor(t *testing.T, what string, match func(string, json.RawMessage) bool) {
	t.Helper()
	c.wait(t, what, func() bool {
		for _, ev := range c.events {
			if match(ev.name, ev.arg) {
				return true
			}
		}
		return false
	})
}

func (c *lbClient) waitMsg(t *testing.T, text string) {
	t.Helper()
	c.wait(t, fmt.Sprintf("message %q", text), func() bool { return c.texts[text] })
}

// wait waits until cond, checked under the client's lock, holds.
func (c *lbClient) wait(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(wait)
	for {
		c.mu.Lock()
		ok := cond()
		ch := c.changed
		c.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("%s: no %s within %v", c.name, what, wait)
		}
	}
}

// send emits a message and fails the test unless it is acknowledged
// with an id. It may be called from another goroutine than the test's.
func (c *lbClient) send(t *testing.T, msg map[string]any) {
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	res, err := c.s.EmitWithAck(ctx, "message", msg)
	var r struct {
		ID    int64  `json:"id"`
		Error string `json:"error"`
	}
	if err == nil {
		err = res.Decode(0, &r)
	}
	if err != nil || r.ID <= 0 {
		t.Errorf("%s: sending %v: %v %+v", c.name, msg, err, r)
	}
}
