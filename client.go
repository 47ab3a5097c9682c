package socketio

import (
	"encoding/json"
	"errors"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/switchboard-go/socketio/adapter"
	"github.com/switchboard-go/socketio/engineio"
	"github.com/switchboard-go/socketio/parser"
)

// client is one Engine.IO connection seen from Socket.IO: it decodes
// packets, routes them to the socket of their namespace, and writes the
// packets of all those sockets into the one connection queue.
type client struct {
	srv  *Server
	conn *engineio.Conn
	dec  parser.Decoder // used only by OnMessage, which the engine serializes
	// codecDec replaces dec when the server has a Parser (Options.Parser).
	codecDec parser.PacketDecoder
	// inBytes and inMsgs add up the messages of the packet being
	// received, for Observer.PacketIn; used only by OnMessage. inMsgs is
	// at most 1 + MaxAttachments: an int32 beside v3 keeps the struct in
	// the 112-byte size class.
	inBytes int

	mu sync.Mutex
	// sockets holds one socket per joined namespace, searched linearly: a
	// client joins one or a few, and a map would cost each connection
	// about 200 bytes more.
	sockets      []*Socket
	connectTimer *time.Timer // nil once a namespace is joined

	// v3: the client speaks Engine.IO v3 and so Socket.IO protocol v4
	// (a Socket.IO v2 client, admitted by Options.Engine.AllowEIO3),
	// served as the reference server serves it: joined to "/" without
	// asking, a namespace's query string as its auth, no sid in CONNECT,
	// the socket id derived from the session id, and CONNECT_ERROR
	// carrying the bare message (or data).
	v3     bool
	inMsgs int32
}

func newClient(srv *Server, conn *engineio.Conn) *client {
	c := &client{srv: srv, conn: conn, v3: conn.Protocol() == 3}
	c.dec.MaxAttachments = srv.maxAttachments
	if srv.codec != nil {
		c.codecDec = srv.codec.NewDecoder(srv.maxAttachments)
	}
	// A client that never joins a namespace is dropped (Node:
	// connectTimeout).
	c.connectTimer = time.AfterFunc(srv.connectTimeout, func() {
		c.mu.Lock()
		n := len(c.sockets)
		c.mu.Unlock()
		if n == 0 {
			_ = conn.Close()
		}
	})
	return c
}

// OnMessage implements engineio.Handler.
func (c *client) OnMessage(_ *engineio.Conn, data []byte, binary bool) {
	var (
		pkt *parser.Packet
		err error
	)
	if c.codecDec != nil {
		pkt, err = c.codecDec.Add(data, binary)
	} else if binary {
		pkt, err = c.dec.AddBinary(data)
	} else {
		pkt, err = c.dec.AddText(data)
	}
	if err != nil {
		c.srv.logger.Debug("socketio: invalid packet", "sid", c.conn.ID(), "err", err)
		c.conn.CloseWithReason(engineio.ReasonParseError)
		return
	}
	if o := c.srv.observer(); o != nil {
		c.inBytes += len(data)
		c.inMsgs++
		if pkt == nil {
			return // waiting for attachments
		}
		o.PacketIn(PacketStat{Type: pkt.Type, Namespace: pkt.Namespace, Bytes: c.inBytes, Messages: int(c.inMsgs)})
		c.inBytes, c.inMsgs = 0, 0
	}
	if pkt == nil {
		return // waiting for attachments
	}
	if c.v3 {
		c.splitNamespaceQuery(pkt)
	}
	if pkt.Type == parser.Connect {
		c.connect(pkt)
		return
	}
	c.mu.Lock()
	s := c.socketLocked(pkt.Namespace)
	c.mu.Unlock()
	if s == nil || pkt.Type == parser.ConnectError {
		// A packet for a namespace this client has not joined (an event
		// after a refusal, a DISCONNECT of nothing), or a CONNECT_ERROR,
		// which only a server sends: the client and the server no longer
		// agree on the state of the connection, and the reference server
		// closes it.
		c.srv.logger.Debug("socketio: packet for a namespace not joined, closing", "sid", c.conn.ID(), "nsp", pkt.Namespace, "type", pkt.Type)
		c.conn.CloseWithReason(engineio.ReasonForcedServerClose)
		return
	}
	s.onPacket(pkt)
}

// OnOpen implements engineio.OpenHandler: a v3 client is joined to the
// main namespace at once, as the reference server does, since a Socket.IO
// v2 client never sends CONNECT for it.
func (c *client) OnOpen(*engineio.Conn) {
	if c.v3 {
		c.connect(&parser.Packet{Type: parser.Connect, Namespace: "/"})
	}
}

