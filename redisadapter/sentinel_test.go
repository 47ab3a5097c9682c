package redisadapter

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/switchboard-go/socketio/adapter"
)

// sentinelMaster is the name the test's sentinel monitors its master by.
const sentinelMaster = "sbmaster"

// redisProc is a redis-server (or sentinel) process of the test's own.
type redisProc struct {
	addr string
	cmd  *exec.Cmd
	out  *lockedBuffer
	done chan struct{}
}

// kill ends the process as a crash would (SIGKILL) and waits for it.
func (p *redisProc) kill() {
	_ = p.cmd.Process.Kill()
	<-p.done
}

// freePort is a loopback port nothing listens on (for the moment).
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startRedisProc writes conf to a file of its own directory and runs
// redis-server on it (with args after the file, e.g. --sentinel), killed
// at cleanup; it returns once the process answers PING.
func startRedisProc(t *testing.T, conf string, args ...string) *redisProc {
	t.Helper()
	port := freePort(t)
	dir := t.TempDir()
	conf = fmt.Sprintf("port %d\nbind 127.0.0.1\ndir %s\ndaemonize no\nlogfile \"\"\nsave \"\"\nappendonly no\n", port, dir) + conf
	file := filepath.Join(dir, "redis.conf")
	// A sentinel rewrites its configuration file: it must be writable.
	if err := os.WriteFile(file, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	p := &redisProc{addr: fmt.Sprintf("127.0.0.1:%d", port), out: &lockedBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command("redis-server", append([]string{file}, args...)...)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("redis-server (the test needs /usr/bin/redis-server): %v", err)
	}
	go func() {
		_ = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(p.kill)
	c := redis.NewClient(&redis.Options{Addr: p.addr, MaxRetries: -1})
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for c.Ping(context.Background()).Err() != nil {
		if time.Now().After(deadline) {
			t.Fatalf("redis-server %s %v did not start:\n%s", file, args, p.out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return p
}

// sentinelSetup is a master, its replica and a sentinel (quorum 1) that
// monitors them as sentinelMaster, all redis-servers of the test's own on
// free loopback ports.
type sentinelSetup struct {
	master, replica, sentinel *redisProc
}

func newSentinelSetup(t *testing.T) *sentinelSetup {
	t.Helper()
	// The master syncs its replica at once (Redis 7 waits 5 s for more
	// replicas before a diskless sync).
	s := &sentinelSetup{master: startRedisProc(t, "repl-diskless-sync-delay 0\n")}
	s.replica = startRedisProc(t, "replicaof "+strings.Replace(s.master.addr, ":", " ", 1)+"\n")
	// The sentinel finds the replica in the master's INFO: the replica
	// must be linked first.
	r := redis.NewClient(&redis.Options{Addr: s.replica.addr})
	defer r.Close()
	waitUntil(t, "replica linked to its master", 10*time.Second, func() bool {
		info, _ := r.Info(context.Background(), "replication").Result()
		return strings.Contains(info, "master_link_status:up")
	})
	s.sentinel = startRedisProc(t, fmt.Sprintf(
		"sentinel monitor %[1]s %[2]s 1\n"+
			"sentinel down-after-milliseconds %[1]s 1000\n"+
			"sentinel failover-timeout %[1]s 5000\n"+
			"sentinel parallel-syncs %[1]s 1\n",
		sentinelMaster, strings.Replace(s.master.addr, ":", " ", 1)), "--sentinel")
	sc := redis.NewSentinelClient(&redis.Options{Addr: s.sentinel.addr})
	defer sc.Close()
	waitUntil(t, "sentinel knows the replica", 10*time.Second, func() bool {
		rs, err := sc.Replicas(context.Background(), sentinelMaster).Result()
		return err == nil && len(rs) == 1 && !strings.Contains(fmt.Sprint(rs), "disconnected")
	})
	return s
}

// masterAddr is the master's address as the sentinel tells it.
func (s *sentinelSetup) masterAddr(t *testing.T) string {
	sc := redis.NewSentinelClient(&redis.Options{Addr: s.sentinel.addr})
	defer sc.Close()
	a, err := sc.GetMasterAddrByName(context.Background(), sentinelMaster).Result()
	if err != nil {
		return ""
	}
	return net.JoinHostPort(a[0], a[1])
}

// client is a go-redis failover client of the setup, closed at cleanup.
func (s *sentinelSetup) client(t *testing.T) *redis.Client {
	rdb := redis.NewFailoverClient(&redis.FailoverOptions{
		MasterName:    sentinelMaster,
		SentinelAddrs: []string{s.sentinel.addr},
		DialTimeout:   time.Second,
		ReadTimeout:   time.Second,
		WriteTimeout:  time.Second,
	})
	t.Cleanup(func() { _ = rdb.Close() })
	return rdb
}

func waitUntil(t *testing.T, what string, within time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, within)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Redis behind Sentinel, with go-redis's failover client: broadcasts
// cross servers; the master dies (SIGKILL), the sentinel promotes the
// replica, the failover client follows it, the adapter subscribes again
// by itself, and broadcasts cross servers again.
func TestSentinelFailover(t *testing.T) {
	testSentinelFailover(t, func(rdb *redis.Client, key string) adapter.Factory {
		return New(rdb, &Options{Key: key, RequestTimeout: 2 * time.Second})
	})
}

// The same for the sharded adapter (SPUBLISH / SSUBSCRIBE on a master and
// replica that are no cluster), in its default, dynamic, mode: the room's
// channel is subscribed again too.
func TestShardedSentinelFailover(t *testing.T) {
	testSentinelFailover(t, func(rdb *redis.Client, key string) adapter.Factory {
		return NewSharded(rdb, &ShardedOptions{ChannelPrefix: key, RequestTimeout: 2 * time.Second})
	})
}

func testSentinelFailover(t *testing.T, factory func(rdb *redis.Client, key string) adapter.Factory) {
	start := time.Now()
	s := newSentinelSetup(t)
	t.Logf("master %s, replica %s, sentinel %s up in %v", s.master.addr, s.replica.addr, s.sentinel.addr, time.Since(start))
	key := uniqueKey(t)
	node := func() *goNode { return startGoNodeWith(t, factory(s.client(t), key)) }
	a, b := node(), node()
	b1 := connect(t, b.url, "b1", "r")
	a1 := connect(t, a.url, "a1", "")

	// until broadcasts msg from a until b1 receives it, or fails at the
	// deadline: during and just after a failover, broadcasts fail or go
	// out before b has subscribed on the new master, and are lost.
	until := func(msg string, within time.Duration, rooms ...string) {
		t.Helper()
		deadline := time.After(within)
		tick := time.NewTicker(50 * time.Millisecond)
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
	serverCount := func() (int64, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		n, err := a.srv.Of("/").Adapter().ServerCount(ctx)
		return int64(n), err
	}
	until("before", 5*time.Second)
	until("before, to r", 5*time.Second, "r")
	waitFor(t, "ServerCount before the failover", serverCount, 2)

	old := s.master.addr
	s.master.kill()
	killed := time.Now()
	waitUntil(t, "the sentinel promotes the replica", 15*time.Second, func() bool {
		return s.masterAddr(t) == s.replica.addr
	})
	t.Logf("replica promoted %v after the kill", time.Since(killed))
	if s.replica.addr == old {
		t.Fatal("replica and master on one address")
	}
	// b1 must hear a; and a1 (b's broadcasts reach a) must hear b.
	until("after", 20*time.Second)
	until("after, to r", 5*time.Second, "r")
	t.Logf("broadcasts cross servers %v after the kill", time.Since(killed))
	deadline := time.After(10 * time.Second)
	for done := false; !done; {
		_ = b.srv.Emit("ev", "from b")
		select {
		case v := <-a1.got:
			done = v == "from b"
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			t.Fatal("a1 did not hear b after the failover")
		}
	}
	waitFor(t, "ServerCount after the failover", serverCount, 2)
}
