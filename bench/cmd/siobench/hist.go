package main

import (
	"math/bits"
	"sync/atomic"
	"time"
)

// hist is a concurrent log-linear latency histogram: 32 linear sub-buckets
// per power of two of nanoseconds, so any recorded value is reported
// within about 3 %. Recording is one atomic add.
type hist struct {
	counts [64 * subBuckets]atomic.Uint64
	n      atomic.Uint64
	max    atomic.Int64
}

const (
	subBits    = 5
	subBuckets = 1 << subBits
)

func bucketOf(v int64) int {
	if v < subBuckets {
		if v < 0 {
			return 0
		}
		return int(v)
	}
	e := 63 - bits.LeadingZeros64(uint64(v)) // v in [2^e, 2^(e+1))
	sub := int(v>>(e-subBits)) & (subBuckets - 1)
	return (e-subBits+1)*subBuckets + sub
}

// bucketValue is the upper edge of bucket i (conservative percentiles).
func bucketValue(i int) int64 {
	if i < subBuckets {
		return int64(i)
	}
	e := i/subBuckets + subBits - 1
	sub := int64(i % subBuckets)
	return (int64(subBuckets)+sub+1)<<(e-subBits) - 1
}

func (h *hist) record(d time.Duration) {
	v := int64(d)
	h.counts[bucketOf(v)].Add(1)
	h.n.Add(1)
	for {
		m := h.max.Load()
		if v <= m || h.max.CompareAndSwap(m, v) {
			break
		}
	}
}

func (h *hist) reset() {
	for i := range h.counts {
		h.counts[i].Store(0)
	}
	h.n.Store(0)
	h.max.Store(0)
}

// quantile returns the q-quantile (0..1).
func (h *hist) quantile(q float64) time.Duration {
	n := h.n.Load()
	if n == 0 {
		return 0
	}
	rank := uint64(q*float64(n) + 0.5)
	if rank < 1 {
		rank = 1
	}
	var seen uint64
	for i := range h.counts {
		seen += h.counts[i].Load()
		if seen >= rank {
			v := bucketValue(i)
			if m := h.max.Load(); v > m {
				v = m
			}
			return time.Duration(v)
		}
	}
	return time.Duration(h.max.Load())
}

// latency summarizes a histogram in milliseconds.
type latency struct {
	P50  float64 `json:"p50_ms"`
	P99  float64 `json:"p99_ms"`
	P999 float64 `json:"p999_ms"`
	Max  float64 `json:"max_ms"`
}

func (h *hist) summary() latency {
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1e3 }
	return latency{
		P50:  ms(h.quantile(0.50)),
		P99:  ms(h.quantile(0.99)),
		P999: ms(h.quantile(0.999)),
		Max:  ms(time.Duration(h.max.Load())),
	}
}
