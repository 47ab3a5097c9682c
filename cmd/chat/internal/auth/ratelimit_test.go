package auth

import (
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func TestIPLimiterBucket(t *testing.T) {
	l := newIPLimiter(ipBurst, ipEvery, 100)
	for i := range ipBurst {
		if ok, _ := l.allow("1.2.3.4", t0); !ok {
			t.Fatalf("attempt %d of the burst refused", i+1)
		}
	}
	ok, wait := l.allow("1.2.3.4", t0)
	if ok || wait != ipEvery {
		t.Fatalf("attempt past the burst: %v, wait %v; want refused, %v", ok, wait, ipEvery)
	}
	// Another address has its own bucket.
	if ok, _ := l.allow("5.6.7.8", t0); !ok {
		t.Fatal("a second address was refused")
	}
	// Half the refill time: still refused, with the rest to wait.
	if ok, wait := l.allow("1.2.3.4", t0.Add(ipEvery/2)); ok || wait != ipEvery/2 {
		t.Fatalf("after %v: %v, wait %v", ipEvery/2, ok, wait)
	}
	// One refill: exactly one more attempt.
	if ok, _ := l.allow("1.2.3.4", t0.Add(ipEvery)); !ok {
		t.Fatal("refused after a refill")
	}
	if ok, _ := l.allow("1.2.3.4", t0.Add(ipEvery)); ok {
		t.Fatal("two attempts after one refill")
	}
	// A long pause refills to the burst, not beyond.
	later := t0.Add(time.Hour)
	for i := range ipBurst {
		if ok, _ := l.allow("1.2.3.4", later); !ok {
			t.Fatalf("after an hour, attempt %d refused", i+1)
		}
	}
	if ok, _ := l.allow("1.2.3.4", later); ok {
		t.Fatal("the bucket refilled past its burst")
	}
}

func TestIPLimiterBounded(t *testing.T) {
	const max = 64
	l := newIPLimiter(ipBurst, ipEvery, max)
	// A flood of addresses, each mid-burst: the map stays at most max.
	for i := range 10 * max {
		l.allow(fmt.Sprintf("10.0.%d.%d", i/256, i%256), t0)
		if n := l.len(); n > max {
			t.Fatalf("after %d addresses the map holds %d > %d", i+1, n, max)
		}
	}
	// Refilled buckets are swept first: after they refill, new addresses
	// replace them all.
	later := t0.Add(ipBurst * ipEvery)
	l.allow("192.0.2.1", later)
	if n := l.len(); n != 1 {
		t.Fatalf("after the sweep the map holds %d, want 1", n)
	}
}

func TestLockout(t *testing.T) {
	l := newLockout(100)
	now := t0
	for i := 1; i < lockAfter; i++ {
		if d := l.fail("bob", now); d != 0 {
			t.Fatalf("failure %d locked for %v", i, d)
		}
		if d := l.locked("bob", now); d != 0 {
			t.Fatalf("locked after %d failures", i)
		}
	}
	if d := l.fail("bob", now); d != lockFirst {
		t.Fatalf("failure %d locked for %v, want %v", lockAfter, d, lockFirst)
	}
	if d := l.locked("bob", now.Add(time.Second)); d != lockFirst-time.Second {
		t.Fatalf("locked for %v one second in", d)
	}
	if d := l.locked("alice", now); d != 0 {
		t.Fatal("another name is locked too")
	}
	// Each failure after a lock doubles it, up to lockMax.
	want := []time.Duration{2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 15 * time.Minute, 15 * time.Minute, 15 * time.Minute}
	for _, w := range want {
		now = now.Add(l.locked("bob", now)) // wait the lock out
		if d := l.locked("bob", now); d != 0 {
			t.Fatalf("still locked at the end of the lock: %v", d)
		}
		if d := l.fail("bob", now); d != w {
			t.Fatalf("next lock %v, want %v", d, w)
		}
	}
	// Success clears it.
	l.success("bob")
	for i := 1; i < lockAfter; i++ {
		if d := l.fail("bob", now); d != 0 {
			t.Fatalf("after success, failure %d locked for %v", i, d)
		}
	}
	// An hour without failures forgets the count (and the level).
	now = now.Add(lockForget)
	for i := 1; i < lockAfter; i++ {
		if d := l.fail("bob", now); d != 0 {
			t.Fatalf("after an idle hour, failure %d locked for %v", i, d)
		}
	}
	if d := l.fail("bob", now); d != lockFirst {
		t.Fatalf("after an idle hour the first lock is %v", d)
	}
}

func TestLockoutBounded(t *testing.T) {
	const max = 64
	l := newLockout(max)
	for i := range 10 * max {
		l.fail(fmt.Sprintf("user%d", i), t0)
		if n := l.len(); n > max {
			t.Fatalf("after %d names the map holds %d > %d", i+1, n, max)
		}
	}
	l.fail("late", t0.Add(lockForget))
	if n := l.len(); n != 1 {
		t.Fatalf("after the sweep the map holds %d, want 1", n)
	}
}

func TestClientKey(t *testing.T) {
	for _, c := range []struct{ remote, want string }{
		{"192.0.2.7:5555", "192.0.2.7"},
		{"[::ffff:192.0.2.7]:5555", "192.0.2.7"},
		{"[2001:db8:1:2:3:4:5:6]:443", "2001:db8:1:2::/64"},
		{"[2001:db8:1:2:ffff::1]:443", "2001:db8:1:2::/64"},
		{"[fe80::1%eth0]:80", "fe80::/64"},
		{"not an address", "not an address"},
	} {
		r := &http.Request{RemoteAddr: c.remote}
		if got := clientKey(r); got != c.want {
			t.Errorf("clientKey(%q) = %q, want %q", c.remote, got, c.want)
		}
	}
}

// Many goroutines on the limiters at once (run with -race): an address's
// burst is granted exactly ipBurst times in all, and the maps stay bounded.
func TestLimitersConcurrent(t *testing.T) {
	l := newIPLimiter(ipBurst, ipEvery, 50)
	lo := newLockout(50)
	var wg sync.WaitGroup
	var granted atomic.Int64
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				if ok, _ := l.allow("shared", t0); ok {
					granted.Add(1)
				}
				l.allow(fmt.Sprintf("10.%d.0.%d", g, i), t0)
				lo.fail(fmt.Sprintf("u%d-%d", g, i%70), t0)
				lo.locked("shared", t0)
			}
		}()
	}
	wg.Wait()
	// "shared" may have been evicted by the flood and started afresh, so
	// at least one burst was granted; never more than one per eviction.
	if n := granted.Load(); n < ipBurst {
		t.Fatalf("granted %d of the shared address's burst of %d", n, ipBurst)
	}
	if l.len() > 50 || lo.len() > 50 {
		t.Fatalf("maps hold %d and %d entries, cap 50", l.len(), lo.len())
	}
}
