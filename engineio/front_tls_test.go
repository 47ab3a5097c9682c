package engineio

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The front over TLS (ServeTLS): the same client matrix, polls parked and
// WebSockets idle without a goroutine, requests given to net/http with
// their r.TLS, HTTP/1.1 offered (another protocol, h2, going to net/http
// untouched), and a failed handshake closing only its connection.

// testCertificate makes a self-signed certificate for 127.0.0.1, and the
// pool that trusts it.
func testCertificate(t testing.TB) (*tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

func TestFrontTLSClientMatrix(t *testing.T) {
	cert, pool := testCertificate(t)
	eachClientMode(t, func(t *testing.T, opts DialOptions, transport string) {
		_, _, url, _, handed := startFrontServerWith(t, nil, nil, cert)
		opts.TLSConfig = &tls.Config{RootCAs: pool}
		r := newRecClient()
		c := dialTest(t, url, r, opts)
		echoThroughFront(t, c, r, transport, 20, 100_000)
		if n := handed.Load(); n != 0 && pollerExpected() {
			t.Errorf("%d connections handed to net/http, want none", n)
		}
		c.Close()
	})
}

func TestFrontTLSIdleClientsHoldNoGoroutine(t *testing.T) {
	if !pollerExpected() {
		return
	}
	cert, pool := testCertificate(t)
	srv, _, url, _, _ := startFrontServerWith(t, nil, nil, cert)
	var clients []*recClient
	var conns []*ClientConn
	for i := range 20 {
		transports := []string{TransportPolling}
		if i%2 == 1 {
			transports = []string{TransportWebSocket}
		}
		r := newRecClient()
		c := dialTest(t, url, r, DialOptions{Transports: transports, TLSConfig: &tls.Config{RootCAs: pool}})
		if err := c.Send([]byte("hi"), false, false); err != nil {
			t.Fatal(err)
		}
		if m := r.next(t); m.data != "hi" {
			t.Fatalf("client %d: echo %q", i, m.data)
		}
		clients, conns = append(clients, r), append(conns, c)
	}
	waitPollsParked(t, srv, 10)
	waitNoFrontGoroutine(t, "10 parked polls and 10 idle WebSockets over TLS")
	// The parked polls and the idle WebSockets still answer.
	for i, c := range conns {
		if err := c.Send([]byte("again"), false, false); err != nil {
			t.Fatal(err)
		}
		if m := clients[i].next(t); m.data != "again" {
			t.Fatalf("client %d: echo %q", i, m.data)
		}
	}
}

// Requests net/http serves get their r.TLS, whether the front read from
// the connection first (a prefixConn) or not; the front's own requests
// have it too.
func TestFrontTLSRequestsKeepTheirTLSState(t *testing.T) {
	cert, pool := testCertificate(t)
	var engineTLS atomic.Bool
	_, _, _, addr, handed := startFrontServerWith(t, &Options{AllowRequest: func(r *http.Request) error {
		engineTLS.Store(r.TLS != nil && r.TLS.HandshakeComplete)
		return nil
	}}, func(srv *Server) http.Handler {
		mux := http.NewServeMux()
		mux.Handle("/socket.io/", srv)
		mux.HandleFunc("/other", func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, "tls %v", r.TLS != nil && r.TLS.HandshakeComplete && len(r.TLS.PeerCertificates) == 0)
		})
		return mux
	}, cert)
	// The front offers HTTP/1.1 only; without a poller ServeTLS is
	// hs.ServeTLS, which offers h2 as well.
	offer := []string{"h2", "http/1.1"}
	if !pollerExpected() {
		offer = offer[1:]
	}
	dial := func() (net.Conn, *bufio.Reader) {
		conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", NextProtos: offer})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		if p := conn.ConnectionState().NegotiatedProtocol; p != "http/1.1" {
			t.Errorf("negotiated %q, want http/1.1", p)
		}
		return conn, bufio.NewReader(conn)
	}
	// An engine request read by the front, then another path on the same
	// connection, handed over with what the front had read.
	conn, br := dial()
	if resp, body := rawRequest(t, conn, br, "GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n\r\n"); resp.StatusCode != 200 {
		t.Fatalf("handshake: %d %q", resp.StatusCode, body)
	}
	if !engineTLS.Load() {
		t.Error("the front's request has no r.TLS")
	}
	if _, body := rawRequest(t, conn, br, "GET /other HTTP/1.1\r\nHost: x\r\n\r\n"); body != "tls true" {
		t.Errorf("handed over after the front read: %q", body)
	}
	// Another path as a connection's first request.
	conn, br = dial()
	if _, body := rawRequest(t, conn, br, "GET /other HTTP/1.1\r\nHost: x\r\n\r\n"); body != "tls true" {
		t.Errorf("handed over at once: %q", body)
	}
	if n := handed.Load(); n != 2 {
		t.Errorf("%d connections handed to net/http, want 2", n)
	}
}

