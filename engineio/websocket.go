package engineio

import (
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gorilla/websocket"

	"github.com/switchboard-go/socketio/internal/netpoll"
)

// WebSocket transport. Where it can, a new WebSocket moves to the poller
// (wspoll.go): on Linux, plain TCP, compressed or not. Otherwise (TLS,
// DisablePoller, other platforms) a goroutine of its own reads it (decode
// and dispatch inline), and a writer goroutine, started when there is
// something to write and gone when the queue is empty (wswrite.go), drains
// the session queue in batches; a broadcast's writes to a TLS WebSocket of
// the front go in rounds instead (wstls.go). A text frame is one packet
// "<type><data>"; a binary frame is a binary message.
//
// On both paths gorilla only does the handshake, permessage-deflate's
// negotiation included: the frames are read by the engine's own parser
// (wsframe.go), so every rule of RFC 6455 and the MaxPayload limit (on the
// inflated size too) is checked in one place and answered with the same
// close codes, and written by the engine's own framing and compressor
// (wswrite.go, wsdeflate.go). The *websocket.Conn gorilla returns is used
// for its net.Conn only.

// wsTransport is a WebSocket as the session holds it.
type wsTransport interface {
	// abort closes the connection at once, dropping what is unsent.
	abort()
	// catchUp handles, on the caller's goroutine, what a probe has
	// received and not yet handled (see Conn.catchUpProbe).
	catchUp()
}

// gorillaWS is a WebSocket read by a goroutine of its own (named after
// the library whose handshake made it; it writes to the net.Conn
// directly). Its writes (the writer's batches, and the control frames the
// reader answers with) take wmu, so that a control frame goes between two
// frames, never inside one: on TLS a batch is several writes.
type gorillaWS struct {
	c     *Conn
	nc    net.Conn
	probe *wsProbe // the probe exchange, for a probe; set before it is published

	// deflate: permessage-deflate was negotiated.
	deflate bool
	fp      frameParser // the reader goroutine's (the probe's until the upgrade)

	wmu sync.Mutex
	// closing: a close frame was written; nothing may follow it.
	closing bool
	// deadline is the write deadline last set on nc.
	deadline time.Time

	// watch, when set, parks the connection's reads in the poller while
	// it is idle, instead of in a goroutine (wswatch.go); reading says a
	// goroutine is reading it.
	watch   *netpoll.Watch
	reading atomic.Bool
}

func newGorillaWS(c *Conn, ws *websocket.Conn, deflate bool) *gorillaWS {
	g := &gorillaWS{c: c, nc: ws.NetConn(), deflate: deflate}
	g.fp.maxPayload = c.srv.cfg.MaxPayload
	if deflate {
		g.fp.flags |= fpDeflate
	}
	return g
}

// abort closes the connection at once. On TLS it closes the TCP
// connection under it: tls.Conn's Close first sends a close_notify alert,
// and waits up to 5 s for it to go out to a client that may be the very
// one not reading.
func (g *gorillaWS) abort() {
	nc := netConnOf(g.nc)
	if g.watch == nil {
		_ = nc.Close()
		return
	}
	// The poller must let go of the descriptor before it closes; then a
	// reader must run to see the connection closed and end the session's
	// side of it (no reader may be running while it is parked).
	g.watch.Stop()
	_ = nc.Close()
	g.wake()
}

func (g *gorillaWS) catchUp() {
	if g.probe != nil {
		g.probe.catchUp()
	}
}

// refreshDeadline makes sure a write has at least half of WriteTimeout
// before it times out. Moving the deadline costs a timer update, so under
// steady traffic it moves once per half period.
//
// requires g.wmu
func (g *gorillaWS) refreshDeadline() error {
	timeout := g.c.srv.cfg.WriteTimeout
	now := time.Now()
	if g.deadline.Sub(now) >= timeout/2 {
		return nil
	}
	g.deadline = now.Add(timeout)
	return g.nc.SetWriteDeadline(g.deadline)
}

// writeFrames writes whole frames at a frame boundary: control frames the
// reader answers with, or the probe's. isClose: they end with a close
// frame, after which nothing is written. A client that does not take them
// within WriteTimeout makes it fail with a timeout.
func (g *gorillaWS) writeFrames(frames []byte, isClose bool) error {
	g.wmu.Lock()
	defer g.wmu.Unlock()
	if g.closing {
		return websocket.ErrCloseSent
	}
	if isClose {
		g.closing = true
	}
	if err := g.refreshDeadline(); err != nil {
		return err
	}
	_, err := g.nc.Write(frames)
	return err
}

