package engineio

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/switchboard-go/socketio/internal/netpoll"
)

// The HTTP front (Serve): long-polling without net/http's cost per client.
//
// Behind net/http, a long-polling client holds two connections, each with
// net/http's goroutine and its buffered reader and writer, and its waiting
// GET holds the handler's goroutine and net/http's background reader as
// well: about 56 KB per idle client measured, twice what a Node.js server
// keeps. The front reads the listener's connections itself (ServeTLS:
// after their TLS handshake). A connection is watched by the poller
// (netpoll.Watch, as a TLS WebSocket's reads are) and read by a goroutine
// only while input arrives; a request for the engine's path that the
// front can take whole (GET, POST or OPTIONS over HTTP/1.1, a
// Content-Length body within MaxPayload, no Expect, no upgrade but to
// WebSocket) is parsed with net/http's own parser and handed to the
// handler with a ResponseWriter that buffers the answer and writes it with
// its length. A poll with nothing to answer yet does not wait on a
// goroutine: it is parked on the session (polling.go) and answered by
// whoever queues the next message, ping or close. A WebSocket upgrade is
// hijacked from the front's ResponseWriter, as from net/http's but
// without its buffers. Every other request (another path, anything
// unusual) goes to net/http with the connection and the bytes read from
// it: the connection is served by net/http from then on.

// Serve accepts connections on ln and serves HTTP on them as hs.Serve(ln)
// would, hs's Handler answering every request, except that the requests
// for the engine's path that long-polling clients make are read and
// answered by the server itself, on the poller: an idle polling client
// then holds no goroutine and no buffer. WebSocket upgrades for the
// engine's path are read by the front too and hijacked from it. Every
// other request (other paths, HTTP/1.0, chunked bodies, bodies over
// MaxPayload, a TLS listener's connections: use ServeTLS for the front
// over TLS) is passed to hs with its connection, which hs serves from then
// on, with its own options (timeouts, header limits). The connections the
// front reads have hs's ReadHeaderTimeout (until their first request) and
// IdleTimeout (between requests), each falling back to ReadTimeout, as
// net/http applies them (front_idle.go); a request begun has PostTimeout.
//
// A nil hs is &http.Server{Handler: s}; a nil hs.Handler is
// http.DefaultServeMux. The handler gets the front's requests as usual,
// including through middleware. A poll parks (holds no goroutine) only
// when the server's ServeHTTP receives the front's ResponseWriter itself:
// a middleware that wraps it makes the poll wait on its goroutine, as
// behind net/http.
//
// hs.Close and hs.Shutdown close ln and end Serve; the connections the
// front reads are closed then (a graceful end of the sessions is the
// engine's Shutdown, before). Serve returns what hs.Serve returns:
// http.ErrServerClosed after those, or ln's Accept error. Without a poller
// (other systems than Linux, or Options.DisablePoller) Serve is
// hs.Serve(ln).
func (s *Server) Serve(ln net.Listener, hs *http.Server) error {
	if hs == nil {
		hs = &http.Server{Handler: s}
	}
	if !netpoll.Supported || s.cfg.DisablePoller {
		return hs.Serve(ln)
	}
	return s.serve(ln, hs, nil, handlerOf(hs))
}

// ServeTLS is Serve over TLS, as hs.ServeTLS(ln, certFile, keyFile) would
// serve it: ln is a plain TCP listener, the configuration is a clone of
// hs.TLSConfig (or a new one) with the certificate and key files loaded
// when it has no certificate of its own or the files are named. The front
// then reads the TLS connections as it reads plain ones (after their
// handshake, which runs on a goroutine of its own), and an idle polling
// client or WebSocket holds no goroutine either. Requests the front gives
// net/http have r.TLS as net/http would set it: ServeTLS wraps hs.Handler
// and hs.ConnContext for that, so set them before calling it.
//
// When hs.TLSConfig lists no NextProtos the front offers HTTP/1.1 only (a
// client that would have used HTTP/2 with net/http then uses HTTP/1.1).
// When it lists some, a connection that negotiates another protocol than
// HTTP/1.1 (h2) goes to net/http untouched, whose TLSNextProto serves it.
func (s *Server) ServeTLS(ln net.Listener, hs *http.Server, certFile, keyFile string) error {
	if hs == nil {
		hs = &http.Server{Handler: s}
	}
	if !netpoll.Supported || s.cfg.DisablePoller {
		return hs.ServeTLS(ln, certFile, keyFile)
	}
	cfg := &tls.Config{}
	if hs.TLSConfig != nil {
		cfg = hs.TLSConfig.Clone()
	}
	if len(cfg.NextProtos) == 0 {
		cfg.NextProtos = []string{"http/1.1"}
	}
	hasCert := len(cfg.Certificates) > 0 || cfg.GetCertificate != nil || cfg.GetConfigForClient != nil
	if !hasCert || certFile != "" || keyFile != "" {
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return err
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	// A request on a connection handed to net/http after the front read
	// from it reaches net/http through a prefixConn, not the *tls.Conn
	// net/http looks for: the connection's context carries the TLS state
	// and the handler sets r.TLS from it.
	h := handlerOf(hs)
	connContext := hs.ConnContext
	hs.ConnContext = func(ctx context.Context, c net.Conn) context.Context {
		if connContext != nil {
			ctx = connContext(ctx, c)
		}
		if pc, ok := c.(*prefixConn); ok && pc.tls != nil {
			ctx = context.WithValue(ctx, tlsStateKey{}, pc.tls)
		}
		return ctx
	}
	hs.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS == nil {
			if st, ok := r.Context().Value(tlsStateKey{}).(*tls.ConnectionState); ok {
				r.TLS = st
			}
		}
		h.ServeHTTP(w, r)
	})
	return s.serve(ln, hs, cfg, h)
}

