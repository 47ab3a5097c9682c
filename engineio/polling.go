package engineio

import (
	"compress/flate"
	"compress/gzip"
	"errors"
	"io"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/switchboard-go/socketio/internal/queue"
)

// HTTP long-polling. No goroutine of its own: a pending GET waits for the
// session's queue and writes what it holds; a POST dispatches its packets
// on the request goroutine. A second GET (or POST) while one is pending is a
// protocol error that closes the session, as in the reference server.

var errStopPayload = errors.New("stop")

func (c *Conn) servePoll(w http.ResponseWriter, r *http.Request) {
	c.catchUpProbe()
	c.mu.Lock()
	if c.polling {
		c.mu.Unlock()
		writeError(w, CodeBadRequest, "overlap from client")
		c.close(ReasonTransportError, false)
		return
	}
	if c.onWS {
		c.mu.Unlock()
		writeError(w, CodeBadRequest, "")
		return
	}
	c.polling = true
	c.mu.Unlock()
	accept := r.Header.Get("Accept-Encoding")
	if fw, ok := w.(*frontWriter); ok {
		// Read by the front (Serve): the poll can wait without this
		// goroutine.
		if n, _ := c.q.Len(); n > 0 {
			// Messages are being queued as the poll arrives (a flood):
			// let their senders run once before draining, so that the
			// answer carries what they add. A poll of the front gets
			// here sooner than one behind net/http, which meets
			// scheduling delays first; without this its answers carried
			// half as many messages (1.13 against 2.15 in a flood to 500
			// clients) for the same cost each. Measured on a quiet
			// machine: flood 79 → 108 deliveries/s per client, 25.2 →
			// 18.4 µs each; light load unchanged (BENCHMARKS.md).
			runtime.Gosched()
		}
		if got, answered := c.answerPoll(fw, accept, nil, fw); answered {
			c.endPoll()
			got.poll = c
			if got != fw {
				// Answered by the writer of a park undone: fw itself
				// is finished by the front as the handler returns.
				got.finish()
			}
		}
		return
	}
	defer c.endPoll()
	c.answerPoll(w, accept, r.Context().Done(), nil)
}

// endPoll marks the pending poll answered.
func (c *Conn) endPoll() {
	c.mu.Lock()
	c.polling = false
	c.mu.Unlock()
}

// answerPoll writes the answer to the pending poll once there is one and
// reports true. gone is closed when the client drops the poll. With fw
// (the front's writer, which w is) it does not wait: it parks the poll on
// the session and reports false, and the wake that follows answers it
// (a round of the front's, front_rounds.go); the writer returned is the
// one that has the answer.
func (c *Conn) answerPoll(w http.ResponseWriter, accept string, gone <-chan struct{}, fw *frontWriter) (*frontWriter, bool) {
	var batch []queue.Item
	for {
		// The transport check and the drain happen under c.mu so that an
		// upgrade completing meanwhile cannot split the queue between two
		// transports out of order.
		c.mu.Lock()
		if c.onWS {
			c.mu.Unlock()
			c.kick(false) // anything queued meanwhile goes out on the WebSocket
			c.writePayload(w, accept, nil, PacketNoop)
			return fw, true
		}
		closed, flush, probeDone, peerClosed := c.closed, c.flushOnClose, c.probeDone, c.peerClosed
		if !closed || flush {
			batch = c.q.Drain(batch[:0], c.srv.cfg.MaxPayload)
		}
		if fw == nil && c.pollWake == nil {
			// This poll may wait below. Made in the section that read
			// probeDone: probeSucceeded, which sets it in one of its
			// own, either comes before (and the poll does not wait) or
			// finds the channel.
			c.pollWake = make(chan struct{}, 1)
		}
		wake := c.pollWake
		c.mu.Unlock()

		if peerClosed {
			// The client closed: a waiting poll is released with a noop,
			// as the reference server does; the close packet answers
			// closes the server starts.
			c.writePayload(w, accept, nil, PacketNoop)
			c.endLinger()
			return fw, true
		}
		if closed {
			if len(batch) > 0 {
				// The close packet goes alone in a later response, as the
				// reference server sends it: the official client tears the
				// connection down on "1" before it has handed the
				// preceding messages of the same payload to the socket
				// layer, so a DISCONNECT in front of it would be lost.
				c.writePayload(w, accept, batch, trailerNone)
				return fw, true
			}
			c.writePayload(w, accept, nil, PacketClose)
			c.endLinger()
			return fw, true
		}
		if len(batch) > 0 {
			c.writePayload(w, accept, batch, trailerNone)
			return fw, true
		}
		if probeDone {
			// Upgrade in progress: release the poll so the client can
			// pause polling and finish the upgrade.
			c.writePayload(w, accept, nil, PacketNoop)
			return fw, true
		}
		if fw != nil {
			later, parked := c.park(fw, accept)
			if parked {
				return nil, false
			}
			if later == nil {
				// The client went away: as for a poll dropped below.
				c.close(ReasonTransportError, false)
				return fw, true
			}
			fw, w = later, later
			continue
		}
		select {
		case <-c.q.Ready():
		case <-wake:
		case <-c.Done():
		case <-gone:
			// The client dropped its pending poll: it is gone (a closed
			// tab, a lost network), and the reference server ends the
			// session at once ("poll connection closed prematurely")
			// rather than after the heartbeat times out.
			c.close(ReasonTransportError, false)
			return fw, true
		}
	}
}

