package auth

import (
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"
)

// Limits of the login and sign-up rate limiting.
const (
	ipBurst = 10              // attempts an address may make at once
	ipEvery = 6 * time.Second // one more attempt per this much time

	lockAfter   = 5                // failures in a row that lock an account
	lockFirst   = time.Minute      // the first lock
	lockMax     = 15 * time.Minute // locks double up to this
	lockForget  = time.Hour        // an account idle this long after a failure is forgotten
	maxEntries  = 100_000          // per map: bounded memory under a flood of addresses or names
	evictFactor = 8                // a full map that cannot be swept drops 1/evictFactor of its entries
)

// ipLimiter is a token bucket per client address.
type ipLimiter struct {
	mu    sync.Mutex
	burst float64
	every time.Duration
	max   int
	m     map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newIPLimiter(burst int, every time.Duration, max int) *ipLimiter {
	return &ipLimiter{burst: float64(burst), every: every, max: max, m: make(map[string]*bucket)}
}

// allow takes a token for key; when there is none it returns false and
// how long until there is one.
func (l *ipLimiter) allow(key string, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.m[key]
	if b == nil {
		if len(l.m) >= l.max {
			l.evict(now)
		}
		b = &bucket{tokens: l.burst, last: now}
		l.m[key] = b
	}
	if el := now.Sub(b.last); el > 0 {
		b.tokens = min(l.burst, b.tokens+float64(el)/float64(l.every))
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, time.Duration((1 - b.tokens) * float64(l.every))
}

// evict makes room: a bucket that has refilled is the same as no bucket,
// so those go first; if every address is still mid-burst (a flood from
// more than max addresses), a random eighth goes, which lets those
// addresses start afresh rather than refusing every new client.
func (l *ipLimiter) evict(now time.Time) {
	full := time.Duration(l.burst * float64(l.every))
	for k, b := range l.m {
		if now.Sub(b.last) >= full {
			delete(l.m, k)
		}
	}
	dropRandom(l.m, l.max)
}

// dropRandom deletes entries of a map at or over max until it holds
// max-max/evictFactor; Go's map order is random, so the victims are too.
func dropRandom[V any](m map[string]V, max int) {
	if len(m) < max {
		return
	}
	for k := range m {
		if len(m) <= max-max/evictFactor {
			break
		}
		delete(m, k)
	}
}

func (l *ipLimiter) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.m)
}

// lockout counts failed logins per account name and locks the name for a
// while after lockAfter of them in a row. Names that do not exist are
// counted alike, so a lock says nothing about whether an account exists.
type lockout struct {
	mu  sync.Mutex
	max int
	m   map[string]*lockEntry
}

type lockEntry struct {
	fails int       // failures since the last lock (or since the start)
	level int       // locks so far: the next lasts lockFirst << level
	until time.Time // locked until then
	last  time.Time // the last failure
}

func newLockout(max int) *lockout {
	return &lockout{max: max, m: make(map[string]*lockEntry)}
}

// locked returns how long name stays locked, or 0.
func (l *lockout) locked(name string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	if e := l.m[name]; e != nil && now.Before(e.until) {
		return e.until.Sub(now)
	}
	return 0
}

// fail records a failed login for name and returns the lock it caused, or
// 0. After a first lock each further failure locks again for twice as long
// (up to lockMax): guesses stay at one per lock, not lockAfter per lock.
func (l *lockout) fail(name string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.m[name]
	if e != nil && l.forgotten(e, now) {
		e = nil
	}
	if e == nil {
		if len(l.m) >= l.max {
			for k, v := range l.m {
				if l.forgotten(v, now) {
					delete(l.m, k)
				}
			}
			dropRandom(l.m, l.max)
		}
		e = &lockEntry{}
		l.m[name] = e
	}
	e.last = now
	e.fails++
	if e.fails < lockAfter && e.level == 0 {
		return 0
	}
	d := lockMax
	if e.level < 5 { // 1 << 4 minutes is past lockMax already
		d = min(lockFirst<<e.level, lockMax)
	}
	e.level++
	e.fails = 0
	e.until = now.Add(d)
	return d
}

func (l *lockout) forgotten(e *lockEntry, now time.Time) bool {
	return !now.Before(e.until) && now.Sub(e.last) >= lockForget
}

// success clears name: the user knew the password.
func (l *lockout) success(name string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.m, name)
}

func (l *lockout) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.m)
}

// clientKey is the rate-limit key of a request's peer: its IPv4 address,
// or the /64 prefix of its IPv6 address, because one host or household
// usually gets a whole /64 and could otherwise step through 2^64
// addresses. The connection's address is used, not X-Forwarded-For, which
// any client can write; behind a reverse proxy every client shares the
// proxy's bucket (the proxy should limit by itself).
func clientKey(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	ip = ip.Unmap().WithZone("")
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p.String()
	}
	return ip.String()
}