// tlsStateKey keys the TLS state of a connection handed to net/http in its
// context (ServeTLS).
type tlsStateKey struct{}

func handlerOf(hs *http.Server) http.Handler {
	if hs.Handler == nil {
		return http.DefaultServeMux
	}
	return hs.Handler
}

// serve runs the front on ln, with TLS when tlsCfg is set; h is the
// handler of the requests the front reads (hs's own, before ServeTLS
// wrapped it).
func (s *Server) serve(ln net.Listener, hs *http.Server, tlsCfg *tls.Config, h http.Handler) error {
	f := &front{
		srv:     s,
		h:       h,
		tls:     tlsCfg,
		conns:   make(map[*frontConn]struct{}),
		bounds:  idleBoundsOf(hs),
		started: time.Now(),
	}
	f.workers.wg = &f.wg
	f.base = context.WithValue(context.WithValue(context.Background(),
		http.ServerContextKey, hs), http.LocalAddrContextKey, ln.Addr())
	f.handoff = &handoffListener{ln: ln, f: f, conns: make(chan net.Conn), done: make(chan struct{})}
	if hook := testHookFront.Load(); hook != nil {
		(*hook)(f)
	}
	go f.accept(ln)
	if tick := f.bounds.sweepTick(); tick > 0 {
		go f.sweep(tick)
	}
	return hs.Serve(f.handoff)
}

// testHookRead, set only by tests, is told of every read of the front's
// connections: one that does not wait (readNow, 0 and no error when it
// found nothing) and one that waits until its deadline.
var testHookRead atomic.Pointer[func(n int, err error)]

// testHookReader, set only by tests, is told when a connection's reader
// finds a request pending ("pending"), when it is about to park ("park"),
// and before it reads a TLS connection without waiting ("tls read": a
// test may hold it there, as a busy scheduler would).
var testHookReader atomic.Pointer[func(fc *frontConn, at string)]

// testHookFront, set only by tests, is told of every front Serve makes.
var testHookFront atomic.Pointer[func(f *front)]

// front serves the connections of one Serve call.
type front struct {
	srv     *Server
	h       http.Handler
	base    context.Context // requests' context: the http.Server and the local address, as net/http gives them
	handoff *handoffListener
	tls     *tls.Config // ServeTLS: the connections are TLS ones
	bounds  idleBounds  // hs's bounds on an idle connection (front_idle.go)
	started time.Time   // clock's origin

	// workers run the connections' reads and the rounds that answer
	// parked polls on goroutines whose stacks have grown already (see
	// dispatchers: a new goroutine per answer spent 6 % of a polling
	// delivery's CPU growing its stack). Their own tracker, which nobody waits for: they
	// serve any handler of hs, which the engine's Close must not wait for.
	workers dispatchers
	wg      tracker
	// rounds: the polls woken together, answered in rounds
	// (front_rounds.go).
	rounds roundQueue[*parkedPoll, answerRound]

	mu     sync.Mutex
	conns  map[*frontConn]struct{} // open connections read by the front
	closed bool
}

func (f *front) accept(ln net.Listener) {
	var backoff time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				f.handoff.fail(err)
				return
			}
			// EMFILE and the like pass: wait a little, as net/http does.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			f.srv.cfg.Logger.Debug("engineio: accept failed", "err", err, "retry", backoff)
			select {
			case <-time.After(backoff):
				continue
			case <-f.handoff.done:
				return
			}
		}
		backoff = 0
		f.start(nc)
	}
}

// start reads nc with the front when it is a TCP connection the poller
// can watch; anything else goes to net/http as it is.
func (f *front) start(nc net.Conn) {
	var tc *tls.Conn
	var split *helloSplitter
	if f.tls != nil {
		split = newHelloSplitter(nc)
		tc = tls.Server(split, f.tls)
	}
	tcp, ok := nc.(*net.TCPConn)
	if !ok {
		f.handoff.push(connOf(nc, tc))
		return
	}
	rc, err := tcp.SyscallConn()
	if err != nil {
		f.handoff.push(connOf(nc, tc))
		return
	}
	fc := &frontConn{f: f, nc: connOf(nc, tc), rc: rc, tls: tc, split: split}
	if split != nil {
		split.rc = rc
	}
	// A connection is read until the kernel holds nothing more, so the
	// watch can stay in the poller's set, edge-triggered: a poll answered
	// and the next one read cost no epoll_ctl. (A tls.Conn reads the
	// socket record by record and may stop with input left there, which
	// no new edge would report: its splitter tells the reader when a read
	// filled its buffer, and the reader reads the socket again then.) The
	// descriptor joins the set at the first Arm, after a TLS handshake.
	w, err := netpoll.NewEdgeWatch(rc, fc.wakeEdge)
	if err != nil {
		f.handoff.push(fc.nc) // the TLS connection when there is one
		return
	}
	fc.watch = w
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		_ = nc.Close()
		return
	}
	f.conns[fc] = struct{}{}
	f.mu.Unlock()
	if tc != nil {
		go fc.handshake()
		return
	}
	fc.idleFor(f.bounds.first)
	// The client sends its request at once: read now rather than after a
	// round through the poller.
	fc.wake()
}