// parkedPoll is a poll read by the front that waits for something to
// answer, without a goroutine.
type parkedPoll struct {
	c      *Conn
	w      *frontWriter
	accept string // the poll's Accept-Encoding
}

// park parks the poll answered through fw: a wake (wakePoll) answers it
// later with the writer park returns. It reports false when something to
// answer came as it parked; the caller then answers with that writer
// (nil: the client went away).
func (c *Conn) park(fw *frontWriter, accept string) (*frontWriter, bool) {
	later := fw.park(c.wakePoll)
	if later == nil {
		return nil, false
	}
	p := &parkedPoll{c: c, w: later, accept: accept}
	c.parked.Store(p)
	// What would wake the poll may have come before it was parked: look
	// again. A waker changes the state first and then takes the poll, so
	// one of the two sees the other.
	if !c.pollReady() && !later.clientGone() {
		return nil, true
	}
	if c.parked.CompareAndSwap(p, nil) {
		return later, false
	}
	return nil, true // a waker took it and answers it
}

// pollReady reports whether a waiting poll has something to answer.
func (c *Conn) pollReady() bool {
	c.mu.Lock()
	ready := c.onWS || c.closed || c.peerClosed || c.probeDone
	c.mu.Unlock()
	if ready {
		return true
	}
	n, _ := c.q.Len()
	return n > 0
}

// wakePoll has the parked poll, if there is one, answered by its front
// (in a round with the others woken meanwhile, front_rounds.go):
// something was queued, the session closed or began an upgrade, or the
// client went away.
func (c *Conn) wakePoll() {
	if c.parked.Load() == nil {
		return
	}
	p := c.parked.Swap(nil)
	if p == nil {
		return
	}
	p.w.fc.f.answer(p)
}

// pollLost ends the session whose poll's answer could not be written
// whole (through Serve, which knows): the messages it carried are lost,
// and the client would go on polling without them. A client that did not
// read it within WriteTimeout is disconnected as a WebSocket one is
// ("write timeout"); one whose connection failed, with "transport error".
// (Behind net/http, as with the reference server, a failed answer is not
// known and the heartbeat ends a client that is gone.)
func (c *Conn) pollLost(err error) {
	reason := ReasonTransportError
	if isTimeout(err) {
		reason = ReasonWriteTimeout
	}
	c.closeAfterWrite(reason)
}

// catchUpProbe has the probe WebSocket of an upgrade in progress handle
// what it received before this request, so that the session sees the
// client's input in the order it arrived, as the single-threaded
// reference server does: a client that sent "2probe" and "5" and then
// polls has upgraded before its poll, which gets 400, and must not see
// the poll overtake the "5" that a reader goroutine had not yet handled.
func (c *Conn) catchUpProbe() {
	c.mu.Lock()
	probe, ready := c.probe, c.probeReady
	c.mu.Unlock()
	if ready != nil {
		// The client has the handshake answer and may have sent on the
		// probe already: wait the moment until it can be read.
		<-ready
		c.mu.Lock()
		probe = c.probe
		c.mu.Unlock()
	}
	if probe != nil {
		probe.catchUp()
	}
}

// trailerNone marks "no trailing control packet" (PacketOpen is never a
// trailer, so its value 0 serves).
const trailerNone = PacketOpen

var packetPool = sync.Pool{New: func() any { s := make([]Packet, 0, 16); return &s }}

