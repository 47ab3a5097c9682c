package socketio

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-go/socketio/adapter"
	"github.com/switchboard-go/socketio/parser"
)

// The observer counts a binary packet's bytes with its attachments, both
// ways: what the client sends, over several messages, and what a socket
// emits.
func TestObserverBinaryPacketBytes(t *testing.T) {
	rec := &recorder{}
	srv, url := newTestServer(t, &Options{Observer: rec})
	srv.OnConnection(func(s *Socket) {
		s.On("up", func(e *Event) { _ = s.Emit("down", []byte{1, 2, 3}) })
	})
	c := dialRaw(t, url)
	c.connect("/")

	const up = `51-["up",{"_placeholder":true,"num":0}]`
	c.send(up)
	c.sendBinary([]byte{9, 8, 7, 6, 5})
	if got := c.recv(); got != `51-["down",{"_placeholder":true,"num":0}]` {
		t.Fatalf("got %q", got)
	}
	if b := c.recvBinary(); string(b) != "\x01\x02\x03" {
		t.Fatalf("attachment %v", b)
	}
	rec.waitFor(t,
		fmt.Sprintf("in BINARY_EVENT / %d", len(up)+5),
		fmt.Sprintf("out BINARY_EVENT / %d", len(`51-["down",{"_placeholder":true,"num":0}]`)+3))
}

// The observer's room count leaves out each socket's own room, whichever
// way it goes: a socket joining two new rooms adds two; leaving a room
// shared with another socket and one of its own, then its own room, when
// it disconnects, removes one.
func TestObserverRoomsDeltaLeavesOutOwnRoom(t *testing.T) {
	rec := &recorder{}
	srv, url := newTestServer(t, &Options{Observer: rec})
	sockets := make(chan *Socket, 2)
	srv.OnConnection(func(s *Socket) { sockets <- s })
	a := dialRaw(t, url)
	a.connect("/")
	sa := recvWithin(t, sockets)
	sa.Join("shared", "solo")
	b := dialRaw(t, url)
	b.connect("/")
	recvWithin(t, sockets).Join("shared")
	a.send("1")
	got := rec.waitFor(t, "socket gone / client namespace disconnect")
	var rooms []string
	for _, e := range got {
		if strings.HasPrefix(e, "rooms ") {
			rooms = append(rooms, e)
		}
	}
	if want := []string{"rooms / +2", "rooms / -1"}; !slices.Equal(rooms, want) {
		t.Fatalf("heard %q, want %q", rooms, want)
	}
}

// A broadcast's acknowledgements are reported with their round-trip time,
// as a socket's are; a broadcast that reached no socket (an empty room)
// is not reported as one.
func TestObserverBroadcastAcksAndEmptyBroadcasts(t *testing.T) {
	rec := &recorder{}
	srv, url := newTestServer(t, &Options{Observer: rec})
	connected := make(chan *Socket, 1)
	srv.OnConnection(func(s *Socket) { connected <- s })
	c := dialRaw(t, url)
	c.connect("/")
	recvWithin(t, connected)
	rec.take()

	_ = srv.To("nobody-here").Emit("lost", 1)
	answers := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, err := srv.Timeout(5*time.Second).EmitWithAck(ctx, "ask", 2)
		answers <- err
	}()
	if got := c.recv(); got != `20["ask",2]` {
		t.Fatalf("got %q", got)
	}
	c.send(`30["yes"]`)
	if err := recvWithin(t, answers); err != nil {
		t.Fatal(err)
	}
	got := rec.waitFor(t, "ack / rtt>0:true")
	for _, e := range got {
		if strings.HasPrefix(e, "broadcast / EVENT 0×") {
			t.Errorf("a broadcast to an empty room was reported: %q", e)
		}
	}
	if !slices.ContainsFunc(got, func(e string) bool { return strings.HasPrefix(e, "broadcast / EVENT 1×") }) {
		t.Errorf("the broadcast with an ack was not reported: %q", got)
	}
}

// An adapter may name sockets that are gone by the time it delivers (a
// disconnect racing a broadcast): a delivery that reached none of them is
// not reported as a broadcast.
func TestObserverDeliveryToGoneSockets(t *testing.T) {
	rec := &recorder{}
	srv, _ := newTestServer(t, &Options{Observer: rec})
	frames := adapter.EncodeFrames(&parser.Packet{Type: parser.Event, Namespace: "/", Data: []byte(`["x"]`)})
	nsHost{ns: srv.Of("/")}.Deliver([]string{"gone-1", "gone-2"}, frames, adapter.DeliverOptions{})
	srv.Of("/").Emit("heard", 1) // reaches no socket either: the adapter does not deliver
	for _, e := range rec.take() {
		if strings.HasPrefix(e, "broadcast ") {
			t.Errorf("reported %q", e)
		}
	}
}
