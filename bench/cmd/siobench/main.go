// Command siobench is the load generator of the Switchboard benchmarks. It
// speaks Engine.IO v4 / Socket.IO v5 over WebSocket directly (pre-encoded
// text frames, see wsconn.go) to any server implementing the benchmark
// contract (bench/README.md), and measures one scenario:
//
//	conns      ramp to N idle connections at a bounded rate, hold, report the
//	           server's RSS per connection at checkpoints, and failures
//	echo       C clients, closed loop: emit "echo" with an ack, wait for it;
//	           acks/s and latency percentiles
//	broadcast  N receivers; one of them publishes "broadcast" with a
//	           sequence number and a timestamp, the server emits it to every
//	           socket. A window-limited maximum-throughput phase, then a
//	           rate sweep that stops at saturation (p99 over the limit or a
//	           lost message)
//	flood      C paced echo clients (one emit every -interval each), p50/p99
//	           alone, then while one more connection floods the same event
//	           as fast as the server reads it: does one client's flood
//	           reach the others (with and without a server rate limit)?
//
// Every scenario reports the server's CPU time per operation, read from
// /proc/PID/stat, and the generator's own CPU use. Runs are bounded in time
// and count, target loopback only, print a readable summary and, as the
// last line of standard output, one JSON object (also appended to -out).
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"
)

type config struct {
	addr     string // the first of addrs
	addrs    []string
	pid      int // the first of pids
	pids     []int
	redisPid int
	label    string
	scenario string
	out      string
	debugURL string
	timeout  time.Duration

	// conns
	n           int
	rate        int
	checkpoints []int
	hold        time.Duration
	settle      time.Duration

	// echo
	clients  int
	warmup   time.Duration
	duration time.Duration
	payload  int

	// flood
	interval time.Duration

	// broadcast
	receivers int
	rates     []int
	step      time.Duration
	maxP99    time.Duration
	maxPhase  time.Duration
	window    int
	drain     time.Duration
}

func main() {
	var cfg config
	var checkpoints, rates, cores, addrs, pids string
	flag.StringVar(&addrs, "addr", "127.0.0.1:3000", "server host:port (loopback only); broadcast: a comma-separated list of the nodes of one cluster, receivers spread over them round-robin, the publisher on the first")
	flag.StringVar(&pids, "pid", "", "server process id, for CPU and RSS from /proc (empty: not measured); broadcast: a comma-separated list, one per -addr node, CPU summed")
	flag.IntVar(&cfg.redisPid, "redis-pid", 0, "broadcast: Redis server process id, its CPU reported apart (0: not measured)")
	flag.StringVar(&cfg.label, "label", "", "name of the server under test, copied into the JSON")
	flag.StringVar(&cfg.scenario, "scenario", "echo", "conns, echo, broadcast or flood")
	flag.StringVar(&cfg.out, "out", "", "append the JSON result line to this file")
	flag.StringVar(&cfg.debugURL, "debug", "", "Go server debug address serving /debug/memstats (optional)")
	flag.DurationVar(&cfg.timeout, "dial-timeout", 10*time.Second, "connect and handshake timeout")

	flag.IntVar(&cfg.n, "n", 10000, "conns: connections to open")
	flag.IntVar(&cfg.rate, "rate", 2000, "conns: connections opened per second at most")
	flag.StringVar(&cores, "server-cpus", "", "CPUs the server is pinned to (e.g. 0): also report their busy time, softirq included, per operation")
	flag.StringVar(&checkpoints, "checkpoints", "1000,2500,5000,10000", "conns: connection counts at which RSS is sampled")
	flag.DurationVar(&cfg.hold, "hold", 5*time.Second, "conns: how long to hold N idle connections")
	flag.DurationVar(&cfg.settle, "settle", time.Second, "conns: pause at each checkpoint before sampling")

	flag.IntVar(&cfg.clients, "c", 50, "echo, flood: concurrent clients")
	flag.DurationVar(&cfg.warmup, "warmup", 2*time.Second, "echo, broadcast: unmeasured warm-up (broadcast: a window-limited flood)")
	flag.DurationVar(&cfg.duration, "duration", 5*time.Second, "echo, flood: measured time (flood: of each phase)")
	flag.DurationVar(&cfg.interval, "interval", 10*time.Millisecond, "flood: each paced client's emit interval")
	flag.IntVar(&cfg.payload, "payload", 64, "echo, broadcast: padding string length in bytes")

	flag.IntVar(&cfg.receivers, "receivers", 1000, "broadcast: receiving connections (one also publishes)")
	flag.StringVar(&rates, "rates", "20,50,100,150,200,300,400,600", "broadcast: publish rates (messages/s) of the sweep; empty: no sweep")
	flag.DurationVar(&cfg.step, "step", 4*time.Second, "broadcast: duration of one sweep step")
	flag.DurationVar(&cfg.maxP99, "max-p99", 100*time.Millisecond, "broadcast: p99 above this means saturated")
	flag.DurationVar(&cfg.maxPhase, "max-phase", 3*time.Second, "broadcast: duration of the maximum-throughput phase (0: skip)")
	flag.IntVar(&cfg.window, "window", 8, "broadcast: messages in flight in the maximum-throughput phase")
	transport := flag.String("transport", "websocket", "websocket, or polling: HTTP long-polling clients that never upgrade (each holds one pending GET; a second connection carries its POSTs)")
	flag.BoolVar(&useTLS, "tls", false, "connect through TLS (wss://, https://), accepting any certificate")
	flag.BoolVar(&useDeflate, "deflate", false, "offer permessage-deflate in the WebSocket handshake (as browsers do: client_max_window_bits) and inflate compressed messages")
	flag.DurationVar(&cfg.drain, "drain", 3*time.Second, "broadcast: wait at most this long for stragglers after a step")
	cpuProfile := flag.String("cpuprofile", "", "write the generator's own CPU profile to this file (what a run costs the generator)")
	flag.Parse()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fatalf("-cpuprofile: %v", err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fatalf("-cpuprofile: %v", err)
		}
		defer func() {
			pprof.StopCPUProfile()
			_ = f.Close()
		}()
	}
	// The epoll loops block in epoll_wait, holding their P until the
	// runtime's monitor hands it off (up to milliseconds when idle); a
	// second P lets the publisher run meanwhile, even on one pinned core.
	if runtime.GOMAXPROCS(0) < 2 {
		runtime.GOMAXPROCS(2)
	}

	switch *transport {
	case "websocket":
	case "polling":
		usePolling = true
	default:
		fatalf("-transport: websocket or polling")
	}
	var err error
	for _, a := range strings.Split(addrs, ",") {
		if a = strings.TrimSpace(a); a != "" {
			cfg.addrs = append(cfg.addrs, a)
		}
	}
	if len(cfg.addrs) == 0 {
		fatalf("-addr: no address")
	}
	if len(cfg.addrs) > 1 && cfg.scenario != "broadcast" {
		fatalf("-addr: several servers only in the broadcast scenario")
	}
	cfg.addr = cfg.addrs[0]
	if cfg.pids, err = intList(pids); err != nil {
		fatalf("-pid: %v", err)
	}
	if len(cfg.pids) > 0 {
		cfg.pid = cfg.pids[0]
	}
	if cfg.checkpoints, err = intList(checkpoints); err != nil {
		fatalf("-checkpoints: %v", err)
	}
	if cfg.rates, err = intList(rates); err != nil {
		fatalf("-rates: %v", err)
	}
	if serverCores, err = intList0(cores); err != nil {
		fatalf("-server-cpus: %v", err)
	}
	for _, a := range cfg.addrs {
		if err := loopbackOnly(a); err != nil {
			fatalf("%v", err)
		}
	}

	var res any
	switch cfg.scenario {
	case "conns":
		res = runConns(&cfg)
	case "echo":
		res = runEcho(&cfg)
	case "broadcast":
		res = runBroadcast(&cfg)
	case "flood":
		res = runFlood(&cfg)
	case "flooder":
		runFlooder(&cfg) // the flood scenario's child process; never returns
	default:
		fatalf("unknown scenario %q", cfg.scenario)
	}
	logf("path %s", pathName())
	switch r := res.(type) {
	case *connsResult:
		r.Path, r.LoadAvg = pathName(), loadAvg()
	case *echoResult:
		r.Path, r.LoadAvg = pathName(), loadAvg()
	case *broadcastResult:
		r.Path, r.LoadAvg = pathName(), loadAvg()
	}
	line, err := json.Marshal(res)
	if err != nil {
		fatalf("%v", err)
	}
	fmt.Println(string(line))
	if cfg.out != "" {
		f, err := os.OpenFile(cfg.out, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			fatalf("%v", err)
		}
		_, _ = f.Write(append(line, '\n'))
		_ = f.Close()
	}
}

