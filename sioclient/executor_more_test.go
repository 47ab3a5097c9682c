package sioclient_test

import (
	"errors"
	"fmt"
	"log/slog"
	"testing"

	"github.com/switchboard-go/socketio/sioclient"
	"github.com/switchboard-go/socketio/socketiotest"
)

// A handler may disconnect its socket while more callbacks than the
// inbound backlog bound wait behind it: the acknowledgements that fail
// then are posted, not held back until the backlog shrinks (only the
// handler's own goroutine could shrink it), and every callback runs in
// order.
func TestDisconnectFromAHandlerBehindABacklog(t *testing.T) {
	ws := startWireServer(t)
	s, l, c := connectWire(t, ws, nil)
	const n = 1500 // more than the executor's inbound bound (1024)
	outgoing := make(chan string, n+1)
	s.OnAnyOutgoing(func(event string, _ []any) { outgoing <- event })
	acked := make(chan error, 1)
	if err := s.Emit("wait", sioclient.AckFunc(func(_ sioclient.Args, err error) { acked <- err })); err != nil {
		t.Fatal(err)
	}
	ws.expect(t, `20["wait"]`)
	socketiotest.Receive(t, outgoing, "OnAnyOutgoing of wait")
	s.On("go", func(*sioclient.Event) {
		// Each emit sent queues an OnAnyOutgoing call behind this handler.
		for i := range n {
			if err := s.Emit(fmt.Sprint("e", i)); err != nil {
				t.Errorf("emit %d: %v", i, err)
				return
			}
		}
		s.Disconnect()
	})
	c.reply(t, `2["go"]`)
	for i := range n {
		if ev := socketiotest.Receive(t, outgoing, "OnAnyOutgoing"); ev != fmt.Sprint("e", i) {
			t.Fatalf("OnAnyOutgoing %d: %s", i, ev)
		}
	}
	if r := socketiotest.Receive(t, l.Disconnected, "OnDisconnect"); r != sioclient.ReasonIOClientDisconnect {
		t.Errorf("OnDisconnect(%q)", r)
	}
	if err := socketiotest.Receive(t, acked, "the failed ack"); !errors.Is(err, sioclient.ErrDisconnected) {
		t.Errorf("ack: %v, want ErrDisconnected", err)
	}
}

// A handler's panic is logged, at error level with its value, and only a
// panic is; the callbacks after it still run.
func TestHandlerPanicLogged(t *testing.T) {
	ws := startWireServer(t)
	records := make(chan slog.Record, 1024)
	opts := socketiotest.WebSocket.Options()
	opts.Logger = slog.New(logRecorder{records})
	s, _, c := connectWire(t, ws, opts)
	after := make(chan struct{}, 1)
	s.On("calm", func(*sioclient.Event) {})
	s.On("boom", func(*sioclient.Event) { panic("boom!") })
	s.On("after", func(*sioclient.Event) { after <- struct{}{} })
	c.reply(t, `2["calm"]`, `2["boom"]`, `2["after"]`)
	socketiotest.Receive(t, after, "the handler after the panic")
	var panics []string
	for len(records) > 0 {
		r := <-records
		if r.Message == "sioclient: handler panicked" {
			attrs := map[string]string{}
			r.Attrs(func(a slog.Attr) bool { attrs[a.Key] = a.Value.String(); return true })
			if r.Level != slog.LevelError || attrs["stack"] == "" {
				t.Errorf("panic record %v %v", r.Level, attrs)
			}
			panics = append(panics, attrs["panic"])
		}
	}
	if fmt.Sprint(panics) != "[boom!]" {
		t.Errorf("panics logged: %q, want one, boom!", panics)
	}
}
