package interop_test

// Shared helpers for the interop tests: an in-process Go server on
// 127.0.0.1, the transport matrix, running a peer script (Node here; any
// program printing JSON lines works) with a timeout, and assertions on the
// JSON lines it prints.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	socketio "github.com/switchboard-go/socketio"
	"github.com/switchboard-go/socketio/socketiotest"
)

// Transport modes of the matrix (socketiotest.Transports): the client uses
// only long-polling, only WebSocket, or starts on polling and upgrades (the
// default of every official client). The Node and Python peers take the
// mode's name as an argument.
const (
	modePolling   = "polling"
	modeWebSocket = "websocket"
	modeUpgrade   = "upgrade"
)

// eachMode runs fn as parallel subtests, one per transport mode.
func eachMode(t *testing.T, fn func(t *testing.T, mode string)) {
	t.Helper()
	socketiotest.EachTransport(t, func(t *testing.T, tr socketiotest.Transport) { fn(t, tr.Name) })
}

// wantTransport is the transport a client of mode must end on.
func wantTransport(mode string) string {
	for _, tr := range socketiotest.Transports() {
		if tr.Name == mode {
			return tr.Final
		}
	}
	panic("unknown transport mode " + mode)
}

// testServer is a Go Socket.IO server served by httptest on 127.0.0.1.
type testServer struct {
	URL  string // e.g. http://127.0.0.1:41234 (no path)
	Addr string // host:port
	Srv  *socketio.Server
	HTTP *httptest.Server // nil when served by the front (startFrontTestServer)
	Mux  *http.ServeMux   // the handler: "/socket.io/" is Srv
}

// startServer starts a Go server with opts (nil: defaults), calls setup to
// register handlers before the first request, and returns its base URL.
// The server is closed when the test ends.
func startServer(t testing.TB, opts *socketio.Options, setup func(*socketio.Server)) string {
	t.Helper()
	return startTestServer(t, opts, nil, setup).URL
}

// startTestServer is startServer with the full handle; ln, when non-nil,
// is the listener to serve on (to restart a server on a fixed address).
func startTestServer(t testing.TB, opts *socketio.Options, ln net.Listener, setup func(*socketio.Server)) *testServer {
	t.Helper()
	return serveTestServer(t, opts, ln, nil, setup)
}

// startRecordedServer is startServer with the full handle and a record of
// what the server read from its clients (inputLog).
func startRecordedServer(t testing.TB, opts *socketio.Options, setup func(*socketio.Server)) (*testServer, *inputLog) {
	t.Helper()
	in := newInputLog()
	return serveTestServer(t, opts, nil, in.wrap, setup), in
}

// serveTestServer is startTestServer with wrap, when non-nil, between the
// HTTP server and the Socket.IO server.
func serveTestServer(t testing.TB, opts *socketio.Options, ln net.Listener, wrap func(http.Handler) http.Handler, setup func(*socketio.Server)) *testServer {
	t.Helper()
	srv := newTestIO(opts, setup)
	mux := http.NewServeMux()
	var h http.Handler = srv
	if wrap != nil {
		h = wrap(h)
	}
	mux.Handle("/socket.io/", h)
	hs := httptest.NewUnstartedServer(mux)
	if ln == nil {
		ln = socketiotest.Listen(t, "")
	}
	_ = hs.Listener.Close()
	hs.Listener = ln
	hs.Start()
	ts := &testServer{URL: hs.URL, Addr: ln.Addr().String(), Srv: srv, HTTP: hs, Mux: mux}
	t.Cleanup(func() {
		_ = srv.Close()
		hs.CloseClientConnections()
		hs.Close()
	})
	return ts
}

// serverStarter starts a Go server as startServer does.
type serverStarter func(t testing.TB, opts *socketio.Options, setup func(*socketio.Server)) string

// eachModeServed runs fn for each transport mode with the server behind
// net/http (startServer), behind its own HTTP front (startFrontServer), and
// behind that front over TLS (startFrontTLSServer: https and wss).
func eachModeServed(t *testing.T, fn func(t *testing.T, mode string, start serverStarter)) {
	t.Helper()
	for _, served := range []struct {
		name  string
		start serverStarter
	}{{"net-http", startServer}, {"front", startFrontServer}, {"front-tls", startFrontTLSServer}} {
		t.Run(served.name, func(t *testing.T) {
			eachMode(t, func(t *testing.T, mode string) { fn(t, mode, served.start) })
		})
	}
}

