package sioclient_test

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	socketio "github.com/switchboard-go/socketio"
	"github.com/switchboard-go/socketio/sioclient"
	"github.com/switchboard-go/socketio/socketiotest"
)

// connectWire connects a socket of the main namespace to a wireServer
// over WebSocket and returns it once connected, with its lifecycle and
// the CONNECT message (whose connection the test answers on).
func connectWire(t *testing.T, ws *wireServer, opts *sioclient.Options) (*sioclient.Socket, *socketiotest.Lifecycle, wireMsg) {
	t.Helper()
	if opts == nil {
		opts = socketiotest.WebSocket.Options()
	}
	opts.ForceNew = true
	s, err := sioclient.New(ws.URL, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Manager().Close() })
	l := socketiotest.Watch(s)
	s.Connect()
	c := ws.accept(t)
	socketiotest.Receive(t, l.Connected, "the connection")
	return s, l, c
}

// The packets on the wire: acknowledgement ids count up from 0 across
// AckFunc, plain func(Args, error) and EmitWithAck emits; the callback
// argument is not sent; an emit without one carries no id.
func TestEmitAckIDsOnTheWire(t *testing.T) {
	ws := startWireServer(t)
	s, _, c := connectWire(t, ws, nil)

	answers := make(chan []any, 2)
	if err := s.Emit("a", 1, func(a sioclient.Args, err error) {
		if err != nil {
			t.Errorf("plain func ack: %v", err)
		}
		answers <- a.Values()
	}); err != nil {
		t.Fatal(err)
	}
	ws.expect(t, `20["a",1]`)
	if err := s.Emit("b", sioclient.AckFunc(func(a sioclient.Args, err error) { answers <- a.Values() })); err != nil {
		t.Fatal(err)
	}
	ws.expect(t, `21["b"]`)
	if err := s.Emit("c", "x"); err != nil {
		t.Fatal(err)
	}
	ws.expect(t, `2["c","x"]`)

	got := make(chan []any, 1)
	go func() {
		a, err := s.EmitWithAck(context.Background(), "d")
		if err != nil {
			t.Errorf("EmitWithAck: %v", err)
		}
		got <- a.Values()
	}()
	ws.expect(t, `22["d"]`)
	// Answered out of order, each goes to its own callback.
	c.reply(t, `32["third"]`, `31["second"]`, `30["first",2]`)
	if v := socketiotest.Receive(t, got, "EmitWithAck's answer"); !reflect.DeepEqual(v, []any{"third"}) {
		t.Errorf("EmitWithAck got %v", v)
	}
	if v := socketiotest.Receive(t, answers, "an answer"); !reflect.DeepEqual(v, []any{"second"}) {
		t.Errorf("AckFunc got %v", v)
	}
	if v := socketiotest.Receive(t, answers, "an answer"); !reflect.DeepEqual(v, []any{"first", 2.0}) {
		t.Errorf("plain func got %v", v)
	}
}

// EmitWithAck with Retries goes through the retry queue: the answer comes
// back, a reserved event fails at once, and the end of the context ends
// the wait with ErrTimeout for a deadline, the context's error otherwise.
func TestEmitWithAckRetries(t *testing.T) {
	srv := startServer(t, "", func(srv *socketio.Server) { echoServer(srv.Of("/")) })
	opts := socketiotest.WebSocket.Options()
	opts.Retries = 2
	s, _ := socketiotest.Connect(t, srv.URL, opts, nil)

	ctx, cancel := context.WithTimeout(context.Background(), socketiotest.Timeout)
	defer cancel()
	a, err := s.EmitWithAck(ctx, "echo", "hi", 3)
	if err != nil || !reflect.DeepEqual(a.Values(), []any{"hi", 3.0}) {
		t.Fatalf("EmitWithAck with retries: %v, %v", a.Values(), err)
	}
	if _, err := s.EmitWithAck(ctx, "connect"); !errors.Is(err, sioclient.ErrReservedEvent) {
		t.Errorf("reserved event with retries: %v", err)
	}

	// "silent" has no handler on the server: no answer ever comes. The
	// context is cancelled once the emit is on the wire; its own timeout
	// then ends its attempts, so that the queue moves on.
	cancelled, cancelNow := context.WithCancel(context.Background())
	s.OnAnyOutgoing(func(event string, _ []any) {
		if event == "silent" {
			cancelNow()
		}
	})
	if _, err := s.Timeout(20*time.Millisecond).EmitWithAck(cancelled, "silent"); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled with retries: %v, want context.Canceled", err)
	}
	short, cancelShort := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancelShort()
	if _, err := s.EmitWithAck(short, "silent too"); !errors.Is(err, sioclient.ErrTimeout) {
		t.Errorf("deadline with retries: %v, want ErrTimeout", err)
	}
}

