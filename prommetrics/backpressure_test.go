package prommetrics_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	socketio "github.com/switchboard-go/socketio"
	"github.com/switchboard-go/socketio/engineio"
)

// pollingClient opens a long-polling session by hand and joins the main
// namespace, then polls no more: the server's queue for it only grows.
func pollingClient(t *testing.T, ts *httptest.Server) {
	t.Helper()
	base := ts.URL + "/socket.io/?EIO=4&transport=polling"
	res, err := http.Get(base)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	m := regexp.MustCompile(`"sid":"([^"]+)"`).FindSubmatch(body)
	if m == nil {
		t.Fatalf("handshake answered %q", body)
	}
	res, err = http.Post(base+"&sid="+string(m[1]), "text/plain;charset=UTF-8", strings.NewReader("40"))
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
}

// TestBackpressure checks the counts of clients that stop reading: one
// whose queue overflows (after a volatile packet was dropped for it) and
// one that stops answering pings.
func TestBackpressure(t *testing.T) {
	const maxQueue = 4096
	srv, ts := serve(t, &socketio.Options{Engine: engineio.Options{
		MaxQueueBytes: maxQueue,
		PingInterval:  150 * time.Millisecond,
		PingTimeout:   150 * time.Millisecond,
	}})
	joined := make(chan *socketio.Socket, 1)
	srv.OnConnection(func(s *socketio.Socket) { joined <- s })

	// The first client: its queue holds the CONNECT answer, then 1.5 KiB
	// (past a quarter of the bound: a volatile packet is dropped), then
	// 3 KiB more do not fit.
	pollingClient(t, ts)
	s := <-joined
	_ = s.Emit("big", strings.Repeat("x", 1500))
	_ = s.Volatile().Emit("tick")
	_ = s.Emit("big", strings.Repeat("x", 3000))
	eventually(t, ts, map[string]float64{
		`socketio_disconnects_total{reason="queue overflow"}`:                      1,
		`socketio_socket_disconnects_total{namespace="/",reason="queue overflow"}`: 1,
		`socketio_volatile_dropped_total`:                                          1,
		`socketio_queue_peak_bytes_count`:                                          1,
		// Its peak: the CONNECT answer and the first message, between
		// 1 KiB and 4 KiB.
		`socketio_queue_peak_bytes_bucket{le="1024"}`: 0,
		`socketio_queue_peak_bytes_bucket{le="4096"}`: 1,
		`socketio_sockets{namespace="/"}`:             0,
	})

	// The second client answers no ping: closed after PingInterval +
	// PingTimeout.
	pollingClient(t, ts)
	<-joined
	eventually(t, ts, map[string]float64{
		`socketio_disconnects_total{reason="ping timeout"}`:                      1,
		`socketio_socket_disconnects_total{namespace="/",reason="ping timeout"}`: 1,
		`socketio_connections{transport="polling"}`:                              0,
		`socketio_connections_opened_total{transport="polling"}`:                 2,
		`socketio_queue_peak_bytes_count`:                                        2,
		`socketio_sockets{namespace="/"}`:                                        0,
	})
}