// startFrontTLSServer is startFrontServer over TLS (Server.ServeTLS), with
// a certificate for 127.0.0.1 that the Node peers trust (testCA).
func startFrontTLSServer(t testing.TB, opts *socketio.Options, setup func(*socketio.Server)) string {
	t.Helper()
	return startFrontTestServerWith(t, opts, setup, testCA(t)).URL
}

var (
	testCAOnce sync.Once
	testCACert tls.Certificate
	testCAFile string
	testCAErr  error
)

// removeTestCA removes testCA's file, if a test made it.
func removeTestCA() {
	if testCAFile != "" {
		_ = os.Remove(testCAFile)
	}
}

// testCA returns a certificate for 127.0.0.1 (httptest's), written once as
// PEM to a file that NODE_EXTRA_CA_CERTS names for every Node process this
// test binary starts: the official clients verify it as they would a real
// one.
func testCA(t testing.TB) *tls.Certificate {
	t.Helper()
	testCAOnce.Do(func() {
		ts := httptest.NewTLSServer(http.NotFoundHandler())
		testCACert = ts.TLS.Certificates[0]
		leaf := ts.Certificate()
		ts.Close()
		f, err := os.CreateTemp("", "switchboard-interop-ca-*.pem")
		if err != nil {
			testCAErr = err
			return
		}
		defer f.Close()
		testCAFile = f.Name()
		if err := pem.Encode(f, &pem.Block{Type: "CERTIFICATE", Bytes: leaf.Raw}); err != nil {
			testCAErr = err
			return
		}
		testCAErr = os.Setenv("NODE_EXTRA_CA_CERTS", f.Name())
	})
	if testCAErr != nil {
		t.Fatalf("the test certificate: %v", testCAErr)
	}
	return &testCACert
}

// startFrontServer is startServer with the server's own HTTP front
// (Server.Serve): long-polling read on the poller, the rest handed to
// net/http.
func startFrontServer(t testing.TB, opts *socketio.Options, setup func(*socketio.Server)) string {
	t.Helper()
	return startFrontTestServer(t, opts, setup).URL
}

// startFrontTestServer is startFrontServer with the full handle.
func startFrontTestServer(t testing.TB, opts *socketio.Options, setup func(*socketio.Server)) *testServer {
	t.Helper()
	return startFrontTestServerWith(t, opts, setup, nil)
}

