package main

import (
	"strings"
	"testing"
)

func TestSummarize(t *testing.T) {
	raw := `{"scenario":"broadcast","label":"go","steps":[{"rate":10,"lost":0,"server_cpu_us_per_delivery":4,"latency":{"p99_ms":3}},{"rate":400,"lost":2,"server_cpu_us_per_delivery":3,"latency":{"p99_ms":20}}]}
{"scenario":"broadcast","label":"go","steps":[{"rate":10,"lost":0,"server_cpu_us_per_delivery":6,"latency":{"p99_ms":5}}]}
{"scenario":"broadcast","label":"nbio","steps":[{"rate":10,"lost":0,"server_cpu_us_per_delivery":4,"latency":{"p99_ms":2}}]}
{"scenario":"broadcast","label":"node","steps":[{"rate":10,"lost":1,"server_cpu_us_per_delivery":10,"latency":{"p99_ms":8}}]}
{"scenario":"conns","label":"go"}
`
	md, err := summarize(strings.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"| 10 | 5.00 | 4.00 | 10.00 | 1.25 | 0.50 | 4.00 | 2.00 | 8.00 | 0; 0; 1 |",
		"| 400 | 3.00 | – | – | – | – | 20.00 | – | – | 2; –; – |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("missing row %q in:\n%s", want, md)
		}
	}
	if strings.Index(md, "| 10 |") > strings.Index(md, "| 400 |") {
		t.Error("rates not in order")
	}
}
