package engineio

import (
	"crypto/tls"
	"encoding/binary"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchboard-go/socketio/internal/queue"
)

// Conn is one Engine.IO session. It outlives its transports: the outbound
// queue belongs to the session, so messages queued while the client
// upgrades from long-polling to WebSocket are delivered on WebSocket.
//
// Send, SendMessages, Close and the accessors are safe for concurrent use.
type Conn struct {
	// The fields are ordered by size, largest first, so that the struct
	// packs into 248 bytes (the 256-byte size class): an idle server
	// holds one per connection.
	srv *Server
	id  string
	req handshakeRequest
	// created is when the handshake happened, since heartbeatEpoch: a
	// monotonic reading in 8 bytes where a time.Time takes 24.
	created time.Duration
	q       *queue.Queue

	// dispatchMu serializes calls into the handler (OnOpen, messages and
	// close).
	dispatchMu sync.Mutex

	holdUntil atomic.Int64  // unix ns: read nothing before (HoldReads); 0: never held
	closedCh  chan struct{} // made by the first Done call (most sessions never make one), closed by close()
	// pollWake wakes a poll waiting in its handler's goroutine (net/http's
	// polls) when an upgrade probe is answered. Made, under mu, by the
	// first such wait: the front's polls park without waiting, and most
	// sessions never have one (109 bytes each).
	pollWake chan struct{}

	// WebSocket writer state (wswrite.go, wspoll.go): the active
	// WebSocket once the session is on it (one of the two, by kind), and
	// whether a writer holds the queue (writing, below).
	wsActive   atomic.Pointer[gorillaWS]
	pollActive atomic.Pointer[pollWS]

	// parked is the pending GET when the front reads it (Serve) and it
	// waits for something to answer without a goroutine (polling.go).
	parked atomic.Pointer[parkedPoll]

	// mu guards the fields below up to the next blank line, and the
	// flags at the end; it is never held while calling the handler.
	mu      sync.Mutex
	handler Handler
	ws      wsTransport // the active WebSocket, once on that transport
	probe   wsTransport // a WebSocket being probed for upgrade
	// probeReady, while an upgrade request is being answered, is closed
	// once its probe is published (or the upgrade failed): between the
	// handshake answer and then, a poll cannot catch up with the probe.
	probeReady chan struct{}
	// postBody, while a POST's body is being read, sets that request's
	// read deadline: close moves it to the past, which ends the read.
	postBody *http.ResponseController
	reason   string
	hbDue    time.Duration // when the next heartbeat is due, since heartbeatEpoch

	hbIndex int32       // in the server's heartbeat heap, -1 when not there; guarded by heartbeats.mu
	writing atomic.Bool // a writer holds the queue
	// overflowed is set by the first push that found the queue full: the
	// close it starts runs on another goroutine, and the pushes that fail
	// meanwhile are the same overflow (counted and logged once).
	overflowed atomic.Bool
	// congestionNoted is set once the connection entered the server's set
	// of congested receivers (congestion.go), which close then leaves.
	congestionNoted atomic.Bool

	// startedPolling: the session began on long-polling. eio3: the client
	// speaks Engine.IO v3 (Options.AllowEIO3); b64: it asked for binary as
	// base64 text ("b64" query parameter, v3 only). Set before the session
	// is published, never changed.
	startedPolling, eio3, b64 bool

	// Flags guarded by mu.
	onWS         bool // the session's transport is the WebSocket (upgraded, or from the start)
	upgrading    bool
	probeDone    bool
	polling      bool // a GET is pending
	posting      bool // a POST is being read
	closed       bool
	peerClosed   bool // the client closed the session (a close packet)
	counted      bool // included in Server.Count
	countedPoll  bool // included in Stats.Polling: counted, on long-polling
	lingering    bool // closed on polling, waiting for the poll that collects the close
	flushOnClose bool
	wsEnded      bool // the session's WebSocket (c.ws) has closed
	awaitingPong bool
}

