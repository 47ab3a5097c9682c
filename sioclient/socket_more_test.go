package sioclient_test

import (
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
