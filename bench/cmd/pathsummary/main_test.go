package main

import (
	"strings"
	"testing"
)

func TestSummarize(t *testing.T) {
	raw := `{"scenario":"conns","label":"go-tls","path":"websocket+tls","loadavg":"1 2 3","kib_per_conn":10,"connected":100}
{"scenario":"conns","label":"node-tls","path":"websocket+tls","loadavg":"4 5 6","kib_per_conn":40,"connected":100}
{"scenario":"broadcast","label":"go-tls","receivers":10,"failures":2,"max":{"rate":0,"deliveries_per_s":1000,"server_cpu_us_per_delivery":2},"steps":[{"rate":10,"server_cpu_us_per_delivery":9,"latency":{"p99_ms":1}},{"rate":20,"server_cpu_us_per_delivery":3,"server_sys_cpu_us_per_delivery":1.5,"latency":{"p99_ms":1}}]}
{"scenario":"broadcast","label":"node-tls","receivers":10,"max":{"rate":0,"deliveries_per_s":500,"server_cpu_us_per_delivery":8},"steps":[{"rate":20,"server_cpu_us_per_delivery":4,"server_sys_cpu_us_per_delivery":2,"latency":{"p99_ms":2}}]}
{"scenario":"conns","label":"go-tls-profile","kib_per_conn":99}
`
	md, err := summarize(strings.NewReader(raw), 20)
	if err != nil {
		t.Fatal(err)
	}
	md10, err := summarize(strings.NewReader(strings.Replace(raw, `"steps":[{"rate":20,"server_cpu_us_per_delivery":4`, `"steps":[{"rate":10,"server_cpu_us_per_delivery":4`, 1)), 20)
	if err != nil {
		t.Fatal(err)
	}
	if want := "| tls | CPU µs per delivery, 10 msg/s × 10 | 9.00 † | 4.00 | 2.25 |"; !strings.Contains(md10, want) {
		t.Errorf("the highest common rate is 10: summary lacks %q:\n%s", want, md10)
	}
	for _, want := range []string{
		"| tls (`websocket+tls` / `websocket+tls`) | KiB per idle client (100) | 10.00 | 40.00 | 0.25 | ≤ 0.33 | yes | 1 2 3; 4 5 6 |",
		"| tls | CPU µs per delivery, 20 msg/s × 10 | 3.00 † | 4.00 | 0.75 | ≤ 0.65 | **no** |",
		"| tls | flood deliveries/s per client | 100 † | 50.00 | 2.00 |",
		"| tls | of which kernel µs, 20 msg/s | 1.50 † | 2.00 | 0.75 |",
		"| tls | floor: Go kernel µs ÷ Node's whole | 1.50 † | 4.00 | 0.38 |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("summary lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(md, "99.00") {
		t.Errorf("profile runs must be left out:\n%s", md)
	}
}