// With HTTP/2 among hs.TLSConfig's NextProtos, a client that negotiates it
// goes to net/http, which serves it.
func TestFrontTLSHandsOtherProtocolsOver(t *testing.T) {
	if !pollerExpected() {
		return
	}
	cert, pool := testCertificate(t)
	h := &echoServer{closed: make(chan string, 4)}
	srv := NewServer(testOptions(&Options{}), func(*Conn) Handler { return h })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var handed atomic.Int64
	hs := &http.Server{
		Handler:   srv,
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{*cert}, NextProtos: []string{"h2", "http/1.1"}},
		ConnState: func(_ net.Conn, st http.ConnState) {
			if st == http.StateNew {
				handed.Add(1)
			}
		},
	}
	go func() { _ = srv.ServeTLS(ln, hs, "", "") }()
	t.Cleanup(func() { _ = srv.Close(); _ = hs.Close() })
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr, Timeout: 5 * time.Second}).Get("https://" + ln.Addr().String() + "/socket.io/?EIO=4&transport=polling")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.ProtoMajor != 2 || resp.StatusCode != 200 || !strings.Contains(string(body), `"sid"`) {
		t.Errorf("over h2: %s %d %q", resp.Proto, resp.StatusCode, body)
	}
	if handed.Load() != 1 {
		t.Errorf("%d connections handed to net/http, want 1", handed.Load())
	}
}

// A client that fails the handshake (plain HTTP to the TLS port) has its
// connection closed; nothing of it stays behind.
func TestFrontTLSFailedHandshake(t *testing.T) {
	if !pollerExpected() {
		return
	}
	cert, _ := testCertificate(t)
	_, _, _, addr, handed := startFrontServerWith(t, nil, nil, cert)
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadAll(conn); err != nil {
		t.Fatalf("reading: %v, want the connection closed", err)
	}
	waitNoFrontGoroutine(t, "a failed handshake")
	if handed.Load() != 0 {
		t.Errorf("handed to net/http: %d", handed.Load())
	}
}

