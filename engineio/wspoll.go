package engineio

import (
	"errors"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gorilla/websocket"

	"github.com/switchboard-go/socketio/internal/netpoll"
	"github.com/switchboard-go/socketio/internal/queue"
)

// Event-driven WebSocket connections.
//
// After the handshake, a WebSocket on plain TCP (on Linux, without
// permessage-deflate, unless Options.DisablePoller) leaves Go's
// goroutine-per-connection model: its descriptor moves to a poller
// (internal/netpoll) shared by many connections, so an idle connection
// holds no goroutine, no stack and no read buffer, only its state here.
//
//   - Reading: the poller reads into its own buffer and feeds the bytes to
//     the connection's frame parser (wsframe.go), which keeps nothing
//     between messages. Complete packets go to the connection's inbound
//     list; a dispatcher, taken when the list becomes non-empty and given
//     back once it is empty, hands them to the session in order, so a
//     slow handler delays only its own connection. Dispatchers are
//     goroutines kept for a while once idle (dispatch.go): a fresh
//     goroutine per message would grow its stack again for every one. Past
//     inboundLimit bytes waiting, the poller stops reading the connection
//     and TCP pushes back on the client.
//   - Writing: writes never block. A message sent to one connection (an
//     ack, an emit, a ping) is written by the sending goroutine when the
//     connection is idle. A broadcast's frames are queued on every target
//     and the targets are flushed by a few flusher goroutines (one per
//     CPU at most), each writing a target's whole queue with one writev,
//     so that a fast broadcaster gets its messages batched. When the
//     kernel's send buffer is full, the unwritten rest waits for the
//     poller to report room; a connection that takes nothing for
//     WriteTimeout is closed with "write timeout".
//
// Connections that cannot be polled (TLS, other platforms, compression)
// keep a reader goroutine and an on-demand writer goroutine (websocket.go,
// wswrite.go); both paths share the queue, the framing and the session.

// inboundLimit bounds the bytes of received packets waiting for the
// dispatcher before the poller stops reading the connection.
const inboundLimit = 1 << 20

type pollWS struct {
	c *Conn
	d *netpoll.Desc

	// Poller goroutine only.
	fp      frameParser
	done    bool // stop parsing: the connection is finished
	probing bool // a probe for an upgrade, not yet the session's transport
	probed  bool // the probe exchange is done, waiting for the upgrade packet
	timer   *time.Timer

	// Inbound packets, from the poller to the dispatcher.
	inMu        sync.Mutex
	in          []Packet
	inBytes     int
	dispatching bool
	paused      bool
	endReason   string // why the connection ended, once it did

	// Writer state, owned by whoever holds c.writing.
	stalled []byte // accepted from the queue, not yet taken by the kernel

	stalledSince atomic.Int64 // unix nanoseconds; 0 when not stalled
	stallTimer   atomic.Bool  // a write-timeout check is pending
}

// pollable reports whether ws can move to the poller.
func (s *Server) pollable(ws *websocket.Conn, extensions string) (*net.TCPConn, bool) {
	if !netpoll.Supported || s.cfg.DisablePoller {
		return nil, false
	}
	if s.cfg.PerMessageDeflate && offersDeflate(extensions) {
		return nil, false
	}
	tc, ok := ws.NetConn().(*net.TCPConn)
	return tc, ok
}

// startPoll moves a freshly upgraded WebSocket to the poller: as the
// session's transport, or as a probe of an upgrade. It reports false when
// the connection could not be moved and ws is still usable.
func (c *Conn) startPoll(tc *net.TCPConn, probing bool) (*pollWS, bool) {
	d, err := netpoll.Take(tc)
	if err != nil {
		return nil, false
	}
	pw := &pollWS{c: c, d: d, probing: probing}
	pw.fp.maxPayload = c.srv.cfg.MaxPayload
	c.srv.wg.Add(1) // done in OnClose
	if probing {
		c.mu.Lock()
		closed := c.closed
		c.probe = pw
		c.mu.Unlock()
		if closed {
			d.Shutdown()
		}
		// The probe must finish within UpgradeTimeout, else the WebSocket
		// is dropped and the session carries on over polling.
		pw.timer = time.AfterFunc(c.srv.cfg.UpgradeTimeout, func() { c.abortUpgrade(pw) })
	} else {
		c.attach(pw, "")
	}
	if err := d.Start(pw); err != nil {
		pw.OnClose(err)
	}
	return pw, true
}

