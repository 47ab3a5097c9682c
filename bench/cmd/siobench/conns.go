package main

import (
	"sync"
	"sync/atomic"
	"time"
)

type connsCheckpoint struct {
	Conns      int            `json:"conns"`
	RSSKiB     int64          `json:"rss_kib"`
	KiBPerConn float64        `json:"kib_per_conn"`
	Go         map[string]any `json:"go,omitempty"` // the Go server's runtime figures
}

type connsResult struct {
	header
	N             int               `json:"n"`
	Connected     int64             `json:"connected"`
	BaseRSSKiB    int64             `json:"base_rss_kib"`
	Checkpoints   []connsCheckpoint `json:"checkpoints"`
	KiBPerConn    float64           `json:"kib_per_conn"` // at N, after the hold
	ConnectPerSec float64           `json:"connect_per_s"`
	// IdleCPUUtil is the server's CPU use while holding N idle
	// connections (heartbeats, timers), as a fraction of one core.
	IdleCPUUtil  float64 `json:"idle_server_cpu_util"`
	RampCPUPerUs float64 `json:"server_cpu_us_per_connect"`
	Dropped      int64   `json:"dropped_while_holding"`
}

// paceSlack is how far the dials may run ahead of their rate before the
// generator waits: 10 dials at 2,000/s.
const paceSlack = 5 * time.Millisecond

// runConns opens up to cfg.n Socket.IO connections at most cfg.rate per
// second, samples the server's RSS at each checkpoint, holds, and closes
// everything.
func runConns(cfg *config) *connsResult {
	res := &connsResult{header: header{Scenario: "conns", Label: cfg.label, Time: time.Now()}, N: cfg.n}
	gen0 := selfCPU()
	t0 := time.Now()
	time.Sleep(cfg.settle)
	res.BaseRSSKiB, _ = procRSS(cfg.pid)

	var (
		mu        sync.Mutex
		conns     []sess
		failures  atomic.Int64
		connected atomic.Int64
		dropped   atomic.Int64
		holding   atomic.Bool
		readers   sync.WaitGroup
	)
	sem := make(chan struct{}, 64) // handshakes in flight
	interval := time.Second / time.Duration(max(cfg.rate, 1))
	var cps []int
	for _, c := range cfg.checkpoints {
		if c < cfg.n {
			cps = append(cps, c)
		}
	}
	cps = append(cps, cfg.n)
	next := 0
	rampCPU := startCPU(cfg.pid)
	rampStart := time.Now()
	var rampDur time.Duration
	var pauses time.Duration
	var wg sync.WaitGroup
	for i := 0; i < cfg.n; i++ {
		// Pace the dials: ahead of the rate by paceSlack or more, wait.
		// (A sleep per dial, 500 µs apart at 2,000/s, kept the
		// generator's scheduler waking: with one core it opened 1,400/s.)
		if d := time.Until(rampStart.Add(pauses + time.Duration(i)*interval)); d >= paceSlack {
			time.Sleep(d)
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := connect(cfg.addr, cfg.timeout, 512)
			<-sem
			if err != nil {
				failures.Add(1)
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			connected.Add(1)
			readers.Add(1)
			go func() {
				defer readers.Done()
				for {
					if _, err := c.readPacket(); err != nil {
						if holding.Load() {
							dropped.Add(1)
						}
						return
					}
				}
			}()
		}()
		for next < len(cps) && i+1 == cps[next] {
			p0 := time.Now()
			wg.Wait()
			if next == len(cps)-1 {
				rampDur = time.Since(rampStart) - pauses
				rampCPU.stop()
			}
			time.Sleep(cfg.settle)
			n := int(connected.Load())
			rss, _ := procRSS(cfg.pid)
			cp := connsCheckpoint{Conns: n, RSSKiB: rss, Go: memStats(cfg.debugURL)}
			if n > 0 {
				cp.KiBPerConn = float64(rss-res.BaseRSSKiB) / float64(n)
			}
			res.Checkpoints = append(res.Checkpoints, cp)
			logf("conns %-8s %6d connected  RSS %8d KiB  %6.2f KiB/conn  failures %d", cfg.label, n, rss, cp.KiBPerConn, failures.Load())
			next++
			pauses += time.Since(p0)
		}
	}
	wg.Wait()
	res.Connected = connected.Load()
	if rampDur > 0 {
		res.ConnectPerSec = float64(res.Connected) / rampDur.Seconds()
	}
	if rampCPU.serverErr == nil {
		res.RampCPUPerUs = perOp(rampCPU.server, res.Connected)
	}

	holding.Store(true)
	hold := startCPU(cfg.pid)
	time.Sleep(cfg.hold)
	hold.stop()
	holding.Store(false)
	res.IdleCPUUtil = hold.serverUtil()
	rss, _ := procRSS(cfg.pid)
	if res.Connected > 0 {
		res.KiBPerConn = float64(rss-res.BaseRSSKiB) / float64(res.Connected)
	}
	res.Dropped = dropped.Load()
	res.Failures = failures.Load() + res.Dropped
	logf("conns %-8s held %d for %v: RSS %d KiB (base %d) → %.2f KiB/conn; idle server CPU %.1f%%; %.0f connects/s, %.0f µs CPU each; failures %d",
		cfg.label, res.Connected, cfg.hold, rss, res.BaseRSSKiB, res.KiBPerConn, 100*res.IdleCPUUtil, res.ConnectPerSec, res.RampCPUPerUs, res.Failures)

	mu.Lock()
	for _, c := range conns {
		c.close()
	}
	mu.Unlock()
	readers.Wait()
	res.GenCPU = (selfCPU() - gen0).Seconds() / time.Since(t0).Seconds()
	return res
}
