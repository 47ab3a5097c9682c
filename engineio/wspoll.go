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
// After the handshake, a WebSocket on plain TCP (on Linux, unless
// Options.DisablePoller) leaves Go's goroutine-per-connection model: its
// descriptor moves to a poller (internal/netpoll) shared by many
// connections, so an idle connection holds no goroutine, no stack and no
// read buffer, only its state here. permessage-deflate changes none of
// that: with no context takeover, a connection keeps no compression state
// between messages either.
//
//   - Reading: the poller reads into its own buffer and feeds the bytes to
//     the connection's frame parser (wsframe.go), which keeps nothing
//     between messages and inflates a compressed message once it is
//     complete (wsinflate.go). Complete packets go to the connection's
//     inbound list; a dispatcher, taken when the list becomes non-empty
//     and given back once it is empty, hands them to the session in
//     order, so a slow handler delays only its own connection.
//     Dispatchers are goroutines kept for a while once idle (dispatch.go):
//     a fresh goroutine per message would grow its stack again for every
//     one. Past inboundLimit bytes waiting, the poller stops reading the
//     connection and TCP pushes back on the client.
//   - Writing: writes never block. A message sent to one connection (an
//     ack, an emit, a ping) is written by the sending goroutine when the
//     connection is idle. A broadcast's frames are queued on every target
//     and the targets are flushed by a few flusher goroutines (one per
//     CPU at most), each writing a target's whole queue with one writev,
//     so that a fast broadcaster gets its messages batched. On a
//     connection that negotiated permessage-deflate, the frames written
//     are the compressed ones (wswrite.go): a broadcast's, compressed once
//     by the first receiver's writer that needs them and shared by all,
//     go out in the same batched writes. When the kernel's send buffer is
//     full, the unwritten rest waits for the poller to report room; a
//     connection that takes nothing for WriteTimeout is closed with
//     "write timeout". The control frames the server answers the client
//     with (pongs, close frames) take the same writer role, so they go
//     out between two frames, never inside one (sendControl).
//
// Connections that cannot be polled (TLS, other platforms) are read by a
// goroutine (while their client sends, where the poller can watch them:
// wswatch.go) and written by an on-demand writer goroutine (websocket.go,
// wswrite.go), except a broadcast's writes to the front's TLS WebSockets,
// which go in rounds as here (wstls.go); every path shares the frame
// parser, the queue, the framing, the compressor and the session.

// inboundLimit bounds the bytes of received packets waiting for the
// dispatcher before the poller stops reading the connection.
const inboundLimit = 1 << 20

// pollWS is one WebSocket on the poller. Every idle connection holds one:
// its fields are ordered so that it fits the allocator's 192-byte class
// (small fields share words); mind that when adding any.
type pollWS struct {
	c *Conn
	d *netpoll.Desc

	// Poller goroutine only.
	fp      frameParser
	timer   *time.Timer
	done    bool // stop parsing: the connection is finished
	probing bool // a probe for an upgrade, not yet the session's transport
	probed  bool // the probe exchange is done, waiting for the upgrade packet
	// deflate: permessage-deflate was negotiated. Set before the
	// connection is published and never changed, so writers read it too.
	deflate bool

	// Inbound packets, from the poller to the dispatcher; inMu also
	// guards ctlWait.
	dispatching bool
	paused      bool        // reads paused: too much waits for the dispatcher
	held        bool        // reads paused: Conn.HoldReads (hold.go)
	holdTimer   *time.Timer // ends a hold; made by the first one
	inMu        sync.Mutex
	in          []Packet
	inBytes     int
	endReason   string // why the connection ended, once it did

	// Control frames (a pong, a close frame, or both in that order) that
	// wait for the writer to reach a frame boundary; see sendControl.
	// Made only when a frame has to wait, dropped once taken.
	ctlWait *[]byte

	// Writer state, owned by whoever holds c.writing (by the poller
	// goroutine while probing).
	stalled []byte // accepted from the queue, not yet taken by the kernel

	stalledSince atomic.Int64  // unix nanoseconds; 0 when not stalled
	stallTimer   atomic.Bool   // a write-timeout check is pending
	ctl          atomic.Uint32 // ctlWaiting, ctlClosing; changed under inMu
}

