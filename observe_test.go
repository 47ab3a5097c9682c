package socketio

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// msgRecorder is a recorder that also writes down the Engine.IO messages
// of each packet.
type msgRecorder struct{ *recorder }

func (r msgRecorder) PacketIn(e PacketStat) {
	r.add("in %v %s %d msgs %d", e.Type, e.Namespace, e.Bytes, e.Messages)
}
func (r msgRecorder) PacketOut(e PacketStat) {
	r.add("out %v %s %d msgs %d", e.Type, e.Namespace, e.Bytes, e.Messages)
}
func (r msgRecorder) Broadcast(e BroadcastStat) {
	r.add("broadcast %s %v %d×%d msgs %d", e.Namespace, e.Type, e.Deliveries, e.Bytes, e.Messages)
}

// An observer attached after NewServer hears the engine's events and the
// server's, with the Engine.IO messages of each packet (its text and each
// attachment), beside Options.Observer; once detached, it hears nothing
// more while the other still does.
func TestObserveAttachedAfterStart(t *testing.T) {
	base := &recorder{}
	srv, url := newTestServer(t, &Options{Observer: base})
	srv.OnConnection(func(s *Socket) {
		s.On("up", func(e *Event) { _ = s.Emit("down", []byte{1, 2, 3}) })
		s.On("all", func(e *Event) { _ = srv.Emit("news", []byte{4}, []byte{5, 6}) })
		s.On("ping", func(e *Event) { _ = s.Emit("pong") })
	})
	rec := msgRecorder{&recorder{}}
	detach := srv.Observe(rec)

	c := dialRaw(t, url)
	c.connect("/")
	rec.waitFor(t, "open websocket", "socket / false", "in CONNECT / 1 msgs 1")

	const up = `51-["up",{"_placeholder":true,"num":0}]`
	const down = `51-["down",{"_placeholder":true,"num":0}]`
	c.send(up)
	c.sendBinary([]byte{9, 8, 7, 6, 5})
	if got := c.recv(); got != down {
		t.Fatalf("got %q", got)
	}
	c.recvBinary()
	rec.waitFor(t,
		fmt.Sprintf("in BINARY_EVENT / %d msgs 2", len(up)+5),
		fmt.Sprintf("out BINARY_EVENT / %d msgs 2", len(down)+3))

	c.send(`2["all"]`)
	const news = `52-["news",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`
	if got := c.recv(); got != news {
		t.Fatalf("got %q", got)
	}
	c.recvBinary()
	c.recvBinary()
	rec.waitFor(t, fmt.Sprintf("broadcast / BINARY_EVENT 1×%d msgs 3", len(news)+3))
	base.waitFor(t, "open websocket", `in EVENT / 8`, fmt.Sprintf("broadcast / BINARY_EVENT 1×%d", len(news)+3))

	detach()
	detach() // a second call does nothing
	rec.take()
	// PacketIn comes before the handler that answers: had the observer
	// still been attached, it would have heard the event by now.
	c.send(`2["ping"]`)
	if got := c.recv(); got != `2["pong"]` {
		t.Fatalf("got %q", got)
	}
	base.waitFor(t, `in EVENT / 9`, `out EVENT / 9`)
	if got := rec.take(); len(got) != 0 {
		t.Fatalf("detached observer heard %q", got)
	}
	_ = c.ws.Close()
	base.waitFor(t, "close websocket transport close peak>0:true")
	if got := rec.take(); slices.ContainsFunc(got, func(e string) bool { return strings.HasPrefix(e, "close") }) {
		t.Fatalf("detached observer heard %q", got)
	}
}

// Observe(nil) attaches nothing; with nothing attached the server
// reports to nobody, and the same observer may be attached twice and
// hears each event twice until one attachment is detached.
func TestObserveTwiceAndNil(t *testing.T) {
	srv, url := newTestServer(t, nil)
	srv.Observe(nil)()
	if srv.observer() != nil {
		t.Fatal("Observe(nil) attached something")
	}
	srv.OnConnection(func(s *Socket) {
		s.On("ping", func(e *Event) { _ = s.Emit("pong") })
	})
	rec := &recorder{}
	d1 := srv.Observe(rec)
	d2 := srv.Observe(rec)
	c := dialRaw(t, url)
	c.connect("/")
	c.send(`2["ping"]`)
	c.recv()
	got := rec.waitFor(t, `in EVENT / 9`, `out EVENT / 9`)
	for len(slices.DeleteFunc(slices.Clone(got), func(e string) bool { return e != `out EVENT / 9` })) < 2 {
		got = append(got, rec.waitFor(t, `out EVENT / 9`)...)
	}
	d1()
	rec.take()
	c.send(`2["ping"]`)
	c.recv()
	got = rec.waitFor(t, `out EVENT / 9`)
	if n := len(slices.DeleteFunc(got, func(e string) bool { return e != `in EVENT / 9` })); n != 1 {
		t.Fatalf("heard the event %d times with one attachment left", n)
	}
	d2()
	if srv.observer() != nil {
		t.Fatal("an observer is left")
	}
}
