package sioclient_test

import (
	"errors"
	"fmt"
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