// Bits of pollWS.ctl. They are read without the lock, so that a writer
// checks for control frames with one atomic load per batch.
const (
	ctlWaiting = 1 << iota // ctlWait holds frames for the writer
	// A close frame was handed to the writer: nothing else is sent from
	// then on, and once it is out the writer shuts the connection down.
	ctlClosing
)

// pollable reports whether ws can move to the poller: a plain TCP
// connection, permessage-deflate negotiated or not (the poller's writers
// compress as the others do, and its parser inflates).
func (s *Server) pollable(ws *websocket.Conn) (*net.TCPConn, bool) {
	if !netpoll.Supported || s.cfg.DisablePoller {
		return nil, false
	}
	tc, ok := ws.NetConn().(*net.TCPConn)
	return tc, ok
}

// startPoll moves a freshly upgraded WebSocket to the poller: as the
// session's transport, or as a probe of an upgrade (deflate:
// permessage-deflate was negotiated). It reports false when the connection
// could not be moved and ws is still usable.
func (c *Conn) startPoll(tc *net.TCPConn, probing, deflate bool) (*pollWS, bool) {
	d, err := netpoll.Take(tc)
	if err != nil {
		return nil, false
	}
	pw := &pollWS{c: c, d: d, probing: probing, deflate: deflate}
	pw.fp.maxPayload = c.srv.cfg.MaxPayload
	if deflate {
		pw.fp.flags |= fpDeflate
	}
	c.srv.wg.Add(1) // done in OnClose
	if probing {
		c.mu.Lock()
		drop := c.dropsProbe()
		c.probe = pw
		c.mu.Unlock()
		if drop {
			d.Shutdown()
		}
		// The probe must finish within UpgradeTimeout, else the WebSocket
		// is dropped and the session carries on over polling.
		pw.timer = time.AfterFunc(c.srv.cfg.UpgradeTimeout, c.upgradeExpiry(pw))
	} else {
		c.attach(pw)
	}
	if err := d.Start(pw); err != nil {
		pw.OnClose(err)
	}
	return pw, true
}

// abort closes the connection at once.
func (pw *pollWS) abort() { pw.d.Shutdown() }

// catchUp reads what the probe has received, on the caller's goroutine
// (serialized with the poller's own handling).
func (pw *pollWS) catchUp() { pw.d.ReadNow() }

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
		pw.sendControl(appendCloseFrame(nil, ce.Code, ce.Text), true)
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
	// A close frame on its way (the answer to the client's, or ours after
	// a protocol error) may wait behind a stalled write: the session then
	// closes as with a flush, and the writer shuts the connection down
	// once the frame is out (the write timeout, if it never is; a forced
	// close overrides the flush). Anything else ends the connection now.
	closing := pw.ctl.Load()&ctlClosing != 0
	if active {
		c.close(reason, closing)
	}
	if !closing || !active {
		pw.d.Shutdown()
	}
}

func (pw *pollWS) onFrame(op byte, payload []byte) error {
	switch op {
	case opPing:
		pw.sendControl(appendControlFrame(nil, opPong, payload), false)
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
		pw.sendControl(appendCloseFrame(nil, code, ""), true)
		pw.fail(ReasonTransportClose)
		return errStopReading
	}
	p, err := packetOf(op, payload, pw.c.eio3)
	if err != nil {
		pw.fail(ReasonParseError)
		return errStopReading
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
		// The answer goes out as the rest of a stalled write would. A
		// probe that still has bytes unwritten (a few pongs at most) is
		// one the client does not read: dropped, as a failed write is.
		if len(pw.stalled) > 0 {
			c.abortUpgrade(pw)
			return errStopReading
		}
		pw.stalled = appendFrame(nil, queue.Item{Kind: byte(PacketPong), Data: []byte("probe")})
		if !pw.writeProbe() {
			c.abortUpgrade(pw)
			return errStopReading
		}
		pw.probed = true
		c.probeSucceeded()
	case p.Type == PacketUpgrade && pw.probed:
		pw.timer.Stop()
		pw.probing = false
		if len(pw.stalled) > 0 {
			// The probe still waits for room (for OnWritable, which runs
			// on this goroutine): the session's writer role takes its
			// bytes over, so that they go out before any data. No writer
			// holds the role while the session is on polling.
			if !c.writing.CompareAndSwap(false, true) {
				c.abortUpgrade(pw)
				return errStopReading
			}
			pw.writeFailed(netpoll.ErrWouldBlock) // under the write timeout from now on
		}
		c.attach(pw)
	case p.Type == PacketNoop:
		// Harmless; some clients send it while upgrading.
	default:
		c.abortUpgrade(pw)
		return errStopReading
	}
	return nil
}