// startFrontTestServerWith is startFrontTestServer, over TLS with cert
// when it is set (the URL is then https).
func startFrontTestServerWith(t testing.TB, opts *socketio.Options, setup func(*socketio.Server), cert *tls.Certificate) *testServer {
	t.Helper()
	srv := newTestIO(opts, setup)
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", srv)
	hs := &http.Server{Handler: mux}
	ln := socketiotest.Listen(t, "")
	served := make(chan error, 1)
	scheme := "http://"
	if cert != nil {
		scheme = "https://"
		hs.TLSConfig = &tls.Config{Certificates: []tls.Certificate{*cert}}
		go func() { served <- srv.ServeTLS(ln, hs, "", "") }()
	} else {
		go func() { served <- srv.Serve(ln, hs) }()
	}
	t.Cleanup(func() {
		_ = srv.Close()
		_ = hs.Close()
		select {
		case err := <-served:
			if !errors.Is(err, http.ErrServerClosed) {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Error("Serve did not return after http.Server.Close")
		}
	})
	addr := ln.Addr().String()
	return &testServer{URL: scheme + addr, Addr: addr, Srv: srv, Mux: mux}
}

// newTestIO makes a test's Go server: opts (nil: defaults) with the
// test logger, setup's handlers registered before the first request.
func newTestIO(opts *socketio.Options, setup func(*socketio.Server)) *socketio.Server {
	var o socketio.Options
	if opts != nil {
		o = *opts
	}
	if o.Logger == nil {
		o.Logger = socketiotest.Logger()
	}
	srv := socketio.NewServer(&o)
	if setup != nil {
		setup(srv)
	}
	return srv
}

// binary is the program named by the environment variable env, else def.
func binary(env, def string) string {
	if p := os.Getenv(env); p != "" {
		return p
	}
	return def
}

// nodeDir is the directory of the Node scripts and their node_modules.
func nodeDir(t testing.TB) string {
	t.Helper()
	dir, err := filepath.Abs("node")
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

var (
	nodeCheckOnce sync.Once
	nodeCheckErr  error
)

// requireNode fails the test (never skips) when node or the npm
// dependencies are missing.
func requireNode(t testing.TB) {
	t.Helper()
	dir := nodeDir(t)
	nodeCheckOnce.Do(func() {
		if _, err := exec.LookPath("node"); err != nil {
			nodeCheckErr = fmt.Errorf("node is not on PATH (Node.js 18+ is needed for the interop tests): %v", err)
			return
		}
		if _, err := os.Stat(filepath.Join(dir, "node_modules", "socket.io-client", "package.json")); err != nil {
			nodeCheckErr = fmt.Errorf("socket.io-client is not installed in %s: run `npm ci` in interop/node, or scripts/test.sh, which does (%v)", dir, err)
		}
	})
	if nodeCheckErr != nil {
		t.Fatal(nodeCheckErr)
	}
}

// nodeTimeout bounds one Node script run.
const nodeTimeout = 20 * time.Second

// runNode runs `node <script> <args...>` from interop/node with a timeout
// and returns the JSON lines it printed. A non-zero exit status, a timeout
// or an unparsable line fails the test (with stdout and stderr in the
// message) but the lines read so far are still returned.
func runNode(t testing.TB, script string, args ...string) lines {
	t.Helper()
	requireNode(t)
	return runPeer(t, nodeDir(t), "node", append([]string{script}, args...)...)
}

// runPeer runs any program printing JSON lines; see runNode.
func runPeer(t testing.TB, dir, program string, args ...string) lines {
	t.Helper()
	return startPeer(t, dir, program, args...).Wait(t)
}

// peer is a program started by startPeer.
type peer struct {
	cmd            *exec.Cmd
	cancel         context.CancelFunc
	ctx            context.Context
	desc           string
	start          time.Time
	stdout, stderr bytes.Buffer
}

// startNode starts `node <script> <args...>` from interop/node and returns
// at once; Wait collects its output. Use it when the test must act while
// the script runs.
func startNode(t testing.TB, script string, args ...string) *peer {
	t.Helper()
	requireNode(t)
	return startPeer(t, nodeDir(t), "node", append([]string{script}, args...)...)
}

// startPeer starts program in dir with the nodeTimeout deadline.
func startPeer(t testing.TB, dir, program string, args ...string) *peer {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), nodeTimeout)
	p := &peer{ctx: ctx, cancel: cancel, desc: program + " " + strings.Join(args, " "), start: time.Now()}
	p.cmd = exec.CommandContext(ctx, program, args...)
	p.cmd.Dir = dir
	p.cmd.WaitDelay = 2 * time.Second
	p.cmd.Stdout = &p.stdout
	p.cmd.Stderr = &p.stderr
	if err := p.cmd.Start(); err != nil {
		cancel()
		t.Fatalf("%s: %v", p.desc, err)
	}
	t.Cleanup(func() {
		// A test that failed before Wait must not leave the process behind.
		if p.cmd.ProcessState == nil {
			cancel()
			_ = p.cmd.Wait()
		}
	})
	return p
}

// Wait waits for the program to exit and returns the JSON lines it
// printed. A non-zero exit status, a timeout or an unparsable line fails
// the test (with stdout and stderr in the message), but the lines read so
// far are still returned.
func (p *peer) Wait(t testing.TB) lines {
	t.Helper()
	err := p.cmd.Wait()
	p.cancel()
	stdout, stderr := p.stdout.String(), p.stderr.String()
	ls, perr := parseLines([]byte(stdout))
	if p.ctx.Err() == context.DeadlineExceeded {
		t.Errorf("%s: timed out after %v\nstdout:\n%s\nstderr:\n%s", p.desc, nodeTimeout, stdout, stderr)
	} else if err != nil {
		t.Errorf("%s: %v (after %v)\nstdout:\n%s\nstderr:\n%s", p.desc, err, time.Since(p.start).Round(time.Millisecond), stdout, stderr)
	}
	if perr != nil {
		t.Errorf("%s: %v\nstdout:\n%s", p.desc, perr, stdout)
	}
	if testing.Verbose() {
		t.Logf("%s (%v):\n%s%s", p.desc, time.Since(p.start).Round(time.Millisecond), stdout, stderr)
	}
	return ls
}

// lines are the JSON objects a peer printed, in order; each has an "ev"
// field naming what was observed.
type lines []map[string]any

