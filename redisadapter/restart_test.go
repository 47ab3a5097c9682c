package redisadapter

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/switchboard-go/socketio/adapter"
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
	testRedisRestart(t, func(rdb *redis.Client, key string) adapter.Factory {
		return New(rdb, &Options{Key: key, RequestTimeout: 2 * time.Second})
	})
}

// The same for the sharded adapter (in its default, dynamic, mode: the
// room's channel is subscribed again too).
func TestShardedRedisRestart(t *testing.T) {
	testRedisRestart(t, func(rdb *redis.Client, key string) adapter.Factory {
		return NewSharded(rdb, &ShardedOptions{ChannelPrefix: key, RequestTimeout: 2 * time.Second})
	})
}

func testRedisRestart(t *testing.T, factory func(rdb *redis.Client, key string) adapter.Factory) {
	rs := newPrivateRedis(t)
	key := uniqueKey(t)
	node := func() *goNode {
		rdb := redis.NewClient(&redis.Options{Addr: rs.addr(), DialTimeout: time.Second, ReadTimeout: time.Second, WriteTimeout: time.Second})
		t.Cleanup(func() { _ = rdb.Close() })
		return startGoNodeWith(t, factory(rdb, key))
	}
	a, b := node(), node()
	a1 := connect(t, a.url, "a1", "")
	b1 := connect(t, b.url, "b1", "r")

	// until broadcasts msg from a until b1 receives it, or fails at the
	// deadline: after a restart, the first broadcasts may go out before
	// b has subscribed again, and are lost (pub/sub keeps nothing).
	until := func(msg string, within time.Duration, rooms ...string) {
		t.Helper()
		deadline := time.After(within)
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		emit := func() { _ = a.srv.To(rooms...).Emit("ev", msg) }
		emit()
		for {
			select {
			case v := <-b1.got:
				if v == msg {
					return
				}
			case <-tick.C:
				emit()
			case <-deadline:
				t.Fatalf("b1 did not receive %q within %v", msg, within)
			}
		}
	}
	until("before", 5*time.Second)
	until("before, to r", 5*time.Second, "r")
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
	until("after, to r", 5*time.Second, "r")
	// Each server subscribes again when its reader notices the lost
	// connection, not necessarily by the time b1 hears a.
	waitFor(t, "ServerCount after the restart", func() (int64, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		n, err := a.srv.Of("/").Adapter().ServerCount(ctx)
		return int64(n), err
	}, 2)
}

// lockedBuffer is a log sink the adapters' goroutines may share.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Redis freezes (SIGSTOP) without closing a connection, as a dead host
// would: the sharded adapter's readers ping it after healthEvery of
// silence, make their connections anew when no pong comes, and delivery
// resumes once Redis runs again.
func TestShardedSilentRedis(t *testing.T) {
	rs := newPrivateRedis(t)
	saved := healthEvery
	healthEvery = 200 * time.Millisecond
	t.Cleanup(func() { healthEvery = saved })
	var logs lockedBuffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	key := uniqueKey(t)
	node := func() *goNode {
		rdb := redis.NewClient(&redis.Options{Addr: rs.addr(), DialTimeout: time.Second, ReadTimeout: time.Second, WriteTimeout: time.Second})
		t.Cleanup(func() { _ = rdb.Close() })
		return startGoNodeWith(t, NewSharded(rdb, &ShardedOptions{ChannelPrefix: key, RequestTimeout: 2 * time.Second, Logger: logger}))
	}
	a, b := node(), node()
	b1 := connect(t, b.url, "b1", "r")
	until := func(msg string, within time.Duration, rooms ...string) {
		t.Helper()
		deadline := time.After(within)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			_ = a.srv.To(rooms...).Emit("ev", msg)
			select {
			case v := <-b1.got:
				if v == msg {
					return
				}
			case <-tick.C:
			case <-deadline:
				t.Fatalf("b1 did not receive %q within %v", msg, within)
			}
		}
	}
	until("before", 5*time.Second, "r")
	// Idle connections answer the pings and are kept.
	time.Sleep(4 * healthEvery)
	if strings.Contains(logs.String(), "silent") {
		t.Fatalf("a healthy connection was made anew:\n%s", logs.String())
	}
	if err := rs.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	time.Sleep(10 * healthEvery)
	if err := rs.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "silent") {
		t.Fatalf("no connection was found silent:\n%s", logs.String())
	}
	until("after", 20*time.Second)
	until("after, to r", 5*time.Second, "r")
}