func newConn(s *Server, id string, r *http.Request, transport string) *Conn {
	polling := transport == TransportPolling
	return &Conn{
		srv:            s,
		id:             id,
		req:            keepRequest(r),
		startedPolling: polling,
		onWS:           !polling,
		created:        time.Since(heartbeatEpoch),
		q:              queue.New(s.cfg.MaxQueueBytes),
		hbIndex:        -1,
	}
}

// ID returns the session id (the "sid" of the open packet).
func (c *Conn) ID() string { return c.id }

// handshakeRequest is what a session keeps of its handshake request. The
// strings are the ones net/http parsed (shared, not copied); the request
// itself, its URL, parsed query and header map are not kept, because a
// server holds one of these per connection for hours and most
// applications never look at them (see Request). Measured with 8,000 idle
// WebSocket connections, that took the live heap per connection from
// about 4.2 KB to 3.0 KB together with the socket layer's lazy Handshake.
type handshakeRequest struct {
	// packed holds, each preceded by its length (a uvarint), the method,
	// request URI, host, remote address and protocol, then every header
	// as a name and a value: one allocation of about the request's own
	// size, where keeping net/http's strings kept a dozen (each rounded up
	// to its size class) and a slice of them. 8,000 idle WebSocket
	// connections: see BENCHMARKS.md, "Where the memory goes".
	packed     string
	tls        *tls.ConnectionState
	protoMajor int8
	protoMinor int8
}

// fields yields what packed holds, in order (keepRequest wrote it: each
// length is followed by as many bytes).
func (k *handshakeRequest) fields(yield func(string) bool) {
	p := k.packed
	for len(p) > 0 {
		n, w := binary.Uvarint([]byte(p[:min(len(p), binary.MaxVarintLen64)]))
		end := w + int(n)
		if !yield(p[w:end]) {
			return
		}
		p = p[end:]
	}
}

// maxKeptRequestBytes bounds what a session keeps of its handshake: the
// request URI and the headers, counted as requestBytes does. net/http
// reads up to http.Server.MaxHeaderBytes (1 MB by default) and a session
// lives for hours, so a larger handshake is refused with 431, as a Node.js
// server (16 KiB of request line and headers by default) refuses it.
const maxKeptRequestBytes = 16 << 10

// requestBytes is the size of the handshake's request URI and headers as
// sent: each header line as "name: value\r\n".
func requestBytes(r *http.Request) int {
	n := len(r.RequestURI)
	if n == 0 {
		n = len(r.URL.RawPath) + len(r.URL.Path) + len(r.URL.RawQuery)
	}
	for name, vs := range r.Header {
		for _, v := range vs {
			n += len(name) + len(v) + 4
		}
	}
	return n
}

func keepRequest(r *http.Request) handshakeRequest {
	uri := r.RequestURI // the request line's own string
	if uri == "" {
		uri = r.URL.RequestURI() // a request not read by net/http's server
	}
	head := [...]string{r.Method, uri, r.Host, r.RemoteAddr, r.Proto}
	n := 0
	for _, f := range head {
		n += uvarintLen(len(f)) + len(f)
	}
	for name, vs := range r.Header {
		for _, v := range vs {
			n += uvarintLen(len(name)) + len(name) + uvarintLen(len(v)) + len(v)
		}
	}
	var b strings.Builder
	b.Grow(n)
	put := func(f string) {
		var l [binary.MaxVarintLen64]byte
		b.Write(binary.AppendUvarint(l[:0], uint64(len(f))))
		b.WriteString(f)
	}
	for _, f := range head {
		put(f)
	}
	for name, vs := range r.Header {
		for _, v := range vs {
			put(name)
			put(v)
		}
	}
	return handshakeRequest{
		packed:     b.String(),
		tls:        r.TLS,
		protoMajor: int8(r.ProtoMajor),
		protoMinor: int8(r.ProtoMinor),
	}
}