// sendControl sends a control frame (isClose: a close frame); the poller
// goroutine calls it to answer the client's pings and to close. A control
// frame may only go between two frames: written while a data frame is
// half out, it would corrupt the stream. So it goes through the
// writer role (c.writing) like data: at once when no writer holds it,
// else it waits in ctlWait and the writer sends it before its next data
// frame, once what stalled is out. What waits is bounded: a newer ping's
// pong replaces a waiting one (RFC 6455 §5.5.3), and after a close frame
// nothing is sent at all, so a client that pings without reading cannot
// grow it.
func (pw *pollWS) sendControl(frame []byte, isClose bool) {
	if pw.probing {
		// Until it becomes the transport, a probe carries no data and
		// only this goroutine writes to it.
		if pw.holdControl(frame, isClose) && !pw.writeProbe() {
			pw.fail(ReasonTransportError)
		}
		return
	}
	if pw.c.writing.CompareAndSwap(false, true) {
		// No writer, so nothing stalled (a stalled writer keeps the
		// role) and no frame half out: flush writes the frame first,
		// as it does the rest of a stalled write, then carries on as the
		// writer and gives the role back as it always does, so that
		// what was queued meanwhile is not left behind.
		if pw.admitControl(isClose) {
			pw.stalled = frame
		}
		pw.flush()
		return
	}
	// A writer is at it, or the connection waits for room. Kick as a push
	// does: the writer may have given the role up since it last looked.
	if pw.holdControl(frame, isClose) {
		pw.kick(true)
	}
}

// admitControl reports whether a control frame may still be sent by the
// writer, who calls it; nothing may follow a close frame.
func (pw *pollWS) admitControl(isClose bool) bool {
	pw.inMu.Lock()
	defer pw.inMu.Unlock()
	if pw.ctl.Load()&ctlClosing != 0 {
		return false
	}
	if isClose {
		pw.ctl.Or(ctlClosing)
	}
	return true
}

// holdControl leaves frame in ctlWait for the writer. It reports false
// when a close frame went before, which nothing may follow.
func (pw *pollWS) holdControl(frame []byte, isClose bool) bool {
	pw.inMu.Lock()
	defer pw.inMu.Unlock()
	ctl := pw.ctl.Load()
	if ctl&ctlClosing != 0 {
		return false
	}
	if pw.ctlWait == nil {
		pw.ctlWait = new([]byte)
	}
	w := pw.ctlWait
	switch {
	case isClose && ctl&ctlWaiting != 0:
		*w = append(*w, frame...) // after the waiting pong
		pw.ctl.Or(ctlClosing)
	case isClose:
		*w = frame
		pw.ctl.Or(ctlWaiting | ctlClosing)
	default:
		// A waiting pong is all ctlWait can hold here: it answered an
		// older ping.
		*w = frame
		pw.ctl.Or(ctlWaiting)
	}
	return true
}

// takeControl hands the waiting control frames to the writer, who holds
// the role.
func (pw *pollWS) takeControl() []byte {
	pw.inMu.Lock()
	w := pw.ctlWait
	pw.ctlWait = nil
	pw.ctl.And(^uint32(ctlWaiting))
	pw.inMu.Unlock()
	return *w
}

// writeProbe writes what a probe has to send: the rest of a stalled write,
// then the control frames waiting, on the poller goroutine. A full send
// buffer waits for OnWritable (the upgrade timeout bounds the wait); it
// reports false when the write failed.
func (pw *pollWS) writeProbe() bool {
	var sc netpoll.Scratch
	for {
		if rest := pw.stalled; len(rest) > 0 {
			bufs := [1][]byte{rest}
			n, err := pw.d.Writev(bufs[:], &sc)
			pw.stalled = pw.stalled[n:]
			if errors.Is(err, netpoll.ErrWouldBlock) {
				pw.d.WaitWritable()
				return true
			}
			if err != nil {
				return false
			}
			pw.stalled = nil
		}
		if pw.ctl.Load()&ctlWaiting == 0 {
			return true
		}
		pw.stalled = pw.takeControl()
	}
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
		if !pw.held {
			pw.d.PauseReads(true)
		}
	}
	pw.inMu.Unlock()
	if start {
		pw.c.srv.dispatchers.run(pw)
	}
}