// A client gone while its poll is parked ends its session at once over
// TLS too: the poller's wake reads the socket (not only what the tls.Conn
// holds) and finds the hang-up. A pipelined request behind the parked
// poll is read the same way and answered after it.
func TestFrontTLSPollerWakesRead(t *testing.T) {
	if !pollerExpected() {
		return // polls wait on net/http's goroutines: nothing parks
	}
	cert, pool := testCertificate(t)
	srv, h, _, addr, _ := startFrontServerWith(t, &Options{PingInterval: time.Minute, PingTimeout: time.Minute}, nil, cert)
	dial := func() (net.Conn, *bufio.Reader) {
		conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		return conn, bufio.NewReader(conn)
	}
	conn, br := dial()
	sid := openSession(t, conn, br)
	poll := "GET /socket.io/?EIO=4&transport=polling&sid=" + sid + " HTTP/1.1\r\nHost: x\r\n\r\n"
	if _, err := io.WriteString(conn, poll); err != nil {
		t.Fatal(err)
	}
	waitParked(t, srv, sid)
	// Sent once the poll is parked: the reader has gone, the poller wakes one.
	if _, err := io.WriteString(conn, "GET /other HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	srv.mu.RLock()
	c := srv.sessions[sid]
	srv.mu.RUnlock()
	if err := c.Send([]byte("late"), false, false); err != nil {
		t.Fatal(err)
	}
	if resp, body := readResponse(t, conn, br); resp.StatusCode != 200 || body != "4late" {
		t.Fatalf("the parked poll: %d %q", resp.StatusCode, body)
	}
	if resp, _ := readResponse(t, conn, br); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("the request behind it: %d, want 404 from net/http", resp.StatusCode)
	}

	conn, br = dial()
	sid = openSession(t, conn, br)
	if _, err := io.WriteString(conn, "GET /socket.io/?EIO=4&transport=polling&sid="+sid+" HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	waitParked(t, srv, sid)
	_ = conn.Close()
	for {
		if got := waitString(t, h.closed, "a session's close"); got == ReasonTransportError {
			break
		}
	}
}

// waitParked waits until session sid's poll is parked.
func waitParked(t *testing.T, srv *Server, sid string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		srv.mu.RLock()
		c := srv.sessions[sid]
		srv.mu.RUnlock()
		if c != nil && c.parked.Load() != nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the poll did not park")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// ServeTLS finds its certificate as http.Server.ServeTLS does: in the
// files, or in hs.TLSConfig (Certificates, GetCertificate or
// GetConfigForClient); with neither it fails at once.
func TestFrontTLSCertificateSources(t *testing.T) {
	if !pollerExpected() {
		return // ServeTLS is hs.ServeTLS: net/http's own
	}
	cert, pool := testCertificate(t)
	dir := t.TempDir()
	certFile, keyFile := dir+"/cert.pem", dir+"/key.pem"
	keyDER, err := x509.MarshalECPrivateKey(cert.PrivateKey.(*ecdsa.PrivateKey))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name              string
		config            *tls.Config
		certFile, keyFile string
		fails             bool
	}{
		{"files", nil, certFile, keyFile, false},
		{"GetCertificate", &tls.Config{GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return cert, nil }}, "", "", false},
		{"GetConfigForClient", &tls.Config{GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
			return &tls.Config{Certificates: []tls.Certificate{*cert}}, nil
		}}, "", "", false},
		{"none", nil, "", "", true},
		{"an empty configuration", &tls.Config{}, "", "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := NewServer(testOptions(&Options{}), func(*Conn) Handler { return &echoServer{closed: make(chan string, 4)} })
			defer srv.Close()
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			hs := &http.Server{Handler: srv, TLSConfig: tc.config}
			served := make(chan error, 1)
			go func() { served <- srv.ServeTLS(ln, hs, tc.certFile, tc.keyFile) }()
			if tc.fails {
				select {
				case err := <-served:
					if err == nil || errors.Is(err, http.ErrServerClosed) {
						t.Errorf("ServeTLS returned %v, want the certificate's error", err)
					}
				case <-time.After(time.Second): // the error comes before anything is served
					t.Error("ServeTLS serves without a certificate")
					_ = hs.Close()
				}
				_ = ln.Close()
				return
			}
			defer func() { _ = hs.Close(); <-served }()
			conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", ln.Addr().String(), &tls.Config{RootCAs: pool})
			if err != nil {
				t.Fatalf("handshake: %v", err)
			}
			_ = conn.Close()
		})
	}
}

// bufferedConn holds what is written to it until flush, which sends it in
// one write: two TLS records arrive together, and the server's tls.Conn
// reads both with one read of the socket.
type bufferedConn struct {
	net.Conn
	mu   sync.Mutex
	held []byte
}

func (c *bufferedConn) Write(b []byte) (int, error) {
	c.mu.Lock()
	c.held = append(c.held, b...)
	c.mu.Unlock()
	return len(b), nil
}