// splitNamespaceQuery takes the query string off the namespace of a v3
// client's packet ("/admin?token=abc", which a Socket.IO v2 client sends
// in CONNECT): the namespace is what comes before '?', and for CONNECT
// the query's parameters become the auth object (each name with its last
// value, as the reference server builds it), replacing any payload.
func (c *client) splitNamespaceQuery(pkt *parser.Packet) {
	nsp, query, found := strings.Cut(pkt.Namespace, "?")
	if !found && pkt.Type != parser.Connect {
		return
	}
	pkt.Namespace = nsp
	if pkt.Type != parser.Connect {
		return
	}
	values, _ := url.ParseQuery(query) // what parses, as a URL parser keeps it
	auth := make(map[string]string, len(values))
	for k, vs := range values {
		auth[k] = vs[len(vs)-1]
	}
	pkt.Data, _ = json.Marshal(auth)
}

// OnClose implements engineio.Handler.
func (c *client) OnClose(_ *engineio.Conn, reason string) {
	c.mu.Lock()
	c.stopConnectTimerLocked()
	socks := slices.Clone(c.sockets)
	c.mu.Unlock()
	for _, s := range socks {
		s.onClose(Reason(reason))
	}
	c.dec.Reset()
	if c.codecDec != nil {
		c.codecDec.Reset()
	}
}

func (c *client) connect(pkt *parser.Packet) {
	// A dynamic namespace emptied and dropped while this client's
	// middleware ran (CleanupEmptyChildNamespaces) takes no socket: start
	// over on a new one. Each retry needs another client to leave a
	// namespace in that window; three is more than enough.
	for range 3 {
		if !c.connectOnce(pkt) {
			return
		}
	}
	c.connectError(pkt.Namespace, &ConnectError{Message: "Invalid namespace"}, false)
}

// connectOnce joins pkt's namespace; it returns true, having sent nothing,
// when the namespace was dropped meanwhile.
func (c *client) connectOnce(pkt *parser.Packet) (retry bool) {
	name := pkt.Namespace
	c.mu.Lock()
	dup := c.socketLocked(name) != nil
	c.mu.Unlock()
	if dup {
		// Already connected to it: an invalid state, as in OnMessage.
		c.srv.logger.Debug("socketio: second CONNECT for a joined namespace, closing", "sid", c.conn.ID(), "nsp", name)
		c.conn.CloseWithReason(engineio.ReasonForcedServerClose)
		return false
	}
	// No payload means auth {}, as the reference server's client.connect
	// defaults it: handlers, middleware and namespace functions see an
	// object, and echoing it sends {} rather than null.
	auth := json.RawMessage(`{}`)
	if len(pkt.Data) > 0 {
		auth = append(json.RawMessage(nil), pkt.Data...)
	}
	ns := c.srv.namespaceFor(name, auth)
	if ns == nil {
		c.connectError(name, &ConnectError{Message: "Invalid namespace"}, false)
		return false
	}
	var s *Socket
	var missed [][]adapter.Frame
	if ns.sessions != nil && !c.v3 {
		// A v3 client gets no pid, so it has no session to restore.
		s, missed = c.restore(ns, auth)
	}
	mws, conns := ns.handlers()
	if s == nil {
		s = newSocket(ns, c, auth)
		if c.v3 {
			// As the reference names a v3 client's sockets: the session
			// id, after the namespace for any but "/".
			s.id = c.conn.ID()
			if name != "/" {
				s.id = name + "#" + s.id
			}
		}
		if ns.sessions != nil && !c.v3 {
			s.rec = &socketRecovery{pid: newID()}
		}
	} else if !c.srv.recovery.RunMiddlewares {
		mws = nil
	}
	for _, m := range mws {
		err := errMiddlewarePanicked // stays if m panics: a failing check refuses
		s.safely(func() { err = m(s) })
		if err != nil {
			if o := c.srv.observer(); o != nil {
				o.MiddlewareRefused(MiddlewareRefusal{Namespace: name})
			}
			if s.Recovered() {
				c.abandonRestore(s)
			}
			c.connectError(name, err, true)
			return false
		}
	}
	if c.conn.Closed() {
		if s.Recovered() {
			c.abandonRestore(s)
		}
		return false // the connection ended while middleware ran
	}

	if !s.Recovered() && !ns.register(s) {
		return true
	}
	c.mu.Lock()
	c.sockets = append(c.sockets, s)
	c.stopConnectTimerLocked()
	c.mu.Unlock()
	s.mu.Lock()
	s.connected = true
	s.welcoming = true
	s.mu.Unlock()
	if o := c.srv.observer(); o != nil {
		o.SocketConnected(SocketConnect{Namespace: name, Recovered: s.Recovered()})
	}
	if s.Recovered() {
		// Back in its rooms already (RestoreSession did it, with no
		// broadcast in between); its own id room is among them.
		s.finishRestore(connectPacket(s), missed)
	} else {
		ns.adapter.AddAll(s.id, []string{s.id})
		syncRooms(ns.adapter)
		_ = c.writePacket(connectPacket(s), false)
	}
	for _, fn := range conns {
		s.safely(func() { fn(s) })
	}
	s.welcomed()
	return false
}

