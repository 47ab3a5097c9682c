package redisadapter

import (
	"context"
	"fmt"
	"net"
	"net/http/httptest"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	socketio "github.com/switchboard-go/socketio"
)

// privateRedis runs a redis-server of the test's own on a free loopback
// port, so that the test can stop and restart it without touching the
// shared one. start (re)starts it on the same port; stop kills it as a
// crash would.
type privateRedis struct {
	t    *testing.T
	port int
	dir  string
	cmd  *exec.Cmd
	done chan struct{}
}

func newPrivateRedis(t *testing.T) *privateRedis {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	r := &privateRedis{t: t, port: port, dir: t.TempDir()}
	t.Cleanup(r.stop)
	r.start()
	return r
}

func (r *privateRedis) addr() string { return fmt.Sprintf("127.0.0.1:%d", r.port) }

func (r *privateRedis) start() {
	r.t.Helper()
	r.cmd = exec.Command("redis-server", "--port", fmt.Sprint(r.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", r.dir, "--daemonize", "no", "--logfile", "")
	var out strings.Builder
	r.cmd.Stdout, r.cmd.Stderr = &out, &out
	if err := r.cmd.Start(); err != nil {
		r.t.Fatalf("redis-server: %v", err)
	}
	r.done = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) {
		_ = cmd.Wait()
		close(done)
	}(r.cmd, r.done)
	c := redis.NewClient(&redis.Options{Addr: r.addr(), MaxRetries: -1})
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for c.Ping(context.Background()).Err() != nil {
		if time.Now().After(deadline) {
			r.t.Fatalf("private redis-server did not start: %s", out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (r *privateRedis) stop() {
	if r.cmd == nil {
		return
	}
	_ = r.cmd.Process.Kill()
	<-r.done
	r.cmd = nil
}

// Redis dies and comes back on the same address: meanwhile local
// broadcasts keep working and cluster ones fail with an error; afterwards
// go-redis reconnects, subscribes again, and broadcasts cross servers.
func TestRedisRestart(t *testing.T) {
	rs := newPrivateRedis(t)
	key := uniqueKey(t)
	node := func() *goNode {
		rdb := redis.NewClient(&redis.Options{Addr: rs.addr(), DialTimeout: time.Second, ReadTimeout: time.Second, WriteTimeout: time.Second})
		t.Cleanup(func() { _ = rdb.Close() })
		srv := socketio.NewServer(&socketio.Options{Adapter: New(rdb, &Options{Key: key, RequestTimeout: 2 * time.Second})})
		ts := httptest.NewServer(srv)
		t.Cleanup(func() {
			_ = srv.Close()
			ts.Close()
		})
		return &goNode{srv: srv, url: ts.URL}
	}
	a, b := node(), node()
	a1 := connect(t, a.url, "a1", "")
	b1 := connect(t, b.url, "b1", "")

	// until broadcasts msg from a until b1 receives it, or fails at the
	// deadline: after a restart, the first broadcasts may go out before
	// b has subscribed again, and are lost (pub/sub keeps nothing).
	until := func(msg string, within time.Duration) {
		t.Helper()
		deadline := time.After(within)
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		_ = a.srv.Emit("ev", msg)
		for {
			select {
			case v := <-b1.got:
				if v == msg {
					return
				}
			case <-tick.C:
				_ = a.srv.Emit("ev", msg)
			case <-deadline:
				t.Fatalf("b1 did not receive %q within %v", msg, within)
			}
		}
	}
	until("before", 5*time.Second)
	drain := func(c *client) {
		for {
			select {
			case <-c.got:
			default:
				return
			}
		}
	}

	rs.stop()
	drain(a1)
	// Local delivery goes on; the cluster part reports its error.
	if err := a.srv.Emit("ev", "while down"); err == nil {
		t.Fatal("Emit with Redis down returned no error")
	}
	select {
	case v := <-a1.got:
		if v != "while down" {
			t.Fatalf("a1 got %q", v)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("local delivery stopped while Redis was down")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if _, err := a.srv.FetchSockets(ctx); err == nil {
		t.Fatal("FetchSockets with Redis down returned no error")
	}

	rs.start()
	drain(b1)
	until("after", 20*time.Second)
	if n, err := a.srv.Of("/").Adapter().ServerCount(ctx); err != nil || n != 2 {
		t.Fatalf("ServerCount after the restart = %d, %v; want 2", n, err)
	}
}
