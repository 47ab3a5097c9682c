package socketio

import (
	"encoding/json"
	"sync/atomic"

	"github.com/switchboard-go/socketio/adapter"
	"github.com/switchboard-go/socketio/engineio"
	"github.com/switchboard-go/socketio/parser"
)

// recoverable reports whether a socket that disconnected for reason
// leaves a session behind: the reasons a network or a server restart can
// cause, not a deliberate disconnect (Node: RECOVERABLE_DISCONNECT_REASONS).
func recoverable(reason Reason) bool {
	switch reason {
	case ReasonTransportError, ReasonTransportClose, ReasonForcedClose,
		ReasonPingTimeout, ReasonServerShuttingDown, ReasonForcedServerClose:
		return true
	}
	return false
}

// recoveryAuth returns the pid and offset a reconnecting client puts in
// its CONNECT payload, next to its own auth fields. Both must be strings,
// as the reference server requires.
func recoveryAuth(data []byte) (pid, offset string, ok bool) {
	if len(data) == 0 || data[0] != '{' {
		return "", "", false
	}
	var a struct {
		PID    *string `json:"pid"`
		Offset *string `json:"offset"`
	}
	if json.Unmarshal(data, &a) != nil || a.PID == nil || *a.PID == "" || a.Offset == nil {
		return "", "", false
	}
	return *a.PID, *a.Offset, true
}

// connectPacket is the CONNECT answer: the socket id, and with recovery
// the private session id the client sends back to recover.
func connectPacket(s *Socket) *parser.Packet {
	if s.client.v3 {
		// Socket.IO protocol v4 (v2 clients): CONNECT carries nothing.
		return &parser.Packet{Type: parser.Connect, Namespace: s.ns.name}
	}
	data, _ := json.Marshal(struct {
		SID string `json:"sid"`
		PID string `json:"pid,omitempty"`
	}{s.id, s.rec.pidOrEmpty()})
	return &parser.Packet{Type: parser.Connect, Namespace: s.ns.name, Data: data}
}

// restore tries to give a reconnecting client its socket back. It
// registers the socket under the session's id first, marked restoring, so
// that a broadcast reaching it once the adapter has put it back in its
// rooms is held, not lost, until CONNECT and the missed packets are out.
// It returns nil when there is nothing to restore.
func (c *client) restore(ns *Namespace, auth json.RawMessage) (*Socket, [][]adapter.Frame) {
	pid, offset, ok := recoveryAuth(auth)
	if !ok {
		return nil, nil
	}
	sid, ok := ns.sessions.SessionSID(pid)
	if !ok {
		return nil, nil
	}
	// recovered is set before the socket is published (register), never
	// after: a socket whose restore fails is dropped, not reused.
	rec := &socketRecovery{pid: pid, recovered: true, held: &heldPackets{}}
	rec.restoring.Store(true)
	s := &Socket{id: sid, ns: ns, client: c, auth: string(auth), rec: rec}
	if !ns.register(s) {
		// The same session reconnecting twice at once (one wins), or a
		// namespace just dropped: no recovery.
		return nil, nil
	}
	r, ok := ns.sessions.RestoreSession(pid, offset)
	if !ok {
		ns.remove(s)
		return nil, nil
	}
	s.mu.Lock()
	s.data = r.Data
	s.mu.Unlock()
	return s, r.Missed
}

// abandonRestore undoes restore for a socket its middleware refused or
// whose connection ended meanwhile. The socket stays marked restoring, so
// a delivery that found it just before is dropped rather than sent to a
// client that was refused.
func (c *client) abandonRestore(s *Socket) {
	s.ns.adapter.DelAll(s.id)
	s.ns.remove(s)
	s.mu.Lock()
	s.rec.held = nil
	s.mu.Unlock()
}

// socketRecovery is a socket's part in connection state recovery.
type socketRecovery struct {
	pid       string // private session id, sent to the client in CONNECT
	recovered bool   // the socket is one restored from a session
	// restoring is set while a recovered socket is a broadcast target but
	// has not yet sent its missed packets and CONNECT: deliveries wait in
	// held (under Socket.mu) so that they follow those.
	restoring atomic.Bool
	held      *heldPackets
}

// pidOrEmpty is the pid, "" when recovery is off (r is nil).
func (r *socketRecovery) pidOrEmpty() string {
	if r == nil {
		return ""
	}
	return r.pid
}

// heldPackets are the deliveries to a socket being restored.
type heldPackets struct {
	packets  []heldPacket
	overflow bool // a non-volatile packet found the list full
}

type heldPacket struct {
	p        *engineio.Prepared
	volatile bool
}

// maxHeld bounds the deliveries held while a socket is restored: the time
// its middleware takes, when Recovery.RunMiddlewares is set. Past it a
// volatile packet is dropped and any other closes the connection as a
// queue overflow would.
const maxHeld = 1024

// hold keeps a delivery for a socket being restored; it reports false
// when the restore has finished, and the caller sends. A delivery to a
// socket whose restore was abandoned is dropped.
func (s *Socket) hold(p *engineio.Prepared, volatile bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.rec.restoring.Load() {
		return false
	}
	held := s.rec.held
	if held == nil {
		return true // abandoned (abandonRestore): the socket never connects
	}
	switch {
	case len(held.packets) < maxHeld:
		held.packets = append(held.packets, heldPacket{p, volatile})
	case !volatile:
		held.overflow = true
	}
	return true
}

// finishRestore sends the missed packets, what was held meanwhile and
// CONNECT, in that order, then lets deliveries through. The reference
// server sends a recovered socket's missed packets before its CONNECT
// (and whatever reaches the socket while its middleware runs), and the
// official client hands them to the application before its "connect"
// event: the application sees what it missed, then that it is back.
func (s *Socket) finishRestore(connect *parser.Packet, missed [][]adapter.Frame) {
	s.mu.Lock()
	for _, frames := range missed {
		if wire, err := s.client.srv.wireFrames(frames); err == nil {
			_ = s.client.conn.SendPrepared(prepareFrames(wire, false), false)
		}
	}
	held := s.rec.held
	for _, h := range held.packets {
		_ = s.client.conn.SendPrepared(h.p, h.volatile)
	}
	_ = s.client.writePacket(connect, false)
	s.rec.held = nil
	s.rec.restoring.Store(false)
	s.mu.Unlock()
	if held.overflow {
		s.client.conn.CloseWithReason(engineio.ReasonQueueOverflow)
	}
}
