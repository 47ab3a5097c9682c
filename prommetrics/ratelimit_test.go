package prommetrics_test

import (
	"context"
	"testing"
	"time"

	socketio "github.com/switchboard-go/socketio"
	"github.com/switchboard-go/socketio/sioclient"
)

// Events refused by a namespace's rate limits are counted by namespace,
// the limited event (empty for the per-socket limit) and the action.
func TestRateLimitedCounted(t *testing.T) {
	srv, ts := serve(t, &socketio.Options{})
	srv.Of("/").SetRateLimits(&socketio.RateLimits{
		PerSocket: socketio.EventLimit{Rate: 0.001, Burst: 3},
		PerEvent:  map[string]socketio.EventLimit{"chat": {Rate: 0.001, Burst: 1}},
	})
	srv.Of("/strict").SetRateLimits(&socketio.RateLimits{PerSocket: socketio.EventLimit{Rate: 0.001, Burst: 1}, Disconnect: true})
	srv.OnConnection(func(s *socketio.Socket) {
		s.On("chat", func(e *socketio.Event) { _ = e.Ack("ok") })
		s.On("other", func(e *socketio.Event) { _ = e.Ack("ok") })
	})
	srv.Of("/strict").OnConnection(func(s *socketio.Socket) {
		s.On("e", func(e *socketio.Event) { _ = e.Ack("ok") })
	})

	m, err := sioclient.NewManager(ts.URL, &sioclient.Options{Transports: []string{"websocket"}, DisableReconnection: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	main := m.Socket("/", nil)
	strict := m.Socket("/strict", nil)
	for _, s := range []*sioclient.Socket{main, strict} {
		connected := make(chan struct{})
		s.OnConnect(func() { close(connected) })
		s.Connect()
		select {
		case <-connected:
		case <-ctx.Done():
			t.Fatal("not connected")
		}
	}
	ack := func(s *sioclient.Socket, event string) string {
		t.Helper()
		args, err := s.EmitWithAck(ctx, event)
		if err != nil {
			t.Fatal(err)
		}
		return string(args.Raw[0])
	}
	// chat: 1 passes, 1 refused by its own limit; other: 2 pass (the
	// socket's 3 tokens spent), 1 refused by the socket's limit.
	for _, step := range []struct{ event, want string }{
		{"chat", `"ok"`}, {"chat", `{"error":"rate limit exceeded"}`},
		{"other", `"ok"`}, {"other", `"ok"`}, {"other", `{"error":"rate limit exceeded"}`},
	} {
		if got := ack(main, step.event); got != step.want {
			t.Fatalf("%s: %s, want %s", step.event, got, step.want)
		}
	}
	disconnected := make(chan string, 1)
	strict.OnDisconnect(func(reason string) { disconnected <- reason })
	_ = strict.Emit("e")
	_ = strict.Emit("e")
	select {
	case r := <-disconnected:
		if r != "io server disconnect" {
			t.Fatalf("/strict: disconnected with %q", r)
		}
	case <-ctx.Done():
		t.Fatal("/strict: not disconnected")
	}
	eventually(t, ts, map[string]float64{
		`socketio_rate_limited_total{action="drop",event="chat",namespace="/"}`:               1,
		`socketio_rate_limited_total{action="drop",event="",namespace="/"}`:                   1,
		`socketio_rate_limited_total{action="disconnect",event="",namespace="/strict"}`:       1,
		`socketio_socket_disconnects_total{namespace="/strict",reason="rate limit exceeded"}`: 1,
	})
}
