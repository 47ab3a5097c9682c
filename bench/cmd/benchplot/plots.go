package main

import (
	"fmt"
	"image/color"
	"math"
	"path/filepath"
	"sort"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

var palette = map[string]color.Color{
	"go-1core":   color.RGBA{0x00, 0x7d, 0x9c, 0xff},
	"node-1core": color.RGBA{0x68, 0xa0, 0x63, 0xff},
	"bare-1core": color.RGBA{0x99, 0x99, 0x99, 0xff},
	"go-2core":   color.RGBA{0xce, 0x32, 0x62, 0xff},
}

func colorOf(label string, i int) color.Color {
	if c, ok := palette[label]; ok {
		return c
	}
	return plotutil.Color(i)
}

func save(p *plot.Plot, dir, name string) error {
	return p.Save(7*vg.Inch, 4.5*vg.Inch, filepath.Join(dir, name))
}

// errPoints are medians with min–max error bars.
type errPoints struct {
	plotter.XYs
	plotter.YErrors
}

func lineWithRange(p *plot.Plot, label string, i int, xs []float64, ss []stat) error {
	pts := errPoints{}
	for k, x := range xs {
		s := ss[k]
		if math.IsNaN(s.Median) {
			continue
		}
		pts.XYs = append(pts.XYs, plotter.XY{X: x, Y: s.Median})
		pts.YErrors = append(pts.YErrors, struct{ Low, High float64 }{s.Median - s.Min, s.Max - s.Median})
	}
	if len(pts.XYs) == 0 {
		return nil
	}
	l, sc, err := plotter.NewLinePoints(pts)
	if err != nil {
		return err
	}
	l.Color, sc.Color = colorOf(label, i), colorOf(label, i)
	l.Width = vg.Points(1.5)
	eb, err := plotter.NewYErrorBars(pts)
	if err != nil {
		return err
	}
	eb.Color = colorOf(label, i)
	p.Add(l, sc, eb)
	p.Legend.Add(label, l, sc)
	return nil
}

func plots(m metrics, labels []string, recs []record, dir string, mainN int) error {
	// 1. Memory per connection vs connections.
	{
		p := plot.New()
		p.Title.Text = "Server RSS per idle WebSocket connection"
		p.X.Label.Text = "open connections"
		p.Y.Label.Text = "KiB per connection"
		for i, l := range labels {
			var ns []int
			for name := range m[l] {
				var n int
				if _, err := fmt.Sscanf(name, "kib_per_conn@%d", &n); err == nil {
					ns = append(ns, n)
				}
			}
			sort.Ints(ns)
			var xs []float64
			var ss []stat
			for _, n := range ns {
				xs = append(xs, float64(n))
				ss = append(ss, m.stat(l, fmt.Sprintf("kib_per_conn@%d", n)))
			}
			if err := lineWithRange(p, l, i, xs, ss); err != nil {
				return err
			}
		}
		p.Legend.Left = true // bottom left: the curves sit high
		p.Y.Min = 0
		if err := save(p, dir, "memory_per_conn.png"); err != nil {
			return err
		}
	}
	// 2. CPU per operation: grouped bars.
	{
		p := plot.New()
		p.Title.Text = "Server CPU per operation (process user+system, median)"
		p.Y.Label.Text = "µs of CPU"
		ops := []struct{ name, key string }{
			{"echo ack", "us_per_ack"},
			{fmt.Sprintf("delivery @50/s, %d rcv", mainN), "us_per_delivery@50"},
			{fmt.Sprintf("delivery max, %d rcv", mainN), fmt.Sprintf("max_us_per_delivery@%d", mainN)},
		}
		names := make([]string, len(ops))
		for i, o := range ops {
			names[i] = o.name
		}
		w := vg.Points(14)
		for i, l := range labels {
			vals := make(plotter.Values, len(ops))
			for k, o := range ops {
				v := m.stat(l, o.key).Median
				if math.IsNaN(v) {
					v = 0
				}
				vals[k] = v
			}
			bars, err := plotter.NewBarChart(vals, w)
			if err != nil {
				return err
			}
			bars.Color = colorOf(l, i)
			bars.LineStyle.Width = 0
			bars.Offset = w * vg.Length(float64(i)-float64(len(labels)-1)/2)
			p.Add(bars)
			p.Legend.Add(l, bars)
		}
		p.NominalX(names...)
		p.Legend.Top = true
		if err := save(p, dir, "cpu_per_op.png"); err != nil {
			return err
		}
	}
	// 3. Echo latency percentiles.
	{
		p := plot.New()
		p.Title.Text = "Echo latency, 50 clients closed loop (median of runs)"
		p.Y.Label.Text = "ms"
		keys := []string{"echo_p50_ms", "echo_p99_ms", "echo_p999_ms"}
		w := vg.Points(14)
		for i, l := range labels {
			vals := make(plotter.Values, len(keys))
			for k, key := range keys {
				v := m.stat(l, key).Median
				if math.IsNaN(v) {
					v = 0
				}
				vals[k] = v
			}
			bars, err := plotter.NewBarChart(vals, w)
			if err != nil {
				return err
			}
			bars.Color = colorOf(l, i)
			bars.LineStyle.Width = 0
			bars.Offset = w * vg.Length(float64(i)-float64(len(labels)-1)/2)
			p.Add(bars)
			p.Legend.Add(l, bars)
		}
		p.NominalX("p50", "p99", "p99.9")
		p.Legend.Top = true
		if err := save(p, dir, "echo_latency.png"); err != nil {
			return err
		}
	}
	// 4. Broadcast p99 vs publish rate (when the results hold a rate
	// sweep of mainN receivers: a log axis without data cannot be drawn).
	if hasSweep(m, labels) {
		p := plot.New()
		p.Title.Text = fmt.Sprintf("Broadcast delivery latency p99, %d receivers", mainN)
		p.X.Label.Text = "published messages/s"
		p.Y.Label.Text = "p99 ms (log)"
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
		for i, l := range labels {
			var xs []float64
			var ss []stat
			for _, r := range sweepRates(m, l) {
				s := m.stat(l, fmt.Sprintf("p99_ms@%d", r))
				s.Min, s.Median, s.Max = math.Max(s.Min, 0.1), math.Max(s.Median, 0.1), math.Max(s.Max, 0.1)
				xs = append(xs, float64(r))
				ss = append(ss, s)
			}
			if err := lineWithRange(p, l, i, xs, ss); err != nil {
				return err
			}
		}
		limit := plotter.NewFunction(func(float64) float64 { return 100 })
		limit.Dashes = []vg.Length{vg.Points(4), vg.Points(4)}
		p.Add(limit)
		p.Legend.Add("100 ms", limit)
		p.Legend.Top = true
		p.Legend.Left = true
		if err := save(p, dir, "broadcast_p99_vs_rate.png"); err != nil {
			return err
		}
	}
	// 5. Broadcast throughput vs receivers.
	{
		p := plot.New()
		p.Title.Text = "Broadcast throughput (window-limited flood)"
		p.X.Label.Text = "receivers (log)"
		p.X.Scale = plot.LogScale{}
		p.X.Tick.Marker = plot.LogTicks{Prec: -1}
		p.Y.Label.Text = "deliveries/s"
		ns := fanouts(m)
		for i, l := range labels {
			var xs []float64
			var ss []stat
			for _, n := range ns {
				xs = append(xs, float64(n))
				ss = append(ss, m.stat(l, fmt.Sprintf("max_deliveries_per_s@%d", n)))
			}
			if err := lineWithRange(p, l, i, xs, ss); err != nil {
				return err
			}
		}
		p.Y.Min = 0
		p.Legend.Top = true
		if err := save(p, dir, "broadcast_throughput.png"); err != nil {
			return err
		}
	}
	return nil
}

// hasSweep reports whether any label has swept broadcast rates.
func hasSweep(m metrics, labels []string) bool {
	for _, l := range labels {
		if len(sweepRates(m, l)) > 0 {
			return true
		}
	}
	return false
}
