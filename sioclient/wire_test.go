package sioclient_test

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-go/socketio/engineio"
	"github.com/switchboard-go/socketio/socketiotest"
)

// wireMsg is one Engine.IO message a wireServer received, with the
// connection it came on.
type wireMsg struct {
	conn   *engineio.Conn
	data   string
	binary bool
}

// reply sends Socket.IO packets, already encoded, on the message's
// connection, in order.
func (m wireMsg) reply(t *testing.T, packets ...string) {
	t.Helper()
	for _, p := range packets {
		if err := m.conn.Send([]byte(p), false, false); err != nil {
			t.Fatalf("send %s: %v", p, err)
		}
	}
}

// wireServer is a bare Engine.IO server that hands the test every message
// the client sends, in order, so that a test sees the exact packets (ack
// ids, packet types, what was sent and what was not) and answers them by
// hand.
type wireServer struct {
	URL    string
	msgs   chan wireMsg
	closed chan *engineio.Conn

	mu      sync.Mutex
	heldSID string        // long-polling POSTs of this session wait
	release chan struct{} // for this to close
	// handshakes, when not nil, is told of each handshake request, which
	// then waits until the client gives up on it.
	handshakes chan struct{}
}

// holdHandshakes makes every later handshake request wait until the
// client gives up on it, and returns the channel told of each.
func (s *wireServer) holdHandshakes() <-chan struct{} {
	ch := make(chan struct{}, 16)
	s.mu.Lock()
	s.handshakes = ch
	s.mu.Unlock()
	return ch
}

// stopHolding lets the handshakes through again.
func (s *wireServer) stopHolding() {
	s.mu.Lock()
	s.handshakes = nil
	s.mu.Unlock()
}

// holdPosts makes the long-polling POSTs of session sid wait, until the
// returned function is called: what the client sends on it, its close
// included, stays on its way.
func (s *wireServer) holdPosts(sid string) (release func()) {
	ch := make(chan struct{})
	s.mu.Lock()
	s.heldSID, s.release = sid, ch
	s.mu.Unlock()
	var once sync.Once
	return func() { once.Do(func() { close(ch) }) }
}

func (s *wireServer) hold(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		sid, release, handshakes := s.heldSID, s.release, s.handshakes
		s.mu.Unlock()
		if handshakes != nil && r.URL.Query().Get("sid") == "" {
			handshakes <- struct{}{}
			<-r.Context().Done()
			return
		}
		if r.Method == http.MethodPost && sid != "" && r.URL.Query().Get("sid") == sid {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}
		next.ServeHTTP(w, r)
	})
}

type wireHandler struct{ s *wireServer }

func (h wireHandler) OnMessage(c *engineio.Conn, data []byte, binary bool) {
	h.s.msgs <- wireMsg{conn: c, data: string(data), binary: binary}
}

func (h wireHandler) OnClose(c *engineio.Conn, _ string) {
	select {
	case h.s.closed <- c:
	default:
	}
}

func startWireServer(t *testing.T) *wireServer {
	t.Helper()
	s := &wireServer{msgs: make(chan wireMsg, 4096), closed: make(chan *engineio.Conn, 16)}
	eng := engineio.NewServer(&engineio.Options{PingInterval: 200 * time.Millisecond, PingTimeout: 20 * time.Second},
		func(*engineio.Conn) engineio.Handler { return wireHandler{s} })
	hs := httptest.NewServer(s.hold(eng))
	t.Cleanup(func() {
		_ = eng.Close()
		hs.CloseClientConnections()
		hs.Close()
	})
	s.URL = hs.URL
	return s
}

// expect returns the next message, failing the test unless it is want.
func (s *wireServer) expect(t *testing.T, want string) wireMsg {
	t.Helper()
	m := socketiotest.Receive(t, s.msgs, want)
	if m.data != want {
		t.Fatalf("the server received %q, want %q", m.data, want)
	}
	return m
}

// accept answers the CONNECT of the main namespace it expects next with a
// session id.
func (s *wireServer) accept(t *testing.T) wireMsg {
	t.Helper()
	m := s.expect(t, "0")
	m.reply(t, `0{"sid":"s1"}`)
	return m
}
