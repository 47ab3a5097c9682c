package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// floodPhase is one measured phase of the flood scenario.
type floodPhase struct {
	Acks        int64   `json:"acks"`
	Missed      int64   `json:"missed_ticks"` // ticks where a client still waited for its previous ack
	Latency     latency `json:"latency"`
	FloodSent   int64   `json:"flood_sent"`
	FloodSentPS float64 `json:"flood_sent_per_s"`
	FloodReplPS float64 `json:"flood_replies_per_s"`
	ServerUtil  float64 `json:"server_cpu_util"`
}

type floodResult struct {
	header
	Clients       int        `json:"clients"`
	IntervalMs    float64    `json:"interval_ms"`
	PayloadBytes  int        `json:"payload_bytes"`
	Alone         floodPhase `json:"alone"`
	Flooded       floodPhase `json:"flooded"`
	P99Ratio      float64    `json:"p99_flooded_over_alone"`
	FlooderClosed bool       `json:"flooder_closed"` // the server dropped the flooder (a disconnecting limit)
}

// runFlood measures what one flooding client does to everyone else: C
// paced clients each emit("echo", seq, pad, ack) every -interval (a
// client still waiting for its ack skips a tick), first alone, then while
// one more connection sends the same event with an ack request as fast as
// the server takes it, reading whatever comes back. The p99 of the paced
// clients' acks in both phases tells whether the flood reached them; a
// server with a per-socket rate limit answers the excess with an error
// ack (or disconnects the flooder) before any handler runs.
func runFlood(cfg *config) *floodResult {
	res := &floodResult{header: header{Scenario: "flood", Label: cfg.label, Time: time.Now()},
		Clients: cfg.clients, IntervalMs: float64(cfg.interval) / 1e6, PayloadBytes: cfg.payload}
	conns := make([]*wsConn, 0, cfg.clients)
	for i := 0; i < cfg.clients; i++ {
		c, err := sioConnect(cfg.addr, nil, cfg.timeout, 4096)
		if err != nil {
			res.Failures++
			continue
		}
		conns = append(conns, c)
	}
	if len(conns) == 0 {
		fatalf("flood: no client connected")
	}
	var (
		h         hist
		measuring atomic.Bool
		stop      atomic.Bool
		acks      atomic.Int64
		missed    atomic.Int64
		failures  atomic.Int64
		wg        sync.WaitGroup
	)
	padding := `,"` + pad(cfg.payload) + `"]`
	type client struct {
		mu      sync.Mutex
		id      uint64
		waiting bool
		sent    time.Time
		out     []byte
		want    []byte
	}
	clients := make([]client, len(conns))
	p, err := newPoller(func(c *epConn, m []byte) {
		cl := &clients[c.id]
		cl.mu.Lock()
		if !cl.waiting || !bytes.HasPrefix(m, cl.want) {
			cl.mu.Unlock()
			return
		}
		cl.waiting = false
		d := time.Since(cl.sent)
		cl.mu.Unlock()
		if measuring.Load() {
			h.record(d)
			acks.Add(1)
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
	wg.Add(2)
	go func() { defer wg.Done(); p.run() }()
	// The pacer: one tick per interval, each client spread evenly within it
	// so that the server does not see all of them at once.
	go func() {
		defer wg.Done()
		step := cfg.interval / time.Duration(len(ecs))
		next := time.Now()
		for i := 0; !stop.Load(); i = (i + 1) % len(ecs) {
			next = next.Add(step)
			if d := time.Until(next); d > 0 {
				time.Sleep(d)
			}
			cl := &clients[i]
			cl.mu.Lock()
			if cl.waiting {
				cl.mu.Unlock()
				if measuring.Load() {
					missed.Add(1)
				}
				continue
			}
			cl.id++
			cl.out = appendEcho(cl.out[:0], cl.id, padding)
			cl.want = appendAckPrefix(cl.want[:0], cl.id)
			cl.waiting = true
			cl.sent = time.Now()
			out := cl.out
			cl.mu.Unlock()
			if ecs[i].write(0x1, out) != nil && !stop.Load() {
				failures.Add(1)
			}
		}
	}()

	phase := func(floodSent, floodReplies *atomic.Int64) floodPhase {
		h.reset()
		acks.Store(0)
		missed.Store(0)
		var sent0, repl0 int64
		if floodSent != nil {
			sent0, repl0 = floodSent.Load(), floodReplies.Load()
		}
		m := startCPU(cfg.pid)
		measuring.Store(true)
		time.Sleep(cfg.duration)
		measuring.Store(false)
		m.stop()
		ph := floodPhase{Acks: acks.Load(), Missed: missed.Load(), Latency: h.summary(), ServerUtil: m.serverUtil()}
		if floodSent != nil {
			ph.FloodSent = floodSent.Load() - sent0
			ph.FloodSentPS = float64(ph.FloodSent) / m.wall.Seconds()
			ph.FloodReplPS = float64(floodReplies.Load()-repl0) / m.wall.Seconds()
		}
		return ph
	}

	time.Sleep(cfg.warmup)
	res.Alone = phase(nil, nil)

	// The flooder: another siobench process (-scenario flooder) on the
	// same core at the lowest priority. Busy all the time, it would take
	// threads of this process off the core for a scheduler slice whenever
	// the paced clients need it (their latency, not the server's); at
	// nice 19 the kernel runs the pacer and the poller the moment they
	// wake, and the flooder still gets whatever they leave.
	fl, err := startFlooder(cfg)
	if err != nil {
		fatalf("flood: %v", err)
	}
	floodSent, floodReplies := &fl.sent, &fl.replies
	time.Sleep(cfg.warmup)
	res.Flooded = phase(floodSent, floodReplies)
	stop.Store(true)
	res.FlooderClosed = fl.stop()
	p.stop()
	wg.Wait()

	if res.Alone.Latency.P99 > 0 {
		res.P99Ratio = res.Flooded.Latency.P99 / res.Alone.Latency.P99
	}
	res.Failures += failures.Load()
	logf("flood %-8s c=%d every %v: alone p50 %.3f ms p99 %.3f ms (%.0f%% CPU, %d missed); flooded p50 %.3f ms p99 %.3f ms (%.0f%% CPU, %d missed, flood %.0f sent/s %.0f replies/s%s)  p99 ratio %.2f  failures %d",
		cfg.label, len(conns), cfg.interval,
		res.Alone.Latency.P50, res.Alone.Latency.P99, 100*res.Alone.ServerUtil, res.Alone.Missed,
		res.Flooded.Latency.P50, res.Flooded.Latency.P99, 100*res.Flooded.ServerUtil, res.Flooded.Missed,
		res.Flooded.FloodSentPS, res.Flooded.FloodReplPS, map[bool]string{true: ", flooder dropped", false: ""}[res.FlooderClosed],
		res.P99Ratio, res.Failures)
	return res
}

// flooder is the child process of the flood scenario, as seen from runFlood.
type flooder struct {
	cmd           *exec.Cmd
	sent, replies atomic.Int64
	closed        atomic.Bool
	done          chan struct{}
}

func startFlooder(cfg *config) (*flooder, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	args := []string{self, "-scenario", "flooder", "-addr", cfg.addr, "-payload", strconv.Itoa(cfg.payload),
		"-dial-timeout", cfg.timeout.String()}
	// Under a real-time policy (bench/flood.sh runs the generator with
	// chrt -f, so that the machine's other work does not time it), the
	// flooder gets the lowest real-time priority: it runs whenever the
	// paced clients and the poller do not, and yields to them the moment
	// they wake. Otherwise it runs at nice 19 (set below), to the same
	// effect against this process alone.
	rt := false
	if a, err := unix.SchedGetAttr(0, 0); err == nil && a.Policy == unix.SCHED_FIFO {
		chrt, err := exec.LookPath("chrt")
		if err != nil {
			return nil, fmt.Errorf("flooder: under SCHED_FIFO without chrt: %v", err)
		}
		args = append([]string{chrt, "-o", "0", "nice", "-n", "-20"}, args...)
		rt = true
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	if err := syscall.Setpriority(syscall.PRIO_PROCESS, cmd.Process.Pid, 19); !rt && err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return nil, fmt.Errorf("flooder priority: %v", err)
	}
	f := &flooder{cmd: cmd, done: make(chan struct{})}
	connected := make(chan error, 1)
	go func() {
		defer close(f.done)
		sc := bufio.NewScanner(out)
		first := true
		for sc.Scan() {
			var sent, replies int64
			var closed int
			if _, err := fmt.Sscanf(sc.Text(), "%d %d %d", &sent, &replies, &closed); err != nil {
				continue
			}
			f.sent.Store(sent)
			f.replies.Store(replies)
			f.closed.Store(closed != 0)
			if first {
				first = false
				connected <- nil
			}
		}
		if first {
			connected <- errors.New("the flooder did not connect")
		}
	}()
	select {
	case err := <-connected:
		if err != nil {
			_ = cmd.Wait()
			return nil, err
		}
	case <-time.After(cfg.timeout):
		_ = cmd.Process.Kill()
		<-f.done
		_ = cmd.Wait()
		return nil, errors.New("the flooder did not connect in time")
	}
	return f, nil
}

// stop ends the flooder and tells whether the server had dropped it.
func (f *flooder) stop() bool {
	_ = f.cmd.Process.Signal(syscall.SIGTERM)
	<-f.done
	_ = f.cmd.Wait()
	return f.closed.Load()
}

// runFlooder is the flooder process (-scenario flooder, started by the
// flood scenario): one connection sending echo events with ack requests as
// fast as the socket takes them (32 frames per write), a reader discarding what comes back, and
// its counts on standard output every 100 ms ("sent replies closed") until
// SIGTERM.
func runFlooder(cfg *config) {
	fc, err := sioConnect(cfg.addr, nil, cfg.timeout, 64<<10)
	if err != nil {
		fatalf("flooder: %v", err)
	}
	var sent, replies atomic.Int64
	var closed atomic.Bool
	padding := `,"` + pad(cfg.payload) + `"]`
	go func() {
		// floodBatch frames per write: a flooder pipelines, and one
		// system call per frame would make its own CPU the limit.
		const floodBatch = 32
		var pkt, frames []byte
		seq := uint64(0)
		for {
			frames = frames[:0]
			for range floodBatch {
				seq++
				pkt = appendEcho(pkt[:0], seq, padding)
				frames = appendFrame(frames, 0x1, pkt)
			}
			if fc.writeRaw(frames) != nil {
				closed.Store(true)
				return
			}
			sent.Add(floodBatch)
		}
	}()
	go func() {
		for {
			if _, _, err := fc.readMessage(); err != nil {
				closed.Store(true)
				return
			}
			replies.Add(1)
		}
	}()
	term := make(chan os.Signal, 1)
	signal.Notify(term, syscall.SIGTERM, os.Interrupt)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	report := func() {
		c := 0
		if closed.Load() {
			c = 1
		}
		fmt.Printf("%d %d %d\n", sent.Load(), replies.Load(), c)
	}
	report()
	for {
		select {
		case <-tick.C:
			report()
		case <-term:
			report()
			fc.close()
			os.Exit(0)
		}
	}
}