// Event.Ack on the wire: the answer goes back under the event's id, as an
// ACK, or a BINARY_ACK carrying its attachments; no arguments make an
// empty list; an event that asked for none cannot be acknowledged, nor
// one acknowledged already.
func TestEventAckOnTheWire(t *testing.T) {
	ws := startWireServer(t)
	s, _, c := connectWire(t, ws, nil)
	type result struct {
		wants bool
		errs  []error
	}
	results := make(chan result, 4)
	s.On("q", func(e *sioclient.Event) {
		var r result
		r.wants = e.WantsAck()
		var mode string
		_ = e.Decode(0, &mode)
		switch mode {
		case "text":
			r.errs = append(r.errs, e.Ack("r", 1))
		case "binary":
			r.errs = append(r.errs, e.Ack([]byte{1, 2}))
		case "none":
			r.errs = append(r.errs, e.Ack())
		}
		r.errs = append(r.errs, e.Ack("again"))
		results <- r
	})

	c.reply(t, `25["q","text"]`)
	ws.expect(t, `35["r",1]`)
	if r := socketiotest.Receive(t, results, "the handler"); !r.wants || r.errs[0] != nil || !errors.Is(r.errs[1], sioclient.ErrAlreadyAcked) {
		t.Errorf("text ack: %+v", r)
	}
	c.reply(t, `26["q","binary"]`)
	ws.expect(t, `61-6[{"_placeholder":true,"num":0}]`)
	if m := socketiotest.Receive(t, ws.msgs, "the attachment"); !m.binary || m.data != "\x01\x02" {
		t.Errorf("attachment %q (binary %v)", m.data, m.binary)
	}
	if r := socketiotest.Receive(t, results, "the handler"); !r.wants || r.errs[0] != nil {
		t.Errorf("binary ack: %+v", r)
	}
	c.reply(t, `27["q","none"]`)
	ws.expect(t, `37[]`)
	socketiotest.Receive(t, results, "the handler")
	c.reply(t, `2["q","none"]`)
	if r := socketiotest.Receive(t, results, "the handler"); r.wants || !errors.Is(r.errs[0], sioclient.ErrNoAck) {
		t.Errorf("ack of an event that asked for none: %+v", r)
	}
}

// An event's acknowledgement goes back on the connection the event came
// on only: after a reconnection it fails with ErrDisconnected, and so it
// does while disconnected.
func TestEventAckAfterReconnection(t *testing.T) {
	ws := startWireServer(t)
	s, l, c := connectWire(t, ws, nil)
	events := make(chan *sioclient.Event, 2)
	s.On("q", func(e *sioclient.Event) { events <- e })
	c.reply(t, `21["q"]`, `22["q"]`)
	e1 := socketiotest.Receive(t, events, "the first event")
	e2 := socketiotest.Receive(t, events, "the second event")

	c.conn.CloseWithReason("transport close")
	socketiotest.Receive(t, l.Disconnected, "the disconnection")
	if err := e1.Ack("late"); !errors.Is(err, sioclient.ErrDisconnected) {
		t.Errorf("ack while disconnected: %v", err)
	}
	ws.accept(t)
	socketiotest.Receive(t, l.Connected, "the reconnection")
	if err := e2.Ack("late"); !errors.Is(err, sioclient.ErrDisconnected) {
		t.Errorf("ack after the reconnection: %v", err)
	}
	// Nothing went out: the next message is this emit.
	_ = s.Emit("after")
	ws.expect(t, `2["after"]`)
}

