// Command pathsummary turns the raw results of bench/paths.sh (one JSON
// line per siobench run, labels "go-<path>" and "node-<path>") into a
// Markdown table of the Go and Node figures per deployment path and their
// ratios against the targets of issue 21.
//
//	pathsummary -in results/DATE-paths/raw.jsonl [-out summary.md] [-light 20]
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// result holds the fields of siobench's JSON lines that the summary uses.
type result struct {
	Scenario  string  `json:"scenario"`
	Label     string  `json:"label"`
	Path      string  `json:"path"`
	LoadAvg   string  `json:"loadavg"`
	Failures  int64   `json:"failures"`
	KiBPer    float64 `json:"kib_per_conn"`
	Connected int64   `json:"connected"`
	AckCPU    float64 `json:"server_cpu_us_per_ack"`
	AcksPerS  float64 `json:"acks_per_s"`
	Receivers int     `json:"receivers"`
	Max       *step   `json:"max"`
	Steps     []step  `json:"steps"`
}

type step struct {
	Rate           int     `json:"rate"`
	DeliveriesPerS float64 `json:"deliveries_per_s"`
	ServerCPUUs    float64 `json:"server_cpu_us_per_delivery"`
	ServerSysUs    float64 `json:"server_sys_cpu_us_per_delivery"`
	Lost           int64   `json:"lost"`
	Latency        struct {
		P99 float64 `json:"p99_ms"`
	} `json:"latency"`
}

// targets of issue 21 per path: memory per idle connection, CPU per
// delivery (Go/Node at most), delivery rate per client (Go/Node at least).
type target struct{ mem, cpu, rate float64 }

var targets = map[string]target{
	"plain":       {mem: 0.33, cpu: 0.65},
	"tls":         {mem: 0.33, cpu: 0.65},
	"tls-polling": {mem: 0.33, cpu: 0.65, rate: 1},
	"polling":     {mem: 0.33, cpu: 0.65, rate: 1},
	// The same clients and Node server; Go with its own HTTP front
	// (Server.Serve) instead of net/http.
	"polling-front": {mem: 0.33, cpu: 0.65, rate: 1},
	// Over TLS, Go with its front (Server.ServeTLS).
	"tls-front":         {mem: 0.33, cpu: 0.65},
	"tls-polling-front": {mem: 0.33, cpu: 0.65, rate: 1},
	"deflate":           {mem: 0.5, cpu: 0.65},
}

