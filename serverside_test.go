package socketio

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/switchboard-go/socketio/parser"
)

// Without a cluster adapter there is nobody to ask: no answers, no error,
// at once; reserved names are refused as for ServerSideEmit. (The cluster
// path is tested over Redis in ../redisadapter.)
func TestServerSideEmitWithAckWithoutCluster(t *testing.T) {
	srv, _ := newTestServer(t, nil)
	answers, err := srv.ServerSideEmitWithAck(context.Background(), "hello", 1)
	if err != nil || answers != nil {
		t.Fatalf("got %v, %v; want no answers and no error", answers, err)
	}
	if _, err := srv.ServerSideEmitWithAck(context.Background(), "connect"); !errors.Is(err, ErrReservedEvent) {
		t.Fatalf("reserved event: %v", err)
	}
	// A handler registered without a cluster never runs, and an event
	// given to the host directly reaches it with its arguments.
	got := make(chan *ServerSideEvent, 1)
	srv.OnServerSideEmit("hello", func(e *ServerSideEvent) { got <- e })
	args, err := eventPacket("/", "hello", []any{"world"})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := parser.SplitArray(args.Data)
	nsHost{srv.root}.ServerSideEvent(Args{Raw: raw}, nil)
	e := recvWithin(t, got)
	var w string
	if err := e.Decode(0, &w); err != nil || w != "world" || e.WantsAck() || !errors.Is(e.Ack(1), ErrNoAck) {
		t.Fatalf("event %+v: %q %v", e, w, err)
	}
}

// A server-side event another server waits for is answered once: the
// second Ack fails and the answer is not sent again. A handler that
// panics is logged, and the next handler still runs; a handler that does
// not panic is not logged.
func TestServerSideEventAckOnceAndPanicLogged(t *testing.T) {
	logs, logger := newLogBuffer()
	srv, _ := newTestServer(t, &Options{Logger: logger})
	results := make(chan error, 2)
	srv.OnServerSideEmit("ask", func(e *ServerSideEvent) {
		if !e.WantsAck() {
			t.Error("WantsAck false with an ack")
		}
		results <- e.Ack("first")
		results <- e.Ack("second")
	})
	srv.OnServerSideEmit("ask", func(*ServerSideEvent) { panic("a bug on the other side") })
	srv.OnServerSideEmit("ask", func(*ServerSideEvent) { logger.Info("third handler ran") })
	srv.OnServerSideEmit("calm", func(*ServerSideEvent) { logger.Info("calm handler ran") })

	answers := make(chan any, 2)
	pkt, err := eventPacket("/", "ask", nil)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := parser.SplitArray(pkt.Data)
	nsHost{srv.root}.ServerSideEvent(Args{Raw: raw}, func(v any) { answers <- v })
	if err := recvWithin(t, results); err != nil {
		t.Fatalf("first Ack: %v", err)
	}
	if err := recvWithin(t, results); !errors.Is(err, ErrAlreadyAcked) {
		t.Fatalf("second Ack: %v, want ErrAlreadyAcked", err)
	}
	if v := recvWithin(t, answers); v != "first" {
		t.Fatalf("answer %v", v)
	}
	logs.wait(t, "third handler ran")
	if l := logs.String(); strings.Count(l, "a server-side event handler panicked") != 1 || !strings.Contains(l, "a bug on the other side") {
		t.Fatalf("log:\n%s", l)
	}
	pkt, _ = eventPacket("/", "calm", nil)
	raw, _ = parser.SplitArray(pkt.Data)
	nsHost{srv.root}.ServerSideEvent(Args{Raw: raw}, nil)
	logs.wait(t, "calm handler ran")
	if l := logs.String(); strings.Count(l, "panicked") != 1 {
		t.Fatalf("a handler that did not panic was logged:\n%s", l)
	}
	select {
	case v := <-answers:
		t.Fatalf("answered twice: %v", v)
	default:
	}
}
