package engineio

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/gorilla/websocket"

	"github.com/switchboard-go/socketio/internal/queue"
)

// WebSocket, client side: one reader goroutine (decode and dispatch
// inline) and one writer goroutine draining the session queue in batches,
// as on the server. A text frame is one packet "<type><data>"; a binary
// frame is a binary message.
//
// The upgrade from polling, as the reference client does it: dial the
// WebSocket with the session id, send "2probe", expect "3probe", pause
// polling (let the pending GET and POST finish, start no new ones), send
// "5" on the WebSocket, and from then on drain the queue to it. If
// anything fails before the switch, the WebSocket is dropped and polling
// carries on.

func (c *ClientConn) dialWebSocket(ctx context.Context, u string) (*websocket.Conn, error) {
	h := make(http.Header, len(c.cfg.Header))
	for k, vs := range c.cfg.Header {
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	ws, resp, err := c.dialer.DialContext(ctx, u, h)
	if err != nil {
		if resp != nil && resp.StatusCode != http.StatusSwitchingProtocols {
			return nil, newStatusError(resp)
		}
		return nil, err
	}
	ws.SetReadLimit(int64(c.cfg.MaxPayload))
	return ws, nil
}

// readWSMessage reads the next message from the server, refusing one
// over MaxPayload with close 1009. gorilla's read limit counts the bytes
// on the wire; this bounds the message as read, so that a compressed
// message (should permessage-deflate ever be negotiated) is bounded once
// inflated too: it streams through a limit and stops one byte past it.
func (c *ClientConn) readWSMessage(ws *websocket.Conn) (int, []byte, error) {
	mt, r, err := ws.NextReader()
	if err != nil {
		return 0, nil, err
	}
	limit := c.cfg.MaxPayload
	data, err := io.ReadAll(io.LimitReader(r, int64(limit)+1))
	if err != nil {
		return 0, nil, err
	}
	if len(data) > limit {
		_ = ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseMessageTooBig, ""), time.Now().Add(time.Second))
		return 0, nil, websocket.ErrReadLimit
	}
	return mt, data, nil
}

func (c *ClientConn) handshakeWebSocket(ctx context.Context, base *url.URL) error {
	ws, err := c.dialWebSocket(ctx, transportURL(base, TransportWebSocket, ""))
	if err != nil {
		return fmt.Errorf("engineio: handshake: %w", err)
	}
	// ctx bounds the wait for the open packet too.
	stop := context.AfterFunc(ctx, func() { _ = ws.Close() })
	mt, data, err := c.readWSMessage(ws)
	if !stop() {
		err = ctx.Err()
	}
	if err == nil && mt != websocket.TextMessage {
		err = fmt.Errorf("%w: handshake: binary frame instead of the open packet", ErrInvalidPacket)
	}
	var p Packet
	if err == nil {
		p, err = DecodeText(data)
	}
	if err == nil {
		err = c.onOpenPacket(p, base, TransportWebSocket)
	}
	if err != nil {
		_ = ws.Close()
		return fmt.Errorf("engineio: handshake: %w", err)
	}
	c.ws = ws
	return nil
}

func (c *ClientConn) wsReadLoop(ws *websocket.Conn) {
	defer c.wg.Done()
	c.readWebSocket(ws)
}

// readWebSocket reads ws until it fails or the session ends.
func (c *ClientConn) readWebSocket(ws *websocket.Conn) {
	for {
		mt, data, err := c.readWSMessage(ws)
		if err != nil {
			c.terminate(readErrorReason(err), err)
			return
		}
		var p Packet
		if mt == websocket.BinaryMessage {
			p = Packet{Type: PacketMessage, Data: data, Binary: true}
		} else if p, err = DecodeText(data); err != nil {
			c.terminate(ReasonParseError, err)
			return
		}
		if c.handle(p) {
			return
		}
	}
}

func (c *ClientConn) wsWriteLoop(ws *websocket.Conn) {
	defer c.wg.Done()
	var batch []queue.Item
	for {
		select {
		case <-c.q.Ready():
		case <-c.done:
			return
		}
		c.mu.Lock()
		closed, closing := c.closed, c.closing
		c.mu.Unlock()
		if closed {
			return
		}
		batch = c.q.Drain(batch[:0], writeBatchBytes)
		if len(batch) > 0 {
			_ = ws.SetWriteDeadline(time.Now().Add(c.cfg.WriteTimeout))
			for _, it := range batch {
				if err := writeItem(ws, it); err != nil {
					c.terminate(ReasonTransportError, err)
					return
				}
			}
			clear(batch)
		}
		if closing {
			if n, _ := c.q.Len(); n > 0 {
				continue // Drain signalled Ready for the rest
			}
			// Flushed: a close frame, as the reference client sends. The
			// reader ends the session when the server's close frame comes
			// back; closing the socket before that could reset the
			// connection and lose what the server has not read yet. Close's
			// timer bounds the wait.
			err := ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(c.cfg.WriteTimeout))
			if err != nil {
				c.terminate(ReasonForcedClose, err)
			}
			return
		}
	}
}

