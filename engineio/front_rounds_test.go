package engineio

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-go/socketio/internal/netpoll"
)

// holdRounds holds the next round at its start until the returned release
// is called (at the latest when the test ends), and records the size of
// every submission and every answer left to a worker.
func holdRounds(t *testing.T) (held <-chan struct{}, release func(), events func() []string) {
	t.Helper()
	h, r := make(chan struct{}), make(chan struct{})
	var once, releaseOnce sync.Once
	var mu sync.Mutex
	var seen []string
	hook := func(at string, n int) {
		switch at {
		case "start":
			once.Do(func() {
				close(h)
				<-r
			})
		default:
			mu.Lock()
			seen = append(seen, fmt.Sprint(at, " ", n))
			mu.Unlock()
		}
	}
	testHookRound.Store(&hook)
	release = func() { releaseOnce.Do(func() { close(r) }) }
	t.Cleanup(func() {
		release()
		testHookRound.Store(nil)
	})
	events = func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), seen...)
	}
	return h, release, events
}

// polled is a session opened on a raw connection with its poll parked.
type polled struct {
	conn net.Conn
	br   *bufio.Reader
	sid  string
	c    *Conn
}

func openPolled(t *testing.T, srv *Server, addr string, n int) []polled {
	t.Helper()
	return openPolledWith(t, srv, func() (net.Conn, *bufio.Reader) { return dialFront(t, addr) }, n)
}

// openPolledWith is openPolled over the connections dial makes.
func openPolledWith(t *testing.T, srv *Server, dial func() (net.Conn, *bufio.Reader), n int) []polled {
	t.Helper()
	var ps []polled
	for range n {
		conn, br := dial()
		sid := openSession(t, conn, br)
		poll := "GET /socket.io/?EIO=4&transport=polling&sid=" + sid + " HTTP/1.1\r\nHost: x\r\n\r\n"
		if _, err := io.WriteString(conn, poll); err != nil {
			t.Fatal(err)
		}
		srv.mu.RLock()
		c := srv.sessions[sid]
		srv.mu.RUnlock()
		ps = append(ps, polled{conn: conn, br: br, sid: sid, c: c})
	}
	waitPollsParked(t, srv, n)
	return ps
}

// The polls a burst of messages wakes (a broadcast) are answered together:
// with io_uring, one submission for all of them; without it, a write each
// from the same round. Every client gets its own message either way.
func TestFrontAnswersWokenPollsInRounds(t *testing.T) {
	if !pollerExpected() {
		return
	}
	for _, rings := range []bool{true, false} {
		t.Run(fmt.Sprint("rings=", rings), func(t *testing.T) {
			netpoll.SetRings(rings && !*noRings)
			t.Cleanup(func() { netpoll.SetRings(!*noRings) })
			srv, _, _, addr := startFrontServer(t, &Options{PingInterval: time.Minute, PingTimeout: time.Minute}, nil)
			const n = 24
			ps := openPolled(t, srv, addr, n)
			held, release, events := holdRounds(t)
			for i, p := range ps {
				if err := p.c.Send(fmt.Appendf(nil, "m%d", i), false, false); err != nil {
					t.Fatal(err)
				}
			}
			select {
			case <-held:
			case <-time.After(5 * time.Second):
				t.Fatal("no round started")
			}
			release()
			for i, p := range ps {
				if resp, body := readResponse(t, p.conn, p.br); resp.StatusCode != 200 || body != fmt.Sprintf("4m%d", i) {
					t.Fatalf("client %d: %d %q", i, resp.StatusCode, body)
				}
			}
			want := []string(nil)
			if rings && !*noRings {
				want = []string{fmt.Sprint("written ", n)}
			}
			// The clients may read their answers before the round, back
			// from its submission, reports it.
			deadline := time.Now().Add(5 * time.Second)
			for len(events()) < len(want) && time.Now().Before(deadline) {
				time.Sleep(time.Millisecond)
			}
			if got := events(); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("round events %q, want %q", got, want)
			}
		})
	}
}