// connOf is tc when there is one, else nc.
func connOf(nc net.Conn, tc *tls.Conn) net.Conn {
	if tc != nil {
		return tc
	}
	return nc
}

// handshake runs a TLS connection's handshake, within PostTimeout (the
// front's bound on a request) or the http.Server's bound on a handshake
// when that is shorter, then reads it: the first request is on its way. A
// connection that negotiated another protocol than HTTP/1.1 goes to
// net/http as it is.
func (fc *frontConn) handshake() {
	timeout := fc.f.srv.cfg.PostTimeout
	if h := fc.f.bounds.handshake; h > 0 {
		timeout = min(timeout, h)
	}
	_ = fc.nc.SetDeadline(time.Now().Add(timeout))
	err := fc.tls.HandshakeContext(fc.f.base)
	_ = fc.nc.SetDeadline(time.Time{})
	if err != nil {
		fc.f.srv.cfg.Logger.Debug("engineio: TLS handshake failed", "remote", fc.nc.RemoteAddr().String(), "err", err)
		fc.lost()
		return
	}
	st := fc.tls.ConnectionState()
	if p := st.NegotiatedProtocol; p != "" && p != "http/1.1" {
		fc.handOff()
		return
	}
	fc.idleFor(fc.f.bounds.first)
	if fc.reading.CompareAndSwap(false, true) {
		// The client's first request may have come with its Finished
		// message, into the tls.Conn's buffer: no edge reports that.
		fc.run(true)
	}
}

// closeAll closes every connection the front reads; later ones are
// closed as they come.
func (f *front) closeAll() {
	f.mu.Lock()
	f.closed = true
	all := make([]*frontConn, 0, len(f.conns))
	for fc := range f.conns {
		all = append(all, fc)
	}
	f.mu.Unlock()
	for _, fc := range all {
		fc.lost()
	}
	f.workers.stop() // idle ones exit now; later work gets a goroutine that exits when done
}

// frontLinger is how long a reader goroutine waits for more input before
// it parks its connection (as readLinger for a TLS WebSocket).
const frontLinger = 5 * time.Millisecond

// maxFrontHead is the longest request head the front parses itself; a
// longer one goes to net/http, whose MaxHeaderBytes decides. The engine
// keeps no more of a handshake (maxKeptRequestBytes).
const maxFrontHead = maxKeptRequestBytes

var frontReadBuffers = sync.Pool{New: func() any { b := make([]byte, 4<<10); return &b }}

// frontAnswerBuffers hold answers as they are written (finish); one
// larger than maxPooledAnswer (a long poll's payload) is left to the
// collector rather than kept.
var frontAnswerBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 1<<10); return &b }}

const maxPooledAnswer = 16 << 10

// putAnswerBuffer gives out, an answer in bp's buffer, back to the pool
// unless it grew too large.
func putAnswerBuffer(bp *[]byte, out []byte) {
	if keepAnswerBuffer(cap(out)) {
		*bp = out[:0]
		frontAnswerBuffers.Put(bp)
	}
}

// keepAnswerBuffer reports whether a buffer of capacity c goes back to
// frontAnswerBuffers.
func keepAnswerBuffer(c int) bool { return c <= maxPooledAnswer }

var headReaders = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 4<<10) }}

// frontConn is one connection read by the front.
//
// The reader role is one flag (reading): whoever sets it reads the
// connection and starts the requests it completes, one at a time, so that
// answers go out in the order of the requests. A request being answered
// (pending) keeps the next one, if the client sent it already, in `in`
// until its answer is written; the reader meanwhile only watches for the
// client going away.
type frontConn struct {
	f  *front
	nc net.Conn
	rc syscall.RawConn // nc's, for reads that do not wait (readNow)
	// deadline: a read deadline is set on nc (the reader's own: only
	// the goroutine with the reader role touches it).
	deadline bool
	watch    *netpoll.Watch
	reading  atomic.Bool
	// The watch is edge-triggered (NewEdgeWatch). woke is set by every
	// wake, so that input that arrives while a reader runs, whose wake
	// finds the role taken, is not missed: the reader clears it before
	// each read and looks at it after giving up the role. hungUp is set
	// by the watch's report of a hang-up and never cleared: a read that
	// takes the last data does not find the end behind it, and no new
	// edge comes for it.
	woke   atomic.Bool
	hungUp atomic.Bool
	// tls is nc as a TLS connection (ServeTLS), nil on plain TCP; split
	// is the connection under it (which tells whether its last read
	// filled its buffer).
	tls   *tls.Conn
	split *helloSplitter
	// remote is the client's address as a request's RemoteAddr, set by
	// the first request (the reader's alone).
	remote string
	// idleUntil is when the connection, waiting for a request, has been
	// idle for too long (front.clock; 0: not idle, or no bound). Set when
	// an answer is written or the connection opens, cleared when a
	// request is taken.
	idleUntil atomic.Int64

	mu      sync.Mutex
	in      []byte    // input not yet taken as a request
	since   time.Time // when in's first byte arrived while no request was pending
	pending bool      // a request is being answered
	gone    bool      // the client closed, or the connection failed or was closed
	cancel  context.CancelFunc
	onGone  func() // a parked poll's wake
}

// wake starts a reader unless one is running: the poller saw input or a
// hang-up, or an answer was written and the next request may be in `in`.
func (fc *frontConn) wake() {
	fc.woke.Store(true)
	if fc.reading.CompareAndSwap(false, true) {
		fc.f.workers.run(fc)
	}
}

