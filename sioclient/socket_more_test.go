package sioclient_test

import (
	"errors"
	"testing"

	"github.com/switchboard-go/socketio/sioclient"
	"github.com/switchboard-go/socketio/socketiotest"
)

// The CONNECT_ERROR packets of every server: an object with a message and
// data (v4), a bare string (v3).
func TestConnectErrorPayloads(t *testing.T) {
	ws := startWireServer(t)
	opts := socketiotest.WebSocket.Options()
	opts.ForceNew = true
	s, err := sioclient.New(ws.URL, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Manager().Close()
	l := socketiotest.Watch(s)
	for _, tc := range []struct{ packet, message, data string }{
		{`4{"message":"no","data":{"code":1}}`, "no", `{"code":1}`},
		{`4"old server"`, "old server", ""},
	} {
		s.Connect()
		ws.expect(t, "0").reply(t, tc.packet)
		ce := socketiotest.Receive(t, l.ConnectErrors, "the refusal")
		if !ce.FromServer() || ce.Message != tc.message || string(ce.Data) != tc.data {
			t.Errorf("%s: connect error %+v", tc.packet, ce)
		}
	}
}

// A refusal fails the buffered emits that await an acknowledgement and
// takes them out of the buffer (and their room); those that await none
// stay, and go out once a later Connect succeeds.
func TestRefusalTakesTheAwaitedEmitsOutOfTheBuffer(t *testing.T) {
	ws := startWireServer(t)
	opts := socketiotest.WebSocket.Options()
	opts.ForceNew = true
	opts.MaxBufferBytes = 21 // `["plain"]` 9 bytes, `["acked"]` 9, `["ok"]` 6
	s, err := sioclient.New(ws.URL, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Manager().Close()
	l := socketiotest.Watch(s)
	failed := make(chan error, 1)
	if err := s.Emit("acked", sioclient.AckFunc(func(_ sioclient.Args, err error) { failed <- err })); err != nil {
		t.Fatal(err)
	}
	if err := s.Emit("plain"); err != nil {
		t.Fatal(err)
	}
	s.Connect()
	ws.expect(t, "0").reply(t, `4{"message":"no"}`)
	socketiotest.Receive(t, l.ConnectErrors, "the refusal")
	if err := socketiotest.Receive(t, failed, "the failed ack"); !errors.Is(err, sioclient.ErrRefused) {
		t.Errorf("ack: %v, want ErrRefused", err)
	}
	// The room of "acked" is free again: 9 + 9 + 6 would not fit in 21.
	if err := s.Emit("ok"); err != nil {
		t.Errorf("emit after the refusal: %v", err)
	}
	s.Connect()
	ws.accept(t)
	socketiotest.Receive(t, l.Connected, "the connection")
	ws.expect(t, `2["plain"]`)
	ws.expect(t, `2["ok"]`)
}
