package main

import (
	"testing"
	"time"
)

// Every value falls in a bucket whose upper edge is at or above it and
// within about 3 % (1/32) of it, and buckets grow with the value.
func TestHistBuckets(t *testing.T) {
	prev := -1
	for _, v := range []int64{0, 1, 31, 32, 33, 63, 64, 100, 1000, 12345, 1e6, 1e9, 5e10} {
		i := bucketOf(v)
		if i < prev {
			t.Fatalf("bucketOf(%d) = %d, below the previous value's %d", v, i, prev)
		}
		prev = i
		up := bucketValue(i)
		if up < v || float64(up-v) > float64(v)/32+1 {
			t.Errorf("value %d: bucket %d's upper edge %d", v, i, up)
		}
	}
}

// Percentiles of a known distribution: 1..1000 ms, one of each.
func TestHistQuantiles(t *testing.T) {
	var h hist
	for ms := 1; ms <= 1000; ms++ {
		h.record(time.Duration(ms) * time.Millisecond)
	}
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 500 * time.Millisecond}, {0.99, 990 * time.Millisecond}, {0.999, 999 * time.Millisecond}} {
		got := h.quantile(c.q)
		if got < c.want || got > c.want+c.want/32 {
			t.Errorf("quantile(%v) = %v, want %v to +3 %%", c.q, got, c.want)
		}
	}
	if s := h.summary(); s.Max != 1000 {
		t.Errorf("max %v ms, want 1000", s.Max)
	}
	h.reset()
	if h.quantile(0.99) != 0 {
		t.Error("quantile of an empty histogram is not 0")
	}
}

func TestParseBroadcast(t *testing.T) {
	for _, c := range []struct {
		in     string
		seq, t int64
		ok     bool
	}{
		{`42["broadcast",7,123456,"xx"]`, 7, 123456, true},
		{`42["broadcast",0,0,""]`, 0, 0, true},
		{`42["broadcast",7]`, 0, 0, false},
		{`42["broadcast",,1,""]`, 0, 0, false},
		{`42["other",7,1,""]`, 0, 0, false},
		{``, 0, 0, false},
	} {
		seq, ts, ok := parseBroadcast([]byte(c.in))
		if ok != c.ok || (ok && (seq != c.seq || ts != c.t)) {
			t.Errorf("parseBroadcast(%q) = %d, %d, %v", c.in, seq, ts, ok)
		}
	}
}

func FuzzParseBroadcast(f *testing.F) {
	f.Add([]byte(`42["broadcast",7,123456,"xx"]`))
	f.Add([]byte(`42["broadcast",99999999999999999999,1,""]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		parseBroadcast(b) // must not panic
	})
}