// connectError sends CONNECT_ERROR for namespace nsp. To a v3 client a
// middleware's refusal is its Data, or else its message as a JSON string,
// which a Socket.IO v2 client emits as its "error" event; other refusals
// keep the {message} object, as from the reference server.
func (c *client) connectError(nsp string, err error, middleware bool) {
	ce, ok := err.(*ConnectError)
	if !ok {
		ce = &ConnectError{Message: err.Error()}
	}
	if c.v3 && middleware {
		var data []byte
		var mErr error = errNoData
		if ce.Data != nil {
			data, mErr = json.Marshal(ce.Data)
		}
		if mErr != nil {
			data, _ = json.Marshal(ce.Message)
		}
		_ = c.writePacket(&parser.Packet{Type: parser.ConnectError, Namespace: nsp, Data: data}, false)
		return
	}
	body := struct {
		Message string `json:"message"`
		Data    any    `json:"data,omitempty"`
	}{ce.Message, ce.Data}
	data, mErr := json.Marshal(body)
	if mErr != nil {
		data, _ = json.Marshal(struct {
			Message string `json:"message"`
		}{ce.Message})
	}
	_ = c.writePacket(&parser.Packet{Type: parser.ConnectError, Namespace: nsp, Data: data}, false)
}

var errNoData = errors.New("no data")

// writePacket encodes p and queues it: the text message and its
// attachments as one unit.
func (c *client) writePacket(p *parser.Packet, volatile bool) error {
	return c.writePacketCompress(p, volatile, false)
}

// writePacketCompress is writePacket with Compress(false) honoured.
func (c *client) writePacketCompress(p *parser.Packet, volatile, noCompress bool) error {
	if c.srv.codec != nil {
		return c.writeCodec(p, volatile, noCompress)
	}
	text := p.Encode()
	var err error
	if len(p.Attachments) == 0 && !noCompress {
		err = c.conn.Send(text, false, volatile)
	} else {
		msgs := make([]engineio.Message, 0, 1+len(p.Attachments))
		msgs = append(msgs, engineio.Message{Data: text, NoCompress: noCompress})
		for _, a := range p.Attachments {
			msgs = append(msgs, engineio.Message{Data: a, Binary: true, NoCompress: noCompress})
		}
		err = c.conn.SendMessages(msgs, volatile)
	}
	if o := c.srv.observer(); o != nil && err == nil {
		o.PacketOut(PacketStat{Type: p.Type, Namespace: p.Namespace, Bytes: packetBytes(text, p.Attachments), Messages: 1 + len(p.Attachments)})
	}
	return err
}

func (c *client) remove(s *Socket) {
	c.mu.Lock()
	if i := slices.Index(c.sockets, s); i >= 0 {
		c.sockets = slices.Delete(c.sockets, i, i+1)
	}
	c.mu.Unlock()
}

// socketLocked returns the socket of namespace name, or nil. c.mu is held.
func (c *client) socketLocked(name string) *Socket {
	for _, s := range c.sockets {
		if s.ns.name == name {
			return s
		}
	}
	return nil
}

// stopConnectTimerLocked drops the connect timeout, which applies only
// until the first namespace is joined. c.mu is held.
func (c *client) stopConnectTimerLocked() {
	if c.connectTimer != nil {
		c.connectTimer.Stop()
		c.connectTimer = nil // a stopped timer still holds its memory
	}
}

// disconnectAll disconnects every namespace socket, then closes the
// connection after flushing the DISCONNECT packets (Node:
// client._disconnect).
func (c *client) disconnectAll() {
	c.mu.Lock()
	socks := slices.Clone(c.sockets)
	c.mu.Unlock()
	for _, s := range socks {
		s.Disconnect(false)
	}
	_ = c.conn.Close()
}
