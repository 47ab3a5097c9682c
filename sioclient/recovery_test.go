package sioclient_test

import (
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-go/socketio/engineio"
	"github.com/switchboard-go/socketio/sioclient"
	"github.com/switchboard-go/socketio/socketiotest"
)

// scriptedConnect is a CONNECT packet of the main namespace received by a
// scriptedServer, with the connection it came on.
type scriptedConnect struct {
	conn *engineio.Conn
	data string // the payload after the packet type, "" for none
}

// cut ends the connection at once, as a network failure would.
func (c scriptedConnect) cut() { c.conn.CloseWithReason(engineio.ReasonTransportClose) }

// send writes Socket.IO packets, already encoded, on the connection, in
// order.
func (c scriptedConnect) send(t *testing.T, packets ...string) {
	t.Helper()
	for _, p := range packets {
		if err := c.conn.Send([]byte(p), false, false); err != nil {
			t.Fatalf("send %s: %v", p, err)
		}
	}
}

// scriptedServer is a bare Engine.IO server whose Socket.IO side the test
// writes by hand, packet by packet: what a recovering server sends, and in
// which order, is then exactly what the test says, whatever the state of
// this module's server.
type scriptedServer struct {
	URL      string
	connects chan scriptedConnect
}

type scriptedHandler struct{ s *scriptedServer }

func (h scriptedHandler) OnMessage(c *engineio.Conn, data []byte, binary bool) {
	if binary || len(data) == 0 || data[0] != '0' {
		return
	}
	select {
	case h.s.connects <- scriptedConnect{conn: c, data: string(data[1:])}:
	default: // the test stopped listening; do not hold the connection up
	}
}

func (scriptedHandler) OnClose(*engineio.Conn, string) {}

// expectConnect returns the next CONNECT the server received, failing the
// test unless its payload is want.
func (s *scriptedServer) expectConnect(t *testing.T, want string) scriptedConnect {
	t.Helper()
	c := socketiotest.Receive(t, s.connects, "a CONNECT")
	if c.data != want {
		t.Fatalf("CONNECT payload %s, want %s", c.data, want)
	}
	return c
}

func startScriptedServer(t *testing.T) *scriptedServer {
	t.Helper()
	s := &scriptedServer{connects: make(chan scriptedConnect, 16)}
	// A generous ping timeout: a client busy with thousands of replayed
	// events under the race detector on a loaded machine answered a ping
	// late once, lost its session ("Session ID unknown") and failed
	// TestRecoveryManyMissedEvents/polling. Connections end by cut, not
	// by the heartbeat.
	eng := engineio.NewServer(&engineio.Options{PingInterval: 200 * time.Millisecond, PingTimeout: 20 * time.Second},
		func(*engineio.Conn) engineio.Handler { return scriptedHandler{s} })
	hs := httptest.NewServer(eng)
	t.Cleanup(func() {
		_ = eng.Close()
		hs.CloseClientConnections()
		hs.Close()
	})
	s.URL = hs.URL
	return s
}