func (c *bufferedConn) flush() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.held) == 0 {
		return nil
	}
	_, err := c.Conn.Write(c.held)
	c.held = nil
	return err
}

// Over TLS a record the tls.Conn read along with the last one is not
// seen by the poller: a request behind a poll that parks, arriving in
// the same read, is served once the poll is answered, also when the
// answer goes out just as the reader parks (held there with a test hook).
// Whether the two records come in one read is up to the kernel's timing:
// the scenario runs ten times.
func TestFrontTLSRecordReadAlongWithAParkedPoll(t *testing.T) {
	if !pollerExpected() {
		return
	}
	cert, pool := testCertificate(t)
	srv, _, _, addr, _ := startFrontServerWith(t, &Options{PingInterval: time.Minute, PingTimeout: time.Minute}, nil, cert)
	for i := range 10 {
		t.Run(fmt.Sprint(i), func(t *testing.T) { recordReadAlongWithAParkedPoll(t, srv, addr, pool) })
	}
}

func recordReadAlongWithAParkedPoll(t *testing.T, srv *Server, addr string, pool *x509.CertPool) {
	raw, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	bc := &bufferedConn{Conn: raw}
	conn := tls.Client(bc, &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"})
	// The handshake needs its writes sent as they come.
	hs := make(chan error, 1)
	go func() { hs <- conn.Handshake() }()
	deadline := time.Now().Add(5 * time.Second)
	for done := false; !done; {
		select {
		case err := <-hs:
			if err != nil {
				t.Fatal(err)
			}
			done = true
		default:
			if time.Now().After(deadline) {
				t.Fatal("no handshake")
			}
			_ = bc.flush()
			time.Sleep(time.Millisecond)
		}
	}
	_ = bc.flush()
	br := bufio.NewReader(conn)
	write := func(s string) {
		if _, err := io.WriteString(conn, s); err != nil {
			t.Fatal(err)
		}
	}
	write("GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n\r\n")
	if err := bc.flush(); err != nil {
		t.Fatal(err)
	}
	resp, body := readResponse(t, conn, br)
	if resp.StatusCode != 200 {
		t.Fatalf("handshake %d", resp.StatusCode)
	}
	sid := handshakeSID(t, body)

	held, release := make(chan *frontConn, 1), make(chan struct{})
	var once sync.Once
	hook := func(fc *frontConn, point string) {
		fc.mu.Lock()
		pending := fc.pending
		fc.mu.Unlock()
		if point == "park" && pending && fc.tls != nil {
			once.Do(func() {
				held <- fc
				<-release
			})
		}
	}
	testHookReader.Store(&hook)
	t.Cleanup(func() { testHookReader.Store(nil) })
	defer once.Do(func() {})
	// The poll and the request behind it, two records in one segment.
	write("GET /socket.io/?EIO=4&transport=polling&sid=" + sid + " HTTP/1.1\r\nHost: x\r\n\r\n")
	write("GET /other HTTP/1.1\r\nHost: x\r\n\r\n")
	if err := bc.flush(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-held:
	case <-time.After(5 * time.Second):
		t.Fatal("the reader did not park with the poll pending")
	}
	srv.mu.RLock()
	c := srv.sessions[sid]
	srv.mu.RUnlock()
	if err := c.Send([]byte("late"), false, false); err != nil {
		t.Fatal(err)
	}
	resp, body = readResponse(t, conn, br)
	close(release)
	if resp.StatusCode != 200 || body != "4late" {
		t.Fatalf("the parked poll: %d %q", resp.StatusCode, body)
	}
	if resp, _ := readResponse(t, conn, br); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("the request behind it: %d, want 404 from net/http", resp.StatusCode)
	}
}