// abort closes the connection at once.
func (pw *pollWS) abort() { pw.d.Shutdown() }

// OnData parses what the poller read.
func (pw *pollWS) OnData(b []byte) {
	if pw.done {
		return
	}
	err := pw.fp.feed(b, pw.onFrame)
	if err == nil {
		return
	}
	pw.done = true
	var ce *wsCloseError
	if errors.As(err, &ce) {
		pw.writeNow(appendCloseFrame(nil, ce.Code, ce.Text))
		pw.c.srv.cfg.Logger.Debug("engineio: WebSocket protocol error", "sid", pw.c.id, "err", err)
		pw.fail(ReasonTransportError)
		return
	}
	if errors.Is(err, errStopReading) {
		return
	}
	pw.fail(ReasonTransportError)
}

// errStopReading stops the parser once the connection is finished.
var errStopReading = errors.New("engineio: connection finished")

// fail ends the connection, and the session when the connection is its
// transport: after the packets received before the failure were
// dispatched, as a reader goroutine would have done.
func (pw *pollWS) fail(reason string) {
	if pw.probing {
		pw.c.abortUpgrade(pw)
		return
	}
	pw.inMu.Lock()
	if pw.endReason != "" {
		pw.inMu.Unlock()
		return
	}
	pw.endReason = reason
	pw.inMu.Unlock()
	pw.enqueue(Packet{Type: packetEnd})
}

// packetEnd marks the end of a connection's inbound packets.
const packetEnd PacketType = 255

// end runs on the dispatcher after the last packet.
func (pw *pollWS) end() {
	c := pw.c
	pw.inMu.Lock()
	reason := pw.endReason
	pw.inMu.Unlock()
	c.mu.Lock()
	active := c.ws == wsTransport(pw)
	c.mu.Unlock()
	if active {
		c.close(reason, false)
	}
	pw.d.Shutdown()
}

func (pw *pollWS) onFrame(op byte, payload []byte) error {
	switch op {
	case opPing:
		if pw.probing {
			pw.writeNow(appendControlFrame(nil, opPong, payload))
			return nil
		}
		frame := appendControlFrame(nil, opPong, payload)
		if pw.c.q.PushControl(queue.Item{Kind: byte(PacketNoop), Frame: frame}) == nil {
			pw.c.kick(true)
		}
		return nil
	case opPong:
		return nil
	case opClose:
		// Answer with the client's status, as RFC 6455 §5.5.1 asks, then
		// end the connection: the client left.
		code := closeNormal
		if len(payload) >= 2 {
			code = int(payload[0])<<8 | int(payload[1])
		}
		pw.writeNow(appendCloseFrame(nil, code, ""))
		pw.fail(ReasonTransportClose)
		return errStopReading
	}
	var p Packet
	if op == opBinary {
		// Never nil: an empty binary message is an empty attachment.
		p = Packet{Type: PacketMessage, Data: append(make([]byte, 0, len(payload)), payload...), Binary: true}
	} else {
		var err error
		if p, err = DecodeText(append([]byte(nil), payload...)); err != nil {
			pw.fail(ReasonParseError)
			return errStopReading
		}
	}
	if pw.probing {
		return pw.onProbePacket(p)
	}
	pw.enqueue(p)
	return nil
}

// onProbePacket runs the probe exchange of an upgrade (see serveUpgrade).
func (pw *pollWS) onProbePacket(p Packet) error {
	c := pw.c
	switch {
	case p.Type == PacketPing && string(p.Data) == "probe" && !p.Binary:
		if !pw.writeNow(appendFrame(nil, queue.Item{Kind: byte(PacketPong), Data: []byte("probe")})) {
			c.abortUpgrade(pw)
			return errStopReading
		}
		pw.probed = true
		c.probeSucceeded()
	case p.Type == PacketUpgrade && pw.probed:
		pw.timer.Stop()
		pw.probing = false
		c.attach(pw, "")
	case p.Type == PacketNoop:
		// Harmless; some clients send it while upgrading.
	default:
		c.abortUpgrade(pw)
		return errStopReading
	}
	return nil
}

// writeNow writes a short frame directly, outside the session's queue:
// the probe's answers and close frames. It reports whether the kernel took
// all of it (a fresh or idle connection always has room for a few bytes).
func (pw *pollWS) writeNow(frame []byte) bool {
	var sc netpoll.Scratch
	bufs := [1][]byte{frame}
	n, err := pw.d.Writev(bufs[:], &sc)
	return err == nil && n == len(frame)
}

