package main

import (
	"math"
	"strings"
	"testing"
)

func TestNewStat(t *testing.T) {
	for _, c := range []struct {
		in             []float64
		med, min, maxv float64
	}{
		{[]float64{3, 1, 2}, 2, 1, 3},
		{[]float64{4, 1, 3, 2}, 2.5, 1, 4},
		{[]float64{7}, 7, 7, 7},
	} {
		s := newStat(c.in)
		if s.Median != c.med || s.Min != c.min || s.Max != c.maxv || s.N != len(c.in) {
			t.Errorf("newStat(%v) = %+v", c.in, s)
		}
	}
	if s := newStat(nil); !math.IsNaN(s.Median) || s.String() != "–" {
		t.Errorf("newStat(nil) = %+v, %q", s, s.String())
	}
}

// The per-repetition table of a committed run: BENCHMARKS.md and the note
// on the benchmark issue quote these rows.
func TestPerRepetitionOfCommittedRun(t *testing.T) {
	recs, err := readRecords("../../results/2026-11-27-noalloc/raw.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	perRepetition(&b, recs, 1000)
	for _, want := range []string{
		"| 1 | 40 msg/s | 21.0 / 32.5 | 0.65 | 0.49 / 0.51 / 0.58 |",
		"| 2 | 50 msg/s | 23.6 / 88.1 | 0.27 | 0.53 / 0.62 / 0.57 |",
		"| 3 | 40 msg/s | 18.9 / 20.4 | 0.92 | 0.61 / 0.66 / 0.62 |",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("missing row %q in\n%s", want, b.String())
		}
	}
}

// A repetition where Node sustained no swept rate, or a step is missing,
// shows a dash rather than a made-up ratio.
func TestPerRepetitionMissing(t *testing.T) {
	steps := func(rates ...int) []step {
		var out []step
		for _, r := range rates {
			out = append(out, step{Rate: r, Latency: latency{P99: 10}, CoreCPUUs: 5})
		}
		return out
	}
	recs := []record{
		{Scenario: "broadcast", Label: "go-1core", Receivers: 10, Steps: steps(30, 40)},
		{Scenario: "broadcast", Label: "node-1core", Receivers: 10, Steps: steps(30), SaturationRate: 0},
	}
	var b strings.Builder
	perRepetition(&b, recs, 10)
	if want := "| 1 | – | – | – | 1.00 / – / – |"; !strings.Contains(b.String(), want) {
		t.Errorf("missing row %q in\n%s", want, b.String())
	}
}
