package sioclient_test

import (
	"context"
	"log/slog"
	"testing"

	socketio "github.com/switchboard-go/socketio"
	"github.com/switchboard-go/socketio/sioclient"
	"github.com/switchboard-go/socketio/socketiotest"
)

// Manager.Close of an open manager tells the OnClose hooks, with "forced
// close", and OnOpen heard the opening; closing a manager that never
// opened tells nobody.
func TestManagerHooksOnClose(t *testing.T) {
	srv := startServer(t, "", func(srv *socketio.Server) { echoServer(srv.Of("/")) })
	opts := socketiotest.WebSocket.Options()
	opts.ForceNew = true
	opened := make(chan struct{}, 4)
	closes := make(chan string, 4)
	s, _ := socketiotest.Connect(t, srv.URL, opts, func(s *sioclient.Socket) {
		s.Manager().OnOpen(func() { opened <- struct{}{} })
		s.Manager().OnClose(func(reason string) { closes <- reason })
	})
	socketiotest.Receive(t, opened, "OnOpen")
	_ = s.Manager().Close()
	if r := socketiotest.Receive(t, closes, "OnClose"); r != sioclient.ReasonForcedClose {
		t.Errorf("OnClose(%q), want %q", r, sioclient.ReasonForcedClose)
	}

	// Never opened: its Close is no close of a connection. Callbacks run
	// in the order posted, so once the OnOpen of a later opening ran, an
	// OnClose posted by that Close would have run before it.
	m, err := sioclient.NewManager(srv.URL, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	never := make(chan string, 1)
	m.OnClose(func(reason string) { never <- reason })
	_ = m.Close()
	opened2 := make(chan struct{}, 1)
	m.OnOpen(func() { opened2 <- struct{}{} })
	m.Socket("/", nil).Connect()
	socketiotest.Receive(t, opened2, "OnOpen of the reopened manager")
	select {
	case r := <-never:
		t.Errorf("OnClose(%q) of a manager that was not open", r)
	default:
	}
}

// A connection closed by Disconnect that ends only after Connect opened a
// new one (its last POST was held up) is no close of the new one: the
// socket stays connected on the new connection.
func TestLateCloseOfAnEarlierConnection(t *testing.T) {
	ws := startWireServer(t)
	s, l, _ := connectWire(t, ws, socketiotest.Polling.Options())
	old := s.Manager().Engine()
	release := ws.holdPosts(old.ID())
	defer release()
	s.Disconnect()
	socketiotest.Receive(t, l.Disconnected, "the disconnection")
	s.Connect()
	ws.accept(t)
	socketiotest.Receive(t, l.Connected, "the new connection")
	now := s.Manager().Engine()
	if now == nil || now == old {
		t.Fatal("no new connection")
	}
	release()
	old.Wait() // its end, and the client's handling of it, are over
	if !s.Connected() || s.Manager().Engine() != now {
		t.Errorf("the old connection's end closed the new one: connected %v", s.Connected())
	}
	// The DISCONNECT held up, then the next emit on the new connection.
	ws.expect(t, "1")
	_ = s.Emit("after")
	ws.expect(t, `2["after"]`)
}

// logRecorder is a slog.Handler that hands every record to a channel.
type logRecorder struct{ records chan slog.Record }

func (h logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (h logRecorder) Handle(_ context.Context, r slog.Record) error {
	select {
	case h.records <- r:
	default:
	}
	return nil
}
func (h logRecorder) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h logRecorder) WithGroup(string) slog.Handler      { return h }

// expectLog waits for a record with message msg and returns its
// attributes as text.
func expectLog(t *testing.T, records chan slog.Record, msg string) map[string]string {
	t.Helper()
	for {
		r := socketiotest.Receive(t, records, "the log record "+msg)
		if r.Message != msg {
			continue
		}
		attrs := map[string]string{}
		r.Attrs(func(a slog.Attr) bool { attrs[a.Key] = a.Value.String(); return true })
		return attrs
	}
}

// A packet that does not decode ends the connection: the client closes
// it (the server sees it go), logs why, the socket hears "parse error",
// and the manager reconnects.
func TestParseErrorClosesTheConnection(t *testing.T) {
	ws := startWireServer(t)
	records := make(chan slog.Record, 1024)
	opts := socketiotest.WebSocket.Options()
	opts.Logger = slog.New(logRecorder{records})
	s, l, c := connectWire(t, ws, opts)
	c.reply(t, `2["unterminated`)
	if r := socketiotest.Receive(t, l.Disconnected, "the disconnection"); r != sioclient.ReasonParseError {
		t.Errorf("OnDisconnect(%q), want %q", r, sioclient.ReasonParseError)
	}
	attrs := expectLog(t, records, "sioclient: connection lost")
	if attrs["reason"] != sioclient.ReasonParseError || attrs["err"] == "" {
		t.Errorf("log attributes %v", attrs)
	}
	for socketiotest.Receive(t, ws.closed, "the close of the connection") != c.conn {
	}
	ws.accept(t)
	socketiotest.Receive(t, l.Connected, "the reconnection")
	_ = s.Emit("after")
	ws.expect(t, `2["after"]`)
}

// Disconnect while the connection is being opened abandons the attempt
// quietly: no connect error, no OnError; Connect then opens a new one.
func TestDisconnectWhileOpening(t *testing.T) {
	ws := startWireServer(t)
	opts := socketiotest.WebSocket.Options()
	opts.ForceNew = true
	s, err := sioclient.New(ws.URL, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Manager().Close()
	l := socketiotest.Watch(s)
	errs := make(chan error, 4)
	s.Manager().OnError(func(err error) { errs <- err })
	arrived := ws.holdHandshakes()
	s.Connect()
	socketiotest.Receive(t, arrived, "the handshake")
	s.Disconnect()
	ws.stopHolding()
	s.Connect()
	ws.accept(t)
	socketiotest.Receive(t, l.Connected, "the connection")
	select {
	case ce := <-l.ConnectErrors:
		t.Errorf("connect error %v", ce)
	case err := <-errs:
		t.Errorf("OnError(%v)", err)
	default:
	}
}
