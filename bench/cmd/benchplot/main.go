// Command benchplot turns the JSON lines written by siobench (bench/run.sh)
// into summary.json and summary.md (median, min and max over repetitions,
// Go/Node ratios against the targets of the benchmark issue) and PNG plots:
// memory per connection vs connections, CPU per operation, latency
// percentiles, broadcast p99 vs rate, and broadcast throughput vs receivers.
//
//	benchplot -in results/DATE/raw.jsonl -out results/DATE
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
)

// Labels in display order; others follow alphabetically.
var order = []string{"go-1core", "node-1core", "bare-1core", "go-2core"}

type latency struct {
	P50  float64 `json:"p50_ms"`
	P99  float64 `json:"p99_ms"`
	P999 float64 `json:"p999_ms"`
}

type step struct {
	Rate        int     `json:"rate"`
	Delivered   int64   `json:"delivered"`
	Lost        int64   `json:"lost"`
	DelivPerS   float64 `json:"deliveries_per_s"`
	Latency     latency `json:"latency"`
	ServerCPUUs float64 `json:"server_cpu_us_per_delivery"`
	CoreCPUUs   float64 `json:"server_core_cpu_us_per_delivery"`
	GenUtil     float64 `json:"generator_cpu_util"`
	Saturated   bool    `json:"saturated"`
}

type record struct {
	Scenario string  `json:"scenario"`
	Label    string  `json:"label"`
	Failures int64   `json:"failures"`
	GenCPU   float64 `json:"generator_cpu_util"`
	// conns
	Connected   int64 `json:"connected"`
	Checkpoints []struct {
		Conns      int     `json:"conns"`
		KiBPerConn float64 `json:"kib_per_conn"`
	} `json:"checkpoints"`
	KiBPerConn    float64 `json:"kib_per_conn"`
	ConnectPerSec float64 `json:"connect_per_s"`
	// echo
	AcksPerSec  float64 `json:"acks_per_s"`
	Latency     latency `json:"latency"`
	AckCPUUs    float64 `json:"server_cpu_us_per_ack"`
	AckCoreUs   float64 `json:"server_core_cpu_us_per_ack"`
	AckGenCPUUs float64 `json:"generator_cpu_us_per_ack"`
	// broadcast
	Receivers      int     `json:"receivers"`
	Max            *step   `json:"max"`
	Steps          []step  `json:"steps"`
	SaturationRate int     `json:"saturation_rate"`
	Sustained      float64 `json:"sustained_deliveries_per_s"`
}