// A request the client sent ahead of a round's answer (its next poll) is
// served once the answer is out, by a worker: the round itself reads no
// connection.
func TestFrontRoundServesTheRequestSentAhead(t *testing.T) {
	if !pollerExpected() {
		return
	}
	srv, _, _, addr := startFrontServer(t, &Options{PingInterval: time.Minute, PingTimeout: time.Minute}, nil)
	p := openPolled(t, srv, addr, 1)[0]
	fc := frontConnOf(t, srv, p.sid)
	poll := "GET /socket.io/?EIO=4&transport=polling&sid=" + p.sid + " HTTP/1.1\r\nHost: x\r\n\r\n"
	if _, err := io.WriteString(p.conn, poll); err != nil {
		t.Fatal(err)
	}
	waitInput(t, fc, len(poll))
	if err := p.c.Send([]byte("one"), false, false); err != nil {
		t.Fatal(err)
	}
	if resp, body := readResponse(t, p.conn, p.br); resp.StatusCode != 200 || body != "4one" {
		t.Fatalf("first poll: %d %q", resp.StatusCode, body)
	}
	waitPollsParked(t, srv, 1)
	if err := p.c.Send([]byte("two"), false, false); err != nil {
		t.Fatal(err)
	}
	if resp, body := readResponse(t, p.conn, p.br); resp.StatusCode != 200 || body != "4two" {
		t.Fatalf("the poll sent ahead: %d %q", resp.StatusCode, body)
	}
}

// waitInput waits until fc holds n bytes of input not yet taken.
func waitInput(t *testing.T, fc *frontConn, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		fc.mu.Lock()
		got := len(fc.in)
		fc.mu.Unlock()
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the connection holds %d bytes of input, want %d", got, n)
		}
		time.Sleep(time.Millisecond)
	}
}

// A client whose next request is half sent when its poll is answered in a
// round holds up nobody: its reader waits for the rest (up to
// PostTimeout) on a worker of its own, and the other connections of the
// round take their next requests at once.
func TestFrontRoundNotHeldByARequestBegun(t *testing.T) {
	if !pollerExpected() {
		return
	}
	srv, _, _, addr := startFrontServer(t, &Options{PingInterval: time.Minute, PingTimeout: time.Minute, PostTimeout: time.Minute}, nil)
	ps := openPolled(t, srv, addr, 2)
	slow, other := ps[0], ps[1]
	begun := "GET /socket.io/?EIO=4&transport=polling&sid=" + slow.sid
	if _, err := io.WriteString(slow.conn, begun); err != nil {
		t.Fatal(err)
	}
	waitInput(t, frontConnOf(t, srv, slow.sid), len(begun))
	held, release, _ := holdRounds(t)
	for _, p := range ps { // the slow client's answer first in the round
		if err := p.c.Send([]byte("m"), false, false); err != nil {
			t.Fatal(err)
		}
	}
	<-held
	release()
	for _, p := range ps {
		if resp, body := readResponse(t, p.conn, p.br); resp.StatusCode != 200 || body != "4m" {
			t.Fatalf("%d %q", resp.StatusCode, body)
		}
	}
	post := "POST /socket.io/?EIO=4&transport=polling&sid=" + other.sid + " HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\n4hi"
	if _, err := io.WriteString(other.conn, post); err != nil {
		t.Fatal(err)
	}
	_ = other.conn.SetReadDeadline(time.Now().Add(2 * time.Second))
	resp, err := readResponseErr(other.br)
	if err != nil || resp != "ok" {
		t.Fatalf("the other client's next request: %q, %v", resp, err)
	}
}

// readResponseErr reads an answer's body, or returns the error (a read
// past the connection's deadline).
func readResponseErr(br *bufio.Reader) (string, error) {
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		return "", err
	}
	body, err := io.ReadAll(resp.Body)
	return string(body), err
}

// An answer whose connection closed while its round was held: the write
// fails (the watch has stopped, so the descriptor is not written), the
// session ends with "transport error", and the round's other answers go
// out.
func TestFrontRoundAnswerToAClosedConnection(t *testing.T) {
	if !pollerExpected() {
		return
	}
	srv, h, _, addr := startFrontServer(t, &Options{PingInterval: time.Minute, PingTimeout: time.Minute}, nil)
	ps := openPolled(t, srv, addr, 2)
	gone, ok := ps[0], ps[1]
	fc := frontConnOf(t, srv, gone.sid)
	held, release, _ := holdRounds(t)
	for _, p := range ps {
		if err := p.c.Send([]byte("m"), false, false); err != nil {
			t.Fatal(err)
		}
	}
	<-held
	fc.lost()
	release()
	if got := waitString(t, h.closed, "the closed connection's session"); got != ReasonTransportError {
		t.Fatalf("close reason %q, want %q", got, ReasonTransportError)
	}
	if resp, body := readResponse(t, ok.conn, ok.br); resp.StatusCode != 200 || body != "4m" {
		t.Fatalf("%d %q", resp.StatusCode, body)
	}
}

