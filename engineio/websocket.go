package engineio

import (
	"errors"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/gorilla/websocket"

	"github.com/switchboard-go/socketio/internal/queue"
)

// WebSocket transport: the request goroutine that accepted the connection
// becomes its reader (decode and dispatch inline), and one writer goroutine
// drains the session queue in batches. A text frame is one packet
// "<type><data>"; a binary frame is a binary message.

// attachWebSocket makes ws the session's transport and starts its writer.
func (c *Conn) attachWebSocket(ws *websocket.Conn) {
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
	c.srv.wg.Add(1)
	go c.writeLoop(ws)
	c.q.Signal()
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

// writeBatchBytes caps one batch so a connection with a deep queue does not
// hold its write deadline for too long in one go.
const writeBatchBytes = 256 << 10

func (c *Conn) writeLoop(ws *websocket.Conn) {
	defer c.srv.wg.Done()
	timeout := c.srv.cfg.WriteTimeout
	var batch []queue.Item
	for {
		select {
		case <-c.q.Ready():
		case <-c.closedCh:
		}
		c.mu.Lock()
		closed, flush := c.closed, c.flushOnClose
		c.mu.Unlock()
		if closed && !flush {
			_ = ws.Close()
			return
		}
		batch = c.q.Drain(batch[:0], writeBatchBytes)
		if len(batch) > 0 {
			_ = ws.SetWriteDeadline(time.Now().Add(timeout))
			for _, it := range batch {
				if err := writeItem(ws, it); err != nil {
					reason := ReasonTransportError
					var ne net.Error
					if errors.As(err, &ne) && ne.Timeout() {
						reason = ReasonWriteTimeout
					} else if errors.Is(err, websocket.ErrCloseSent) {
						// The reader answered the client's close frame
						// a moment ago: the client closed, it did not fail.
						reason = ReasonTransportClose
					}
					c.close(reason, false)
					_ = ws.Close()
					return
				}
			}
			clear(batch)
		}
		if closed {
			if n, _ := c.q.Len(); n > 0 {
				continue
			}
			deadline := time.Now().Add(time.Second)
			_ = ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), deadline)
			_ = ws.Close()
			return
		}
	}
}

// compressThreshold is the smallest message compressed when
// permessage-deflate was negotiated (Node: perMessageDeflate.threshold):
// below it deflate costs more CPU than it saves bytes.
const compressThreshold = 1024

func writeItem(ws *websocket.Conn, it queue.Item) error {
	// Without a negotiated extension gorilla ignores this call.
	ws.EnableWriteCompression(len(it.Data) >= compressThreshold)
	if it.Binary {
		return ws.WriteMessage(websocket.BinaryMessage, it.Data)
	}
	w, err := ws.NextWriter(websocket.TextMessage)
	if err != nil {
		return err
	}
	_, _ = w.Write(typeDigits[it.Kind%byte(len(typeDigits)) : it.Kind%byte(len(typeDigits))+1])
	_, _ = w.Write(it.Data)
	return w.Close()
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
			c.attachWebSocket(ws)
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

// typeDigits holds the packet type characters, sliced per write so that
// writing a type prefix does not allocate.
var typeDigits = []byte("0123456")
