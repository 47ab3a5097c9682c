package adapter

import (
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/switchboard-go/socketio/parser"
)

// Session is what a socket leaves behind when its connection is lost
// while connection state recovery is on: enough to give the client the
// same socket back when it reconnects in time (Node: SessionToPersist).
type Session struct {
	SID   string         // the socket id, the same after the recovery
	PID   string         // the private session id, known to the client only
	Rooms []string       // the socket's rooms, its own id included
	Data  map[string]any // the socket's Set values
}

// Restored is a recovered session with what its socket missed.
type Restored struct {
	Session
	// Missed holds the frames of each packet broadcast while the socket
	// was away that its rooms select, in broadcast order.
	Missed [][]Frame
}

// SessionAware is implemented by adapters that keep sessions and a log of
// recent packets for connection state recovery (Node: persistSession and
// restoreSession). Such an adapter appends an offset, a string, as the
// last argument of every event it broadcasts without an acknowledgement
// and not volatile, and logs the packet; a client reconnecting sends the
// offset of the last event it received. So the adapter must hand logged
// packets to Host.Deliver in offset order: a socket that received an
// offset has received every earlier one its rooms selected.
type SessionAware interface {
	// PersistSession keeps s for the recovery window.
	PersistSession(s Session)
	// SessionSID returns the socket id of pid's session, if it is kept,
	// without taking it: the namespace registers the socket under that
	// id before RestoreSession makes it a broadcast target.
	SessionSID(pid string) (string, bool)
	// RestoreSession takes pid's session with the packets broadcast after
	// offset that its rooms select, and adds the socket to its rooms.
	// Both happen atomically with respect to Broadcast: a packet is
	// either among Missed or delivered to the socket afterwards, never
	// both and never neither. It returns false, and drops the session,
	// when the session has expired or packets after offset are no longer
	// in the log.
	RestoreSession(pid, offset string) (Restored, bool)
}

// RecoveryConfig configures the in-memory adapter's side of connection
// state recovery.
type RecoveryConfig struct {
	// MaxDisconnectionDuration is how long sessions and packets are kept;
	// default 2 minutes (Node: maxDisconnectionDuration).
	MaxDisconnectionDuration time.Duration
	// MaxLogBytes bounds the packets kept, counted by their encoded
	// frames; default 16 MiB. Past it the oldest packets go first, and a
	// session that missed one of them can no longer be restored: its
	// client gets a new socket, as after an expiry. Node keeps every
	// packet of the window.
	MaxLogBytes int
}

// RecoveryHost is implemented by the Host of a namespace whose server has
// connection state recovery on (the root package's namespaces). An adapter
// that makes a local part of its own, such as a cluster adapter, asks it
// whether that part must keep sessions and a packet log, and how long.
type RecoveryHost interface {
	// Recovery returns the server's recovery configuration, or false when
	// recovery is off.
	Recovery() (RecoveryConfig, bool)
}

const (
	defaultMaxDisconnection = 2 * time.Minute
	defaultMaxLogBytes      = 16 << 20
)

// NewInMemoryWithRecovery returns a Factory of in-memory adapters that
// also implement SessionAware, as Node's SessionAwareAdapter.
func NewInMemoryWithRecovery(cfg RecoveryConfig) Factory {
	if cfg.MaxDisconnectionDuration <= 0 {
		cfg.MaxDisconnectionDuration = defaultMaxDisconnection
	}
	if cfg.MaxLogBytes <= 0 {
		cfg.MaxLogBytes = defaultMaxLogBytes
	}
	return func(host Host) Adapter {
		a := NewInMemory(host).(*InMemory)
		a.rec = &recoveryLog{
			maxAge:   cfg.MaxDisconnectionDuration,
			maxBytes: cfg.MaxLogBytes,
			sessions: make(map[string]keptSession),
		}
		return &InMemoryWithRecovery{a}
	}
}

// InMemoryWithRecovery is the in-memory adapter with the session and
// packet log of connection state recovery: a type of its own, so that only
// an adapter made with recovery on is SessionAware.
type InMemoryWithRecovery struct{ *InMemory }