// enqueue hands p to the dispatcher, starting one if none runs.
func (pw *pollWS) enqueue(p Packet) {
	pw.inMu.Lock()
	pw.in = append(pw.in, p)
	pw.inBytes += len(p.Data) + 1
	start := !pw.dispatching
	pw.dispatching = true
	if pw.inBytes > inboundLimit && !pw.paused {
		pw.paused = true
		pw.d.PauseReads(true)
	}
	pw.inMu.Unlock()
	if start {
		pw.c.srv.dispatchers.run(pw)
	}
}

// dispatchAll hands the inbound packets to the session until none is
// left; it runs on a dispatcher (one per connection at a time).
func (pw *pollWS) dispatchAll() {
	var batch []Packet
	for {
		pw.inMu.Lock()
		if len(pw.in) == 0 {
			pw.dispatching = false
			if pw.paused {
				pw.paused = false
				pw.d.PauseReads(false)
			}
			pw.in = nil // an idle connection keeps no list
			pw.inMu.Unlock()
			return
		}
		batch, pw.in = pw.in, batch[:0]
		pw.inBytes = 0
		pw.inMu.Unlock()
		for i, p := range batch {
			finished := false
			if p.Type == packetEnd {
				pw.end()
				finished = true
			} else if pw.c.dispatch(p) {
				pw.d.Shutdown() // the session is over: stop reading
				finished = true
			}
			if finished {
				// Drop whatever came after.
				clear(batch)
				pw.inMu.Lock()
				pw.in = nil
				pw.dispatching = false
				pw.inMu.Unlock()
				return
			}
			batch[i] = Packet{}
		}
	}
}

// OnClose runs once the poller closed the descriptor.
func (pw *pollWS) OnClose(err error) {
	defer pw.c.srv.wg.Done()
	if pw.timer != nil {
		pw.timer.Stop()
	}
	reason := ReasonTransportClose
	if err != nil && !errors.Is(err, syscall.ECONNRESET) && !errors.Is(err, syscall.EPIPE) {
		reason = ReasonTransportError
	}
	pw.fail(reason)
}

// OnWritable resumes a stalled writer on a flusher.
func (pw *pollWS) OnWritable() { pw.c.srv.flushers.add(pw) }

// kick makes sure the queue gets written: by this goroutine when inline
// (a message to this one connection), else by a flusher (a broadcast).
func (pw *pollWS) kick(inline bool) {
	if !pw.c.writing.CompareAndSwap(false, true) {
		return // a writer is at it, or the connection waits for room
	}
	if inline {
		pw.flush()
	} else {
		pw.c.srv.flushers.add(pw)
	}
}

// flush writes until the queue is empty or the kernel takes no more. The
// caller holds c.writing; flush releases it, except while the connection
// waits for room (OnWritable resumes) or once it is finished.
func (pw *pollWS) flush() {
	c := pw.c
	sc := getScratch()
	defer putScratch(sc)
	for {
		c.mu.Lock()
		closed, flushing := c.closed, c.flushOnClose
		c.mu.Unlock()
		if closed && !flushing {
			pw.d.Shutdown()
			return
		}
		if len(pw.stalled) > 0 {
			sc.bufs = append(sc.bufs[:0], pw.stalled)
			n, err := pw.d.Writev(sc.bufs, &sc.poll)
			sc.bufs[0] = nil
			if n > 0 {
				pw.progress()
			}
			if err != nil {
				pw.stalled = pw.stalled[n:]
				pw.writeFailed(err)
				return
			}
			pw.stalled = nil
			pw.stalledSince.Store(0)
		}
		sc.batch = c.q.Drain(sc.batch[:0], writeBatchBytes)
		if len(sc.batch) > 0 {
			sc.frameBatch()
			n, err := pw.d.Writev(sc.bufs, &sc.poll)
			if err != nil {
				if errors.Is(err, netpoll.ErrWouldBlock) {
					pw.stalled = copyRest(sc.bufs, n)
				}
				clear(sc.batch)
				pw.writeFailed(err)
				return
			}
			clear(sc.batch)
			clear(sc.bufs)
			sc.bufs, sc.hdr = sc.bufs[:0], sc.hdr[:0]
			continue
		}
		if closed { // flushed: say goodbye
			pw.writeNow(appendCloseFrame(nil, closeNormal, ""))
			pw.d.Shutdown()
			return
		}
		// Idle: release the writer role, then re-check for a push that
		// raced with the drain (it saw writing==true and left it to us).
		c.writing.Store(false)
		if n, _ := c.q.Len(); n == 0 && !c.isClosed() {
			return
		}
		if !c.writing.CompareAndSwap(false, true) {
			return
		}
	}
}