// dispatchSlice is how many packets of one connection a dispatcher hands
// on before it lets other goroutines run.
const dispatchSlice = 32

// dispatchAll hands the inbound packets to the session until none is
// left; it runs on a dispatcher (one per connection at a time).
// runTask dispatches pw's packets on a dispatcher (dispatch.go).
func (pw *pollWS) runTask() { pw.dispatchAll() }

func (pw *pollWS) dispatchAll() {
	var batch []Packet
	for {
		pw.inMu.Lock()
		if len(pw.in) == 0 {
			pw.dispatching = false
			if pw.paused {
				pw.paused = false
				if !pw.held {
					pw.d.PauseReads(false)
				}
			}
			pw.in = nil // an idle connection keeps no list
			pw.inMu.Unlock()
			return
		}
		batch, pw.in = pw.in, batch[:0]
		pw.inBytes = 0
		pw.inMu.Unlock()
		for i, p := range batch {
			if i > 0 && i%dispatchSlice == 0 {
				// A client sending as fast as we read keeps this
				// goroutine busy, and Go's runtime looks for network
				// input only when it runs out of work or every 10 ms:
				// the other clients' packets would wait that long to be
				// read, then behind a whole read of this one's (64 KiB
				// of small packets: hundreds). Read what is ready now
				// and let their dispatchers run first, so that a
				// flooding connection costs the others a slice's wait.
				netpoll.PollNow()
				runtime.Gosched()
			}
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
	defer pw.c.endWS(pw)
	if pw.timer != nil {
		pw.timer.Stop()
	}
	pw.inMu.Lock()
	if pw.holdTimer != nil {
		pw.holdTimer.Stop() // a late one only resumes a closed descriptor's reads: a no-op
	}
	pw.inMu.Unlock()
	reason := ReasonTransportClose
	if err != nil && !errors.Is(err, syscall.ECONNRESET) && !errors.Is(err, syscall.EPIPE) {
		reason = ReasonTransportError
	}
	pw.fail(reason)
}

// OnWritable resumes a stalled writer on a flusher, or a probe here.
func (pw *pollWS) OnWritable() {
	if pw.probing {
		if !pw.writeProbe() {
			pw.fail(ReasonTransportError)
		}
		return
	}
	pw.c.srv.flushers.add(pw)
}

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
		// At a frame boundary: control frames that waited go before the
		// next data frame, and nothing goes after a close frame.
		if ctl := pw.ctl.Load(); ctl != 0 {
			if ctl&ctlWaiting != 0 {
				pw.stalled = pw.takeControl()
				continue
			}
			// Closing, with nothing waiting or stalled: the close frame
			// is out.
			pw.d.Shutdown()
			return
		}
		sc.batch = c.q.Drain(sc.batch[:0], writeBatchBytes)
		if c.eio3 {
			framesV3(sc.batch, c.b64)
		}
		if len(sc.batch) > 0 {
			sc.frameBatch(pw.deflate)
			n, err := pw.d.Writev(sc.bufs, &sc.poll)
			if pw.afterWrite(sc, n, err) {
				return
			}
			continue
		}
		if closed { // flushed: say goodbye, unless a close frame went already
			if pw.admitControl(true) {
				pw.stalled = appendCloseFrame(nil, closeNormal, "")
			}
			continue
		}
		// Idle: release the writer role, then re-check for a push or a
		// control frame that raced with the drain (it saw writing==true
		// and left it to us).
		c.writing.Store(false)
		if n, _ := c.q.Len(); n == 0 && !c.isClosed() && pw.ctl.Load()&ctlWaiting == 0 {
			return
		}
		if !c.writing.CompareAndSwap(false, true) {
			return
		}
	}
}