// The socket keeps the session of a server with connection state recovery
// across reconnections: the CONNECT carries pid and the offset of the last
// event (merged into the auth object, whose own keys win), the events a
// recovering server replays before its CONNECT reach the handlers in
// order, before OnConnect, with the socket connected; Recovered tells
// whether the same pid came back. Replayed events of a connection lost
// before its CONNECT are dropped and do not move the offset; a new
// session forgets the old offset; a server without recovery ends it all,
// and so does a deliberate disconnection.
func TestRecoveryScriptedServer(t *testing.T) {
	socketiotest.EachTransport(t, func(t *testing.T, tr socketiotest.Transport) {
		srv := startScriptedServer(t)
		auths := []any{
			map[string]any{"token": "t"}, // connections 1 to 4
			map[string]any{"token": "t"},
			map[string]any{"token": "t"},
			map[string]any{"token": "t"},
			map[string]any{"token": "t", "offset": "mine"},
			json.RawMessage(`{"p\u0069d":"theirs"}`), // "pid", escaped
			nil,
		}
		var authCalls atomic.Int32
		opts := tr.Options()
		opts.AuthFunc = func() (any, error) {
			n := int(authCalls.Add(1))
			return auths[min(n, len(auths))-1], nil
		}
		s, err := sioclient.New(srv.URL, opts)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Manager().Close()
		seen := make(chan string, 64)
		s.On("news", func(e *sioclient.Event) {
			last, _ := e.Value(len(e.Raw) - 1).(string)
			seen <- fmt.Sprintf("news %v %s connected=%v", e.Value(0), last, s.Connected())
		})
		s.OnConnect(func() { seen <- fmt.Sprintf("connect %s recovered=%v", s.ID(), s.Recovered()) })
		s.OnDisconnect(func(reason string) {
			if reason != sioclient.ReasonTransportClose && reason != sioclient.ReasonTransportError {
				seen <- "disconnect " + reason // the cuts' reasons vary with the transport
			}
		})
		expect := func(want ...string) {
			t.Helper()
			for _, w := range want {
				if got := socketiotest.Receive(t, seen, w); got != w {
					t.Fatalf("got %q, want %q", got, w)
				}
			}
		}
		connect := func(want string) scriptedConnect {
			t.Helper()
			return srv.expectConnect(t, want)
		}

		s.Connect()
		c := connect(`{"token":"t"}`)
		if s.Recovered() {
			t.Error("Recovered before any connection")
		}
		c.send(t, `0{"sid":"sid-1","pid":"pid-1"}`,
			`2["news","first","off-1"]`,
			`21["news","asks","not-an-offset"]`) // an event asking an ack is never logged
		expect("connect sid-1 recovered=false",
			"news first off-1 connected=true",
			"news asks not-an-offset connected=true")

		// Lost: the server replays what came after off-1, then confirms.
		c.cut()
		c = connect(`{"pid":"pid-1","offset":"off-1","token":"t"}`)
		c.send(t, `2["news","missed-1","off-2"]`,
			`2["news","missed-2","off-3"]`,
			`0{"sid":"sid-1","pid":"pid-1"}`,
			`2["news","live","off-4"]`,
			`2["news","escaped","off\/5"]`,
			`2["news","number",6]`) // not an offset
		expect("news missed-1 off-2 connected=true",
			"news missed-2 off-3 connected=true",
			"connect sid-1 recovered=true",
			"news live off-4 connected=true",
			"news escaped off/5 connected=true",
			"news number  connected=true")

		// Lost again, and again before the server's CONNECT: what it
		// replayed then never reached the handlers, so off/5 still stands.
		c.cut()
		c = connect(`{"pid":"pid-1","offset":"off/5","token":"t"}`)
		c.send(t, `2["news","half","off-7"]`)
		_ = c.conn.Close() // after sending "half"
		c = connect(`{"pid":"pid-1","offset":"off/5","token":"t"}`)

		// The session expired: a new one, whose log position is its own.
		c.send(t, `0{"sid":"sid-2","pid":"pid-2"}`, `2["news","fresh","off-8"]`)
		expect("connect sid-2 recovered=false", "news fresh off-8 connected=true")
		c.cut()
		c = connect(`{"pid":"pid-2","offset":"mine","token":"t"}`) // the auth's offset wins
		c.send(t, `0{"sid":"sid-3","pid":"pid-3"}`)
		expect("connect sid-3 recovered=false")
		c.cut()
		c = connect(`{"p\u0069d":"theirs"}`) // no offset under pid-3 yet; the auth's pid wins

		// Recovery off on the server: no pid, nothing to recover.
		c.send(t, `0{"sid":"sid-4"}`, `2["news","plain","not-an-offset"]`)
		expect("connect sid-4 recovered=false", "news plain not-an-offset connected=true")
		c.cut()
		c = connect(``)

		// A deliberate disconnection, by the client, the server or
		// Manager.Close, ends the session: the next CONNECT asks for none.
		c.send(t, `0{"sid":"sid-5","pid":"pid-5"}`, `2["news","before-disconnect","off-9"]`)
		expect("connect sid-5 recovered=false", "news before-disconnect off-9 connected=true")
		s.Disconnect()
		expect("disconnect io client disconnect")
		s.Connect()
		c = connect(``)
		c.send(t, `0{"sid":"sid-6","pid":"pid-6"}`, `2["news","before-kick","off-10"]`)
		expect("connect sid-6 recovered=false", "news before-kick off-10 connected=true")
		c.send(t, `1`)
		expect("disconnect io server disconnect")
		s.Connect()
		c = connect(``)
		c.send(t, `0{"sid":"sid-7","pid":"pid-7"}`, `2["news","before-close","off-11"]`)
		expect("connect sid-7 recovered=false", "news before-close off-11 connected=true")
		_ = s.Manager().Close()
		expect("disconnect forced close")
		s.Connect()
		c = connect(``)
		c.send(t, `0{"sid":"sid-8","pid":"pid-7"}`) // the same pid, by chance: still no recovery
		expect("connect sid-8 recovered=false")
		socketiotest.Nothing(t, seen, 50*time.Millisecond, "callback")
	})
}

// A recovering server may replay more events than a socket holds while
// waiting for the CONNECT: they are all delivered, in order, before
// OnConnect, and the last one's offset is the one sent next time.
func TestRecoveryManyMissedEvents(t *testing.T) {
	socketiotest.EachTransport(t, func(t *testing.T, tr socketiotest.Transport) {
		const missed = 3000 // several times what the socket holds
		srv := startScriptedServer(t)
		opts := tr.Options()
		opts.Auth = map[string]any{}
		s, err := sioclient.New(srv.URL, opts)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Manager().Close()
		got := make(chan int, missed+16)
		s.On("n", func(e *sioclient.Event) {
			var n int
			_ = e.Decode(0, &n)
			got <- n
		})
		connected := make(chan bool, 4)
		s.OnConnect(func() { connected <- s.Recovered() })
		connect := func(want string) scriptedConnect {
			t.Helper()
			return srv.expectConnect(t, want)
		}

		s.Connect()
		c := connect(`{}`)
		c.send(t, `0{"sid":"a","pid":"p"}`, `2["n",-1,"o-start"]`)
		socketiotest.Receive(t, connected, "connect")
		if n := socketiotest.Receive(t, got, "event -1"); n != -1 {
			t.Fatalf("event %d, want -1", n)
		}
		c.cut()
		c = connect(`{"pid":"p","offset":"o-start"}`)
		packets := make([]string, 0, missed+1)
		for i := range missed {
			packets = append(packets, fmt.Sprintf(`2["n",%d,"o-%d"]`, i, i))
		}
		c.send(t, append(packets, `0{"sid":"a","pid":"p"}`)...)
		for i := range missed {
			if n := socketiotest.Receive(t, got, "a missed event"); n != i {
				t.Fatalf("missed event %d, want %d", n, i)
			}
		}
		if !socketiotest.Receive(t, connected, "reconnect") {
			t.Error("not recovered")
		}
		c.cut()
		connect(fmt.Sprintf(`{"pid":"p","offset":"o-%d"}`, missed-1))
	})
}
