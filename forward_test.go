package socketio

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestForwardRawArgs relays received arguments through every kind of
// emit and checks the bytes on the wire: the JSON exactly as the client
// wrote it, placeholders renumbered for the new packet.
func TestForwardRawArgs(t *testing.T) {
	srv, url := newTestServer(t, nil)
	socks := make(chan *Socket, 2)
	results := make(chan any, 4)
	srv.OnConnection(func(s *Socket) {
		s.Join("room")
		s.On("to-room", func(e *Event) { _ = s.To("room").Emit("msg", e.RawArgs()...) })
		s.On("back", func(e *Event) { _ = s.Emit("back", e.Arg(1), e.Arg(0)) })
		s.On("echo", func(e *Event) { _ = e.Ack(e.RawArgs()...) })
		s.On("all", func(e *Event) { _ = srv.Emit("all", []any{e.Arg(0)}, map[string]any{"k": e.Arg(0)}) })
		s.On("bin", func(e *Event) { _ = s.Broadcast().Emit("bin", []byte("mine"), e.Arg(0)) })
		s.On("ask", func(e *Event) {
			go func() {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				answers, err := srv.Except(s.ID()).EmitWithAck(ctx, "ask", e.Arg(0))
				if err != nil {
					results <- err
					return
				}
				results <- answers[0].Arg(0)
			}()
		})
		socks <- s
	})
	a, b := dialRaw(t, url), dialRaw(t, url)
	a.connect("/")
	recvWithin(t, socks)
	b.connect("/")
	recvWithin(t, socks)

	const obj = `{"z":1,"a":{"y":[1.50,2e3],"b":"\u00e9"}}`
	a.send(`2["to-room",` + obj + `,"x"]`)
	if p := b.recv(); p != `2["msg",`+obj+`,"x"]` {
		t.Fatalf("broadcast: %s", p)
	}
	a.send(`2["back",` + obj + `,[ 3 ]]`)
	if p := a.recv(); p != `2["back",[ 3 ],`+obj+`]` {
		t.Fatalf("socket emit: %s", p)
	}
	a.send(`27["echo",` + obj + `,null]`)
	if p := a.recv(); p != `37[`+obj+`,null]` {
		t.Fatalf("ack: %s", p)
	}
	a.send(`2["all",` + obj + `]`)
	for _, c := range []*rawClient{a, b} {
		if p := c.recv(); p != `2["all",[`+obj+`],{"k":`+obj+`}]` {
			t.Fatalf("server emit: %s", p)
		}
	}

	// Binary: the received attachment becomes the second of the new packet.
	a.send(`51-["bin",{"f":{"_placeholder":true,"num":0},"n":"pic"}]`)
	a.sendBinary([]byte("picture"))
	if p := b.recv(); p != `52-["bin",{"_placeholder":true,"num":0},{"f":{"_placeholder":true,"num":1},"n":"pic"}]` {
		t.Fatalf("binary broadcast: %s", p)
	}
	if m, p := b.recvBinary(), b.recvBinary(); string(m) != "mine" || string(p) != "picture" {
		t.Fatalf("attachments %q %q", m, p)
	}

	// EmitWithAck forwards too, and the answer can be forwarded again.
	a.send(`2["ask",` + obj + `]`)
	p := b.recv()
	id, ok := strings.CutSuffix(strings.TrimPrefix(p, "2"), `["ask",`+obj+`]`)
	if !ok {
		t.Fatalf("broadcast with ack: %s", p)
	}
	b.send("3" + id + `[{"b":2,"a":1}]`)
	switch r := recvWithin(t, results).(type) {
	case RawArg:
		if string(r.Raw) != `{"b":2,"a":1}` {
			t.Fatalf("answer %s", r.Raw)
		}
	default:
		t.Fatalf("answer %v", r)
	}
}

// TestForwardInvalidRawArg: a RawArg built by hand that is not valid JSON
// makes the emit fail; nothing reaches the client.
func TestForwardInvalidRawArg(t *testing.T) {
	srv, url := newTestServer(t, nil)
	socks := make(chan *Socket, 1)
	srv.OnConnection(func(s *Socket) { socks <- s })
	c := dialRaw(t, url)
	c.connect("/")
	s := recvWithin(t, socks)
	bad := RawArg{Raw: []byte(`{"a":`)}
	dangling := RawArg{Raw: []byte(`{"_placeholder":true,"num":3}`), Attachments: [][]byte{{1}}}
	for _, arg := range []any{bad, dangling} {
		if err := s.Emit("x", arg); err == nil {
			t.Errorf("Emit(%v) succeeded", arg)
		}
		if err := srv.Emit("x", arg); err == nil {
			t.Errorf("broadcast of %v succeeded", arg)
		}
	}
	_ = s.Emit("end")
	if p := c.recv(); p != `2["end"]` {
		t.Fatalf("got %s", p)
	}
}