// attach makes t the session's transport and starts writing to it.
func (c *Conn) attach(t wsTransport) {
	c.mu.Lock()
	from := transportName(c.onWS)
	c.onWS = true
	if c.countedPoll {
		c.countedPoll = false
		c.srv.pollingOpen.Add(-1)
	}
	c.ws = t
	c.upgrading = false
	c.probeDone = false
	c.probe = nil
	closed, drop := c.closed, c.dropsProbe()
	c.mu.Unlock()
	c.wakePoll() // a poll still parked is answered with a noop
	if drop {
		t.abort()
		return
	}
	if o := c.srv.observer(); o != nil && from != TransportWebSocket && !closed {
		// A session closed before (its close reported it on polling)
		// is not reported upgraded: an observer's count of connections
		// by transport stays balanced.
		o.ConnUpgraded(ConnUpgrade{ID: c.id, From: from, To: TransportWebSocket})
	}
	if closed {
		// Closed with a flush during the upgrade: the writer delivers
		// what is queued and then closes. Until then the session is
		// draining, as a close on WebSocket makes it (see Conn.close).
		c.srv.setDraining(c, true)
		c.mu.Lock()
		ended := c.wsEnded
		c.mu.Unlock()
		if ended {
			c.srv.setDraining(c, false)
		}
		// The close goes out on the WebSocket: no poll needs to find the
		// session to collect it.
		c.endLinger()
	}
	switch t := t.(type) {
	case *gorillaWS:
		c.wsActive.Store(t)
	case *pollWS:
		c.pollActive.Store(t)
	}
	c.kick(false)
}

// serveWebSocket takes over a WebSocket just upgraded from r: as the
// session's transport, or as the probe of an upgrade.
func (c *Conn) serveWebSocket(ws *websocket.Conn, r *http.Request, probing bool) {
	deflate := c.srv.cfg.PerMessageDeflate && negotiatesDeflate(r.Header)
	if tc, ok := c.srv.pollable(ws); ok {
		if _, ok := c.startPoll(tc, probing, deflate); ok {
			return
		}
	}
	g := newGorillaWS(c, ws, deflate)
	// Read on a goroutine of its own and let ServeHTTP return: net/http
	// then frees the request's response writer and buffers, and the new
	// goroutine starts with a small stack. Both stay with every idle
	// connection otherwise. Where the poller can watch the connection, an
	// idle one has no reader goroutine at all (wswatch.go): it is parked
	// from the start, unless it is a probe, whose exchange a goroutine
	// runs. The server's tracker counts the connection until its reads
	// end (readsEnded), read by a goroutine or parked.
	//
	// The watch is settled before g is published (as the probe or the
	// transport): from then on another goroutine may abort it.
	c.srv.wg.Add(1)
	g.watch = c.srv.watchReads(g)
	g.reading.Store(true) // this goroutine has the reader role until park
	if probing {
		c.mu.Lock()
		if c.dropsProbe() {
			c.mu.Unlock()
			_ = ws.Close()
			c.srv.wg.Done()
			return
		}
		g.probe = newWSProbe(c, g)
		c.probe = g
		c.mu.Unlock()
	} else {
		c.attach(g)
	}
	if g.watch == nil || probing {
		go c.readBurst(g, probing)
	} else if !g.park() {
		go c.readBurst(g, false) // aborted meanwhile: see it closed
	}
}

// Read buffers of the reader goroutine: a small one while the client
// sends small messages (an idle connection keeps it, as gorilla kept its
// own), a larger one only while a large message is coming in.
const (
	wsReadBuffer    = 1 << 10
	wsReadBufferMax = 32 << 10
)

// largeReadBuffers holds the reader goroutines' large buffers between
// large messages: a reader takes one while a message bigger than its small
// buffer comes in and gives it back once nothing is pending, so a client
// that sends large messages costs no 32 KiB allocation each, and an idle
// connection still holds only the small buffer.
var largeReadBuffers = sync.Pool{New: func() any { b := make([]byte, wsReadBufferMax); return &b }}