// uvarintLen is the length of n written as a uvarint.
func uvarintLen(n int) int {
	var l [binary.MaxVarintLen64]byte
	return len(binary.AppendUvarint(l[:0], uint64(n)))
}

// Request returns the handshake request: method, URL, headers, host,
// remote address and TLS state (a handshake whose request URI and headers
// pass 16 KiB is refused with 431, so this is bounded). Each call builds a new *http.Request, with
// its own URL and header map, from what the session kept; its body is
// empty and its context never ends.
func (c *Conn) Request() *http.Request {
	k := &c.req
	var head [5]string // method, request URI, host, remote address, protocol
	header := make(http.Header)
	i, name, named := 0, "", false
	for f := range k.fields {
		switch {
		case i < len(head):
			head[i] = f
			i++
		case !named:
			name, named = f, true
		default:
			header[name] = append(header[name], f)
			named = false
		}
	}
	method, requestURI, host, remoteAddr, proto := head[0], head[1], head[2], head[3], head[4]
	u, err := url.ParseRequestURI(requestURI)
	if err != nil {
		u = &url.URL{Path: "/"} // unreachable: net/http parsed the same text
	}
	return &http.Request{ // a zero context is context.Background()
		Method:     method,
		URL:        u,
		Proto:      proto,
		ProtoMajor: int(k.protoMajor),
		ProtoMinor: int(k.protoMinor),
		Header:     header,
		Body:       http.NoBody,
		Host:       host,
		RemoteAddr: remoteAddr,
		RequestURI: requestURI,
		TLS:        k.tls,
	}
}

// Protocol returns the Engine.IO protocol revision the client speaks: 4,
// or 3 for a client admitted by Options.AllowEIO3 (Node:
// socket.protocol).
func (c *Conn) Protocol() int {
	if c.eio3 {
		return 3
	}
	return 4
}

// opened calls the handler's OnOpen, if it has one, serialized with its
// messages; start has run.
func (c *Conn) opened() {
	c.dispatchMu.Lock()
	defer c.dispatchMu.Unlock()
	c.mu.Lock()
	h, closed := c.handler, c.closed
	c.mu.Unlock()
	if oh, ok := h.(OpenHandler); ok && !closed {
		oh.OnOpen(c)
	}
}

// Created returns when the handshake happened.
func (c *Conn) Created() time.Time { return heartbeatEpoch.Add(c.created) }

// Transport returns the current transport name.
func (c *Conn) Transport() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return transportName(c.onWS)
}

// transportName names the WebSocket transport (ws) or long-polling.
func transportName(ws bool) string {
	if ws {
		return TransportWebSocket
	}
	return TransportPolling
}

// initialTransport names the transport the session began on.
func (c *Conn) initialTransport() string { return transportName(!c.startedPolling) }

// Message is one outbound Engine.IO message.
type Message struct {
	Data   []byte // shared and immutable once queued
	Binary bool
	// NoCompress sends the message without permessage-deflate, and lets
	// a long-polling response that holds only such messages go without
	// HTTP compression (Node: compress(false)). By default messages of
	// 1 KiB and more are compressed where the client allows it.
	NoCompress bool
}

// Send queues one message. See SendMessages.
func (c *Conn) Send(data []byte, binary bool, volatile bool) error {
	items := [1]queue.Item{{Kind: byte(PacketMessage), Binary: binary, Volatile: volatile, Data: data}}
	return c.push(items[:], volatile, true)
}

// SendMessages queues msgs as one unit: nothing else is queued between
// them. It never blocks. A volatile unit is dropped silently when the client
// is behind. A non-volatile unit that overflows the queue closes the
// connection with ReasonQueueOverflow and returns queue.ErrFull's error.
func (c *Conn) SendMessages(msgs []Message, volatile bool) error {
	// A broadcast calls this once per target: build the items on the stack
	// for the common sizes so fan-out does not allocate per target.
	var buf [4]queue.Item
	items := buf[:0]
	for _, m := range msgs {
		items = append(items, queue.Item{Kind: byte(PacketMessage), Binary: m.Binary, Volatile: volatile, NoCompress: m.NoCompress, Data: m.Data})
	}
	return c.push(items, volatile, true)
}

