package main

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// report renders summary.md: every metric per configuration, then the
// ratios the benchmark issue sets as targets.
func report(m metrics, labels []string, recs []record, mainN int) string {
	var b strings.Builder
	reps := 0
	for _, r := range recs {
		if r.Scenario == "echo" && r.Label == labels[0] {
			reps++
		}
	}
	fmt.Fprintf(&b, "Median (min–max) over %d repetition(s). CPU is the server process's user+system time from /proc/PID/stat; \"core\" adds what the kernel spent on the server's pinned core outside the process (softirq: loopback delivery), from /proc/stat.\n\n", reps)
	fmt.Fprintf(&b, "| metric | %s |\n|---|%s\n", strings.Join(labels, " | "), strings.Repeat("---|", len(labels)))
	row := func(title, name string) {
		cells := make([]string, len(labels))
		any := false
		for i, l := range labels {
			s := m.stat(l, name)
			cells[i] = s.String()
			if !math.IsNaN(s.Median) {
				any = true
			}
		}
		if any {
			fmt.Fprintf(&b, "| %s | %s |\n", title, strings.Join(cells, " | "))
		}
	}
	var connN int
	for _, r := range recs {
		if r.Scenario == "conns" {
			connN = max(connN, int(r.Connected))
		}
	}
	row(fmt.Sprintf("KiB RSS per idle connection (%d connections)", connN), "kib_per_conn")
	row("connection failures", "conn_failures")
	row("connects/s during the ramp", "connect_per_s")
	row("echo: acks/s (50 clients, closed loop)", "acks_per_s")
	row("echo: p50 ms", "echo_p50_ms")
	row("echo: p99 ms", "echo_p99_ms")
	row("echo: p99.9 ms", "echo_p999_ms")
	row("echo: server CPU µs per ack", "us_per_ack")
	row("echo: server core µs per ack", "core_us_per_ack")
	row("echo: generator CPU µs per ack", "gen_us_per_ack")
	for _, rate := range []int{50} {
		row(fmt.Sprintf("broadcast %d rcv @%d msg/s: server CPU µs per delivery", mainN, rate), fmt.Sprintf("us_per_delivery@%d", rate))
		row(fmt.Sprintf("broadcast %d rcv @%d msg/s: server core µs per delivery", mainN, rate), fmt.Sprintf("core_us_per_delivery@%d", rate))
	}
	for _, n := range fanouts(m) {
		row(fmt.Sprintf("broadcast %d rcv, max: deliveries/s", n), fmt.Sprintf("max_deliveries_per_s@%d", n))
		row(fmt.Sprintf("broadcast %d rcv, max: server CPU µs per delivery", n), fmt.Sprintf("max_us_per_delivery@%d", n))
		row(fmt.Sprintf("broadcast %d rcv, max: server core µs per delivery", n), fmt.Sprintf("max_core_us_per_delivery@%d", n))
		row(fmt.Sprintf("broadcast %d rcv, max: generator CPU (share of a core)", n), fmt.Sprintf("max_gen_util@%d", n))
	}
	row(fmt.Sprintf("broadcast %d rcv: saturation rate, msg/s (p99 ≤ 100 ms, nothing lost)", mainN), "saturation_rate")
	row(fmt.Sprintf("broadcast %d rcv: sustained deliveries/s at that rate", mainN), "sustained_deliveries_per_s")
	row("broadcast: messages lost below saturation", "lost_below_saturation")
	var rates []int
	for _, l := range labels {
		for _, r := range sweepRates(m, l) {
			if !slices.Contains(rates, r) {
				rates = append(rates, r)
			}
		}
	}
	slices.Sort(rates)
	for _, r := range rates {
		row(fmt.Sprintf("broadcast %d rcv @%d msg/s: p99 ms", mainN, r), fmt.Sprintf("p99_ms@%d", r))
	}

	// Targets.
	fmt.Fprintf(&b, "\n### Targets (Go vs Node socket.io@4 on ws, same run)\n\n| target | Go | reference | ratio | goal | met |\n|---|---|---|---|---|---|\n")
	med := func(l, name string) float64 { return m.stat(l, name).Median }
	target := func(title string, goV, refV float64, goal string, ok func(r float64) bool) {
		r := goV / refV
		met := "no"
		if math.IsNaN(r) || math.IsInf(r, 0) {
			met = "n/a"
		} else if ok(r) {
			met = "yes"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %.2f | %s | %s |\n", title, num(goV), num(refV), r, goal, met)
	}
	le := func(x float64) func(float64) bool { return func(r float64) bool { return r <= x } }
	ge := func(x float64) func(float64) bool { return func(r float64) bool { return r >= x } }
	target("memory per idle connection, KiB", med("go-1core", "kib_per_conn"), med("node-1core", "kib_per_conn"), "≤ 0.33", le(1.0/3))
	target("CPU µs per broadcast delivery @50 msg/s (process)", med("go-1core", "us_per_delivery@50"), med("node-1core", "us_per_delivery@50"), "≤ 0.65", le(0.65))
	target("CPU µs per broadcast delivery @50 msg/s (core)", med("go-1core", "core_us_per_delivery@50"), med("node-1core", "core_us_per_delivery@50"), "≤ 0.65", le(0.65))
	target(fmt.Sprintf("CPU µs per broadcast delivery, max phase %d rcv", mainN), med("go-1core", fmt.Sprintf("max_us_per_delivery@%d", mainN)), med("node-1core", fmt.Sprintf("max_us_per_delivery@%d", mainN)), "≤ 0.65", le(0.65))
	target("CPU µs per broadcast delivery @50 msg/s vs bare server", med("go-1core", "us_per_delivery@50"), med("bare-1core", "us_per_delivery@50"), "≤ 1.10", le(1.10))
	target("CPU µs per broadcast delivery, max phase, vs bare server", med("go-1core", fmt.Sprintf("max_us_per_delivery@%d", mainN)), med("bare-1core", fmt.Sprintf("max_us_per_delivery@%d", mainN)), "≤ 1.10", le(1.10))
	target("CPU µs per echo ack", med("go-1core", "us_per_ack"), med("node-1core", "us_per_ack"), "≤ 0.8", le(0.8))
	at := 0
	if s := med("node-1core", "saturation_rate"); !math.IsNaN(s) {
		at = int(s)
	}
	note := ""
	if at == 0 {
		if rs := sweepRates(m, "node-1core"); len(rs) > 0 {
			at = rs[0]
			note = " (Node sustained no swept rate; lowest rate used)"
		}
	}
	target(fmt.Sprintf("p99 ms at Node's highest sustainable rate, %d msg/s%s", at, note), med("go-1core", fmt.Sprintf("p99_ms@%d", at)), med("node-1core", fmt.Sprintf("p99_ms@%d", at)), "≤ 0.25", le(0.25))
	target("sustained deliveries/s, Go on 2 cores vs Node (saturation rate)", med("go-2core", "sustained_deliveries_per_s"), med("node-1core", "sustained_deliveries_per_s"), "≥ 2", ge(2))
	target(fmt.Sprintf("max deliveries/s %d rcv, Go on 2 cores vs Node", mainN), med("go-2core", fmt.Sprintf("max_deliveries_per_s@%d", mainN)), med("node-1core", fmt.Sprintf("max_deliveries_per_s@%d", mainN)), "≥ 2", ge(2))
	lost := 0.0
	for _, l := range []string{"go-1core", "go-2core"} {
		for _, v := range m[l]["lost_below_saturation"] {
			lost += v
		}
	}
	fmt.Fprintf(&b, "| messages lost below saturation (Go, all runs) | %.0f | | | 0 | %s |\n", lost, map[bool]string{true: "yes", false: "no"}[lost == 0])
	perRepetition(&b, recs, mainN)
	return b.String()
}

// perRepetition renders the two light-load targets for each repetition on
// its own: the medians above can pair a fast Node step of one repetition
// with a slow Go step of another, and the p99 target in particular
// depends on where each repetition's Node run hit its cliff.
func perRepetition(b *strings.Builder, recs []record, mainN int) {
	sweeps := map[string][]record{} // label → its sweeps, in run order
	for _, r := range recs {
		if r.Scenario == "broadcast" && r.Receivers == mainN && len(r.Steps) > 0 {
			sweeps[r.Label] = append(sweeps[r.Label], r)
		}
	}
	goRuns, nodeRuns := sweeps["go-1core"], sweeps["node-1core"]
	n := min(len(goRuns), len(nodeRuns))
	if n == 0 {
		return
	}
	at := func(r record, rate int) *step {
		for i := range r.Steps {
			if r.Steps[i].Rate == rate {
				return &r.Steps[i]
			}
		}
		return nil
	}
	ratio := func(a, b float64) string {
		if a <= 0 || b <= 0 {
			return "–"
		}
		return fmt.Sprintf("%.2f", a/b)
	}
	fmt.Fprintf(b, "\n### Per repetition (%d receivers, Go and Node on one core)\n\n", mainN)
	fmt.Fprintf(b, "| repetition | Node's highest sustainable rate | p99 ms there, Go / Node | ratio (goal ≤ 0.25) | core CPU per delivery, Go ÷ Node, @30 / @40 / @50 msg/s (goal ≤ 0.65) |\n|---|---|---|---|---|\n")
	for i := range n {
		g, nd := goRuns[i], nodeRuns[i]
		sat, p99s, p99r := "–", "–", "–"
		if nd.SaturationRate > 0 {
			sat = fmt.Sprintf("%d msg/s", nd.SaturationRate)
			if gs, ns := at(g, nd.SaturationRate), at(nd, nd.SaturationRate); gs != nil && ns != nil {
				p99s = fmt.Sprintf("%s / %s", num(gs.Latency.P99), num(ns.Latency.P99))
				p99r = ratio(gs.Latency.P99, ns.Latency.P99)
			}
		}
		var cpu []string
		for _, rate := range []int{30, 40, 50} {
			gs, ns := at(g, rate), at(nd, rate)
			if gs == nil || ns == nil {
				cpu = append(cpu, "–")
				continue
			}
			cpu = append(cpu, ratio(gs.CoreCPUUs, ns.CoreCPUUs))
		}
		fmt.Fprintf(b, "| %d | %s | %s | %s | %s |\n", i+1, sat, p99s, p99r, strings.Join(cpu, " / "))
	}
}