var _ SessionAware = (*InMemoryWithRecovery)(nil)

// recoveryLog holds the sessions and the packet log of one namespace.
// Packet i of the log has sequence number first+i; its offset is that
// number in base 36. Numbers are never reused, so the log needs no search:
// the offset says where a client stands.
type recoveryLog struct {
	maxAge   time.Duration
	maxBytes int

	// order is held by a logged broadcast from before it takes its offset
	// until Deliver has queued it to every target, so that logged packets
	// reach each socket in offset order. A client asks, after a drop, for
	// what follows the last offset it received; had a later offset
	// overtaken an earlier one, the earlier packet would be lost. It is
	// taken before the adapter's mu and never inside it.
	order sync.Mutex

	// mu guards below. Broadcast takes it inside InMemory.mu held for
	// reading, RestoreSession inside InMemory.mu held for writing: so a
	// packet is logged and its targets chosen with no restore between.
	mu       sync.Mutex
	packets  []loggedPacket // packets[head:] are live
	head     int
	first    uint64 // sequence number of packets[head]
	bytes    int
	sessions map[string]keptSession // by PID
	sweep    *time.Timer            // nil when nothing is kept
	closed   bool
}

type loggedPacket struct {
	at     time.Time
	rooms  []string
	except []string
	frames []Frame
	size   int
}

type keptSession struct {
	Session
	at time.Time // disconnected at
}

// loggable reports whether a broadcast is logged for recovery: events
// only, and not those with an acknowledgement (it could not be answered
// on another connection) or volatile ones (which may be lost anyway).
func loggable(pkt *parser.Packet, opts Options) bool {
	return (pkt.Type == parser.Event || pkt.Type == parser.BinaryEvent) && !pkt.HasID && !opts.Flags.Volatile
}

// withOffset returns a copy of pkt with offset appended to its arguments,
// or false when its data is not a JSON array.
func withOffset(pkt *parser.Packet, offset string) (parser.Packet, bool) {
	d := pkt.Data
	if len(d) < 2 || d[0] != '[' || d[len(d)-1] != ']' {
		return parser.Packet{}, false
	}
	data := make([]byte, 0, len(d)+len(offset)+3)
	data = append(data, d[:len(d)-1]...)
	if len(d) > 2 {
		data = append(data, ',')
	}
	data = append(data, '"')
	data = append(data, offset...)
	data = append(data, '"', ']')
	out := *pkt
	out.Data = data
	return out, true
}

// log appends pkt, returning the frames to deliver: pkt with its offset.
// It returns nil when pkt cannot carry one; the caller sends it as it is.
//
// requires the adapter's mu, held for reading at least
func (l *recoveryLog) log(pkt *parser.Packet, opts Options) []Frame {
	l.mu.Lock()
	defer l.mu.Unlock()
	seq := l.first + uint64(len(l.packets)-l.head)
	withOff, ok := withOffset(pkt, strconv.FormatUint(seq, 36))
	if !ok {
		return nil
	}
	frames := EncodeFrames(&withOff)
	size := 0
	for _, f := range frames {
		size += len(f.Data)
	}
	now := time.Now()
	l.packets = append(l.packets, loggedPacket{
		at: now, rooms: slices.Clone(opts.Rooms), except: slices.Clone(opts.Except), frames: frames, size: size,
	})
	l.bytes += size
	l.trimLocked(now)
	l.armLocked()
	return frames
}

// trimLocked drops the packets that are too old or past the byte bound.
//
// requires l.mu
func (l *recoveryLog) trimLocked(now time.Time) {
	for l.head < len(l.packets) {
		p := &l.packets[l.head]
		if l.bytes <= l.maxBytes && now.Sub(p.at) <= l.maxAge {
			break
		}
		l.bytes -= p.size
		*p = loggedPacket{}
		l.head++
		l.first++
	}
	// Reclaim the dropped prefix once it is half the slice.
	if l.head > 0 && l.head >= len(l.packets)/2 {
		n := copy(l.packets, l.packets[l.head:])
		clear(l.packets[n:])
		l.packets = l.packets[:n]
		l.head = 0
	}
}