// wakeEdge is the edge watch's report: input came, or the client hung up.
func (fc *frontConn) wakeEdge(hangUp bool) {
	if hangUp {
		fc.hungUp.Store(true)
	}
	fc.wake()
}

// unreported reports whether an edge-watched connection may hold input,
// or an end, that no reader has read since its wake.
func (fc *frontConn) unreported() bool { return fc.woke.Load() || fc.hungUp.Load() }

// runTask reads fc, woken by the poller (a task of the front's workers).
func (fc *frontConn) runTask() { fc.run(true) }

// park gives up the reader role and asks the poller to wake fc on input;
// false means the caller has the role back: the watch was stopped, or a
// request waits in the input.
//
// An answer's writer that finds a reader leaves the input to it
// (answered), so the reader looks at the input after giving up the role:
// a request that came while the last one was answered, answered since,
// is taken back and served, unless that writer took the role meanwhile.
func (fc *frontConn) park() bool {
	fc.reading.Store(false)
	fc.mu.Lock()
	waiting := !fc.pending && len(fc.in) > 0 && !fc.gone
	fc.mu.Unlock()
	if waiting {
		return !fc.reading.CompareAndSwap(false, true)
	}
	if !fc.watch.Arm() {
		return !fc.reading.CompareAndSwap(false, true)
	}
	if fc.unreported() {
		// Input or a hang-up came while this reader had the role (its
		// wake found the role taken), and no other edge will report it.
		return !fc.reading.CompareAndSwap(false, true)
	}
	return true
}

// maxBuffered bounds what a connection's input may hold: one request head
// and body, and what a client sends ahead while its request is answered.
func (fc *frontConn) maxBuffered() int { return maxFrontHead + fc.f.srv.cfg.MaxPayload }

// run reads fc while it has the reader role; woken: the poller started it
// (input or a hang-up is there).
func (fc *frontConn) run(woken bool) {
	var buf *[]byte
	defer func() {
		if buf != nil {
			frontReadBuffers.Put(buf)
		}
	}()
	timeout := fc.f.srv.cfg.PostTimeout
	// unread: the kernel may hold input not read yet. The poller's wake
	// says so; a read that returned less than the buffer emptied it (a
	// TLS reader also takes the records its tls.Conn holds, until a read
	// returns nothing: mayHoldMore). Input that came since the last read
	// was reported: an answer's writer that becomes the reader reads
	// only when a wake says so (the client's next poll is rarely there
	// yet, and its arrival wakes a reader).
	unread := woken || fc.unreported()
	// park gives the buffer back, if the reader holds one, and parks;
	// false: the role came back (the watch stopped, the connection is
	// closing, or input came meanwhile) and the reader looks again.
	park := func() bool {
		if buf != nil {
			frontReadBuffers.Put(buf)
			buf = nil
		}
		if hook := testHookReader.Load(); hook != nil {
			(*hook)(fc, "park")
		}
		if fc.park() {
			return true
		}
		unread = true
		return false
	}
	for {
		verdict := fc.next()
		switch verdict {
		case frontHandedOff, frontClosed:
			return
		case frontServed:
			continue
		}
		if hook := testHookReader.Load(); hook != nil && verdict == frontPending {
			(*hook)(fc, "pending")
		}
		fc.mu.Lock()
		pending := fc.pending
		partial := !pending && len(fc.in) > 0
		if verdict == frontPending && partial {
			// Answered since next looked: what the input holds was not
			// looked at, and may be a whole request. (Its answer's
			// writer found this reader and left the input to it.)
			fc.mu.Unlock()
			continue
		}
		since := fc.since
		fc.mu.Unlock()
		// A connection is read without waiting unless a request has
		// begun: while one is pending only a hang-up or the client's next
		// request can come, and with none begun the edge of what comes
		// later wakes a reader, which saves a read that waits (a timer,
		// and a read that finds nothing) per request.
		noWait := !partial
		if noWait && !unread {
			// The last read emptied the kernel's buffer: park at once.
			// Arming the watch reports input (or a hang-up) that came
			// since, so this saves a read that would find nothing: a
			// system call per poll.
			if park() {
				return
			}
			continue
		}
		if buf == nil {
			buf = frontReadBuffers.Get().(*[]byte)
		}
		if noWait {
			// Take what the client sent (while a poll is parked: a
			// hang-up or its next request), and park.
			n, err := fc.readArrived(*buf, woken)
			woken = false
			unread = fc.mayHoldMore(n, len(*buf))
			if !fc.took(*buf, n) {
				return
			}
			if err != nil {
				fc.lost()
				return
			}
			if n > 0 {
				continue
			}
			if park() {
				return
			}
			continue
		}
		deadline := time.Now().Add(frontLinger)
		if partial {
			// A request begun stays with its reader until it is whole,
			// for PostTimeout at most.
			deadline = since.Add(timeout)
		}
		_ = fc.nc.SetReadDeadline(deadline)
		fc.deadline = true
		fc.woke.Store(false)
		n, err := fc.nc.Read(*buf)
		woken = false
		if hook := testHookRead.Load(); hook != nil {
			(*hook)(n, err)
		}
		if !fc.took(*buf, n) {
			return
		}
		if err == nil {
			unread = fc.mayHoldMore(n, len(*buf))
			continue
		}
		if !isTimeout(err) {
			fc.lost() // the client closed or the connection failed
			return
		}
		if partial {
			fc.lost() // a request that did not arrive in time
			return
		}
		fc.mu.Lock()
		more := !fc.pending && len(fc.in) > 0
		fc.mu.Unlock()
		if more {
			continue // input arrived with the deadline: look at it
		}
		if park() {
			return
		}
	}
}