// The front's watch is edge-triggered on TLS too, and a tls.Conn stops
// reading the socket once it has a record: when its read filled its
// buffer, the kernel may hold more that no new edge reports, and the
// reader reads the socket again (helloSplitter.full). Here requests in
// separate records, many buffers' worth, wait in the kernel before the
// reader starts: every one is answered.
func TestFrontTLSReadsPastAFullBuffer(t *testing.T) {
	if !pollerExpected() {
		return // the front runs on the poller (a skip fails scripts/test.sh)
	}
	fronts := frontsServed(t)
	cert, pool := testCertificate(t)
	_, _, _, addr, _ := startFrontServerWith(t, nil, nil, cert)
	f := <-fronts
	conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	br := bufio.NewReader(conn)
	openSession(t, conn, br)
	fc := soleConn(t, f)
	holdReader(t, fc)
	const n = 24
	req := "GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\nX-Pad: " + strings.Repeat("p", 300) + "\r\n\r\n"
	for range n {
		if _, err := io.WriteString(conn, req); err != nil { // a record each
			t.Fatal(err)
		}
	}
	time.Sleep(50 * time.Millisecond) // in the server's kernel by now, on loopback
	fc.reading.Store(false)
	fc.wake()
	for i := range n {
		_, body := readResponse(t, conn, br)
		if !strings.HasPrefix(body, "0{") {
			t.Fatalf("answer %d: %q", i, body)
		}
	}
}

// A reader that the scheduler runs late still reads the request whose
// edge woke it: over TLS the socket is read without a deadline. (With a
// read deadline of a few milliseconds, a reader held past it failed
// before looking, parked with the request in the kernel, and no new edge
// came: the idle bound closed the connection 5 s later, the client's poll
// unanswered. Seen as a lost session in 1 of 20–40 TLS polling
// benchmark runs, in most runs with a busy core.)
func TestFrontTLSReaderRunLate(t *testing.T) {
	if !pollerExpected() {
		return
	}
	cert, pool := testCertificate(t)
	srv, _, _, addr, _ := startFrontServerWith(t, &Options{PingInterval: time.Minute, PingTimeout: time.Minute}, nil, cert)
	p := openPolledWith(t, srv, func() (net.Conn, *bufio.Reader) { return dialTLSFront(t, addr, pool) }, 1)[0]
	hook := func(_ *frontConn, at string) {
		if at == "tls read" {
			time.Sleep(20 * time.Millisecond) // past any short deadline
		}
	}
	testHookReader.Store(&hook)
	t.Cleanup(func() { testHookReader.Store(nil) })
	poll := "GET /socket.io/?EIO=4&transport=polling&sid=" + p.sid + " HTTP/1.1\r\nHost: x\r\n\r\n"
	for i := range 3 {
		if err := p.c.Send(fmt.Appendf(nil, "m%d", i), false, false); err != nil {
			t.Fatal(err)
		}
		if resp, body := readResponse(t, p.conn, p.br); resp.StatusCode != 200 || body != fmt.Sprintf("4m%d", i) {
			t.Fatalf("poll %d: %d %q", i, resp.StatusCode, body)
		}
		if _, err := io.WriteString(p.conn, poll); err != nil {
			t.Fatal(err)
		}
		waitPollsParked(t, srv, 1)
	}
}

// A TLS client whose connection ends without a close_notify (its TCP
// connection closed under it) while its poll is parked: the reader's raw
// read finds the end of the stream, and the connection is closed.
func TestFrontTLSClientGoneWithoutCloseNotify(t *testing.T) {
	if !pollerExpected() {
		return
	}
	cert, pool := testCertificate(t)
	srv, _, _, addr, _ := startFrontServerWith(t, &Options{PingInterval: time.Minute, PingTimeout: time.Minute}, nil, cert)
	p := openPolledWith(t, srv, func() (net.Conn, *bufio.Reader) { return dialTLSFront(t, addr, pool) }, 1)[0]
	fc := frontConnOf(t, srv, p.sid)
	_ = p.conn.(*tls.Conn).NetConn().Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		fc.mu.Lock()
		gone := fc.gone
		fc.mu.Unlock()
		if gone {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the connection was not closed after its client's end")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
