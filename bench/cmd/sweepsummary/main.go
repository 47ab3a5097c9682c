// Command sweepsummary turns the raw results of bench/sweep.sh (one JSON
// line per siobench broadcast run, labelled "go", "nbio" or "node", each
// with its steps by rate) into a Markdown table: per rate, the median
// server CPU µs per delivery and p99 latency of each server over the
// repetitions, Go/nbio and Go/Node, and whether anything was lost.
//
//	sweepsummary -in results/DATE-sweep/raw.jsonl [-out summary.md]
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
)

type run struct {
	Scenario string `json:"scenario"`
	Label    string `json:"label"`
	Steps    []struct {
		Rate    int     `json:"rate"`
		Lost    int64   `json:"lost"`
		CPU     float64 `json:"server_cpu_us_per_delivery"`
		Latency struct {
			P99 float64 `json:"p99_ms"`
		} `json:"latency"`
	} `json:"steps"`
}

// figures are one server's values at one rate, a value per repetition.
type figures struct {
	cpu, p99 []float64
	lost     int64
}

var servers = []string{"go", "nbio", "node"}

func main() {
	in := flag.String("in", "", "raw.jsonl written by sweep.sh")
	out := flag.String("out", "", "also write the Markdown here")
	flag.Parse()
	f, err := os.Open(*in)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer f.Close()
	md, err := summarize(f)
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

func summarize(r io.Reader) (string, error) {
	byRate := map[int]map[string]*figures{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var x run
		if err := json.Unmarshal(sc.Bytes(), &x); err != nil {
			return "", err
		}
		if x.Scenario != "broadcast" {
			continue
		}
		for _, s := range x.Steps {
			if byRate[s.Rate] == nil {
				byRate[s.Rate] = map[string]*figures{}
			}
			fg := byRate[s.Rate][x.Label]
			if fg == nil {
				fg = &figures{}
				byRate[s.Rate][x.Label] = fg
			}
			fg.cpu = append(fg.cpu, s.CPU)
			fg.p99 = append(fg.p99, s.Latency.P99)
			fg.lost += s.Lost
		}
	}
	if err := sc.Err(); err != nil {
		return "", err
	}
	rates := make([]int, 0, len(byRate))
	for r := range byRate {
		rates = append(rates, r)
	}
	slices.Sort(rates)
	var b strings.Builder
	b.WriteString("| msg/s | CPU µs per delivery: go | nbio | node | go/nbio | go/node | p99 ms: go | nbio | node | lost (go; nbio; node) |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|\n")
	for _, rate := range rates {
		row := byRate[rate]
		cpu := map[string]float64{}
		p99 := map[string]float64{}
		var lost []string
		for _, s := range servers {
			if fg := row[s]; fg != nil {
				cpu[s], p99[s] = median(fg.cpu), median(fg.p99)
				lost = append(lost, fmt.Sprint(fg.lost))
			} else {
				lost = append(lost, "–")
			}
		}
		fmt.Fprintf(&b, "| %d | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", rate,
			num(cpu["go"]), num(cpu["nbio"]), num(cpu["node"]), ratio(cpu["go"], cpu["nbio"]), ratio(cpu["go"], cpu["node"]),
			num(p99["go"]), num(p99["nbio"]), num(p99["node"]), strings.Join(lost, "; "))
	}
	return b.String(), nil
}

// median of vs (the mean of the middle two for an even count); 0 for none.
func median(vs []float64) float64 {
	if len(vs) == 0 {
		return 0
	}
	s := slices.Clone(vs)
	slices.Sort(s)
	if n := len(s); n%2 == 0 {
		return (s[n/2-1] + s[n/2]) / 2
	}
	return s[len(s)/2]
}

func num(v float64) string {
	if v == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f", v)
}

func ratio(a, b float64) string {
	if a == 0 || b == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f", a/b)
}