// mayHoldMore reports whether input may wait unread after a read that
// returned n bytes into a buffer of size: on plain TCP when it filled the
// buffer; on TLS always, since a tls.Conn returns one record's data and
// keeps the records it read along with it, which the poller cannot see
// (readArrived takes them without a system call).
func (fc *frontConn) mayHoldMore(n, size int) bool {
	return n == size || fc.tls != nil
}

// readArrived reads what has come for a connection, without waiting (one
// whose request is being answered, or an edge-watched one). On plain TCP
// that is a raw read. On TLS it is what the tls.Conn holds already (its
// splitter reads nothing: splitNone, a timeout after which a tls.Conn
// keeps what it had read and carries on), or also a raw read of the
// socket when that may hold something (splitNow): the poller reported
// input or a hang-up (woken, or a wake while this reader ran), or the
// last read filled its buffer.
func (fc *frontConn) readArrived(b []byte, woken bool) (int, error) {
	reported := fc.woke.Swap(false) // what a wake reported is read now
	if fc.tls == nil {
		if fc.deadline {
			// A raw read fails at once past a deadline.
			_ = fc.nc.SetReadDeadline(time.Time{})
			fc.deadline = false
		}
		return fc.readNow(b)
	}
	// The socket is read without waiting, and only when it may hold
	// something; else the tls.Conn gives what it holds. (A read with a
	// short deadline waited for nothing, but a reader the scheduler left
	// aside past it failed before it looked: the input, its edge
	// reported already, then waited for the idle bound, which closed the
	// connection with the client's request in it.)
	fc.split.mode = splitNone
	if woken || reported || fc.hungUp.Load() || fc.split.full {
		fc.split.mode = splitNow
	}
	if hook := testHookReader.Load(); hook != nil {
		(*hook)(fc, "tls read")
	}
	n, err := fc.tls.Read(b)
	fc.split.mode = splitWait
	if isTimeout(err) {
		err = nil
	}
	return n, err
}

// took adds b[:n] to the input; false means the connection was closed
// for holding more than maxBuffered. Only a client that sends ahead of
// its answers gets there: a request too large for the front is handed
// over before.
func (fc *frontConn) took(b []byte, n int) bool {
	fc.mu.Lock()
	if len(fc.in) == 0 && !fc.pending {
		fc.since = time.Now()
	}
	fc.in = append(fc.in, b[:n]...)
	over := len(fc.in) > fc.maxBuffered()
	fc.mu.Unlock()
	if over {
		fc.lost()
	}
	return !over
}

// What next did with the input.
const (
	frontNeedMore  = iota // no whole request: read on
	frontServed           // a request was answered or parked: look again
	frontHandedOff        // the connection went to net/http
	frontClosed           // the connection was closed
	frontPending          // a request is being answered: the next waits
)

// next takes the request at the head of the input, if it is whole and no
// other is pending, and serves it or hands the connection over.
func (fc *frontConn) next() int {
	fc.mu.Lock()
	if fc.gone {
		fc.mu.Unlock()
		return frontClosed
	}
	if fc.pending {
		fc.mu.Unlock()
		return frontPending
	}
	if len(fc.in) == 0 {
		fc.mu.Unlock()
		return frontNeedMore
	}
	in := fc.in
	req, total, verdict := fc.f.takeRequest(in)
	switch verdict {
	case frontNeedMore:
		fc.mu.Unlock()
		return frontNeedMore
	case frontHandedOff:
		fc.mu.Unlock()
		fc.handOff()
		return frontHandedOff
	}
	if total == len(in) {
		fc.in = nil
	} else {
		// Whatever follows is the client's next request: keep it apart
		// from the body handed to the handler.
		fc.in = bytes.Clone(in[total:])
		fc.since = time.Now()
	}
	ctx, cancel := context.WithCancel(fc.f.base)
	fc.idleUntil.Store(0) // not idle while answered (a request begun holds the reader role)
	fc.pending = true
	fc.cancel = cancel
	fc.mu.Unlock()

	req = req.WithContext(ctx)
	if fc.remote == "" {
		fc.remote = fc.nc.RemoteAddr().String() // formatted once, not per request
	}
	req.RemoteAddr = fc.remote
	req.TLS = fc.tlsState()
	fw := &frontWriter{fc: fc, close: req.Close}
	if !fc.serve(fw, req) {
		return frontClosed
	}
	return frontServed
}

// takeRequest looks at the start of a connection's input for a request
// the front answers itself. It returns the request (its Body the body's
// bytes) and the bytes it spans, head and body, with frontServed once it
// is whole; frontNeedMore while it is not; frontHandedOff when the request
// is one for net/http (another path or kind, a head over maxFrontHead, a
// malformed one).
func (f *front) takeRequest(in []byte) (*http.Request, int, int) {
	before, _, whole := bytes.Cut(in, []byte("\r\n\r\n"))
	if !whole {
		if len(in) > maxFrontHead {
			return nil, 0, frontHandedOff
		}
		return nil, 0, frontNeedMore
	}
	head := in[:len(before)+4]
	if len(head) > maxFrontHead {
		return nil, 0, frontHandedOff
	}
	req, ok := f.parse(head)
	if !ok {
		return nil, 0, frontHandedOff
	}
	total := len(head) + int(req.ContentLength)
	if len(in) < total {
		return nil, 0, frontNeedMore
	}
	req.Body = io.NopCloser(bytes.NewReader(in[len(head):total]))
	return req, total, frontServed
}