// ErrQueueOverflow is returned by Send when the client's queue is full; the
// connection is being closed.
var ErrQueueOverflow = errors.New("engineio: outbound queue overflow")

// push queues items; inline says they are for this connection alone (not
// a broadcast), so the caller may write them itself (see kick).
func (c *Conn) push(items []queue.Item, volatile, inline bool) error {
	if volatile && !c.writable() {
		c.srv.volatileDropped()
		return nil
	}
	switch err := c.q.PushAll(items, volatile); err {
	case nil:
		c.kick(inline)
		if !volatile && c.q.Congested() {
			c.srv.congestion.note(c)
		}
		return nil
	case queue.ErrDropped:
		c.srv.volatileDropped()
		return nil
	case queue.ErrFull:
		if c.overflowed.CompareAndSwap(false, true) {
			c.srv.stats.queueOverflows.Add(1)
			c.srv.cfg.Logger.Info("engineio: disconnecting a client that does not keep up", "sid", c.id, "reason", ReasonQueueOverflow)
			go c.close(ReasonQueueOverflow, false)
		}
		return ErrQueueOverflow
	default:
		return ErrClosed
	}
}

// writable reports whether a volatile message would go out now: the
// reference server drops volatile packets while the transport is not
// writable (here: while an upgrade is in progress).
func (c *Conn) writable() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return !c.closed && !c.upgrading
}

func (c *Conn) pushControl(t PacketType, data []byte) {
	if c.q.PushControl(queue.Item{Kind: byte(t), Data: data}) == nil {
		c.kick(true)
	}
}

func (c *Conn) sendOpen() {
	cfg := c.srv.cfg
	b := make([]byte, 0, 128)
	b = append(b, `{"sid":`...)
	b = strconv.AppendQuote(b, c.id)
	b = append(b, `,"upgrades":[`...)
	for i, u := range cfg.upgrades(c.initialTransport()) {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendQuote(b, u)
	}
	b = append(b, `],"pingInterval":`...)
	b = strconv.AppendInt(b, cfg.PingInterval.Milliseconds(), 10)
	b = append(b, `,"pingTimeout":`...)
	b = strconv.AppendInt(b, cfg.PingTimeout.Milliseconds(), 10)
	b = append(b, `,"maxPayload":`...)
	b = strconv.AppendInt(b, int64(cfg.MaxPayload), 10)
	b = append(b, '}')
	c.pushControl(PacketOpen, b)
}

// start attaches the handler, publishes the session and arms the
// heartbeat. Called once, before the client can send anything; the handler
// is set before the session is findable, so no request sees it unset. It
// reports false when the server closed meanwhile.
func (c *Conn) start() bool {
	// Under dispatchMu, like every call into the handler: the factory may
	// hand c to another goroutine that closes it before the handler is
	// stored, and the close notification (which takes dispatchMu) must
	// then wait for the handler instead of finding none.
	c.dispatchMu.Lock()
	h := c.srv.handlerFor(c)
	c.mu.Lock()
	c.handler = h
	c.mu.Unlock()
	c.dispatchMu.Unlock()
	s := c.srv
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		c.close(ReasonForcedServerClose, false)
		return false
	}
	c.mu.Lock()
	if !c.closed {
		s.sessions[c.id] = c
		c.counted = true
		s.open.Add(1)
		if !c.onWS {
			c.countedPoll = true
			s.pollingOpen.Add(1)
		}
	}
	counted := c.counted
	c.mu.Unlock()
	s.mu.Unlock()
	if o := s.observer(); o != nil && counted {
		o.ConnOpened(ConnOpen{Transport: c.initialTransport()})
	}
	if c.eio3 {
		c.scheduleHeartbeat(s.cfg.PingInterval+s.cfg.PingTimeout, true)
	} else {
		c.scheduleHeartbeat(s.cfg.PingInterval, false)
	}
	return true
}