func (c *Conn) writePayload(w http.ResponseWriter, accept string, items []queue.Item, trailer PacketType) {
	pp := packetPool.Get().(*[]Packet)
	pkts := (*pp)[:0]
	// As in the reference server, a response is compressed when any of its
	// packets may be (control packets always may).
	mayCompress := trailer != trailerNone
	for _, it := range items {
		pkts = append(pkts, Packet{Type: PacketType(it.Kind), Data: it.Data, Binary: it.Binary})
		mayCompress = mayCompress || !it.NoCompress
	}
	if trailer != trailerNone {
		pkts = append(pkts, Packet{Type: trailer})
	}
	var body []byte
	contentType := "text/plain; charset=UTF-8"
	if c.eio3 {
		binary := !c.b64 && hasBinary(pkts)
		if binary {
			contentType = "application/octet-stream"
		}
		body = appendPayloadV3(nil, pkts, binary)
	} else {
		n := 0
		for _, p := range pkts {
			n += PayloadLen(p) + 1
		}
		body = AppendPayload(make([]byte, 0, n), pkts)
	}
	clear(pkts)
	*pp = pkts[:0]
	packetPool.Put(pp)

	cfg := c.srv.cfg
	if mayCompress && !cfg.DisableHTTPCompression && len(body) >= cfg.HTTPCompressionThreshold {
		if enc := acceptedEncoding(accept); enc != "" {
			h := w.Header()
			h.Set("Content-Type", contentType)
			h.Set("Content-Encoding", enc)
			h.Add("Vary", "Accept-Encoding")
			w.WriteHeader(http.StatusOK)
			compress(w, enc, body)
			return
		}
	}
	if fw, ok := w.(*frontWriter); ok {
		// The front writes the length, and the type from its field.
		fw.contentType = contentType
		fw.writeBody(body)
		return
	}
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

func acceptedEncoding(accept string) string {
	// The reference server prefers gzip, then deflate, and ignores q-values.
	switch {
	case strings.Contains(accept, "gzip"):
		return "gzip"
	case strings.Contains(accept, "deflate"):
		return "deflate"
	}
	return ""
}

var (
	gzipPool  sync.Pool
	flatePool sync.Pool
)

func compress(w io.Writer, enc string, body []byte) {
	if enc == "gzip" {
		zw, _ := gzipPool.Get().(*gzip.Writer)
		if zw == nil {
			zw = gzip.NewWriter(w)
		} else {
			zw.Reset(w)
		}
		_, _ = zw.Write(body)
		_ = zw.Close()
		gzipPool.Put(zw)
		return
	}
	fw, _ := flatePool.Get().(*flate.Writer)
	if fw == nil {
		fw, _ = flate.NewWriter(w, flate.DefaultCompression)
	} else {
		fw.Reset(w)
	}
	_, _ = fw.Write(body)
	_ = fw.Close()
	flatePool.Put(fw)
}

func (c *Conn) servePost(w http.ResponseWriter, r *http.Request) {
	c.catchUpProbe()
	c.mu.Lock()
	if c.onWS {
		// Upgraded: as from the reference server, the polling transport
		// takes nothing more.
		c.mu.Unlock()
		writeError(w, CodeBadRequest, "")
		return
	}
	if c.posting {
		c.mu.Unlock()
		writeError(w, CodeBadRequest, "data request overlap from client")
		c.close(ReasonTransportError, false)
		return
	}
	c.posting = true
	// ServeHTTP has set the read deadline of PostTimeout; a session
	// closing ends the read sooner. A ResponseWriter that cannot set
	// deadlines (a wrapper without Unwrap) leaves only
	// http.Server.ReadTimeout.
	rc := http.NewResponseController(w)
	if c.closed {
		_ = rc.SetReadDeadline(aLongTimeAgo)
	} else {
		c.postBody = rc
	}
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.posting = false
		c.mu.Unlock()
	}()

	if c.holdUntil.Load() != 0 {
		c.waitHold(r.Context().Done())
	}
	limit := int64(c.srv.cfg.MaxPayload)
	if r.ContentLength > limit {
		c.endPostRead(rc, false)
		c.payloadTooLarge(w)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	c.endPostRead(rc, err == nil)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			c.payloadTooLarge(w)
			return
		}
		writeError(w, CodeBadRequest, "")
		c.close(ReasonTransportError, false)
		return
	}
	each := func(p Packet) error {
		if c.dispatch(p) {
			return errStopPayload
		}
		return nil
	}
	if c.eio3 {
		err = decodePayloadV3(body, r.Header.Get("Content-Type") == "application/octet-stream", each)
	} else {
		err = DecodePayload(body, each)
	}
	if err != nil && !errors.Is(err, errStopPayload) {
		c.close(ReasonParseError, false)
	}
	// The reference server answers "ok" even when the payload was bad; the
	// session is closed and the next poll learns it.
	h := w.Header()
	h.Set("Content-Type", "text/html")
	h.Set("Content-Length", "2")
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, "ok")
}

// endPostRead ends what servePost set up for its body read. With clear,
// the body was read whole and the read deadline is lifted: net/http reads
// on in the background while the handler runs (to notice a client going
// away), and the packets' dispatch may take a while (backpressure).
func (c *Conn) endPostRead(rc *http.ResponseController, clear bool) {
	c.mu.Lock()
	c.postBody = nil
	if clear && !c.closed {
		_ = rc.SetReadDeadline(time.Time{})
	}
	c.mu.Unlock()
}

func (c *Conn) payloadTooLarge(w http.ResponseWriter) {
	http.Error(w, "payload too large", http.StatusRequestEntityTooLarge)
	c.close(ReasonTransportError, false)
}