// parse reads a request head with net/http's parser and reports whether
// the front takes the request itself.
func (f *front) parse(head []byte) (*http.Request, bool) {
	br := headReaders.Get().(*bufio.Reader)
	br.Reset(bytes.NewReader(head))
	req, err := http.ReadRequest(br)
	br.Reset(nil)
	headReaders.Put(br)
	if err != nil {
		// Malformed: net/http answers it as it answers any other.
		return nil, false
	}
	cfg := f.srv.cfg
	switch {
	case req.Method != http.MethodGet && req.Method != http.MethodPost && req.Method != http.MethodOptions,
		req.ProtoMajor != 1 || req.ProtoMinor != 1,
		req.URL.Path != cfg.Path && req.URL.Path != strings.TrimSuffix(cfg.Path, "/"),
		len(req.TransferEncoding) > 0,
		req.ContentLength < 0 || req.ContentLength > int64(cfg.MaxPayload),
		req.Header.Get("Expect") != "",
		!f.takesUpgrade(req):
		return nil, false
	}
	return req, true
}

// takesUpgrade reports whether the front takes req as far as its Upgrade
// header goes: none, or a WebSocket upgrade (a GET without a body), which
// the handler hijacks (frontWriter.Hijack).
func (f *front) takesUpgrade(req *http.Request) bool {
	switch up := req.Header.Get("Upgrade"); {
	case up == "":
		return true
	case req.Method != http.MethodGet, req.ContentLength != 0:
		return false
	default:
		return strings.EqualFold(up, "websocket")
	}
}

// serve runs the handler for req on the reader's goroutine and writes its
// answer, unless the handler parked it (a poll with nothing to answer
// yet). It reports false when the connection is closed.
func (fc *frontConn) serve(fw *frontWriter, req *http.Request) (ok bool) {
	defer func() {
		if p := recover(); p != nil {
			if p != http.ErrAbortHandler {
				fc.f.srv.cfg.Logger.Error("engineio: panic serving a request", "remote", req.RemoteAddr, "panic", p, "stack", string(debug.Stack()))
			}
			fc.lost()
			ok = false
		}
	}()
	fc.f.h.ServeHTTP(fw, req)
	switch {
	case fw.hijacked:
		// The connection is the handler's: end the request as net/http
		// ends a hijacked one (its context done), and read no more.
		fc.mu.Lock()
		cancel := fc.cancel
		fc.cancel = nil
		fc.mu.Unlock()
		cancel()
		return false
	case fw.parked:
		return true
	}
	return fw.finish()
}

// handOff gives the connection, with the input read from it, to net/http.
func (fc *frontConn) handOff() {
	fc.watch.Stop()
	fc.f.forget(fc)
	fc.mu.Lock()
	in := fc.in
	fc.in = nil
	fc.gone = true
	fc.mu.Unlock()
	_ = fc.nc.SetReadDeadline(time.Time{})
	if len(in) == 0 {
		// Nothing read (a TLS connection that negotiated another
		// protocol): net/http gets the connection itself, TLS and all.
		fc.f.handoff.push(fc.nc)
		return
	}
	fc.f.handoff.push(&prefixConn{Conn: fc.nc, prefix: in, tls: fc.tlsState()})
}

// tlsState is the connection's TLS state for a request (nil on plain
// TCP), made for each request as crypto/tls reports it rather than kept
// from the handshake: 192 bytes a connection, and most connections are
// idle (a long-polling client's second one always is, between POSTs).
func (fc *frontConn) tlsState() *tls.ConnectionState {
	if fc.tls == nil {
		return nil
	}
	st := fc.tls.ConnectionState()
	return &st
}

func (f *front) forget(fc *frontConn) {
	f.mu.Lock()
	delete(f.conns, fc)
	f.mu.Unlock()
}

// lost closes the connection: the client went away, the connection
// failed, or the front closes it. A request being answered learns it
// through its context, a parked poll through its wake.
func (fc *frontConn) lost() {
	fc.mu.Lock()
	if fc.gone {
		fc.mu.Unlock()
		return
	}
	fc.gone = true
	fc.in = nil
	cancel, onGone := fc.cancel, fc.onGone
	fc.onGone = nil
	fc.mu.Unlock()
	fc.watch.Stop()
	_ = fc.nc.Close()
	fc.f.forget(fc)
	if cancel != nil {
		cancel()
	}
	if onGone != nil {
		onGone()
	}
}

// answered ends the pending request once its answer was written (or
// could not be): the next request, if the client sent it already, is
// taken by the reader, started for it if none runs.
func (fc *frontConn) answered(closeAfter bool) {
	if !fc.endRequest(closeAfter) {
		return
	}
	// The goroutine that wrote the answer becomes the connection's reader
	// if it has none (the usual case after a parked poll): the client's
	// next request comes within moments, and is read here rather than
	// through the poller and a goroutine of its own.
	if fc.reading.CompareAndSwap(false, true) {
		fc.run(false)
	}
}

// endRequest ends the pending request, whose answer was written; false
// means the connection was closed (closeAfter: the answer said so).
func (fc *frontConn) endRequest(closeAfter bool) bool {
	fc.mu.Lock()
	cancel := fc.cancel
	fc.cancel, fc.onGone, fc.pending = nil, nil, false
	fc.mu.Unlock()
	cancel() // set by next for every request
	if closeAfter {
		fc.lost()
		return false
	}
	fc.idleFor(fc.f.bounds.between)
	return true
}