// The buffer of a disconnected socket counts each emit's JSON and its
// attachments, takes an exact fit, and gives back the room of an emit
// whose acknowledgement timed out (the first buffered one here), which
// is then not sent; the others go out in order on connection.
func TestBufferAccounting(t *testing.T) {
	ws := startWireServer(t)
	opts := socketiotest.WebSocket.Options()
	opts.ForceNew = true
	opts.MaxBufferBytes = 14
	s, err := sioclient.New(ws.URL, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Manager().Close()
	l := socketiotest.Watch(s)

	// `["e"]` is 5 bytes, `["e",0]` 7: two of them fill the 14 exactly.
	timedOut := make(chan error, 1)
	if err := s.Timeout(time.Millisecond).Emit("e", sioclient.AckFunc(func(_ sioclient.Args, err error) { timedOut <- err })); err != nil {
		t.Fatal(err)
	}
	if err := socketiotest.Receive(t, timedOut, "the ack timeout"); !errors.Is(err, sioclient.ErrTimeout) {
		t.Fatalf("buffered ack: %v, want ErrTimeout", err)
	}
	for i, want := range []error{nil, nil, sioclient.ErrBufferFull} {
		if err := s.Emit("e", i); !errors.Is(err, want) {
			t.Errorf("emit %d: %v, want %v", i, err, want)
		}
	}
	// The attachments count: 35 bytes of JSON and 6 of attachment do not
	// fit in 40, 35 and 5 do.
	opts2 := *opts
	opts2.MaxBufferBytes = 40
	s2, err := sioclient.New(ws.URL, &opts2)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Manager().Close()
	if err := s2.Emit("e", []byte{1, 2, 3, 4, 5, 6}); !errors.Is(err, sioclient.ErrBufferFull) {
		t.Errorf("binary emit of 41 bytes in a buffer of 40: %v", err)
	}
	if err := s2.Emit("e", []byte{1, 2, 3, 4, 5}); err != nil {
		t.Errorf("binary emit of 40 bytes in a buffer of 40: %v", err)
	}

	s.Connect()
	ws.accept(t)
	socketiotest.Receive(t, l.Connected, "the connection")
	ws.expect(t, `2["e",0]`)
	ws.expect(t, `2["e",1]`)
}

// An emit asking for an acknowledgement that the full buffer refuses is
// forgotten, its callback with it: a refusal of the namespace, which fails
// every acknowledgement awaited, does not call it.
func TestBufferFullForgetsTheAck(t *testing.T) {
	ws := startWireServer(t)
	opts := socketiotest.WebSocket.Options()
	opts.ForceNew = true
	opts.MaxBufferBytes = 8
	s, err := sioclient.New(ws.URL, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Manager().Close()
	l := socketiotest.Watch(s)
	called := make(chan error, 4)
	ack := sioclient.AckFunc(func(_ sioclient.Args, err error) { called <- err })
	if err := s.Emit("too long", ack); !errors.Is(err, sioclient.ErrBufferFull) {
		t.Fatalf("emit without a timeout: %v", err)
	}
	if err := s.Timeout(time.Hour).Emit("too long", ack); !errors.Is(err, sioclient.ErrBufferFull) {
		t.Fatalf("emit with a timeout: %v", err)
	}
	waiting := make(chan error, 1)
	if err := s.Emit("e", sioclient.AckFunc(func(_ sioclient.Args, err error) { waiting <- err })); err != nil {
		t.Fatal(err)
	}
	for round := range 2 {
		s.Connect()
		ws.expect(t, "0").reply(t, `4{"message":"no"}`)
		socketiotest.Receive(t, l.ConnectErrors, "the refusal")
		if round == 0 {
			if err := socketiotest.Receive(t, waiting, "the buffered emit's ack"); !errors.Is(err, sioclient.ErrRefused) {
				t.Errorf("buffered emit's ack: %v, want ErrRefused", err)
			}
		}
	}
	// The second refusal's callback ran after anything the first posted.
	select {
	case err := <-called:
		t.Errorf("the AckFunc of a refused emit was called: %v", err)
	default:
	}
}
