package redisadapter

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	socketio "github.com/switchboard-go/socketio"
	"github.com/switchboard-go/socketio/adapter"

	"github.com/switchboard-go/socketio/internal/leakcheck"
	"github.com/switchboard-go/socketio/sioclient"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

const redisAddr = "127.0.0.1:6379"

// newRedis connects to the test Redis and fails (never skips) when it is
// not there: .ci/run starts it.
func newRedis(t testing.TB) *redis.Client {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: redisAddr})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := rdb.Ping(ctx).Err(); err != nil {
		_ = rdb.Close()
		t.Fatalf("Redis at %s: %v (the tests need a running Redis; .ci/run starts one)", redisAddr, err)
	}
	t.Cleanup(func() { _ = rdb.Close() })
	return rdb
}

// uniqueKey is a key prefix of this test alone, so that parallel runs on
// one Redis do not hear each other.
func uniqueKey(t *testing.T) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "sbtest-" + t.Name() + "-" + hex.EncodeToString(b[:])
}

// goNode is a Switchboard server with the Redis adapter on a loopback
// port. A socket joins the rooms listed in its query's "rooms" and
// answers "ask" with its query's "name".
type goNode struct {
	srv *socketio.Server
	url string
}

func startGoNode(t testing.TB, key string) *goNode {
	t.Helper()
	return startGoNodeWith(t, New(newRedis(t), &Options{Key: key, RequestTimeout: 3 * time.Second}))
}

// startGoNodeWith is startGoNode with the adapter of factory.
func startGoNodeWith(t testing.TB, factory adapter.Factory) *goNode {
	t.Helper()
	srv := socketio.NewServer(&socketio.Options{Adapter: factory})
	srv.OnConnection(func(s *socketio.Socket) {
		if r := s.Handshake().Query.Get("rooms"); r != "" {
			s.Join(strings.Split(r, ",")...)
		}
	})
	// As nodetest/server.js: "sse" is relayed to this server's clients,
	// "sseack" answered.
	srv.OnServerSideEmit("sse", func(e *socketio.ServerSideEvent) {
		var arg string
		_ = e.Decode(0, &arg)
		_ = srv.Local().Emit("ev", "sse:"+arg)
	})
	srv.OnServerSideEmit("sseack", func(e *socketio.ServerSideEvent) {
		var arg string
		_ = e.Decode(0, &arg)
		_ = e.Ack("go:" + arg)
	})
	ts := httptest.NewServer(srv)
	t.Cleanup(func() {
		_ = srv.Close()
		ts.Close()
	})
	return &goNode{srv: srv, url: ts.URL}
}

// client is a sioclient socket that records the "ev" events it receives
// (binary arguments as "bin:<hex>") and answers "ask" with its name.
type client struct {
	name string
	s    *sioclient.Socket
	got  chan string
	gone chan string // disconnection reasons
}

func connect(t testing.TB, serverURL, name, rooms string) *client {
	t.Helper()
	s, err := sioclient.New(serverURL, &sioclient.Options{
		// "ctl" is the control socket of a Node server (nodetest/server.js).
		Query:               url.Values{"rooms": {rooms}, "name": {name}, "ctl": {map[bool]string{true: "1"}[name == "ctl"]}},
		ForceNew:            true,
		DisableReconnection: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	c := &client{name: name, s: s, got: make(chan string, 256), gone: make(chan string, 4)}
	s.On("ev", func(e *sioclient.Event) {
		switch v := e.Value(0).(type) {
		case []byte:
			c.got <- "bin:" + hex.EncodeToString(v)
		default:
			c.got <- fmt.Sprint(v)
		}
	})
	s.On("fence", func(*sioclient.Event) { c.got <- "fence" })
	s.On("ask", func(e *sioclient.Event) { _ = e.Ack(name) })
	connected := make(chan struct{})
	var once sync.Once
	s.OnConnect(func() { once.Do(func() { close(connected) }) })
	s.OnDisconnect(func(reason string) { c.gone <- reason })
	s.Connect()
	t.Cleanup(func() { _ = s.Close() })
	select {
	case <-connected:
	case <-time.After(5 * time.Second):
		t.Fatalf("client %s did not connect to %s", name, serverURL)
	}
	return c
}

// expectEvents waits, on every client, for the "fence" event and checks
// that exactly want[c] (in order) came before it. The fence is broadcast
// to everyone after the operations under test: Redis delivers a
// subscriber's messages in the order it processed the publishes, so
// everything published before the fence arrives before it.
func expectEvents(t *testing.T, fence func() error, clients []*client, want map[*client][]string) {
	t.Helper()
	if err := fence(); err != nil {
		t.Fatal(err)
	}
	deadline := time.After(5 * time.Second)
	for _, c := range clients {
		var got []string
	collect:
		for {
			select {
			case v := <-c.got:
				if v == "fence" {
					break collect
				}
				got = append(got, v)
			case <-deadline:
				t.Fatalf("client %s: no fence; got %q so far, want %q", c.name, got, want[c])
			}
		}
		if !slices.Equal(got, want[c]) && (len(got) != 0 || len(want[c]) != 0) {
			t.Errorf("client %s got %q, want %q", c.name, got, want[c])
		}
	}
}

// fenceNode starts a server without clients whose broadcasts mark the end
// of a test step: they reach every other server through Redis, after
// whatever was published before them. (A fence from a server with
// clients would reach its own clients at once, ahead of messages still
// on their way from Redis.)
func fenceNode(t *testing.T, key string) (func() error, *goNode) {
	n := startGoNode(t, key)
	return func() error { return n.srv.Emit("fence") }, n
}