// loopbackOnly refuses any target that is not on this machine.
func loopbackOnly(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	ips, err := net.LookupIP(host)
	if err != nil {
		return err
	}
	for _, ip := range ips {
		if !ip.IsLoopback() {
			return fmt.Errorf("%s is not a loopback address: siobench only targets this machine", addr)
		}
	}
	return nil
}

func intList(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		v, err := strconv.Atoi(f)
		if err != nil || v <= 0 {
			return nil, fmt.Errorf("bad number %q", f)
		}
		out = append(out, v)
	}
	return out, nil
}

// intList0 is intList accepting zeros.
func intList0(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		v, err := strconv.Atoi(f)
		if err != nil || v < 0 {
			return nil, fmt.Errorf("bad number %q", f)
		}
		out = append(out, v)
	}
	return out, nil
}

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "siobench: "+format+"\n", args...)
	os.Exit(1)
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stdout, format+"\n", args...)
}

// header is the part of every JSON result that says what ran.
type header struct {
	Scenario string    `json:"scenario"`
	Label    string    `json:"label"`
	Time     time.Time `json:"time"`
	GenCPU   float64   `json:"generator_cpu_util"` // fraction of one core
	Failures int64     `json:"failures"`
	// Path is the deployment path: transport, "+tls", and what the
	// server answered to the permessage-deflate offer (-deflate):
	// "+deflate" (no context takeover) or "+deflate-takeover".
	Path string `json:"path"`
	// LoadAvg is /proc/loadavg's 1-, 5- and 15-minute figures at the end.
	LoadAvg string `json:"loadavg"`
}

func loadAvg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	return strings.Join(f[:min(3, len(f))], " ")
}

// pathName describes the configured deployment path and, for -deflate,
// the negotiation seen on the first WebSocket.
func pathName() string {
	p := "websocket"
	if usePolling {
		p = "polling"
	}
	if useTLS {
		p += "+tls"
	}
	if useDeflate {
		switch deflateSeen.Load() {
		case 1:
			p += "+deflate"
		case 2:
			p += "+deflate-takeover"
		default:
			p += "+deflate-refused"
		}
	}
	return p
}

// memStats fetches the Go server's runtime figures, if it serves them.
func memStats(url string) map[string]any {
	if url == "" {
		return nil
	}
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get("http://" + url + "/debug/memstats")
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if json.Unmarshal(b, &m) != nil {
		return nil
	}
	return m
}

// pad returns a JSON-safe string of n bytes.
func pad(n int) string { return strings.Repeat("x", n) }