// copyRest returns the bytes of bufs after the first n, in a buffer of
// their own: the frames' headers live in a scratch that goes back to a
// pool.
func copyRest(bufs [][]byte, n int) []byte {
	size := -n
	for _, b := range bufs {
		size += len(b)
	}
	rest := make([]byte, 0, size)
	for _, b := range bufs {
		if n >= len(b) {
			n -= len(b)
			continue
		}
		rest = append(rest, b[n:]...)
		n = 0
	}
	return rest
}

// writeFailed handles a write that did not complete: a full send buffer
// waits for room (and arms the write timeout), anything else ends the
// session.
func (pw *pollWS) writeFailed(err error) {
	if errors.Is(err, netpoll.ErrWouldBlock) {
		if pw.stalledSince.Load() == 0 {
			pw.stalledSince.Store(time.Now().UnixNano())
		}
		pw.armStallCheck(pw.c.srv.cfg.WriteTimeout)
		pw.d.WaitWritable()
		return
	}
	reason := ReasonTransportClose
	if !errors.Is(err, netpoll.ErrClosed) && !errors.Is(err, syscall.EPIPE) && !errors.Is(err, syscall.ECONNRESET) {
		reason = ReasonTransportError
	}
	// The client is gone, but what it sent before still reaches the
	// handler: the session ends after the packets already received.
	pw.fail(reason)
	pw.d.Shutdown()
}

// progress notes that the kernel took bytes after a stall: the write
// timeout counts from here.
func (pw *pollWS) progress() {
	if pw.stalledSince.Load() != 0 {
		pw.stalledSince.Store(time.Now().UnixNano())
	}
}

func (pw *pollWS) armStallCheck(after time.Duration) {
	if pw.stallTimer.Swap(true) {
		return
	}
	time.AfterFunc(after, func() {
		pw.stallTimer.Store(false)
		since := pw.stalledSince.Load()
		if since == 0 {
			return
		}
		timeout := pw.c.srv.cfg.WriteTimeout
		if waited := time.Duration(time.Now().UnixNano() - since); waited < timeout {
			pw.armStallCheck(timeout - waited)
			return
		}
		c := pw.c
		if !c.isClosed() {
			c.srv.stats.writeTimeouts.Add(1)
			c.srv.cfg.Logger.Info("engineio: disconnecting a client that does not read", "sid", c.id, "reason", ReasonWriteTimeout)
			c.close(ReasonWriteTimeout, false)
		}
		pw.d.Shutdown()
	})
}

// flushers is a server's pool of goroutines that write the connections a
// broadcast made ready; at most one per CPU runs, only while there is
// work.
type flushers struct {
	mu      sync.Mutex
	ready   []*pollWS // ready[head:] wait for a flusher
	head    int
	running int
	wg      *tracker
}

// flushGrab is how many connections a flusher takes at once: small enough
// that a second flusher finds work, large enough to keep the lock cold.
const flushGrab = 64

func (f *flushers) add(pw *pollWS) {
	f.mu.Lock()
	f.ready = append(f.ready, pw)
	start := f.running == 0 || (f.running < runtime.GOMAXPROCS(0) && len(f.ready)-f.head > flushGrab)
	if start {
		f.running++
	}
	f.mu.Unlock()
	if start {
		f.wg.Add(1)
		go f.loop()
	}
}

func (f *flushers) loop() {
	defer f.wg.Done()
	var mine []*pollWS
	for {
		f.mu.Lock()
		if f.head == len(f.ready) {
			f.ready, f.head = f.ready[:0], 0
			f.running--
			if f.running == 0 {
				// Let an idle server keep no list.
				f.ready = nil
			}
			f.mu.Unlock()
			return
		}
		k := min(len(f.ready)-f.head, flushGrab)
		grab := f.ready[f.head : f.head+k]
		mine = append(mine[:0], grab...)
		clear(grab)
		f.head += k
		more := f.head < len(f.ready)
		f.mu.Unlock()
		for i, pw := range mine {
			pw.flush()
			mine[i] = nil
		}
		if more {
			// A long round: let clients' input in (see netpoll.PollNow),
			// and the dispatchers it wakes run, before going on.
			netpoll.PollNow()
			runtime.Gosched()
		}
	}
}
