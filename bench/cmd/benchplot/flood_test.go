package main

import (
	"strings"
	"testing"
)

func TestFloodReport(t *testing.T) {
	raw := `{"scenario":"echo","label":"go-1core"}
{"scenario":"flood","label":"go","alone":{"latency":{"p50_ms":0.1,"p99_ms":1},"server_cpu_util":0.1},"flooded":{"latency":{"p50_ms":0.2,"p99_ms":3},"server_cpu_util":0.9,"missed_ticks":4,"flood_sent_per_s":1000,"flood_replies_per_s":900},"p99_flooded_over_alone":3}
{"scenario":"flood","label":"go","alone":{"latency":{"p50_ms":0.3,"p99_ms":2},"server_cpu_util":0.2},"flooded":{"latency":{"p50_ms":0.4,"p99_ms":5},"server_cpu_util":1,"missed_ticks":6,"flood_sent_per_s":3000,"flood_replies_per_s":1100},"p99_flooded_over_alone":2.5,"flooder_closed":true}
{"scenario":"flood","label":"node","alone":{"latency":{"p50_ms":1,"p99_ms":2}},"flooded":{"latency":{"p50_ms":800,"p99_ms":1900}},"p99_flooded_over_alone":950,"failures":1}
`
	md, err := floodReport(strings.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(md), "\n")
	if len(lines) != 4 {
		t.Fatalf("want a header, a rule and 2 rows (echo records ignored), got:\n%s", md)
	}
	want := []string{
		"| go | 0.20 (0.10–0.30) / 1.50 (1.00–2.00) (15.0 (10.0–20.0)) | 0.30 (0.20–0.40) / 4.00 (3.00–5.00) (95.0 (90.0–100)) | 2.75 (2.50–3.00) | 5.00 (4.00–6.00) | 2000 (1000–3000), 1000 (900–1100) | 1 of 2 | 0.00 (0.00–0.00) |",
		"| node | 1.00 / 2.00 (0.00) | 800 / 1900 (0.00) | 950 | 0.00 | 0.00, 0.00 | 0 of 1 | 1.00 |",
	}
	for i, w := range want {
		if lines[2+i] != w {
			t.Errorf("row %d:\n got %s\nwant %s", i, lines[2+i], w)
		}
	}
	if _, err := floodReport(strings.NewReader("{not json\n")); err == nil {
		t.Error("a broken line was accepted")
	}
}
