package sioclient_test

import (
	"testing"

	"github.com/switchboard-go/socketio/sioclient"
	"github.com/switchboard-go/socketio/socketiotest"
)

// The offset is the last string argument of the last event, whatever it
// is: an empty string is an offset too (the next CONNECT then asks for the
// session without one), escapes are decoded, and a number is none.
func TestRecoveryOffsetsOfEveryShape(t *testing.T) {
	srv := startScriptedServer(t)
	opts := socketiotest.WebSocket.Options()
	opts.ForceNew = true
	s, err := sioclient.New(srv.URL, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Manager().Close()
	l := socketiotest.Watch(s)
	news := make(chan struct{}, 8)
	s.On("news", func(*sioclient.Event) { news <- struct{}{} })
	s.Connect()
	for _, step := range []struct{ events, next string }{
		{`2["news","a"]`, `{"pid":"p","offset":"a"}`},
		{`2["news","\"q\"\u0041"]`, `{"pid":"p","offset":"\"q\"A"}`},
		{`2["news",7]`, `{"pid":"p","offset":"\"q\"A"}`},
		{`2["news",""]`, `{"pid":"p"}`},
	} {
		conn := socketiotest.Receive(t, srv.connects, "a CONNECT")
		conn.send(t, `0{"sid":"s","pid":"p"}`, step.events)
		socketiotest.Receive(t, l.Connected, "the connection")
		socketiotest.Receive(t, news, "the event")
		conn.cut()
		socketiotest.Receive(t, l.Disconnected, "the disconnection")
		if got := socketiotest.Receive(t, srv.connects, "the next CONNECT"); got.data != step.next {
			t.Fatalf("after %s the CONNECT asks %s, want %s", step.events, got.data, step.next)
		} else {
			srv.connects <- got // the next step answers it
		}
	}
}