// readLoop reads g until it fails or the session ends, or, on a watched
// connection, until the client has been quiet for readLinger: then it
// parks the connection in the poller and reports true.
func (c *Conn) readLoop(g *gorillaWS) (parked bool) {
	var small []byte
	var pooled *[]byte // from smallReadBuffers: a parked connection keeps none
	if g.watch != nil {
		pooled = smallReadBuffers.Get().(*[]byte)
		small = *pooled
	} else {
		small = make([]byte, wsReadBuffer)
	}
	buf := small
	var large *[]byte // from largeReadBuffers, while buf is it
	defer func() {
		if large != nil {
			largeReadBuffers.Put(large)
		}
		if pooled != nil {
			smallReadBuffers.Put(pooled)
		}
	}()
	emit := g.onFrame
	var linger time.Time // the read deadline of a watched connection
	for {
		if c.holdUntil.Load() != 0 {
			c.waitHold(c.Done())
		}
		if g.watch != nil {
			linger = g.extendLinger(linger)
		}
		n, err := g.nc.Read(buf)
		if n > 0 {
			if ferr := g.fp.feed(buf[:n], emit); ferr != nil {
				g.readFailed(ferr)
				return
			}
			// The parser keeps its own copy of a partial frame: buf is
			// free again after each feed.
			switch {
			case g.fp.pending() == 0:
				if large != nil {
					largeReadBuffers.Put(large)
					large = nil
				}
				buf = small
			case n == len(buf) && large == nil:
				large = largeReadBuffers.Get().(*[]byte)
				buf = *large
			}
		}
		if err != nil {
			if g.watch != nil && isTimeout(err) {
				if g.park() {
					return true
				}
				linger = time.Time{}
				continue // stopped meanwhile: read on, to see it closed
			}
			c.closeTransport(g, readErrorReason(err))
			return false
		}
	}
}

// readFailed ends the connection after the parser failed: a protocol
// error is answered with its close code, as on the poller.
func (g *gorillaWS) readFailed(err error) {
	if errors.Is(err, errStopReading) {
		return // onFrame ended the connection
	}
	var ce *wsCloseError
	if errors.As(err, &ce) {
		g.c.srv.cfg.Logger.Debug("engineio: WebSocket protocol error", "sid", g.c.id, "err", err)
		_ = g.writeFrames(appendCloseFrame(nil, ce.Code, ce.Text), true)
	}
	g.c.closeTransport(g, ReasonTransportError)
}

// onFrame handles a message or control frame from the parser, on the
// reader goroutine.
func (g *gorillaWS) onFrame(op byte, payload []byte) error {
	c := g.c
	switch op {
	case opPing:
		if err := g.writeFrames(appendControlFrame(nil, opPong, payload), false); err != nil && err != websocket.ErrCloseSent {
			// A client that pings and does not read gets cut here,
			// within WriteTimeout, as the writer would cut it.
			c.writeFailed(g, err)
			return errStopReading
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
		_ = g.writeFrames(appendCloseFrame(nil, code, ""), true)
		c.closeTransport(g, ReasonTransportClose)
		return errStopReading
	}
	p, err := packetOf(op, payload, c.eio3)
	if err != nil {
		c.close(ReasonParseError, false)
		g.abort()
		return errStopReading
	}
	if c.dispatch(p) {
		return errStopReading
	}
	return nil
}

// packetOf decodes a data message from the parser into a packet of its
// own (the payload is only lent).
func packetOf(op byte, payload []byte, eio3 bool) (Packet, error) {
	if eio3 {
		// v3: a binary frame has the type byte; text may be base64.
		if op == opBinary {
			return decodeV3Binary(append([]byte(nil), payload...))
		}
		return decodeV3Text(append([]byte(nil), payload...))
	}
	if op == opBinary {
		// Never nil: an empty binary message is an empty attachment.
		return Packet{Type: PacketMessage, Data: append(make([]byte, 0, len(payload)), payload...), Binary: true}, nil
	}
	return DecodeText(append([]byte(nil), payload...))
}

// readErrorReason names why reading a WebSocket failed (a close from the
// peer, as gorilla reports it on the client, is a close too, and so is a
// reset: the client went away, as the poller and the writer judge it).
func readErrorReason(err error) string {
	var ce *websocket.CloseError
	if errors.As(err, &ce) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) || errors.Is(err, syscall.ECONNRESET) {
		if errors.As(err, &ce) && ce.Code == websocket.CloseMessageTooBig {
			return ReasonTransportError
		}
		return ReasonTransportClose
	}
	return ReasonTransportError
}

