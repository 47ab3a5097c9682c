package engineio

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/switchboard-go/socketio/internal/queue"
)

// HTTP long-polling, client side. The GET loop keeps one request pending
// (the server answers when it has something to send, and pings at least
// every pingInterval) and dispatches what comes back inline. The POST loop
// drains the session queue one request at a time, because a server closes
// a session whose POSTs (or GETs) overlap.
//
// During an upgrade both loops stop at their next turn (pausing); the
// upgrade goroutine waits for that before switching to the WebSocket, so no
// packet is in flight on polling when the server switches.

// errTooLarge is returned when a response exceeds DialOptions.MaxPayload.
var errTooLarge = errors.New("engineio: response larger than MaxPayload")

func (c *ClientConn) handshakePolling(ctx context.Context, base *url.URL) ([]Packet, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, transportURL(base, TransportPolling, ""), nil)
	if err != nil {
		return nil, fmt.Errorf("engineio: handshake: %w", err)
	}
	c.setHeaders(req)
	body, err := c.roundTrip(req)
	if err != nil {
		return nil, fmt.Errorf("engineio: handshake: %w", err)
	}
	var pkts []Packet
	if err := DecodePayload(body, func(p Packet) error { pkts = append(pkts, p); return nil }); err != nil {
		return nil, fmt.Errorf("engineio: handshake: %w", err)
	}
	if err := c.onOpenPacket(pkts[0], base, TransportPolling); err != nil {
		return nil, err
	}
	return pkts[1:], nil
}

func (c *ClientConn) setHeaders(req *http.Request) {
	for k, vs := range c.cfg.Header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
}

// roundTrip sends req and returns the body of a 200 response.
func (c *ClientConn) roundTrip(req *http.Request) ([]byte, error) {
	resp, err := c.httpc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, newStatusError(resp)
	}
	return readLimited(resp.Body, c.cfg.MaxPayload)
}

func readLimited(r io.Reader, limit int) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, int64(limit)+1))
	if err != nil {
		return nil, err
	}
	if len(b) > limit {
		return nil, errTooLarge
	}
	return b, nil
}

// startPollingLocked starts whichever polling loop is not running; rest
// are packets already received, for the GET loop to dispatch first.
//
// requires c.mu
func (c *ClientConn) startPollingLocked(rest []Packet) {
	if !c.pollAlive {
		c.pollAlive = true
		c.wg.Add(1)
		go c.pollLoop(rest)
	}
	if !c.postAlive {
		c.postAlive = true
		c.wg.Add(1)
		go c.postLoop()
	}
}

// loopStopped is deferred by both polling loops: it tells a waiting
// upgrade that one more loop is idle.
func (c *ClientConn) loopStopped(alive *bool) {
	c.mu.Lock()
	*alive = false
	c.mu.Unlock()
	select {
	case c.loopExit <- struct{}{}:
	default:
	}
	c.wg.Done()
}

// pollStopped reports whether the GET loop must not start another
// request: the session ended, or an upgrade is pausing or finished.
func (c *ClientConn) pollStopped() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed || c.pausing || c.transport != TransportPolling
}

func (c *ClientConn) pollLoop(rest []Packet) {
	defer c.loopStopped(&c.pollAlive)
	for _, p := range rest {
		if c.handle(p) {
			return
		}
	}
	for !c.pollStopped() {
		req, err := http.NewRequestWithContext(c.ctx, http.MethodGet, c.pollURL, nil)
		if err != nil {
			c.terminate(ReasonTransportError, err)
			return
		}
		c.setHeaders(req)
		body, err := c.roundTrip(req)
		if err != nil {
			c.terminate(ReasonTransportError, err)
			return
		}
		stopped := false
		err = DecodePayload(body, func(p Packet) error {
			if c.handle(p) {
				stopped = true
				return errStopPayload
			}
			return nil
		})
		if stopped {
			return
		}
		if err != nil {
			c.terminate(ReasonParseError, err)
			return
		}
	}
}

func (c *ClientConn) postLoop() {
	defer c.loopStopped(&c.postAlive)
	// A binary record takes up to 3 bytes per byte queued (base64 plus
	// the "b" and the separator, the worst case being one-byte messages),
	// so a third of the server's limit always fits one POST, as the
	// reference client also keeps its POSTs under maxPayload.
	budget := c.maxPayload / 3
	var (
		batch []queue.Item
		pkts  []Packet
	)
	for {
		select {
		case <-c.q.Ready():
		case <-c.done:
			return
		}
		c.mu.Lock()
		if c.closed || c.pausing || c.transport != TransportPolling {
			c.mu.Unlock()
			return
		}
		closing := c.closing
		batch = c.q.Drain(batch[:0], budget)
		c.mu.Unlock()

		if len(batch) == 0 {
			if closing {
				// Everything is flushed: tell the server, then end.
				_ = c.post(AppendPayload(nil, []Packet{{Type: PacketClose}}))
				c.terminate(ReasonForcedClose, nil)
				return
			}
			continue
		}
		pkts = pkts[:0]
		for _, it := range batch {
			pkts = append(pkts, Packet{Type: PacketType(it.Kind), Data: it.Data, Binary: it.Binary})
		}
		body := AppendPayload(nil, pkts)
		clear(batch)
		clear(pkts)
		if err := c.post(body); err != nil {
			c.terminate(ReasonTransportError, err)
			return
		}
		if closing {
			c.q.Signal() // come round again to send the close packet
		}
	}
}

// post sends one payload, bounded by WriteTimeout.
func (c *ClientConn) post(body []byte) error {
	ctx, cancel := context.WithTimeout(c.ctx, c.cfg.WriteTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.pollURL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	c.setHeaders(req)
	req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
	resp, err := c.httpc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return newStatusError(resp)
	}
	// Read the short "ok" so that the connection can be reused.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 512))
	return nil
}
