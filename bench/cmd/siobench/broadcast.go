package main

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

type broadcastStep struct {
	Rate           int     `json:"rate"` // messages/s published (0: window-limited maximum)
	Messages       int64   `json:"messages"`
	Expected       int64   `json:"expected_deliveries"`
	Delivered      int64   `json:"delivered"`
	Lost           int64   `json:"lost"`
	DeliveriesPerS float64 `json:"deliveries_per_s"`
	Latency        latency `json:"latency"`
	ServerCPUUs    float64 `json:"server_cpu_us_per_delivery"`
	ServerUtil     float64 `json:"server_cpu_util"`
	// ServerSysUs is the part of ServerCPUUs spent in the kernel (system
	// time): the floor no user-space work can lower.
	ServerSysUs float64 `json:"server_sys_cpu_us_per_delivery"`
	// With several nodes: each node's CPU per delivery (of all
	// deliveries) and utilisation, in -addr order; ServerCPUUs is their sum.
	NodeCPUUs  []float64 `json:"node_cpu_us_per_delivery,omitempty"`
	NodeUtil   []float64 `json:"node_cpu_util,omitempty"`
	RedisCPUUs float64   `json:"redis_cpu_us_per_delivery,omitempty"`
	RedisUtil  float64   `json:"redis_cpu_util,omitempty"`
	CoreCPUUs  float64   `json:"server_core_cpu_us_per_delivery,omitempty"`
	GenCPUUs   float64   `json:"generator_cpu_us_per_delivery"`
	GenUtil    float64   `json:"generator_cpu_util"`
	Saturated  bool      `json:"saturated"`
}

type broadcastResult struct {
	header
	Receivers    int             `json:"receivers"`
	Nodes        int             `json:"nodes"`
	PayloadBytes int             `json:"payload_bytes"`
	Max          *broadcastStep  `json:"max,omitempty"`
	Steps        []broadcastStep `json:"steps"`
	// SaturationRate is the highest swept rate whose p99 stayed under the
	// limit with nothing lost; SustainedDeliveries its deliveries/s.
	SaturationRate      int     `json:"saturation_rate"`
	SustainedDeliveries float64 `json:"sustained_deliveries_per_s"`
	Disconnected        int64   `json:"disconnected"`
}

// bcastState is shared by the receivers.
type bcastState struct {
	epoch     time.Time
	h         hist
	delivered atomic.Int64
	gaps      atomic.Int64
	// done counts, per sequence number modulo the ring, the receivers that
	// got it; completed counts messages every receiver got.
	done      [1 << 16]atomic.Int32
	completed atomic.Int64
	n         int32
}

var bcastPrefix = []byte(`42["broadcast",`)

// parseBroadcast extracts seq and the timestamp from
// 42["broadcast",<seq>,<t>,"<pad>"].
func parseBroadcast(m []byte) (seq, t int64, ok bool) {
	if !bytes.HasPrefix(m, bcastPrefix) {
		return 0, 0, false
	}
	m = m[len(bcastPrefix):]
	num := func() (int64, bool) {
		var v int64
		i := 0
		for ; i < len(m) && m[i] >= '0' && m[i] <= '9'; i++ {
			v = v*10 + int64(m[i]-'0')
		}
		if i == 0 || i >= len(m) || m[i] != ',' {
			return 0, false
		}
		m = m[i+1:]
		return v, true
	}
	var ok1, ok2 bool
	seq, ok1 = num()
	t, ok2 = num()
	return seq, t, ok1 && ok2
}

func (st *bcastState) receive(c *epConn, m []byte) {
	seq, t, ok := parseBroadcast(m)
	if !ok {
		return
	}
	st.h.record(time.Since(st.epoch) - time.Duration(t))
	st.delivered.Add(1)
	if c.last >= 0 && seq != c.last+1 {
		st.gaps.Add(seq - c.last - 1)
	}
	c.last = seq
	if st.done[seq%int64(len(st.done))].Add(1) == st.n {
		st.done[seq%int64(len(st.done))].Store(0)
		st.completed.Add(1)
	}
}

