package main

import (
	"bytes"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

type echoResult struct {
	header
	Clients      int     `json:"clients"`
	PayloadBytes int     `json:"payload_bytes"`
	DurationS    float64 `json:"duration_s"`
	Acks         int64   `json:"acks"`
	AcksPerSec   float64 `json:"acks_per_s"`
	Latency      latency `json:"latency"`
	ServerCPUUs  float64 `json:"server_cpu_us_per_ack"`
	ServerUtil   float64 `json:"server_cpu_util"`
	CoreCPUUs    float64 `json:"server_core_cpu_us_per_ack,omitempty"`
	GenCPUUs     float64 `json:"generator_cpu_us_per_ack"`
}

// runEcho runs cfg.clients closed loops of emit("echo", seq, pad, ack) →
// ack(seq, pad), warms up, then measures for cfg.duration.
func runEcho(cfg *config) *echoResult {
	res := &echoResult{header: header{Scenario: "echo", Label: cfg.label, Time: time.Now()}, Clients: cfg.clients, PayloadBytes: cfg.payload}
	conns := make([]sess, 0, cfg.clients)
	for i := 0; i < cfg.clients; i++ {
		c, err := connect(cfg.addr, cfg.timeout, 4096)
		if err != nil {
			res.Failures++
			continue
		}
		conns = append(conns, c)
	}
	var (
		h         hist
		measuring atomic.Bool
		stop      atomic.Bool
		acks      atomic.Int64
		failures  atomic.Int64
		wg        sync.WaitGroup
	)
	padding := `,"` + pad(cfg.payload) + `"]`
	// One closed loop per connection, driven from the poller: an ack
	// arrives, the next emit goes out at once from the same goroutine.
	type loop struct {
		id   uint64
		sent time.Time
		out  []byte
		want []byte
	}
	loops := make([]loop, len(conns))
	send := func(c *epConn) {
		l := &loops[c.id]
		l.id++
		l.out = appendEcho(l.out[:0], l.id, padding)
		l.want = appendAckPrefix(l.want[:0], l.id)
		l.sent = time.Now()
		if c.write(0x1, l.out) != nil && !stop.Load() {
			failures.Add(1)
		}
	}
	p, err := newClientLoop(func(c *epConn, m []byte) {
		l := &loops[c.id]
		if !bytes.HasPrefix(m, l.want) {
			return
		}
		if measuring.Load() {
			h.record(time.Since(l.sent))
			acks.Add(1)
		}
		if !stop.Load() {
			send(c)
		}
	}, func(*epConn, error) {
		if !stop.Load() {
			failures.Add(1)
		}
	})
	if err != nil {
		fatalf("%v", err)
	}
	ecs := make([]*epConn, 0, len(conns))
	for i, c := range conns {
		ec, err := p.adopt(c, i, 4096)
		if err != nil {
			fatalf("%v", err)
		}
		ecs = append(ecs, ec)
	}
	wg.Add(1)
	go func() { defer wg.Done(); p.run() }()
	for _, ec := range ecs {
		send(ec)
	}
	time.Sleep(cfg.warmup)
	m := startCPU(cfg.pid)
	measuring.Store(true)
	time.Sleep(cfg.duration)
	measuring.Store(false)
	m.stop()
	stop.Store(true)
	p.stop()
	wg.Wait()

	res.DurationS = m.wall.Seconds()
	res.Acks = acks.Load()
	res.AcksPerSec = float64(res.Acks) / m.wall.Seconds()
	res.Latency = h.summary()
	res.ServerCPUUs = perOp(m.server, res.Acks)
	res.ServerUtil = m.serverUtil()
	res.CoreCPUUs = perOp(m.core, res.Acks)
	res.GenCPU = m.selfUtil()
	res.GenCPUUs = perOp(m.me, res.Acks)
	res.Failures += failures.Load()
	logf("echo %-8s c=%d: %.0f acks/s  p50 %.3f ms  p99 %.3f ms  p99.9 %.3f ms  server %.2f µs/ack (%.0f%% CPU; core %.2f µs)  generator %.2f µs/ack (%.0f%%)  failures %d",
		cfg.label, len(conns), res.AcksPerSec, res.Latency.P50, res.Latency.P99, res.Latency.P999,
		res.ServerCPUUs, 100*res.ServerUtil, res.CoreCPUUs, res.GenCPUUs, 100*res.GenCPU, res.Failures)
	return res
}

// appendEcho appends 42<id>["echo",<id><padding>: an echo event asking for
// acknowledgement id, its sequence number the same id; padding closes the
// array (`,"xxx"]`).
func appendEcho(b []byte, id uint64, padding string) []byte {
	b = append(b, `42`...)
	b = strconv.AppendUint(b, id, 10)
	b = append(b, `["echo",`...)
	b = strconv.AppendUint(b, id, 10)
	return append(b, padding...)
}

// appendAckPrefix appends 43<id>[, how the acknowledgement of appendEcho's
// event id begins.
func appendAckPrefix(b []byte, id uint64) []byte {
	b = append(b, `43`...)
	b = strconv.AppendUint(b, id, 10)
	return append(b, '[')
}