func main() {
	in := flag.String("in", "", "raw.jsonl written by paths.sh")
	out := flag.String("out", "", "also write the Markdown here")
	light := flag.Int("light", 20, "the broadcast rate (msg/s) whose CPU per delivery is the light-load figure")
	flag.Parse()
	f, err := os.Open(*in)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer f.Close()
	md, err := summarize(f, *light)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Print(md)
	if *out != "" {
		if err := os.WriteFile(*out, []byte(md), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
}

// key is (server, path, scenario); the last result of each wins.
type key struct{ server, path, scenario string }

func summarize(r io.Reader, light int) (string, error) {
	res := map[key]result{}
	var paths []string
	seen := map[string]bool{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var x result
		if err := json.Unmarshal(sc.Bytes(), &x); err != nil {
			return "", err
		}
		server, path, ok := strings.Cut(x.Label, "-")
		if !ok || strings.HasSuffix(path, "-profile") {
			continue
		}
		res[key{server, path, x.Scenario}] = x
		if !seen[path] {
			seen[path] = true
			paths = append(paths, path)
		}
	}
	if err := sc.Err(); err != nil {
		return "", err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "| path | metric | Go | Node | Go/Node | target | met | load (Go; Node) |\n|---|---|---|---|---|---|---|---|\n")
	row := func(path, metric string, g, n result, gv, nv float64, tgt float64, atMost bool) {
		ratio := "–"
		met := ""
		if nv > 0 && gv > 0 {
			q := gv / nv
			ratio = fmt.Sprintf("%.2f", q)
			if tgt > 0 {
				if (atMost && q <= tgt) || (!atMost && q >= tgt) {
					met = "yes"
				} else {
					met = "**no**"
				}
			}
		}
		t := ""
		if tgt > 0 {
			if atMost {
				t = fmt.Sprintf("≤ %.2f", tgt)
			} else {
				t = fmt.Sprintf("≥ %.2f", tgt)
			}
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s; %s |\n", path, metric, num(gv, g.Failures), num(nv, n.Failures), ratio, t, met, g.LoadAvg, n.LoadAvg)
	}
	for _, p := range paths {
		tg := targets[p]
		name := p
		if g := res[key{"go", p, "conns"}]; g.Path != "" {
			name = fmt.Sprintf("%s (`%s` / `%s`)", p, g.Path, res[key{"node", p, "conns"}].Path)
		}
		if p == "deflate" {
			if g := res[key{"go", p, "echo"}]; g.Path != "" {
				name = fmt.Sprintf("%s (`%s` / `%s`)", p, g.Path, res[key{"node", p, "echo"}].Path)
			}
		}
		g, n := res[key{"go", p, "conns"}], res[key{"node", p, "conns"}]
		row(name, fmt.Sprintf("KiB per idle client (%d)", g.Connected), g, n, g.KiBPer, n.KiBPer, tg.mem, true)
		g, n = res[key{"go", p, "echo"}], res[key{"node", p, "echo"}]
		row(p, "CPU µs per echo ack", g, n, g.AckCPU, n.AckCPU, 0, true)
		row(p, "echo acks/s", g, n, g.AcksPerS, n.AcksPerS, 0, false)
		g, n = res[key{"go", p, "broadcast"}], res[key{"node", p, "broadcast"}]
		// The light-load figure: at -light msg/s, or at the highest rate
		// both servers were measured at below it (the sweep stops at a
		// server's saturation).
		r := commonRate(g, n, light)
		gs, ns := stepAt(g, r), stepAt(n, r)
		row(p, fmt.Sprintf("CPU µs per delivery, %d msg/s × %d", r, g.Receivers), g, n, gs.ServerCPUUs, ns.ServerCPUUs, tg.cpu, true)
		if gs.ServerSysUs > 0 && ns.ServerSysUs > 0 {
			// The kernel's part (system time: the sockets' reads, writes
			// and epoll, loopback delivery included), and what the ratio
			// would be with no user-space work at all in the Go server.
			row(p, fmt.Sprintf("of which kernel µs, %d msg/s", r), g, n, gs.ServerSysUs, ns.ServerSysUs, 0, true)
			row(p, "floor: Go kernel µs ÷ Node's whole", g, n, gs.ServerSysUs, ns.ServerCPUUs, 0, true)
		}
		row(p, fmt.Sprintf("p99 ms at %d msg/s", r), g, n, gs.Latency.P99, ns.Latency.P99, 0, true)
		var gm, nm step
		if g.Max != nil {
			gm = *g.Max
		}
		if n.Max != nil {
			nm = *n.Max
		}
		row(p, "flood deliveries/s per client", g, n, perClient(gm, g), perClient(nm, n), tg.rate, false)
		row(p, "CPU µs per delivery, flood", g, n, gm.ServerCPUUs, nm.ServerCPUUs, 0, true)
	}
	b.WriteString("\nA figure marked † comes from a run with failures (failed or dropped connections, lost messages, sequence gaps).\n")
	return b.String(), nil
}

// commonRate is the highest rate at most light that both g and n have a
// step of (light itself when neither has any).
func commonRate(g, n result, light int) int {
	best := 0
	for _, s := range g.Steps {
		if s.Rate <= light && s.Rate > best && stepAt(n, s.Rate).Rate == s.Rate {
			best = s.Rate
		}
	}
	if best == 0 {
		return light
	}
	return best
}

func stepAt(r result, rate int) step {
	for _, s := range r.Steps {
		if s.Rate == rate {
			return s
		}
	}
	return step{}
}

func perClient(s step, r result) float64 {
	if r.Receivers == 0 {
		return 0
	}
	return s.DeliveriesPerS / float64(r.Receivers)
}

func num(v float64, failures int64) string {
	if v == 0 {
		return "–"
	}
	s := fmt.Sprintf("%.2f", v)
	if v >= 100 {
		s = fmt.Sprintf("%.0f", v)
	}
	if failures > 0 {
		s += " †"
	}
	return s
}
