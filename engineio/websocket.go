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

// WebSocket transport: the request goroutine that accepted the connection
// becomes its reader (decode and dispatch inline); a writer goroutine,
// started when there is something to write and gone when the queue is
// empty (wswrite.go), drains the session queue in batches. A text frame is
// one packet "<type><data>"; a binary frame is a binary message.

// attachWebSocket makes ws the session's transport and starts its writer.
func (c *Conn) attachWebSocket(ws *websocket.Conn, extensions string) {
	ws.SetReadLimit(int64(c.srv.cfg.MaxPayload))
	c.mu.Lock()
	c.transport = TransportWebSocket
	c.ws = ws
	c.upgrading = false
	c.probeDone = false
	c.probe = nil
	closed := c.closed
	c.mu.Unlock()
	if closed {
		_ = ws.Close()
		return
	}
	c.wsDeflate = c.srv.cfg.PerMessageDeflate && offersDeflate(extensions)
	c.wsActive.Store(ws)
	c.kick()
}

// readLoop reads ws until it fails or the session ends.
func (c *Conn) readLoop(ws *websocket.Conn) {
	for {
		mt, data, err := ws.ReadMessage()
		if err != nil {
			c.closeTransport(ws, readErrorReason(err))
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
func (c *Conn) closeTransport(ws *websocket.Conn, reason string) {
	c.mu.Lock()
	active := c.ws == ws
	c.mu.Unlock()
	if active {
		c.close(reason, false)
	}
	_ = ws.Close()
}

// serveUpgrade runs the upgrade of a polling session: the client probes the
// new WebSocket with "2probe", the server answers "3probe" and releases the
// pending poll with a noop, the client sends "5" and from then on the
// session's queue drains to the WebSocket.
func (c *Conn) serveUpgrade(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	if c.closed || c.upgrading || c.transport != TransportPolling {
		c.mu.Unlock()
		writeError(w, CodeBadRequest, "")
		return
	}
	c.upgrading = true
	c.mu.Unlock()

	ws, err := c.srv.upgrader.Upgrade(w, r, nil)
	if err != nil {
		c.abortUpgrade(nil)
		return
	}
	ws.SetReadLimit(int64(c.srv.cfg.MaxPayload))
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		_ = ws.Close()
		return
	}
	c.probe = ws
	c.mu.Unlock()
	// As for a WebSocket handshake, reading continues on a goroutine of
	// its own so that ServeHTTP returns and net/http's buffers go.
	c.srv.wg.Add(1)
	go func() {
		defer c.srv.wg.Done()
		c.probeThenRead(ws, r.Header.Get("Sec-Websocket-Extensions"))
	}()
}

// probeThenRead runs the probe exchange on ws and, once the client sends
// the upgrade packet, makes it the session's transport and reads it.
func (c *Conn) probeThenRead(ws *websocket.Conn, extensions string) {
	// The probe must finish within UpgradeTimeout, else the WebSocket is
	// dropped and the session carries on over polling.
	timer := time.AfterFunc(c.srv.cfg.UpgradeTimeout, func() { _ = ws.Close() })
	probed := false
	for {
		mt, data, err := ws.ReadMessage()
		if err != nil || mt != websocket.TextMessage {
			timer.Stop()
			c.abortUpgrade(ws)
			return
		}
		p, err := DecodeText(data)
		switch {
		case err == nil && p.Type == PacketPing && string(p.Data) == "probe":
			_ = ws.SetWriteDeadline(time.Now().Add(c.srv.cfg.WriteTimeout))
			if ws.WriteMessage(websocket.TextMessage, []byte("3probe")) != nil {
				timer.Stop()
				c.abortUpgrade(ws)
				return
			}
			_ = ws.SetWriteDeadline(time.Time{})
			probed = true
			c.mu.Lock()
			c.probeDone = true
			c.mu.Unlock()
			select {
			case c.pollWake <- struct{}{}:
			default:
			}
		case err == nil && p.Type == PacketUpgrade && probed:
			timer.Stop()
			c.attachWebSocket(ws, extensions)
			c.readLoop(ws)
			return
		case err == nil && p.Type == PacketNoop:
			// Harmless; some clients send it while upgrading.
		default:
			timer.Stop()
			c.abortUpgrade(ws)
			return
		}
	}
}

func (c *Conn) abortUpgrade(ws *websocket.Conn) {
	c.mu.Lock()
	c.upgrading = false
	c.probeDone = false
	if c.probe == ws {
		c.probe = nil
	}
	c.mu.Unlock()
	if ws != nil {
		_ = ws.Close()
	}
}

func offersDeflate(ext string) bool { return strings.Contains(ext, "permessage-deflate") }
