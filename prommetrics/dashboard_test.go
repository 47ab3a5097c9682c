package prommetrics_test

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchboard-go/socketio/prommetrics"
)

// TestDashboardQueriesExist: every metric the Grafana dashboard queries is
// one Metrics exports, and every metric exported has a panel.
func TestDashboardQueriesExist(t *testing.T) {
	exported := map[string]bool{}
	ch := make(chan *prometheus.Desc, 64)
	go func() { prommetrics.New().Describe(ch); close(ch) }()
	fq := regexp.MustCompile(`fqName: "([^"]+)"`)
	for d := range ch {
		m := fq.FindStringSubmatch(d.String())
		if m == nil {
			t.Fatalf("desc %s", d)
		}
		exported[m[1]] = false
	}

	raw, err := os.ReadFile("grafana-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatal(err)
	}
	name := regexp.MustCompile(`socketio_[a-z_]+`)
	for _, p := range dash.Panels {
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			for _, n := range name.FindAllString(tg.Expr, -1) {
				for _, suffix := range []string{"_bucket", "_count", "_sum"} {
					if base := strings.TrimSuffix(n, suffix); base != n {
						if _, ok := exported[base]; ok {
							n = base
						}
					}
				}
				if _, ok := exported[n]; !ok {
					t.Errorf("panel %q queries %s, which is not exported", p.Title, n)
					continue
				}
				exported[n] = true
			}
		}
	}
	for n, used := range exported {
		if !used {
			t.Errorf("%s is on no panel", n)
		}
	}
}
