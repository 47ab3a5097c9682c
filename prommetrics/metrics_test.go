package prommetrics_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	socketio "github.com/switchboard-go/socketio"
	"github.com/switchboard-go/socketio/engineio"
	"github.com/switchboard-go/socketio/prommetrics"
	"github.com/switchboard-go/socketio/sioclient"
)

// serve starts srv with its metrics at /metrics, as an application
// mounts them.
func serve(t *testing.T, opts *socketio.Options) (*socketio.Server, *httptest.Server) {
	t.Helper()
	m := prommetrics.New()
	reg := prometheus.NewRegistry()
	reg.MustRegister(m)
	opts.Observer = m
	srv := socketio.NewServer(opts)
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", srv)
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	ts := httptest.NewServer(mux)
	t.Cleanup(func() {
		ts.Close()
		_ = srv.Close()
	})
	return srv, ts
}

// scrape reads /metrics: every sample, keyed by its name and labels as
// the text format writes them (`name{label="value",...}`).
func scrape(t *testing.T, ts *httptest.Server) map[string]float64 {
	t.Helper()
	res, err := http.Get(ts.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	out := make(map[string]float64)
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		var v float64
		if _, err := fmt.Sscan(line[i+1:], &v); err != nil {
			t.Fatalf("sample %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	return out
}

// expect checks samples of a scrape.
func expect(t *testing.T, got map[string]float64, want map[string]float64) {
	t.Helper()
	for k, v := range want {
		g, ok := got[k]
		switch {
		case !ok:
			t.Errorf("%s: missing from the scrape", k)
		case g != v:
			t.Errorf("%s = %v, want %v", k, g, v)
		}
	}
}

// eventually scrapes until the samples are as wanted (they follow
// closes that run on goroutines of their own), or fails after 5s.
func eventually(t *testing.T, ts *httptest.Server, want map[string]float64) map[string]float64 {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := scrape(t, ts)
		ok := true
		for k, v := range want {
			if got[k] != v {
				ok = false
			}
		}
		if ok || time.Now().After(deadline) {
			expect(t, got, want)
			return got
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestScriptedSession drives a server with real clients and checks the
// exact counts: a client on long-polling that upgrades, one on WebSocket,
// events, acknowledgements both ways, broadcasts, a room, a refused
// handshake and a middleware refusal.
func TestScriptedSession(t *testing.T) {
	const n = 5
	srv, ts := serve(t, &socketio.Options{})

	var mu sync.Mutex
	sockets := map[string]*socketio.Socket{}
	srv.OnConnection(func(s *socketio.Socket) {
		s.Join("lobby")
		mu.Lock()
		sockets[s.ID()] = s
		mu.Unlock()
		s.On("msg", func(e *socketio.Event) {
			var i int
			_ = e.Decode(0, &i)
			_ = e.Ack("ok")
			_ = srv.Emit("news", i) // to both clients
		})
	})
	srv.Of("/private").Use(func(*socketio.Socket) error { return errors.New("not allowed") })

	// B: WebSocket only.
	b, err := sioclient.New(ts.URL, &sioclient.Options{Transports: []string{"websocket"}, ForceNew: true, DisableReconnection: true})
	if err != nil {
		t.Fatal(err)
	}
	bConnected := make(chan struct{})
	b.OnConnect(func() { close(bConnected) })
	var news sync.WaitGroup
	news.Add(2 * n)
	b.On("news", func(*sioclient.Event) { news.Done() })
	b.Connect()
	<-bConnected

	// A: long-polling, then WebSocket.
	a, err := sioclient.New(ts.URL, &sioclient.Options{ForceNew: true, DisableReconnection: true})
	if err != nil {
		t.Fatal(err)
	}
	aConnected := make(chan struct{})
	a.OnConnect(func() { close(aConnected) })
	a.On("news", func(*sioclient.Event) { news.Done() })
	a.On("ask", func(e *sioclient.Event) { _ = e.Ack("yes") })
	a.Connect()
	<-aConnected
	var sa *socketio.Socket
	waitFor(t, "A's socket", func() bool {
		mu.Lock()
		defer mu.Unlock()
		sa = sockets[a.ID()]
		return sa != nil
	})
	waitFor(t, "A's upgrade", func() bool { return sa.Conn().Transport() == engineio.TransportWebSocket })

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for i := range n {
		if _, err := a.EmitWithAck(ctx, "msg", i); err != nil {
			t.Fatal(err)
		}
	}
	news.Wait()
	if _, err := sa.EmitWithAck(ctx, "ask"); err != nil {
		t.Fatal(err)
	}

	// C: refused by the middleware of /private.
	c, err := sioclient.New(ts.URL+"/private", &sioclient.Options{Transports: []string{"websocket"}, ForceNew: true, DisableReconnection: true})
	if err != nil {
		t.Fatal(err)
	}
	refused := make(chan struct{})
	c.OnConnectError(func(*sioclient.ConnectError) { close(refused) })
	c.Connect()
	<-refused

	// Two handshakes refused by the engine: a protocol version it does
	// not speak (code 5) and an unknown transport (code 0).
	for _, q := range []string{"EIO=3&transport=polling", "EIO=4&transport=carrier-pigeon"} {
		res, err := http.Get(ts.URL + "/socket.io/?" + q)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
	}

	// Bytes are the Socket.IO packets' (the Engine.IO type prefix, "4",
	// is not counted).
	connectBytes := float64(len(`0{"sid":""}`) + 20) // a socket id has 20 characters
	connectError := `4/private,{"message":"not allowed"}`
	got := eventually(t, ts, map[string]float64{
		`socketio_connections{transport="polling"}`: 0,
		// C's client closes its connection once refused.
		`socketio_connections{transport="websocket"}`:              2,
		`socketio_connections_opened_total{transport="polling"}`:   1,
		`socketio_connections_opened_total{transport="websocket"}`: 2,
		`socketio_upgrades_total`:                                  1,
		`socketio_handshakes_refused_total{code="0"}`:              1,
		`socketio_handshakes_refused_total{code="5"}`:              1,
		`socketio_sockets{namespace="/"}`:                          2,
		`socketio_rooms{namespace="/"}`:                            1, // lobby
		`socketio_middleware_refusals_total{namespace="/private"}`: 1,
		// In: 3 CONNECT, A's n events, A's answer to "ask".
		`socketio_packets_received_total{type="connect"}`: 3,
		`socketio_packets_received_total{type="event"}`:   n,
		`socketio_packets_received_total{type="ack"}`:     1,
		// Out: 2 CONNECT and a CONNECT_ERROR, the n answers, n
		// broadcasts to 2 sockets and "ask".
		`socketio_packets_sent_total{type="connect"}`:       2,
		`socketio_packets_sent_total{type="connect_error"}`: 1,
		`socketio_packets_sent_total{type="ack"}`:           n,
		`socketio_packets_sent_total{type="event"}`:         2*n + 1,
		`socketio_sent_bytes_total{type="connect"}`:         2 * connectBytes,
		`socketio_sent_bytes_total{type="connect_error"}`:   float64(len(connectError)),
		`socketio_sent_bytes_total{type="ack"}`:             n * float64(len(`3N["ok"]`)), // ack ids 0 … 4 from the client
		`socketio_sent_bytes_total{type="event"}`:           2*n*float64(len(`2["news",0]`)) + float64(len(`20["ask"]`)),
		`socketio_broadcasts_total{namespace="/"}`:          n,
		`socketio_deliveries_total{namespace="/"}`:          2 * n,
		`socketio_ack_rtt_seconds_count{namespace="/"}`:     1,
	})
	if got[`socketio_received_bytes_total{type="event"}`] <= 0 {
		t.Errorf("no event bytes received")
	}

	a.Manager().Close()
	b.Manager().Close()
	c.Manager().Close()
	// Every client closed its connection (an Engine.IO close packet):
	// the only reason there is. The sockets' disconnections are counted
	// as their handlers run, which may be after the gauges fall: waited
	// for with them.
	got = eventually(t, ts, map[string]float64{
		`socketio_connections{transport="polling"}`:                                 0,
		`socketio_connections{transport="websocket"}`:                               0,
		`socketio_sockets{namespace="/"}`:                                           0,
		`socketio_rooms{namespace="/"}`:                                             0,
		`socketio_queue_peak_bytes_count`:                                           3,
		`socketio_connection_duration_seconds_count`:                                3,
		`socketio_disconnects_total{reason="transport close"}`:                      3,
		`socketio_socket_disconnects_total{namespace="/",reason="transport close"}`: 2,
	})
	for k := range got {
		if strings.HasPrefix(k, "socketio_disconnects_total{") && !strings.Contains(k, `"transport close"`) {
			t.Errorf("unexpected %s", k)
		}
	}
}
