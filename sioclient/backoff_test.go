package sioclient

import (
	"testing"
	"time"
)

func TestBackoffDoublesAndCaps(t *testing.T) {
	b := backoff{min: 100 * time.Millisecond, max: time.Second}
	want := []time.Duration{100, 200, 400, 800, 1000, 1000}
	for i, w := range want {
		if d := b.duration(); d != w*time.Millisecond {
			t.Errorf("attempt %d: %v, want %v", i, d, w*time.Millisecond)
		}
	}
	// Far past the point where min·2ⁿ overflows a Duration.
	b.attempts = 200
	if d := b.duration(); d != time.Second {
		t.Errorf("attempt 200: %v", d)
	}
	b.reset()
	if d := b.duration(); d != 100*time.Millisecond {
		t.Errorf("after reset: %v", d)
	}
}

// A client that keeps retrying (no ReconnectionAttempts limit) for hours
// reaches attempts where min·2ⁿ is no longer a finite float64: the delay
// stays max, with or without jitter, and is never NaN turned into a
// Duration (a negative or zero delay: a reconnection loop).
func TestBackoffAfterThousandsOfAttempts(t *testing.T) {
	for _, jitter := range []float64{0, 0.5, 1} {
		for _, coin := range []float64{0.2, 0.7} {
			b := backoff{min: time.Second, max: 5 * time.Second, jitter: jitter, attempts: 1100,
				rand: func() float64 { return coin }}
			for range 3 {
				d := b.duration()
				if jitter < 1 && d != 5*time.Second || d <= 0 || d > 5*time.Second {
					t.Errorf("jitter %v, coin %v, attempt %d: %v, want 5s", jitter, coin, b.attempts-1, d)
				}
			}
			if b.attempts != 1103 {
				t.Errorf("attempts %d, want 1103 (the count goes on)", b.attempts)
			}
		}
	}
}

func TestBackoffJitter(t *testing.T) {
	// rand values: the fraction of the deviation, then the coin.
	for _, tc := range []struct {
		r    []float64
		want time.Duration
	}{
		{[]float64{0.5, 0.1}, 750 * time.Millisecond},  // 1000 - 0.5·0.5·1000
		{[]float64{0.5, 0.9}, 1250 * time.Millisecond}, // 1000 + 250
		{[]float64{0, 0.9}, time.Second},
		{[]float64{0.999, 0.9}, 1499500 * time.Microsecond},
	} {
		i := 0
		b := backoff{min: time.Second, max: 10 * time.Second, jitter: 0.5, rand: func() float64 { i++; return tc.r[i-1] }}
		if d := b.duration(); d != tc.want {
			t.Errorf("rand %v: %v, want %v", tc.r, d, tc.want)
		}
	}
	// A coin of exactly one half moves the delay up: the lower half of
	// [0, 1) moves it down, the upper half up.
	half := []float64{0.5, 0.5}
	i := 0
	b0 := backoff{min: time.Second, max: 10 * time.Second, jitter: 0.5, rand: func() float64 { i++; return half[i-1] }}
	if d := b0.duration(); d != 1250*time.Millisecond {
		t.Errorf("coin 0.5: %v, want 1.25s", d)
	}
	// The defaults (1s, 5s, 0.5) stay within [0.5s, 5s].
	b := backoff{min: time.Second, max: 5 * time.Second, jitter: 0.5}
	for range 1000 {
		b.reset()
		for range 6 {
			if d := b.duration(); d < 500*time.Millisecond || d > 5*time.Second {
				t.Fatalf("delay %v out of bounds", d)
			}
		}
	}
}

func TestConfigDefaults(t *testing.T) {
	c := newConfig(nil)
	if c.Path != "/socket.io/" || c.Timeout != 20*time.Second || c.ReconnectionDelay != time.Second ||
		c.ReconnectionDelayMax != 5*time.Second || c.RandomizationFactor != 0.5 || c.MaxBufferBytes != 1<<20 ||
		c.ReconnectionAttempts != 0 || c.DisableReconnection {
		t.Errorf("defaults: %+v", c.Options)
	}
	c = newConfig(&Options{Path: "io", RandomizationFactor: -1, ReconnectionDelay: time.Minute})
	if c.Path != "/io" || c.RandomizationFactor != 0 || c.ReconnectionDelayMax != time.Minute {
		t.Errorf("adjusted: %+v", c.Options)
	}
}