func (c *Conn) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

// dispatch handles one inbound packet; it reports whether the connection
// is finished.
func (c *Conn) dispatch(p Packet) (done bool) {
	switch p.Type {
	case PacketMessage:
		cg := &c.srv.congestion
		epoch := cg.epoch.Load()
		c.dispatchMu.Lock()
		c.mu.Lock()
		h, closed := c.handler, c.closed
		c.mu.Unlock()
		if !closed {
			h.OnMessage(c, p.Data, p.Binary)
		}
		c.dispatchMu.Unlock()
		if cg.epoch.Load() != epoch {
			// Sends during this message left receivers congested: this
			// connection's next packet waits until they catch up (see
			// congestion).
			cg.wait(c)
		}
	case PacketPong:
		if c.eio3 {
			// A v3 server never pings, so a pong is a protocol error
			// (Node: "invalid heartbeat direction").
			c.close(ReasonTransportError, false)
			return true
		}
		c.onPong()
	case PacketPing:
		if c.eio3 {
			c.onPingV3()
		}
		// A v4 client does not ping (the server does): ignored.
	case PacketClose:
		c.mu.Lock()
		if !c.closed {
			c.peerClosed = true
		}
		c.mu.Unlock()
		c.close(ReasonTransportClose, false)
		return true
	case PacketNoop, PacketUpgrade:
		// A stray upgrade or noop on an established transport carries
		// nothing. Ignored, as the reference server does.
	default:
		c.close(ReasonParseError, false)
		return true
	}
	return false
}

// Close closes the connection after flushing what is queued for it, with
// reason "forced close" (the reference server's reason for a
// server-initiated close). Idempotent.
func (c *Conn) Close() error {
	c.close(ReasonForcedClose, true)
	return nil
}

// Done is closed when the connection is closed.
func (c *Conn) Done() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closedCh == nil {
		if c.closed {
			return closedChan
		}
		c.closedCh = make(chan struct{})
	}
	return c.closedCh
}

// closedChan is what Done returns for a session closed before anyone asked.
var closedChan = func() chan struct{} {
	ch := make(chan struct{})
	close(ch)
	return ch
}()

// Closed reports whether the connection is closed (or closing: queued
// messages may still be flushed).
func (c *Conn) Closed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