// armLocked makes sure a sweep will drop what expires while nothing is
// broadcast or persisted.
//
// requires l.mu
func (l *recoveryLog) armLocked() {
	if l.sweep == nil && !l.closed {
		l.sweep = time.AfterFunc(l.maxAge, l.sweepNow)
	}
}

func (l *recoveryLog) sweepNow() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweep = nil
	now := time.Now()
	for pid, s := range l.sessions {
		if now.Sub(s.at) > l.maxAge {
			delete(l.sessions, pid)
		}
	}
	l.trimLocked(now)
	if len(l.sessions) > 0 || l.head < len(l.packets) {
		l.armLocked()
	}
}

func (l *recoveryLog) persist(s Session) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return
	}
	l.sessions[s.PID] = keptSession{Session: s, at: time.Now()}
	l.armLocked()
}

// session returns pid's session unless it has expired.
//
// requires l.mu
func (l *recoveryLog) sessionLocked(pid string, now time.Time) (keptSession, bool) {
	s, ok := l.sessions[pid]
	if !ok {
		return keptSession{}, false
	}
	if now.Sub(s.at) > l.maxAge {
		delete(l.sessions, pid)
		return keptSession{}, false
	}
	return s, true
}

// restoreLocked takes pid's session and the packets after offset that
// select it.
//
// requires the adapter's mu held for writing, and l.mu
func (l *recoveryLog) restoreLocked(pid, offset string) (Restored, bool) {
	now := time.Now()
	s, ok := l.sessionLocked(pid, now)
	if !ok {
		return Restored{}, false
	}
	delete(l.sessions, pid) // one restore per session, whatever the outcome
	l.trimLocked(now)
	seq, err := strconv.ParseUint(offset, 36, 64)
	end := l.first + uint64(len(l.packets)-l.head)
	// seq must have been issued (seq < end), and every packet after it
	// must still be here (seq+1 >= first).
	if err != nil || seq >= end || seq+1 < l.first {
		return Restored{}, false
	}
	var missed [][]Frame
	for i := l.head + int(seq+1-l.first); i < len(l.packets); i++ {
		if p := &l.packets[i]; selects(s.Rooms, p.rooms, p.except) {
			missed = append(missed, p.frames)
		}
	}
	return Restored{Session: s.Session, Missed: missed}, true
}

// selects reports whether a broadcast to rooms except except reaches a
// socket in mine (Node: shouldIncludePacket).
func selects(mine, rooms, except []string) bool {
	included := len(rooms) == 0
	for _, r := range mine {
		if slices.Contains(except, r) {
			return false
		}
		if !included && slices.Contains(rooms, r) {
			included = true
		}
	}
	return included
}

func (l *recoveryLog) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closed = true
	if l.sweep != nil {
		l.sweep.Stop()
		l.sweep = nil
	}
	l.sessions = nil
	l.packets, l.head, l.bytes = nil, 0, 0
}

// PersistSession implements SessionAware.
func (a *InMemoryWithRecovery) PersistSession(s Session) { a.rec.persist(s) }

// SessionSID implements SessionAware.
func (a *InMemoryWithRecovery) SessionSID(pid string) (string, bool) {
	a.rec.mu.Lock()
	defer a.rec.mu.Unlock()
	s, ok := a.rec.sessionLocked(pid, time.Now())
	return s.SID, ok
}

// RestoreSession implements SessionAware.
func (a *InMemoryWithRecovery) RestoreSession(pid, offset string) (Restored, bool) {
	c := a.observe()
	a.mu.Lock()
	a.rec.mu.Lock()
	r, ok := a.rec.restoreLocked(pid, offset)
	a.rec.mu.Unlock()
	if ok {
		a.addLocked(r.SID, r.Rooms, c)
	}
	a.report(c)
	a.mu.Unlock()
	return r, ok
}