// frontWriter is the ResponseWriter of a request the front reads: the
// answer is buffered and written whole, with its length, when the handler
// returns, or, for a parked poll, when the session answers it.
type frontWriter struct {
	fc          *frontConn
	header      http.Header
	status      int
	body        []byte
	close       bool // the client asked to close after this answer
	parked      bool // the answer went to a parked poll's writer (park)
	hijacked    bool // the handler took the connection (Hijack)
	wroteHeader bool
	// contentType, set by the engine for a poll's answer, is written as
	// the answer's Content-Type instead of one in the header map (two map
	// insertions and their slices per answer).
	contentType string
	// poll is the session whose poll this answers, set by the engine:
	// the messages the answer carries are lost if it is not written, and
	// the session ends (pollLost).
	poll *Conn
}

// hijackWriteBuffer sizes the writer Hijack returns. gorilla writes the
// handshake's answer through its buffer (about 130 bytes, more with an
// extension) and nothing after: the engine frames and writes the
// WebSocket itself. net/http's hijacked connection comes with a 4 KiB
// reader and a 4 KiB writer, garbage once the engine has moved the
// connection to its poller: at 2,000 connections a second, that garbage
// is what set the heap's high-water mark (see BENCHMARKS.md).
const hijackWriteBuffer = 256

// Hijack gives the connection to the handler, as net/http's
// ResponseWriter does: for a WebSocket upgrade on the engine's path,
// which the front reads itself (takesUpgrade). The front lets go of the
// connection: it reads no more from it, and neither Close nor Shutdown
// closes it. The reader returned holds what the client sent after the
// request, as net/http's does (gorilla refuses a client that sent data
// before the handshake's answer).
func (w *frontWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	fc := w.fc
	if w.parked || w.hijacked || w.wroteHeader {
		return nil, nil, http.ErrHijacked
	}
	fc.mu.Lock()
	if fc.gone {
		fc.mu.Unlock()
		return nil, nil, net.ErrClosed
	}
	fc.gone = true
	ahead := fc.in
	fc.in = nil
	fc.mu.Unlock()
	fc.watch.Stop()
	fc.f.forget(fc)
	_ = fc.nc.SetDeadline(time.Time{})
	w.hijacked = true
	var br *bufio.Reader
	if len(ahead) == 0 {
		br = bufio.NewReaderSize(fc.nc, 16) // bufio's smallest
	} else {
		br = bufio.NewReaderSize(io.MultiReader(bytes.NewReader(ahead), fc.nc), len(ahead))
		_, _ = br.Peek(len(ahead)) // buffered, as in net/http's reader
	}
	return fc.nc, bufio.NewReadWriter(br, bufio.NewWriterSize(fc.nc, hijackWriteBuffer)), nil
}

func (w *frontWriter) Header() http.Header {
	if w.header == nil {
		w.header = make(http.Header)
	}
	return w.header
}

func (w *frontWriter) WriteHeader(code int) {
	if w.wroteHeader || w.parked || code < 200 {
		return
	}
	w.wroteHeader = true
	w.status = code
}

func (w *frontWriter) Write(b []byte) (int, error) {
	if w.parked {
		return 0, http.ErrHandlerTimeout
	}
	w.WriteHeader(http.StatusOK)
	w.body = append(w.body, b...)
	return len(b), nil
}

// writeBody is Write for a body the caller gives up (a poll's payload):
// kept as it is rather than copied when it is the first write.
func (w *frontWriter) writeBody(b []byte) {
	if w.parked {
		return
	}
	w.WriteHeader(http.StatusOK)
	if len(w.body) == 0 {
		w.body = b
		return
	}
	w.body = append(w.body, b...)
}

// park hands the answer to a writer of its own, for a poll that waits
// without a goroutine: w takes no more writes (the handler and any
// middleware return without answering), and the returned writer, which
// has w's headers, answers later. wake is called if the client goes away
// while the poll waits; park returns nil if it has already.
func (w *frontWriter) park(wake func()) *frontWriter {
	w.parked = true
	// A copy of the headers: a middleware may still look at w's once the
	// handler returns, while a wake already answers with these.
	later := &frontWriter{fc: w.fc, header: w.header.Clone(), close: w.close}
	fc := w.fc
	fc.mu.Lock()
	defer fc.mu.Unlock()
	if fc.gone {
		return nil
	}
	fc.onGone = wake
	return later
}

// clientGone reports whether the connection of w's request has closed.
func (w *frontWriter) clientGone() bool {
	w.fc.mu.Lock()
	defer w.fc.mu.Unlock()
	return w.fc.gone
}

// finish writes the answer and ends the request. It reports false if the
// connection is closed.
func (w *frontWriter) finish() bool {
	bp, out := w.encode()
	return w.written(bp, out, w.fc.write(out))
}