// dialTLSFront opens a TLS connection to the front at addr, closed when
// the test ends.
func dialTLSFront(t *testing.T, addr string, pool *x509.CertPool) (net.Conn, *bufio.Reader) {
	t.Helper()
	conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn, bufio.NewReader(conn)
}

// Over TLS a round seals each answer as it takes it and writes the
// records with the others: one submission for 12 polls, each client
// decrypting its own message. An answer larger than the socket's buffers
// goes out in part with the round and the rest from a worker (the records
// whole, in order: the client decrypts them); to a client that never
// reads, the session ends with "write timeout".
func TestFrontTLSAnswersInRounds(t *testing.T) {
	if !pollerExpected() {
		return
	}
	cert, pool := testCertificate(t)
	srv, h, _, addr, _ := startFrontServerWith(t, &Options{PingInterval: time.Minute, PingTimeout: time.Minute, WriteTimeout: 500 * time.Millisecond}, nil, cert)
	dial := func() (net.Conn, *bufio.Reader) { return dialTLSFront(t, addr, pool) }
	const n = 12
	ps := openPolledWith(t, srv, dial, n)
	held, release, events := holdRounds(t)
	for i, p := range ps {
		if err := p.c.Send(fmt.Appendf(nil, "m%d", i), false, false); err != nil {
			t.Fatal(err)
		}
	}
	<-held
	release()
	for i, p := range ps {
		if resp, body := readResponse(t, p.conn, p.br); resp.StatusCode != 200 || body != fmt.Sprintf("4m%d", i) {
			t.Fatalf("client %d: %d %q", i, resp.StatusCode, body)
		}
	}
	if !*noRings {
		deadline := time.Now().Add(5 * time.Second)
		for len(events()) == 0 && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		if got := events(); fmt.Sprint(got) != fmt.Sprint([]string{fmt.Sprint("written ", n)}) {
			t.Fatalf("round events %q, want one submission of %d", got, n)
		}
	}

	big := patterned(512 << 10)
	for _, reads := range []bool{true, false} {
		p := openPolledWith(t, srv, dial, 1)[0]
		_ = p.conn.(*tls.Conn).NetConn().(*net.TCPConn).SetReadBuffer(64 << 10)
		_ = frontConnOf(t, srv, p.sid).split.Conn.(*net.TCPConn).SetWriteBuffer(16 << 10)
		if err := p.c.Send(big, false, false); err != nil {
			t.Fatal(err)
		}
		if !reads {
			if got := waitString(t, h.closed, "the session's close"); got != ReasonWriteTimeout {
				t.Fatalf("close reason %q, want %q", got, ReasonWriteTimeout)
			}
			continue
		}
		time.Sleep(200 * time.Millisecond) // the kernel's buffers fill
		if resp, body := readResponse(t, p.conn, p.br); resp.StatusCode != 200 || body != "4"+string(big) {
			t.Fatalf("answer %d, %d bytes, want 200 and %d", resp.StatusCode, len(body), 1+len(big))
		}
	}
}

// Without io_uring a round writes each answer without waiting: one the
// kernel takes in part has its rest written by a worker, and the client
// that reads it late gets it whole.
func TestFrontRoundWithoutRingsToASlowReader(t *testing.T) {
	if !pollerExpected() {
		return
	}
	netpoll.SetRings(false)
	t.Cleanup(func() { netpoll.SetRings(!*noRings) })
	srv, _, _, addr := startFrontServer(t, &Options{PingInterval: time.Minute, PingTimeout: time.Minute}, nil)
	p := openPolled(t, srv, addr, 1)[0]
	_ = p.conn.(*net.TCPConn).SetReadBuffer(64 << 10)
	_ = frontConnOf(t, srv, p.sid).nc.(*net.TCPConn).SetWriteBuffer(16 << 10)
	big := patterned(512 << 10)
	if err := p.c.Send(big, false, false); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // the kernel's buffers fill
	if resp, body := readResponse(t, p.conn, p.br); resp.StatusCode != 200 || body != "4"+string(big) {
		t.Fatalf("answer %d, %d bytes, want 200 and %d", resp.StatusCode, len(body), 1+len(big))
	}
}
