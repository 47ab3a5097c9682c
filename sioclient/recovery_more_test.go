package sioclient_test

import (
	"encoding/json"
	"fmt"
	"strings"
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

// The missed events a socket holds for the CONNECT they precede: up to
// 1024; the 1025th makes it deliver them all at once, which moves the
// offset then, so that a connection lost before its CONNECT asks for the
// session from the last of them. With 1024 held, the loss drops them and
// the offset stays.
func TestRecoveryHeldEventsBound(t *testing.T) {
	for _, tc := range []struct {
		missed int
		offset string
	}{{1024, "o-start"}, {1025, "o-1025"}} {
		t.Run(fmt.Sprint(tc.missed), func(t *testing.T) {
			srv := startScriptedServer(t)
			opts := socketiotest.WebSocket.Options()
			opts.ForceNew = true
			s, err := sioclient.New(srv.URL, opts)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Manager().Close()
			l := socketiotest.Watch(s)
			s.On("n", func(*sioclient.Event) {})
			s.Connect()
			c := srv.expectConnect(t, "")
			c.send(t, `0{"sid":"a","pid":"p"}`, `2["n",0,"o-start"]`)
			socketiotest.Receive(t, l.Connected, "the connection")
			c.cut()
			c = srv.expectConnect(t, `{"pid":"p","offset":"o-start"}`)
			packets := make([]string, 0, tc.missed)
			for i := 1; i <= tc.missed; i++ {
				packets = append(packets, fmt.Sprintf(`2["n",%d,"o-%d"]`, i, i))
			}
			c.send(t, packets...)
			// Closed after what it sent: the client reads it all first.
			_ = c.conn.Close()
			srv.expectConnect(t, fmt.Sprintf(`{"pid":"p","offset":"%s"}`, tc.offset))
		})
	}
}

// A refusal drops the missed events held for the CONNECT it replaces:
// a later CONNECT on the same connection (another socket keeps it open)
// does not deliver them.
func TestRefusalDropsHeldEvents(t *testing.T) {
	ws := startWireServer(t)
	opts := socketiotest.WebSocket.Options()
	opts.ForceNew = true
	m, err := sioclient.NewManager(ws.URL, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	other := m.Socket("/other", nil)
	lo := socketiotest.Watch(other)
	other.Connect()
	ws.expect(t, "0/other,").reply(t, `0/other,{"sid":"o"}`)
	socketiotest.Receive(t, lo.Connected, "the other socket's connection")

	s := m.Socket("/", nil)
	l := socketiotest.Watch(s)
	got := make(chan string, 4)
	s.On("missed", func(e *sioclient.Event) { got <- "missed" })
	s.OnConnect(func() { got <- "connect" })
	s.Connect()
	c := ws.expect(t, "0")
	c.reply(t, `2["missed"]`, `4{"message":"no"}`)
	socketiotest.Receive(t, l.ConnectErrors, "the refusal")
	s.Connect()
	ws.expect(t, "0").reply(t, `0{"sid":"s"}`)
	if g := socketiotest.Receive(t, got, "the connection"); g != "connect" {
		t.Errorf("got %s before OnConnect: the refused connection's held event", g)
	}
}

// The session in the CONNECT is written as JSON whatever its length and
// bytes: a long pid with no offset yet, then a longer offset; <, > and &
// as they are (not HTML-escaped), quotes, backslashes and control bytes
// escaped.
func TestRecoverySessionWritten(t *testing.T) {
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
	pid := "p<&>" + strings.Repeat("x", 60)
	offset := `o"\` + "\t" + strings.Repeat("y", 100)
	s.Connect()
	c := srv.expectConnect(t, "")
	c.send(t, `0{"sid":"a","pid":"`+pid+`"}`)
	socketiotest.Receive(t, l.Connected, "the connection")
	c.cut()
	c = srv.expectConnect(t, `{"pid":"`+pid+`"}`)
	c.send(t, `0{"sid":"a","pid":"`+pid+`"}`, `2["news","o\"\\\t`+strings.Repeat("y", 100)+`"]`)
	socketiotest.Receive(t, l.Connected, "the reconnection")
	socketiotest.Receive(t, news, "the event")
	c.cut()
	want, _ := json.Marshal(offset)
	srv.expectConnect(t, `{"pid":"`+pid+`","offset":`+string(want)+`}`)
}

// An auth with its own pid keeps it, and the offset comes first, without
// a comma before it.
func TestRecoveryAuthOwnPID(t *testing.T) {
	srv := startScriptedServer(t)
	opts := socketiotest.WebSocket.Options()
	opts.ForceNew = true
	opts.Auth = map[string]any{"pid": "mine"}
	s, err := sioclient.New(srv.URL, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Manager().Close()
	l := socketiotest.Watch(s)
	news := make(chan struct{}, 1)
	s.On("news", func(*sioclient.Event) { news <- struct{}{} })
	s.Connect()
	c := srv.expectConnect(t, `{"pid":"mine"}`)
	c.send(t, `0{"sid":"a","pid":"p"}`, `2["news","o"]`)
	socketiotest.Receive(t, l.Connected, "the connection")
	socketiotest.Receive(t, news, "the event")
	c.cut()
	srv.expectConnect(t, `{"offset":"o","pid":"mine"}`)
}