// encode renders the answer, head and body, into a pooled buffer (bp's),
// and returns it; written gives the buffer back.
func (w *frontWriter) encode() (bp *[]byte, out []byte) {
	w.WriteHeader(http.StatusOK)
	h := w.header // nil when nothing was set: no map is made for the answer
	bp = frontAnswerBuffers.Get().(*[]byte)
	b := bytes.NewBuffer((*bp)[:0])
	b.Grow(256 + len(w.body))
	b.WriteString("HTTP/1.1 ")
	b.WriteString(strconv.Itoa(w.status))
	b.WriteByte(' ')
	b.WriteString(http.StatusText(w.status))
	b.WriteString("\r\n")
	// What the front adds goes straight to the output rather than into
	// the handler's header map (two map insertions an answer, which the
	// profile showed); the length is always the front's own.
	switch {
	case w.contentType != "":
		_ = h.WriteSubset(b, frontTypedHeader)
		writeHeaderLine(b, "Content-Type", w.contentType)
	default:
		_ = h.WriteSubset(b, frontLengthHeader)
		if len(w.body) > 0 && h.Get("Content-Type") == "" {
			writeHeaderLine(b, "Content-Type", http.DetectContentType(w.body))
		}
	}
	writeHeaderLine(b, "Content-Length", strconv.Itoa(len(w.body)))
	if h.Get("Date") == "" {
		writeHeaderLine(b, "Date", httpDate())
	}
	if w.close && h.Get("Connection") == "" {
		writeHeaderLine(b, "Connection", "close")
	}
	b.WriteString("\r\n")
	b.Write(w.body)
	w.body = nil
	return bp, b.Bytes()
}

// written ends the request once its answer, out (encode's, in bp), was
// written (err nil) or could not be. It reports false if the connection
// is closed.
func (w *frontWriter) written(bp *[]byte, out []byte, err error) bool {
	if !w.release(bp, out, err) {
		return false
	}
	w.fc.answered(w.close)
	return !w.close
}

// release gives the answer's buffer back and, if it could not be written
// (err), closes the connection and reports false.
func (w *frontWriter) release(bp *[]byte, out []byte, err error) bool {
	// The write has copied or sent it all (a tls.Conn seals a copy).
	putAnswerBuffer(bp, out)
	if split := w.fc.split; split != nil {
		// Over TLS: the records a round sealed are out (or lost), so the
		// tls.Conn's own writes may go on (helloSplitter.sent); after a
		// failure, nothing more goes out.
		if err != nil {
			split.broken.Store(true)
		}
		split.sent()
	}
	if err != nil {
		w.fc.lost()
		if w.poll != nil {
			w.poll.pollLost(err)
		}
		return false
	}
	return true
}

// write writes an answer within WriteTimeout. On plain TCP it first
// writes what the kernel takes at once, which is the whole answer unless
// the client does not read: then no deadline is set (a timer change per
// answer) and the write makes no call into the scheduler (rawIO).
func (fc *frontConn) write(b []byte) error {
	if fc.tls == nil {
		n, err := fc.writeNow(b)
		if err != nil {
			return err
		}
		b = b[n:]
		if len(b) == 0 {
			return nil
		}
	}
	_ = fc.nc.SetWriteDeadline(time.Now().Add(fc.f.srv.cfg.WriteTimeout))
	_, err := fc.nc.Write(b)
	return err
}

// frontLengthHeader is left out of the handler's headers: the front
// writes the length of the body it has.
var frontLengthHeader = map[string]bool{"Content-Length": true}

// frontTypedHeader is left out when the engine gave the type
// (contentType): the front writes both.
var frontTypedHeader = map[string]bool{"Content-Length": true, "Content-Type": true}

func writeHeaderLine(b *bytes.Buffer, name, value string) {
	b.WriteString(name)
	b.WriteString(": ")
	b.WriteString(value)
	b.WriteString("\r\n")
}

// handoffListener is the listener net/http serves: the connections the
// front passes on.
type handoffListener struct {
	ln    net.Listener
	f     *front
	conns chan net.Conn
	done  chan struct{}

	once sync.Once
	err  error // why Accept fails, once done is closed
}

func (l *handoffListener) Accept() (net.Conn, error) {
	select {
	case nc := <-l.conns:
		return nc, nil
	case <-l.done:
		return nil, l.err
	}
}

// push gives nc to net/http, or closes it once net/http is done.
func (l *handoffListener) push(nc net.Conn) {
	select {
	case l.conns <- nc:
	case <-l.done:
		_ = nc.Close()
	}
}

// fail ends Accept with err (the real listener's).
func (l *handoffListener) fail(err error) {
	l.once.Do(func() {
		l.err = err
		close(l.done)
		_ = l.ln.Close()
		l.f.closeAll()
	})
}

// Close, called by http.Server's Close and Shutdown, closes the real
// listener and the front's connections.
func (l *handoffListener) Close() error {
	l.fail(net.ErrClosed)
	return nil
}

func (l *handoffListener) Addr() net.Addr { return l.ln.Addr() }

// prefixConn is a connection handed to net/http with the bytes the front
// had read from it, which it reads first.
type prefixConn struct {
	net.Conn
	prefix []byte
	tls    *tls.ConnectionState // a TLS connection's (ServeTLS); nil on plain TCP
}

func (c *prefixConn) Read(b []byte) (int, error) {
	if len(c.prefix) > 0 {
		n := copy(b, c.prefix)
		c.prefix = c.prefix[n:]
		return n, nil
	}
	return c.Conn.Read(b)
}

// httpDate is the Date of an answer written now, formatted once a second.
func httpDate() string {
	now := time.Now()
	if d := lastDate.Load(); d != nil && d.unix == now.Unix() {
		return d.text
	}
	d := &dateStamp{unix: now.Unix(), text: now.UTC().Format(http.TimeFormat)}
	lastDate.Store(d)
	return d.text
}

type dateStamp struct {
	unix int64
	text string
}

var lastDate atomic.Pointer[dateStamp]