func parseLines(b []byte) (lines, error) {
	var out lines
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	for sc.Scan() {
		l := bytes.TrimSpace(sc.Bytes())
		if len(l) == 0 {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(l, &m); err != nil {
			return out, fmt.Errorf("bad output line %q: %v", l, err)
		}
		out = append(out, m)
	}
	return out, sc.Err()
}

// all returns the lines whose ev is ev and whose other fields equal the
// given key/value pairs (compared as JSON).
func (ls lines) all(ev string, kv ...any) lines {
	var out lines
next:
	for _, l := range ls {
		if l["ev"] != ev {
			continue
		}
		for i := 0; i+1 < len(kv); i += 2 {
			if !jsonEqual(l[kv[i].(string)], kv[i+1]) {
				continue next
			}
		}
		out = append(out, l)
	}
	return out
}

// one returns the only line matching ev and kv, failing the test when there
// is not exactly one.
func (ls lines) one(t testing.TB, ev string, kv ...any) map[string]any {
	t.Helper()
	m := ls.all(ev, kv...)
	if len(m) != 1 {
		t.Errorf("want exactly one %q line with %v, got %d; all lines:\n%s", ev, kv, len(m), ls)
		if len(m) == 0 {
			return map[string]any{}
		}
	}
	return m[0]
}

func (ls lines) String() string {
	var b strings.Builder
	for _, l := range ls {
		j, _ := json.Marshal(l)
		b.Write(j)
		b.WriteByte('\n')
	}
	return b.String()
}

// expectExit checks that the script ended normally.
func (ls lines) expectExit(t testing.TB) {
	t.Helper()
	if len(ls.all("exit")) != 1 || len(ls.all("fail")) != 0 || len(ls.all("watchdog")) != 0 {
		t.Errorf("script did not finish cleanly:\n%s", ls)
	}
}

// normalize round-trips v through encoding/json so that Go values and
// decoded JSON compare alike (numbers become float64, structs maps).
func normalize(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("unmarshalable %T: %v", v, err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		return err
	}
	return out
}

func jsonEqual(a, b any) bool { return reflect.DeepEqual(normalize(a), normalize(b)) }

// wantJSON asserts that got equals the JSON text want.
func wantJSON(t testing.TB, what string, got any, want string) {
	t.Helper()
	var w any
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad want JSON for %s: %v", what, err)
	}
	if !reflect.DeepEqual(normalize(got), w) {
		gj, _ := json.Marshal(got)
		t.Errorf("%s:\n got  %s\n want %s", what, gj, want)
	}
}

// wantEqual asserts got == want with reflect.DeepEqual.
func wantEqual[T any](t testing.TB, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s: got %#v, want %#v", what, got, want)
	}
}

// recorder collects observations from server handlers (which run on other
// goroutines) for the test goroutine.
type recorder struct {
	mu   sync.Mutex
	recs []rec
	ch   chan struct{}
}

type rec struct {
	Key string
	Val any
}

func newRecorder() *recorder { return &recorder{ch: make(chan struct{}, 1)} }

func (r *recorder) add(key string, val any) {
	r.mu.Lock()
	r.recs = append(r.recs, rec{key, val})
	r.mu.Unlock()
	select {
	case r.ch <- struct{}{}:
	default:
	}
}

// get returns the values recorded under key, in order.
func (r *recorder) get(key string) []any {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []any
	for _, x := range r.recs {
		if x.Key == key {
			out = append(out, x.Val)
		}
	}
	return out
}

// one returns the only value recorded under key, failing otherwise.
func (r *recorder) one(t testing.TB, key string) any {
	t.Helper()
	v := r.get(key)
	if len(v) != 1 {
		t.Errorf("server recorded %d values for %q, want 1: %v", len(v), key, v)
		if len(v) == 0 {
			return nil
		}
	}
	return v[0]
}

func (r *recorder) all() []rec {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]rec(nil), r.recs...)
}

// wait blocks until key has n values or d passes; it reports success.
func (r *recorder) wait(key string, n int, d time.Duration) bool {
	deadline := time.After(d)
	for {
		if len(r.get(key)) >= n {
			return true
		}
		select {
		case <-r.ch:
		case <-time.After(10 * time.Millisecond):
		case <-deadline:
			return false
		}
	}
}

// waitFor is wait that fails the test on timeout.
func (r *recorder) waitFor(t testing.TB, key string, n int, d time.Duration) {
	t.Helper()
	if !r.wait(key, n, d) {
		t.Errorf("server: timed out waiting for %d %q (have %d); recorded: %v", n, key, len(r.get(key)), r.all())
	}
}

// isTimeout reports whether err is socketio.ErrTimeout.
func isTimeout(err error) bool { return errors.Is(err, socketio.ErrTimeout) }