// afterWrite handles the result of writing sc's framed batch and resets
// sc; it reports whether the writer stops: stalled (it keeps the role
// until OnWritable) or failed.
func (pw *pollWS) afterWrite(sc *writeScratch, n int, err error) bool {
	if err != nil {
		if errors.Is(err, netpoll.ErrWouldBlock) {
			pw.stalled = copyRest(sc.bufs, n)
		}
		clear(sc.batch)
		pw.writeFailed(err)
		return true
	}
	sc.reset()
	return false
}

// prepareRound drains and frames what pw's queue holds, for a flusher's
// batched round, when the writer is in its plain state: open, nothing
// stalled, no control frame waiting. Otherwise (or with nothing queued)
// it reports false and pw takes the usual path (flush).
func (pw *pollWS) prepareRound() (*writeScratch, bool) {
	if len(pw.stalled) > 0 || pw.ctl.Load() != 0 || pw.c.isClosed() {
		return nil, false
	}
	sc := getScratch()
	sc.batch = pw.c.q.Drain(sc.batch[:0], writeBatchBytes)
	if pw.c.eio3 {
		framesV3(sc.batch, pw.c.b64)
	}
	if len(sc.batch) == 0 {
		putScratch(sc)
		return nil, false
	}
	sc.frameBatch(pw.deflate)
	return sc, true
}

// flushRound writes a flusher's grab with one system call for every
// connection's first write (netpoll.Ring). At light load that is each
// connection's only write, and the round costs about half the CPU of a
// writev per connection (BENCHMARKS.md, bench/cmd/uringexp). Whatever
// follows (more queued meanwhile, a stall, releasing the writer role) is
// flush's, as it is for connections not in the plain state.
func (rd *round) flush(ring *netpoll.Ring, pws []*pollWS) {
	ws, scs, who := rd.ws[:0], rd.scs[:0], rd.who[:0]
	for _, pw := range pws {
		sc, ok := pw.prepareRound()
		if !ok {
			pw.flush()
			continue
		}
		ws = append(ws, netpoll.Write{D: pw.d, Bufs: sc.bufs})
		scs = append(scs, sc)
		who = append(who, pw)
	}
	if len(ws) > 0 {
		ring.Writev(ws)
	}
	for i, pw := range who {
		stop := pw.afterWrite(scs[i], ws[i].N, ws[i].Err)
		putScratch(scs[i])
		if !stop {
			pw.flush()
		}
	}
	clear(ws)
	clear(scs)
	clear(who)
	rd.ws, rd.scs, rd.who = ws[:0], scs[:0], who[:0]
}

// round is a flusher goroutine's batch state, reused between its grabs
// and, through the flushers' queue, by the flushers that follow.
type round struct {
	mine []*pollWS // the grab
	ws   []netpoll.Write
	scs  []*writeScratch
	who  []*pollWS
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
		pw.c.closeAfterWrite(ReasonWriteTimeout)
		pw.d.Shutdown()
	})
}

// flushers is a server's pool of goroutines that write the connections a
// broadcast made ready; at most one per CPU runs, only while there is
// work (roundQueue).
type flushers struct {
	q  roundQueue[*pollWS, round]
	wg *tracker
}

func (f *flushers) add(pw *pollWS) {
	if f.q.add(pw) {
		f.wg.Add(1)
		go f.loop()
	}
}

func (f *flushers) loop() {
	defer f.wg.Done()
	rd, ring := f.q.begin()
	defer f.q.end(rd, ring)
	// Before the first grab, let the input that is already waiting in (the
	// publisher's next messages, read by PollNow, and the dispatchers they
	// wake): what they queue goes out in this round's writes rather than
	// in a round of its own. In a flood to 100 receivers this took the
	// CPU per delivery from 2.12 to 1.44 µs (BENCHMARKS.md); at light load
	// there is nothing waiting and it costs one epoll_wait per round.
	netpoll.PollNow()
	runtime.Gosched()
	for {
		var more bool
		rd.mine, more = f.q.grab(rd.mine)
		if len(rd.mine) == 0 {
			return
		}
		if ring != nil {
			rd.flush(ring, rd.mine)
		} else {
			for _, pw := range rd.mine {
				pw.flush()
			}
		}
		clear(rd.mine)
		if more {
			// A long round: let clients' input in (see netpoll.PollNow),
			// and the dispatchers it wakes run, before going on.
			netpoll.PollNow()
			runtime.Gosched()
		}
	}
}
