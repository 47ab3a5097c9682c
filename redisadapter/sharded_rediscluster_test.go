package redisadapter

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/switchboard-go/socketio/adapter"
	"github.com/switchboard-go/socketio/adapter/adaptertest"
)

// newRedisCluster runs a Redis Cluster of three masters of the test's own
// (redis-server in cluster mode on free loopback ports, joined with
// redis-cli --cluster create) and returns a go-redis Cluster client of it.
func newRedisCluster(t *testing.T) *redis.ClusterClient {
	t.Helper()
	var addrs []string
	for len(addrs) < 3 {
		// The cluster bus listens on the port + 10000.
		port := 20000 + rand.IntN(30000)
		if !portFree(port) || !portFree(port+10000) {
			continue
		}
		dir := t.TempDir()
		cmd := exec.Command("redis-server", "--port", fmt.Sprint(port), "--bind", "127.0.0.1",
			"--cluster-enabled", "yes", "--cluster-config-file", dir+"/nodes.conf",
			"--save", "", "--appendonly", "no", "--dir", dir, "--daemonize", "no", "--logfile", "")
		var out strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatalf("redis-server: %v", err)
		}
		done := make(chan struct{})
		go func() {
			_ = cmd.Wait()
			close(done)
		}()
		t.Cleanup(func() {
			_ = cmd.Process.Kill()
			<-done
		})
		addr := fmt.Sprintf("127.0.0.1:%d", port)
		c := redis.NewClient(&redis.Options{Addr: addr})
		waitFor(t, "redis-server "+addr+" to answer", func() (int64, error) {
			return 1, c.Ping(context.Background()).Err()
		}, 1)
		_ = c.Close()
		addrs = append(addrs, addr)
	}
	create := exec.Command("redis-cli", append([]string{"--cluster", "create"}, append(addrs, "--cluster-replicas", "0", "--cluster-yes")...)...)
	if out, err := create.CombinedOutput(); err != nil {
		t.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	for _, addr := range addrs {
		c := redis.NewClient(&redis.Options{Addr: addr})
		waitFor(t, "cluster state ok at "+addr, func() (int64, error) {
			info, err := c.ClusterInfo(context.Background()).Result()
			if strings.Contains(info, "cluster_state:ok") {
				return 1, nil
			}
			return 0, err
		}, 1)
		_ = c.Close()
	}
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs})
	t.Cleanup(func() { _ = cc.Close() })
	waitFor(t, "cluster client ready", func() (int64, error) {
		return 1, cc.ForEachMaster(context.Background(), func(ctx context.Context, c *redis.Client) error {
			return c.Ping(ctx).Err()
		})
	}, 1)
	return cc
}

func portFree(port int) bool {
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return false
	}
	_ = l.Close()
	return true
}

// The conformance suite over the sharded adapter with a go-redis Cluster
// client on a Redis Cluster of three masters: the namespace's channel, the
// servers' response channels and the rooms' channels fall on different
// shards, each subscription connection on the owner of its slot.
func TestShardedOnRedisCluster(t *testing.T) {
	cc := newRedisCluster(t)
	adaptertest.Timeout = 30 * time.Second // as TestConformance
	for _, mode := range []SubscriptionMode{SubscriptionDynamic, SubscriptionStatic} {
		t.Run(string(mode), func(t *testing.T) {
			adaptertest.Run(t, func(t *testing.T, hosts []adapter.Host) []adapter.Adapter {
				factory := NewSharded(cc, &ShardedOptions{ChannelPrefix: uniqueKey(t), SubscriptionMode: mode})
				out := make([]adapter.Adapter, len(hosts))
				for i, h := range hosts {
					out[i] = factory(h)
				}
				return out
			})
		})
	}
}
