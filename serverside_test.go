package socketio

import (
	"context"
	"errors"
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