// close ends the session once. With flush, what is already queued is still
// delivered (new sends are refused) before the transport closes.
func (c *Conn) close(reason string, flush bool) {
	c.mu.Lock()
	if c.closed {
		if !flush && c.flushOnClose {
			// A forced close overrides a pending graceful one.
			c.flushOnClose = false
			ws, probe := c.ws, c.probe
			c.mu.Unlock()
			if ws != nil {
				ws.abort()
			}
			if probe != nil {
				probe.abort()
			}
			c.endLinger()
			return
		}
		c.mu.Unlock()
		return
	}
	c.closed = true
	c.flushOnClose = flush
	c.reason = reason
	if c.postBody != nil {
		// Under c.mu, so that the POST cannot have finished its read
		// and gone on to another request of the same TCP connection.
		_ = c.postBody.SetReadDeadline(aLongTimeAgo)
	}
	if c.counted {
		c.srv.open.Add(-1)
	}
	if c.countedPoll {
		c.countedPoll = false
		c.srv.pollingOpen.Add(-1)
	}
	ws, probe, transport, done := c.ws, c.probe, transportName(c.onWS), c.closedCh
	published := c.counted // findable by id: a poll may still come for it
	peerClosed := c.peerClosed
	c.srv.heartbeats.remove(c)
	c.mu.Unlock()

	c.q.Close()
	c.wakePoll()
	c.srv.congestion.forget(c)
	if o := c.srv.observer(); o != nil && published {
		o.ConnClosed(ConnClose{Transport: transport, Reason: reason, Duration: time.Since(heartbeatEpoch) - c.created, QueuePeak: c.q.Peak()})
	}
	if done != nil {
		close(done)
	}
	if probe != nil && !flush {
		// A graceful close lets an upgrade in progress finish: the
		// client has paused polling for it, and what is queued goes out
		// on the new WebSocket (attach), as from the reference server.
		// The upgrade timeout bounds the wait.
		probe.abort()
	}
	if ws != nil && !flush {
		// Unblocks the reader at once; a running writer fails or sees the
		// session closed and stops.
		ws.abort()
	}
	if ws != nil && flush {
		// The WebSocket may have ended already, or end at any moment
		// (its end takes the session out of the set: endWS), so check
		// after adding: one of the two sees the other.
		c.srv.setDraining(c, true)
		c.mu.Lock()
		ended := c.wsEnded
		c.mu.Unlock()
		if ended {
			c.srv.setDraining(c, false)
		}
	}
	if flush {
		c.kick(true) // a writer flushes the queue and sends the close frame
	}
	if transport == TransportPolling && (flush || peerClosed) && published {
		// Stay reachable so the client's next poll collects the rest and
		// the close packet, even when nothing else is queued (a client
		// between two polls would otherwise get "Session ID unknown"
		// instead of the close); bounded so a vanished client is
		// forgotten. servePoll ends the linger once it wrote the close.
		// The linger is tracked, so a graceful Shutdown waits until the
		// client has heard the close.
		//
		// A client that closed over polling may have a poll on its way
		// that it sent before the close (its POST overtook it between
		// two connections): that poll gets the noop it would have got
		// pending, then the session goes; briefly, since such a poll is
		// in flight already.
		linger := c.srv.cfg.PingTimeout
		if !flush {
			linger = min(linger, peerCloseLinger)
		}
		c.mu.Lock()
		c.lingering = true
		c.mu.Unlock()
		c.srv.wg.Add(1)
		time.AfterFunc(linger, c.endLinger)
	} else {
		c.srv.remove(c)
	}

	c.srv.wg.Add(1)
	go func() {
		defer c.srv.wg.Done()
		c.dispatchMu.Lock()
		defer c.dispatchMu.Unlock()
		c.mu.Lock()
		h := c.handler
		c.mu.Unlock()
		if h != nil {
			h.OnClose(c, reason)
		}
	}()
}

// aLongTimeAgo is a deadline in the past: it ends a blocked read at once.
var aLongTimeAgo = time.Unix(1, 0)

// peerCloseLinger bounds how long a session the client closed over polling
// stays reachable for a poll the client sent before its close.
const peerCloseLinger = time.Second

// dropsProbe reports whether a WebSocket probing for an upgrade is to be
// dropped: the session was closed without a flush.
//
// requires c.mu
func (c *Conn) dropsProbe() bool { return c.closed && !c.flushOnClose }

// endWS runs when the WebSocket t has closed (a probe's included). If t
// carried the session, a flush into it is over: the session leaves the
// draining set.
func (c *Conn) endWS(t wsTransport) {
	c.mu.Lock()
	active := c.ws == t
	if active {
		c.wsEnded = true
	}
	c.mu.Unlock()
	if active {
		c.srv.setDraining(c, false)
	}
}

// endLinger forgets a session that stayed reachable after a graceful
// close on long-polling; it is idempotent.
func (c *Conn) endLinger() {
	c.mu.Lock()
	was := c.lingering
	c.lingering = false
	c.mu.Unlock()
	c.srv.remove(c)
	if was {
		c.srv.wg.Done()
	}
}

// CloseWithReason closes the connection at once, dropping what is queued,
// and reports reason to the handler (the Socket.IO layer uses
// ReasonParseError for a malformed packet).
func (c *Conn) CloseWithReason(reason string) { c.close(reason, false) }