// runBroadcast connects cfg.receivers sockets, receiver i to node
// cfg.addrs[i % len(cfg.addrs)]; the first also publishes (so on the first
// node).
func runBroadcast(cfg *config) *broadcastResult {
	res := &broadcastResult{header: header{Scenario: "broadcast", Label: cfg.label, Time: time.Now()}, Receivers: cfg.receivers, Nodes: len(cfg.addrs), PayloadBytes: cfg.payload}
	st := &bcastState{epoch: time.Now()}
	var (
		slots        = make([]sess, cfg.receivers)
		conns        []sess
		wg, rwg      sync.WaitGroup
		failures     atomic.Int64
		disconnected atomic.Int64
		stop         atomic.Bool
	)
	sem := make(chan struct{}, 64)
	for i := 0; i < cfg.receivers; i++ {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := connect(cfg.addrs[i%len(cfg.addrs)], cfg.timeout, 4096)
			<-sem
			if err != nil {
				failures.Add(1)
				return
			}
			slots[i] = c
		}()
	}
	wg.Wait()
	res.Failures = failures.Load()
	if slots[0] == nil {
		logf("broadcast %s: the publisher could not connect to %s", cfg.label, cfg.addr)
		return res
	}
	for _, c := range slots {
		if c != nil {
			conns = append(conns, c)
		}
	}
	st.n = int32(len(conns))
	p, err := newClientLoop(st.receive, func(_ *epConn, err error) {
		if !stop.Load() {
			// Said once per receiver lost: why, for the next reader.
			logf("broadcast %s: a receiver's session ended during the run: %v", cfg.label, err)
			disconnected.Add(1)
		}
	})
	if err != nil {
		fatalf("%v", err)
	}
	var pub *epConn
	for i, c := range conns {
		ec, err := p.adopt(c, i, 4096)
		if err != nil {
			fatalf("%v", err)
		}
		if i == 0 {
			pub = ec
		}
	}
	rwg.Add(1)
	go func() { defer rwg.Done(); p.run() }()
	time.Sleep(500 * time.Millisecond) // let every receiver settle
	suffix := `,"` + pad(cfg.payload) + `"]`
	var seq int64
	var frame []byte
	publish := func(t time.Duration) error {
		frame = append(frame[:0], bcastPrefix...)
		frame = strconv.AppendInt(frame, seq, 10)
		frame = append(frame, ',')
		frame = strconv.AppendInt(frame, int64(t), 10)
		frame = append(frame, suffix...)
		seq++
		return pub.write(0x1, frame)
	}
	n := int64(len(conns))

	// runStep measures one phase: send runs the publisher and returns the
	// messages sent; the step ends when every delivery arrived or the drain
	// time passed.
	runStep := func(rate int, send func() int64) broadcastStep {
		st.h.reset()
		d0 := st.delivered.Load()
		m := startCPU(cfg.pids...)
		rm := startCPU(cfg.redisPid)
		sent := send()
		expected := sent * n
		deadline := time.Now().Add(cfg.drain)
		for st.delivered.Load()-d0 < expected && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		m.stop()
		rm.stop()
		got := st.delivered.Load() - d0
		s := broadcastStep{
			Rate: rate, Messages: sent, Expected: expected, Delivered: got,
			Lost:           max(expected-got, 0),
			DeliveriesPerS: float64(got) / m.wall.Seconds(),
			Latency:        st.h.summary(),
			ServerCPUUs:    perOp(m.server, got),
			ServerSysUs:    perOp(m.sys, got),
			ServerUtil:     m.serverUtil(),
			CoreCPUUs:      perOp(m.core, got),
			GenCPUUs:       perOp(m.me, got),
			GenUtil:        m.selfUtil(),
		}
		if len(m.each) > 1 {
			for _, c := range m.each {
				s.NodeCPUUs = append(s.NodeCPUUs, perOp(c, got))
				s.NodeUtil = append(s.NodeUtil, c.Seconds()/m.wall.Seconds())
			}
		}
		if cfg.redisPid > 0 {
			s.RedisCPUUs = perOp(rm.server, got)
			s.RedisUtil = rm.serverUtil()
		}
		s.Saturated = s.Lost > 0 || time.Duration(s.Latency.P99*float64(time.Millisecond)) > cfg.maxP99
		return s
	}

	// flood publishes for d keeping at most cfg.window messages not yet
	// received by everyone.
	flood := func(d time.Duration) int64 {
		end := time.Now().Add(d)
		c0 := st.completed.Load()
		var sent int64
		for time.Now().Before(end) {
			if sent-(st.completed.Load()-c0) >= int64(cfg.window) {
				time.Sleep(50 * time.Microsecond)
				continue
			}
			if publish(time.Since(st.epoch)) != nil {
				break
			}
			sent++
		}
		return sent
	}
	if cfg.warmup > 0 {
		// Unmeasured: lets a JIT-compiled server warm up.
		runStep(0, func() int64 { return flood(cfg.warmup) })
	}
	if cfg.maxPhase > 0 {
		// Window-limited flood: at most cfg.window messages not yet received
		// by everyone; measures the deliveries/s the server sustains.
		s := runStep(0, func() int64 { return flood(cfg.maxPhase) })
		res.Max = &s
		logf("broadcast %-8s n=%d max:  %8.0f deliveries/s  p50 %7.2f ms  p99 %7.2f ms  server %.2f µs/delivery (%.0f%%; core %.2f µs)  generator %.2f µs (%.0f%%)  lost %d",
			cfg.label, n, s.DeliveriesPerS, s.Latency.P50, s.Latency.P99, s.ServerCPUUs, 100*s.ServerUtil, s.CoreCPUUs, s.GenCPUUs, 100*s.GenUtil, s.Lost)
		logCluster(s)
	}

	for _, rate := range cfg.rates {
		interval := time.Second / time.Duration(rate)
		s := runStep(rate, func() int64 {
			count := int64(rate) * int64(cfg.step) / int64(time.Second)
			start := time.Since(st.epoch)
			for k := int64(0); k < count; k++ {
				// Timestamp = scheduled send time, so a server that makes the
				// publisher wait is charged the wait (no coordinated omission).
				at := start + time.Duration(k)*interval
				if d := at - time.Since(st.epoch); d > 0 {
					time.Sleep(d)
				}
				if publish(at) != nil {
					return k
				}
			}
			return count
		})
		res.Steps = append(res.Steps, s)
		logf("broadcast %-8s n=%d rate %4d/s: %8.0f deliveries/s  p50 %7.2f ms  p99 %7.2f ms  p99.9 %7.2f ms  server %.2f µs/delivery (%.0f%%; core %.2f µs)  generator %.2f µs (%.0f%%)  lost %d",
			cfg.label, n, rate, s.DeliveriesPerS, s.Latency.P50, s.Latency.P99, s.Latency.P999, s.ServerCPUUs, 100*s.ServerUtil, s.CoreCPUUs, s.GenCPUUs, 100*s.GenUtil, s.Lost)
		logCluster(s)
		if s.Saturated {
			break
		}
		res.SaturationRate = rate
		res.SustainedDeliveries = s.DeliveriesPerS
	}
	if len(cfg.rates) > 0 {
		logf("broadcast %-8s n=%d: saturation rate %d msg/s (%.0f deliveries/s sustained)", cfg.label, n, res.SaturationRate, res.SustainedDeliveries)
	}

	stop.Store(true)
	p.stop()
	rwg.Wait()
	res.Disconnected = disconnected.Load()
	res.Failures += res.Disconnected + st.gaps.Load()
	res.GenCPU = 0
	if res.Max != nil {
		res.GenCPU = res.Max.GenUtil
	}
	return res
}

// logCluster prints a cluster step's split: each node's CPU and Redis's.
func logCluster(s broadcastStep) {
	if len(s.NodeCPUUs) == 0 && s.RedisUtil == 0 {
		return
	}
	var b strings.Builder
	for i, c := range s.NodeCPUUs {
		fmt.Fprintf(&b, "  node%d %.2f µs (%.0f%%)", i+1, c, 100*s.NodeUtil[i])
	}
	if s.RedisUtil > 0 {
		fmt.Fprintf(&b, "  redis %.2f µs (%.0f%%)", s.RedisCPUUs, 100*s.RedisUtil)
	}
	logf("%s", b.String())
}