// stat is the median, min and max of one metric over repetitions.
type stat struct {
	Median float64 `json:"median"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
	N      int     `json:"n"`
}

func newStat(v []float64) stat {
	if len(v) == 0 {
		return stat{Median: math.NaN(), Min: math.NaN(), Max: math.NaN()}
	}
	s := slices.Clone(v)
	sort.Float64s(s)
	m := s[len(s)/2]
	if len(s)%2 == 0 {
		m = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return stat{Median: m, Min: s[0], Max: s[len(s)-1], N: len(s)}
}

func (s stat) String() string {
	if math.IsNaN(s.Median) {
		return "–"
	}
	if s.N <= 1 {
		return num(s.Median)
	}
	return fmt.Sprintf("%s (%s–%s)", num(s.Median), num(s.Min), num(s.Max))
}

func num(v float64) string {
	switch a := math.Abs(v); {
	case a >= 1000:
		return fmt.Sprintf("%.0f", v)
	case a >= 100:
		return fmt.Sprintf("%.0f", v)
	case a >= 10:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.2f", v)
	}
}

// metrics collects, per label, named series of per-repetition values.
type metrics map[string]map[string][]float64

func (m metrics) add(label, name string, v float64) {
	if m[label] == nil {
		m[label] = map[string][]float64{}
	}
	m[label][name] = append(m[label][name], v)
}

func (m metrics) stat(label, name string) stat { return newStat(m[label][name]) }

func main() {
	in := flag.String("in", "raw.jsonl", "siobench JSON lines")
	out := flag.String("out", ".", "output directory")
	fanoutMain := flag.Int("receivers", 1000, "receivers of the main broadcast scenario (the rate sweep)")
	flood := flag.Bool("flood", false, "only the flood scenario's table (bench/flood.sh), written to OUT/flood.md")
	flag.Parse()
	if *flood {
		if err := os.MkdirAll(*out, 0o755); err != nil {
			log.Fatal(err)
		}
		if err := runFloodReport(*in, filepath.Join(*out, "flood.md")); err != nil {
			log.Fatal(err)
		}
		return
	}

	recs, err := readRecords(*in)
	if err != nil {
		log.Fatal(err)
	}
	m := metrics{}
	labelSet := map[string]bool{}
	for _, r := range recs {
		labelSet[r.Label] = true
		l := r.Label
		switch r.Scenario {
		case "conns":
			m.add(l, "kib_per_conn", r.KiBPerConn)
			m.add(l, "conn_failures", float64(r.Failures))
			m.add(l, "connect_per_s", r.ConnectPerSec)
			for _, cp := range r.Checkpoints {
				m.add(l, fmt.Sprintf("kib_per_conn@%d", cp.Conns), cp.KiBPerConn)
			}
		case "echo":
			m.add(l, "acks_per_s", r.AcksPerSec)
			m.add(l, "echo_p50_ms", r.Latency.P50)
			m.add(l, "echo_p99_ms", r.Latency.P99)
			m.add(l, "echo_p999_ms", r.Latency.P999)
			m.add(l, "us_per_ack", r.AckCPUUs)
			if r.AckCoreUs > 0 {
				m.add(l, "core_us_per_ack", r.AckCoreUs)
			}
			m.add(l, "gen_us_per_ack", r.AckGenCPUUs)
			m.add(l, "echo_failures", float64(r.Failures))
		case "broadcast":
			if r.Max != nil {
				m.add(l, fmt.Sprintf("max_deliveries_per_s@%d", r.Receivers), r.Max.DelivPerS)
				m.add(l, fmt.Sprintf("max_us_per_delivery@%d", r.Receivers), r.Max.ServerCPUUs)
				if r.Max.CoreCPUUs > 0 {
					m.add(l, fmt.Sprintf("max_core_us_per_delivery@%d", r.Receivers), r.Max.CoreCPUUs)
				}
				m.add(l, fmt.Sprintf("max_gen_util@%d", r.Receivers), r.Max.GenUtil)
				m.add(l, fmt.Sprintf("max_lost@%d", r.Receivers), float64(r.Max.Lost))
			}
			if r.Receivers != *fanoutMain {
				continue
			}
			if len(r.Steps) > 0 {
				m.add(l, "saturation_rate", float64(r.SaturationRate))
				m.add(l, "sustained_deliveries_per_s", r.Sustained)
			}
			var lost float64
			for _, s := range r.Steps {
				key := fmt.Sprintf("@%d", s.Rate)
				m.add(l, "p50_ms"+key, s.Latency.P50)
				m.add(l, "p99_ms"+key, s.Latency.P99)
				m.add(l, "p999_ms"+key, s.Latency.P999)
				m.add(l, "us_per_delivery"+key, s.ServerCPUUs)
				if s.CoreCPUUs > 0 {
					m.add(l, "core_us_per_delivery"+key, s.CoreCPUUs)
				}
				if !s.Saturated {
					lost += float64(s.Lost)
				}
			}
			m.add(l, "lost_below_saturation", lost)
			m.add(l, "broadcast_failures", float64(r.Failures))
		}
	}
	labels := sortedLabels(labelSet)
	if err := os.MkdirAll(*out, 0o755); err != nil {
		log.Fatal(err)
	}

	sum := map[string]map[string]stat{}
	for _, l := range labels {
		sum[l] = map[string]stat{}
		for name := range m[l] {
			sum[l][name] = m.stat(l, name)
		}
	}
	b, _ := json.MarshalIndent(sum, "", "  ")
	if err := os.WriteFile(filepath.Join(*out, "summary.json"), b, 0o644); err != nil {
		log.Fatal(err)
	}
	md := report(m, labels, recs, *fanoutMain)
	if err := os.WriteFile(filepath.Join(*out, "summary.md"), []byte(md), 0o644); err != nil {
		log.Fatal(err)
	}
	fmt.Print(md)
	if err := plots(m, labels, recs, *out, *fanoutMain); err != nil {
		log.Fatal(err)
	}
}

func readRecords(path string) ([]record, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []record
	br := bufio.NewReader(f)
	for {
		line, err := br.ReadBytes('\n')
		if len(strings.TrimSpace(string(line))) > 0 {
			var r record
			if jerr := json.Unmarshal(line, &r); jerr != nil {
				return nil, fmt.Errorf("%s: %v", path, jerr)
			}
			out = append(out, r)
		}
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

func sortedLabels(set map[string]bool) []string {
	var out []string
	for _, l := range order {
		if set[l] {
			out = append(out, l)
		}
	}
	var rest []string
	for l := range set {
		if !slices.Contains(order, l) {
			rest = append(rest, l)
		}
	}
	sort.Strings(rest)
	return append(out, rest...)
}

// sweepRates lists the swept rates present for label, ascending.
func sweepRates(m metrics, label string) []int {
	var rates []int
	for name := range m[label] {
		var r int
		if _, err := fmt.Sscanf(name, "p99_ms@%d", &r); err == nil {
			rates = append(rates, r)
		}
	}
	sort.Ints(rates)
	return rates
}

// fanouts lists the receiver counts of max-phase runs, ascending.
func fanouts(m metrics) []int {
	set := map[int]bool{}
	for _, byName := range m {
		for name := range byName {
			var n int
			if _, err := fmt.Sscanf(name, "max_deliveries_per_s@%d", &n); err == nil {
				set[n] = true
			}
		}
	}
	var out []int
	for n := range set {
		out = append(out, n)
	}
	sort.Ints(out)
	return out
}