// closeTransport ends the session because its WebSocket failed; a probe
// failing does not concern the session.
func (c *Conn) closeTransport(g *gorillaWS, reason string) {
	c.mu.Lock()
	active := c.ws == wsTransport(g)
	c.mu.Unlock()
	if active {
		c.close(reason, false)
	}
	g.abort()
}

// serveUpgrade runs the upgrade of a polling session: the client probes the
// new WebSocket with "2probe", the server answers "3probe" and releases the
// pending poll with a noop, the client sends "5" and from then on the
// session's queue drains to the WebSocket.
func (c *Conn) serveUpgrade(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	// A session closed, upgrading already, or on WebSocket already (by
	// an upgrade or from the start) takes no new WebSocket: as the
	// reference server does, the handshake completes and the new
	// connection is closed at once (the client sees a close frame, not an
	// HTTP error).
	unwanted := c.closed || c.upgrading || c.onWS
	if !unwanted {
		c.upgrading = true
		ready := make(chan struct{})
		c.probeReady = ready
		defer func() {
			c.mu.Lock()
			if c.probeReady == ready {
				c.probeReady = nil
			}
			c.mu.Unlock()
			close(ready)
		}()
	}
	c.mu.Unlock()

	ws, err := c.srv.upgrade(w, r, nil)
	if err != nil {
		if !unwanted {
			c.abortUpgrade(nil)
		}
		return
	}
	if unwanted {
		c.srv.cfg.Logger.Debug("engineio: closing a WebSocket the session does not need", "sid", c.id)
		_ = ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
		_ = ws.Close()
		return
	}
	c.serveWebSocket(ws, r, true)
}

// probeThenRead runs the probe exchange on g (wsprobe.go) and, once the
// client sends the upgrade packet, reads g as the session's transport.
func (c *Conn) probeThenRead(g *gorillaWS) (parked bool) {
	// The probe must finish within UpgradeTimeout, else the WebSocket is
	// dropped and the session carries on over polling.
	timer := time.AfterFunc(c.srv.cfg.UpgradeTimeout, c.upgradeExpiry(g))
	upgraded := g.probe.run()
	timer.Stop()
	if !upgraded {
		c.abortUpgrade(g)
		return false
	}
	return c.readLoop(g)
}

// upgradeExpiry returns what the upgrade timer of the probe t runs when
// UpgradeTimeout passes: t is dropped, unless it became the session's
// transport meanwhile (the timer can fire the instant the upgrade packet
// stops it).
func (c *Conn) upgradeExpiry(t wsTransport) func() {
	expire := func() { c.abortUpgrade(t) }
	if testHookUpgradeTimer != nil {
		testHookUpgradeTimer(expire)
	}
	return expire
}

// testHookUpgradeTimer, set only by tests, is given the function of every
// probe's upgrade timer, to run it when the test wants: as a timer that
// fired the instant the upgrade packet stopped it would.
var testHookUpgradeTimer func(expire func())

// probeSucceeded releases the pending poll (with a noop) once the probe
// was answered, so the client can send the upgrade packet.
func (c *Conn) probeSucceeded() {
	c.mu.Lock()
	c.probeDone = true
	wake := c.pollWake // nil unless a poll has waited in its goroutine
	c.mu.Unlock()
	select {
	case wake <- struct{}{}:
	default:
	}
	c.wakePoll()
}

// abortUpgrade drops the probe t (nil when the upgrade failed before a
// WebSocket existed); the session carries on over polling.
func (c *Conn) abortUpgrade(t wsTransport) {
	c.mu.Lock()
	if t != nil && c.probe != t {
		// Not the probe (any more): it became the transport, or the
		// session dropped it already.
		active := c.ws == t
		c.mu.Unlock()
		if !active {
			t.abort()
		}
		return
	}
	c.upgrading = false
	c.probeDone = false
	c.probe = nil
	c.mu.Unlock()
	if t != nil {
		t.abort()
	}
}
