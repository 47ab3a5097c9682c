package sioclient

import (
	"bytes"
	"encoding/json"
)

// Connection state recovery (Node: the server's connectionStateRecovery,
// which socket.io-client supports since 4.6). A server with recovery on
// gives each socket a private session id, pid, in its CONNECT packet, and
// appends an offset, a string, as the last argument of every event it
// logs. The socket sends both back in the CONNECT of its next connection;
// if the server still has the session, it restores the socket's id, rooms
// and data, replays the events logged after that offset, and echoes the
// same pid.

// maxEarlyEvents bounds the events a socket holds while waiting for the
// CONNECT they precede (see session.early); the executor's backlog bound,
// so that holding them costs no more than queueing them would.
const maxEarlyEvents = maxPending

// session is what a socket knows of its session on the server. It
// survives the socket's reconnections, which is the point: the next
// CONNECT asks for the same session back. Guarded by Socket.mu.
type session struct {
	// pid is the private session id of the last CONNECT; "" when the
	// server does not recover connections.
	pid string
	// offset is the last argument of the last event received under pid:
	// where the client stands in the server's log. "" until such an
	// event arrives (the CONNECT then omits it, and a Node server does
	// not recover a session without one).
	offset string
	// recovered: the last CONNECT restored the previous session.
	recovered bool
	// early holds the events that arrived on connection earlyGen before
	// the socket's CONNECT: a server restoring a session replays the
	// missed events first and sends the CONNECT after them. They are
	// delivered when the CONNECT arrives, before OnConnect, as in the
	// reference client, so that their handlers see the socket connected.
	early    []*Event
	earlyGen uint64
}

// Recovered reports whether the socket's last connection restored its
// previous session (Node: socket.recovered): the server, which must have
// connection state recovery enabled, gave the socket back its id, rooms
// and data, and sent the events the socket missed while it was
// disconnected, before OnConnect runs. It is false on a first connection,
// when the session has expired or the server no longer has the missed
// events, and always with a server without recovery. Only a lost
// connection is recovered: after Disconnect, a disconnection by the
// server or Manager.Close, the socket connects again as a new session. It
// keeps its value while the socket is disconnected.
func (s *Socket) Recovered() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.session.recovered
}

// joined records the pid of a CONNECT. A new session starts a new log
// position: an offset from an earlier session would make the server
// replay events from before this session began.
func (ss *session) joined(pid string) {
	ss.recovered = pid != "" && pid == ss.pid
	if pid != ss.pid {
		ss.offset = ""
	}
	ss.pid = pid
}

// forgetSession ends the session after a deliberate disconnection
// (Disconnect, the server's, Manager.Close): the next Connect starts a new
// one. The reference client keeps it, and a Node server would then
// restore a stale snapshot: its adapter keeps a session after restoring it,
// so the snapshot of an earlier connection loss, with the rooms of that
// time, comes back after a Disconnect and Connect. Recovered keeps its
// value until the next connection.
func (s *Socket) forgetSession() {
	s.mu.Lock()
	s.session.pid, s.session.offset, s.session.early = "", "", nil
	s.mu.Unlock()
}

// received notes the offset that e carries, if any. As in the reference
// client, any string in last position counts (a server appends the offset
// to every event it logs; the client cannot tell a logged event from a
// volatile one), except the event name and the last argument of an event
// that asks for an acknowledgement: such events are never logged.
func (ss *session) received(e *Event) {
	if ss.pid == "" || e.hasAck || len(e.Raw) == 0 {
		return
	}
	if off, ok := stringArg(e.Raw[len(e.Raw)-1]); ok {
		ss.offset = off
	}
}

// stringArg returns the JSON string raw decoded, or false when raw is
// not a string.
func stringArg(raw json.RawMessage) (string, bool) {
	if len(raw) < 2 || raw[0] != '"' {
		return "", false
	}
	if bytes.IndexByte(raw, '\\') < 0 {
		return string(raw[1 : len(raw)-1]), true // offsets have no escapes: skip the decoder
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return "", false
	}
	return s, true
}

// holdEarly keeps e, which arrived on connection gen before the CONNECT,
// and forgets what an older connection left. When it holds too many it
// gives them all back, e included, to be delivered at once: the order is
// kept, and only their handlers see the socket still connecting.
func (ss *session) holdEarly(gen uint64, e *Event) (deliverNow []*Event) {
	if ss.earlyGen != gen {
		ss.early, ss.earlyGen = nil, gen
	}
	if len(ss.early) < maxEarlyEvents {
		ss.early = append(ss.early, e)
		return nil
	}
	deliverNow = append(ss.early, e)
	ss.early = nil
	for _, e := range deliverNow {
		ss.received(e)
	}
	return deliverNow
}

// takeEarly returns the events held for connection gen, dropping any
// others.
func (ss *session) takeEarly(gen uint64) []*Event {
	early := ss.early
	ss.early = nil
	if ss.earlyGen != gen {
		return nil
	}
	return early
}

// dropEarly forgets the events held for connection gen (any connection
// when gen is 0): the CONNECT they waited for will not come.
func (ss *session) dropEarly(gen uint64) {
	if gen == 0 || ss.earlyGen == gen {
		ss.early = nil
	}
}

// withSession returns the data of a CONNECT packet: auth (a JSON object,
// or nil for none) with the session to recover, as the reference client
// builds it: {pid, offset} with auth's own keys winning, offset left out
// while unknown. ok is false, and auth returned as is, when auth is not an
// object (authPayload admits none; this is defence).
func withSession(auth json.RawMessage, pid, offset string) (data json.RawMessage, ok bool) {
	if pid == "" {
		return auth, true
	}
	auth = bytes.TrimSpace(auth)
	if len(auth) > 0 && (len(auth) < 2 || auth[0] != '{' || auth[len(auth)-1] != '}') {
		return auth, false
	}
	hasPID, hasOffset := authHasSessionKeys(auth)
	var inner []byte // auth's members, without the braces
	if len(auth) > 0 {
		inner = bytes.TrimSpace(auth[1 : len(auth)-1])
	}
	data = make([]byte, 0, len(auth)+len(pid)+len(offset)+len(`{"pid":"","offset":""}`))
	data = append(data, '{')
	if !hasPID {
		data = append(data, `"pid":`...)
		data = appendJSONString(data, pid)
	}
	if offset != "" && !hasOffset {
		if len(data) > 1 {
			data = append(data, ',')
		}
		data = append(data, `"offset":`...)
		data = appendJSONString(data, offset)
	}
	if len(inner) > 0 {
		if len(data) > 1 {
			data = append(data, ',')
		}
		data = append(data, inner...)
	}
	return append(data, '}'), true
}

// authHasSessionKeys reports whether the JSON object auth has the keys
// "pid" and "offset". It decodes auth only when its bytes could hold one:
// a key that decodes to "pid" contains those letters, or a \u escape.
func authHasSessionKeys(auth json.RawMessage) (hasPID, hasOffset bool) {
	if !bytes.Contains(auth, []byte("pid")) && !bytes.Contains(auth, []byte("offset")) && !bytes.Contains(auth, []byte(`\u`)) {
		return false, false
	}
	var members map[string]json.RawMessage
	if json.Unmarshal(auth, &members) != nil {
		return false, false
	}
	_, hasPID = members["pid"]
	_, hasOffset = members["offset"]
	return hasPID, hasOffset
}

// appendJSONString appends s as a JSON string.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			q, _ := json.Marshal(s) // a string always marshals
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
