package hostile

import (
	"runtime"
	"runtime/metrics"
	"sync"
	"time"
)

// What "near the baseline" means, in numbers.
//
// Goroutines: at most GoroutineSlack above the baseline. The baseline is
// taken with the well-behaved client idle; the slack covers what comes and
// goes around it without a leak: a session's writer goroutine (started
// when something is queued, gone once the queue is empty), an
// acknowledgement timer, net/http's goroutine for a connection it is
// still closing. Every attack that opens many connections (100 stalled
// POSTs, 2,000 handshakes) would leave tens to thousands behind if it
// leaked one per connection.
//
// Heap: the live heap after two garbage collections (the second empties
// sync.Pool's victim cache) at most HeapSlack above the baseline. 1 MiB is
// ten times the MaxPayload of DefaultLimits: an attack that left one
// connection's buffers behind (a few KiB) passes, but one that kept a
// session per attacking connection, or an inflated bomb, does not.
// Measured over a whole run, the settled heap of the attacks that pass
// moves by -0.4 to +0.3 MiB from its baseline (goroutines by -6 to +1:
// the previous attack's connections still closing when the baseline was
// taken), so 1 MiB and 4 leave room for noise and none for a leak
// proportional to an attack's connections.
//
// Peak heap during an attack is bounded per attack (Attack.PeakBudget):
// that is what a deflate bomb or an unbounded queue would blow through.
const (
	GoroutineSlack = 4
	HeapSlack      = 1 << 20
)

// snapshot is the server process's state at one moment.
type snapshot struct {
	goroutines int
	heap       uint64 // live heap after GC, bytes
}

// settle measures goroutines and live heap after collecting garbage.
func settle() snapshot {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return snapshot{goroutines: runtime.NumGoroutine(), heap: ms.HeapAlloc}
}

// waitNear polls until goroutines and heap are back near base or d
// passes; it returns the last measure and whether it was near.
func waitNear(base snapshot, heapSlack uint64, d time.Duration) (snapshot, bool, time.Duration) {
	start := time.Now()
	deadline := start.Add(d)
	for {
		s := settle()
		near := s.goroutines <= base.goroutines+GoroutineSlack && s.heap <= base.heap+heapSlack
		if near || time.Now().After(deadline) {
			return s, near, time.Since(start)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// peakSampler records the largest heap (objects, live or not yet swept)
// seen while an attack runs, sampling without stopping the world.
type peakSampler struct {
	stop chan struct{}
	done sync.WaitGroup
	peak uint64
}

const heapObjectsMetric = "/memory/classes/heap/objects:bytes"

func startPeak() *peakSampler {
	p := &peakSampler{stop: make(chan struct{})}
	p.done.Add(1)
	go func() {
		defer p.done.Done()
		s := []metrics.Sample{{Name: heapObjectsMetric}}
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(s)
			if s[0].Value.Kind() == metrics.KindUint64 {
				p.peak = max(p.peak, s[0].Value.Uint64())
			}
			select {
			case <-p.stop:
				return
			case <-t.C:
			}
		}
	}()
	return p
}

// end stops sampling and returns the peak.
func (p *peakSampler) end() uint64 {
	close(p.stop)
	p.done.Wait()
	return p.peak
}

func mib(b uint64) string {
	return formatFloat(float64(b)/(1<<20)) + "MiB"
}

func signedMiB(a, b uint64) string {
	if a >= b {
		return "+" + mib(a-b)
	}
	return "-" + mib(b-a)
}
