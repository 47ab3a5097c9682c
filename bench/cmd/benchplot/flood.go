package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
)

// floodRecord is what siobench's flood scenario writes (one per run).
type floodRecord struct {
	Scenario string `json:"scenario"`
	Label    string `json:"label"`
	Failures int64  `json:"failures"`
	Alone    struct {
		Latency    latency `json:"latency"`
		ServerUtil float64 `json:"server_cpu_util"`
		Missed     int64   `json:"missed_ticks"`
	} `json:"alone"`
	Flooded struct {
		Latency     latency `json:"latency"`
		ServerUtil  float64 `json:"server_cpu_util"`
		Missed      int64   `json:"missed_ticks"`
		FloodSentPS float64 `json:"flood_sent_per_s"`
		FloodReplPS float64 `json:"flood_replies_per_s"`
	} `json:"flooded"`
	P99Ratio      float64 `json:"p99_flooded_over_alone"`
	FlooderClosed bool    `json:"flooder_closed"`
}

// floodReport renders the flood scenario's runs of a raw file (bench/flood.sh)
// as one markdown table: per configuration, the medians over repetitions.
func floodReport(r io.Reader) (string, error) {
	m := metrics{}
	var labels []string
	seen := map[string]bool{}
	closed := map[string]int{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		var f floodRecord
		if err := json.Unmarshal([]byte(line), &f); err != nil {
			return "", err
		}
		if f.Scenario != "flood" {
			continue
		}
		l := f.Label
		if !seen[l] {
			seen[l] = true
			labels = append(labels, l)
		}
		m.add(l, "alone_p50", f.Alone.Latency.P50)
		m.add(l, "alone_p99", f.Alone.Latency.P99)
		m.add(l, "alone_cpu", 100*f.Alone.ServerUtil)
		m.add(l, "flooded_p50", f.Flooded.Latency.P50)
		m.add(l, "flooded_p99", f.Flooded.Latency.P99)
		m.add(l, "flooded_cpu", 100*f.Flooded.ServerUtil)
		m.add(l, "missed", float64(f.Flooded.Missed))
		m.add(l, "ratio", f.P99Ratio)
		m.add(l, "sent", f.Flooded.FloodSentPS)
		m.add(l, "replies", f.Flooded.FloodReplPS)
		m.add(l, "failures", float64(f.Failures))
		if f.FlooderClosed {
			closed[l]++
		}
	}
	if err := sc.Err(); err != nil {
		return "", err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "| configuration | alone p50 / p99 ms (server CPU %%) | flooded p50 / p99 ms (server CPU %%) | p99 flooded ÷ alone | paced ticks skipped (ack still pending) | flood sent/s, replies/s | flooder dropped | failures |\n|---|---|---|---|---|---|---|---|\n")
	for _, l := range labels {
		fmt.Fprintf(&b, "| %s | %s / %s (%s) | %s / %s (%s) | %s | %s | %s, %s | %d of %d | %s |\n", l,
			m.stat(l, "alone_p50"), m.stat(l, "alone_p99"), m.stat(l, "alone_cpu"),
			m.stat(l, "flooded_p50"), m.stat(l, "flooded_p99"), m.stat(l, "flooded_cpu"),
			m.stat(l, "ratio"), m.stat(l, "missed"), m.stat(l, "sent"), m.stat(l, "replies"),
			closed[l], len(m[l]["ratio"]), m.stat(l, "failures"))
	}
	return b.String(), nil
}

func runFloodReport(in, out string) error {
	f, err := os.Open(in)
	if err != nil {
		return err
	}
	defer f.Close()
	md, err := floodReport(f)
	if err != nil {
		return err
	}
	fmt.Print(md)
	return os.WriteFile(out, []byte(md), 0o644)
}
