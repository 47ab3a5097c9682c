package prommetrics_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	socketio "github.com/switchboard-go/socketio"
	"github.com/switchboard-go/socketio/adapter/cluster"
	"github.com/switchboard-go/socketio/prommetrics"
)

// A cluster adapter's failures are counted by namespace and kind when
// ClusterError is its OnError: here a bus that cannot be set up.
func TestClusterErrorsCounted(t *testing.T) {
	m := prommetrics.New()
	reg := prometheus.NewRegistry()
	reg.MustRegister(m)
	boom := errors.New("redis down")
	srv := socketio.NewServer(&socketio.Options{
		Observer: m,
		Adapter: cluster.New(cluster.Config{
			OnError: m.ClusterError,
			Transport: func(context.Context, string, string, cluster.Receiver) (cluster.Bus, error) {
				return nil, boom
			},
		}),
	})
	t.Cleanup(func() { _ = srv.Close() })
	srv.Of("/chat") // each namespace sets its bus up
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	expect(t, scrape(t, ts), map[string]float64{
		`socketio_cluster_errors_total{kind="setup",namespace="/"}`:     1,
		`socketio_cluster_errors_total{kind="setup",namespace="/chat"}`: 1,
	})
}
