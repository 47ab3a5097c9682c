package engineio

import (
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/websocket"
)

// WebSocket transport. Where it can, a new WebSocket moves to the poller
// (wspoll.go). Otherwise a goroutine of its own reads it (decode and
// dispatch inline), and a writer goroutine, started when there is
// something to write and gone when the queue is empty (wswrite.go), drains
// the session queue in batches. A text frame is one packet
// "<type><data>"; a binary frame is a binary message.

// wsTransport is a WebSocket as the session holds it.
type wsTransport interface {
	// abort closes the connection at once, dropping what is unsent.
	abort()
	// catchUp handles, on the caller's goroutine, what a probe has
	// received and not yet handled (see Conn.catchUpProbe).
	catchUp()
}

// gorillaWS is a WebSocket read by a goroutine of its own.
type gorillaWS struct {
	conn  *websocket.Conn
	probe *wsProbe // the probe exchange, for a probe; set before it is published
}

func (g *gorillaWS) abort() { _ = g.conn.NetConn().Close() }

func (g *gorillaWS) catchUp() {
	if g.probe != nil {
		g.probe.catchUp()
	}
}

// attach makes t the session's transport and starts writing to it.
func (c *Conn) attach(t wsTransport, extensions string) {
	c.mu.Lock()
	c.transport = TransportWebSocket
	c.ws = t
	c.upgrading = false
	c.probeDone = false
	c.probe = nil
	closed, drop := c.closed, c.dropsProbe()
	c.mu.Unlock()
	if drop {
		t.abort()
		return
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
		t.conn.SetReadLimit(int64(c.srv.cfg.MaxPayload))
		c.wsDeflate = c.srv.cfg.PerMessageDeflate && offersDeflate(extensions)
		c.wsActive.Store(t.conn)
	case *pollWS:
		c.pollActive.Store(t)
	}
	c.kick(false)
}

// serveWebSocket takes over a WebSocket just upgraded from r: as the
// session's transport, or as the probe of an upgrade.
func (c *Conn) serveWebSocket(ws *websocket.Conn, r *http.Request, probing bool) {
	extensions := r.Header.Get("Sec-Websocket-Extensions")
	if tc, ok := c.srv.pollable(ws, extensions); ok {
		if _, ok := c.startPoll(tc, probing); ok {
			return
		}
	}
	g := &gorillaWS{conn: ws}
	ws.SetReadLimit(int64(c.srv.cfg.MaxPayload))
	// Gorilla's own ping handler answers with a write deadline one second
	// ahead, which stays on the connection: the writer keeps its own
	// deadline (writeBatch refreshes it only every half WriteTimeout), so
	// a data write more than a second after a client's ping would fail
	// with a timeout. Answer with WriteTimeout instead: never earlier
	// than the deadline the writer set.
	ws.SetPingHandler(func(data string) error {
		err := ws.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(c.srv.cfg.WriteTimeout))
		var ne net.Error
		if err == websocket.ErrCloseSent || errors.As(err, &ne) {
			return nil // as gorilla's handler: the reader sees the failure next
		}
		return err
	})
	if probing {
		c.mu.Lock()
		if c.dropsProbe() {
			c.mu.Unlock()
			_ = ws.Close()
			return
		}
		g.probe = newWSProbe(c, g, extensions)
		c.probe = g
		c.mu.Unlock()
	} else {
		c.attach(g, extensions)
	}
	// Read on a goroutine of its own and let ServeHTTP return: net/http
	// then frees the request's response writer and buffers, and the new
	// goroutine starts with a small stack. Both stay with every idle
	// connection otherwise.
	c.srv.wg.Add(1)
	go func() {
		defer c.srv.wg.Done()
		defer c.endWS(g) // the reader ends once the connection is closed
		if probing {
			c.probeThenRead(g)
		} else {
			c.readLoop(g)
		}
	}()
}

// readLoop reads g until it fails or the session ends.
func (c *Conn) readLoop(g *gorillaWS) {
	ws := g.conn
	for {
		mt, data, err := ws.ReadMessage()
		if err != nil {
			c.closeTransport(g, readErrorReason(err))
			return
		}
		var p Packet
		if mt == websocket.BinaryMessage {
			p = Packet{Type: PacketMessage, Data: data, Binary: true}
		} else if p, err = DecodeText(data); err != nil {
			c.close(ReasonParseError, false)
			_ = ws.Close()
			return
		}
		if c.dispatch(p) {
			return
		}
	}
}

func readErrorReason(err error) string {
	var ce *websocket.CloseError
	if errors.As(err, &ce) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) {
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
	_ = g.conn.Close()
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
	unwanted := c.closed || c.upgrading || c.transport != TransportPolling
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
func (c *Conn) probeThenRead(g *gorillaWS) {
	// The probe must finish within UpgradeTimeout, else the WebSocket is
	// dropped and the session carries on over polling.
	timer := time.AfterFunc(c.srv.cfg.UpgradeTimeout, func() { _ = g.conn.Close() })
	upgraded := g.probe.run()
	timer.Stop()
	if !upgraded {
		c.abortUpgrade(g)
		return
	}
	c.readLoop(g)
}

// probeSucceeded releases the pending poll (with a noop) once the probe
// was answered, so the client can send the upgrade packet.
func (c *Conn) probeSucceeded() {
	c.mu.Lock()
	c.probeDone = true
	c.mu.Unlock()
	select {
	case c.pollWake <- struct{}{}:
	default:
	}
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

func offersDeflate(ext string) bool { return strings.Contains(ext, "permessage-deflate") }