// upgrade runs in its own goroutine on a polling session whose server
// offers "websocket". Once switched, it becomes the WebSocket's reader.
func (c *ClientConn) upgrade() {
	defer c.wg.Done()
	ctx, cancel := context.WithTimeout(c.ctx, c.cfg.UpgradeTimeout)
	defer cancel()
	ws, err := c.dialWebSocket(ctx, c.wsURL)
	if err != nil {
		c.cfg.Logger.Debug("engineio: upgrade failed, staying on polling", "sid", c.sid, "err", err)
		return
	}
	c.mu.Lock()
	if c.closed || c.closing {
		c.mu.Unlock()
		_ = ws.Close()
		return
	}
	c.probe = ws
	c.mu.Unlock()

	// The deadline (or the session ending) interrupts the probe and the
	// pause by closing the WebSocket.
	stop := context.AfterFunc(ctx, func() { _ = ws.Close() })
	err = c.probeAndPause(ctx, ws)
	if !stop() && err == nil {
		err = ctx.Err()
	}
	if err != nil {
		c.abortUpgrade(ws, err)
		return
	}

	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		_ = ws.Close()
		return
	}
	c.transport = TransportWebSocket
	c.ws = ws
	c.probe = nil
	c.pausing = false
	c.mu.Unlock()

	// "5" goes out before anything queued: the writer starts after it.
	_ = ws.SetWriteDeadline(time.Now().Add(c.cfg.WriteTimeout))
	if err := ws.WriteMessage(websocket.TextMessage, []byte{'0' + byte(PacketUpgrade)}); err != nil {
		c.terminate(ReasonTransportError, err)
		return
	}
	c.wg.Add(1) // safe: this goroutine's own count keeps the group above zero
	go c.wsWriteLoop(ws)
	c.q.Signal()
	c.readWebSocket(ws)
}

// probeAndPause checks that ws reaches the session ("2probe" answered by
// "3probe"), then pauses polling and waits until neither loop has a
// request in flight.
func (c *ClientConn) probeAndPause(ctx context.Context, ws *websocket.Conn) error {
	_ = ws.SetWriteDeadline(time.Now().Add(c.cfg.WriteTimeout))
	if err := ws.WriteMessage(websocket.TextMessage, []byte("2probe")); err != nil {
		return err
	}
	mt, data, err := c.readWSMessage(ws)
	if err != nil {
		return err
	}
	if mt != websocket.TextMessage || string(data) != "3probe" {
		return fmt.Errorf("%w: upgrade: unexpected answer to the probe: %q", ErrInvalidPacket, data)
	}

	c.mu.Lock()
	if c.closed || c.closing {
		c.mu.Unlock()
		return ErrClosed
	}
	c.pausing = true
	c.mu.Unlock()
	// Wake the POST loop so that it sees pausing. The pending GET returns
	// by itself: a server that answered the probe releases it with a noop.
	c.q.Signal()
	for {
		c.mu.Lock()
		idle, closed := !c.pollAlive && !c.postAlive, c.closed
		c.mu.Unlock()
		if closed {
			return ErrClosed
		}
		if idle {
			return nil
		}
		select {
		case <-c.loopExit:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// abortUpgrade drops the probe and resumes polling.
func (c *ClientConn) abortUpgrade(ws *websocket.Conn, err error) {
	c.mu.Lock()
	if c.probe == ws {
		c.probe = nil
	}
	c.pausing = false
	if !c.closed {
		c.startPollingLocked(nil) // safe: this goroutine's count keeps wg above zero
	}
	c.mu.Unlock()
	_ = ws.Close()
	c.q.Signal()
	c.cfg.Logger.Debug("engineio: upgrade failed, staying on polling", "sid", c.sid, "err", err)
}

// writeItem writes one message through gorilla's writer: the client's
// frames must be masked, which the server's own framing (wswrite.go) does
// not do. The client never offers permessage-deflate, so gorilla writes
// them uncompressed.
func writeItem(ws *websocket.Conn, it queue.Item) error {
	if it.Binary {
		return ws.WriteMessage(websocket.BinaryMessage, it.Data)
	}
	w, err := ws.NextWriter(websocket.TextMessage)
	if err != nil {
		return err
	}
	_, _ = w.Write(typeDigit(it.Kind))
	_, _ = w.Write(it.Data)
	return w.Close()
}
