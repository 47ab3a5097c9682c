package engineio

import (
	"io"
	"sync"
	"syscall"

	"github.com/switchboard-go/socketio/internal/queue"
)

// The probe exchange of an upgrade on a WebSocket read by a goroutine of
// its own (not on the poller: TLS, DisablePoller, other platforms).
//
// A poll that arrives while an upgrade is in progress must be answered
// after the probe's input that arrived before it (Conn.catchUpProbe): the
// client may have sent "5" before polling. So until the upgrade packet,
// the probe is not read through a buffer (which would hold input no
// other goroutine can see) but frame by frame, never reading past the
// frame being handled, under a lock that the poll's goroutine takes to
// read and handle what has arrived itself. After the upgrade packet the
// stream continues at a frame boundary and the reader goroutine's frame
// parser (websocket.go) reads the rest. On plain TCP the reads are non-blocking, through the socket's
// syscall.RawConn, so whichever goroutine holds the lock sees everything
// the kernel has; on TLS (no RawConn) the probe's goroutine reads
// blocking, and a poll cannot catch up with input still being decrypted.
type wsProbe struct {
	c  *Conn
	g  *gorillaWS
	rc syscall.RawConn // nil on TLS

	mu     sync.Mutex
	frame  []byte // the frame being read
	probed bool   // "3probe" was sent
	state  int
}

const (
	probeReading = iota
	probeUpgraded
	probeFailed
)

// probeFrameMax bounds a probe-phase frame: header, mask and a control
// frame's largest payload. The packets of the exchange ("2probe", "5",
// "6") are a few bytes.
const probeFrameMax = 2 + 4 + 125

func newWSProbe(c *Conn, g *gorillaWS) *wsProbe {
	p := &wsProbe{c: c, g: g, frame: make([]byte, 0, probeFrameMax)}
	if sc, ok := g.nc.(syscall.Conn); ok {
		if rc, err := sc.SyscallConn(); err == nil {
			p.rc = rc
		}
	}
	return p
}

// run reads the probe until the upgrade packet (true) or a failure.
func (p *wsProbe) run() bool {
	if p.rc == nil {
		return p.runBlocking()
	}
	for {
		err := p.rc.Read(func(fd uintptr) bool {
			p.mu.Lock()
			defer p.mu.Unlock()
			return p.readLocked(fd)
		})
		p.mu.Lock()
		state := p.state
		if err != nil && state == probeReading {
			p.state, state = probeFailed, probeFailed
		}
		p.mu.Unlock()
		if state != probeReading {
			return state == probeUpgraded
		}
	}
}

// readLocked reads and handles what the kernel has, without blocking; it
// reports whether the exchange is over (false: wait for more input).
//
// requires p.mu
func (p *wsProbe) readLocked(fd uintptr) bool {
	for p.state == probeReading {
		need := p.frameLen()
		if need < 0 {
			p.state = probeFailed
			break
		}
		n, err := sysRead(fd, p.frame[len(p.frame):need])
		switch {
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN:
			return false
		case err != nil || n <= 0:
			p.state = probeFailed
			continue
		}
		p.frame = p.frame[:len(p.frame)+n]
		if len(p.frame) == need && p.frameLen() == need {
			p.handleFrame()
		}
	}
	return true
}

// runBlocking is run for a connection without RawConn (TLS).
func (p *wsProbe) runBlocking() bool {
	nc := p.g.nc
	for {
		p.mu.Lock()
		state := p.state
		need := p.frameLen()
		have := len(p.frame)
		p.mu.Unlock()
		if state != probeReading {
			return state == probeUpgraded
		}
		if need < 0 {
			return false
		}
		// Only this goroutine reads; the lock guards the state against
		// catchUp, which has nothing to read here.
		buf := p.frame[:need]
		if _, err := io.ReadFull(nc, buf[have:need]); err != nil {
			return false
		}
		p.mu.Lock()
		p.frame = buf
		if p.frameLen() == need {
			p.handleFrame()
		}
		p.mu.Unlock()
	}
}

// catchUp reads and handles what has arrived, on the caller's goroutine.
func (p *wsProbe) catchUp() {
	if p.rc == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.state != probeReading {
		return
	}
	_ = p.rc.Control(func(fd uintptr) { p.readLocked(fd) })
}

// frameLen returns the length of the frame being read as far as its
// header tells (the header's first two bytes, then the whole frame), or
// -1 for a frame the exchange does not allow: longer than a control
// frame, unmasked, fragmented.
//
// requires p.mu
func (p *wsProbe) frameLen() int {
	f := p.frame
	if len(f) < 2 {
		return 2
	}
	n := int(f[1] & 0x7f)
	if f[1]&0x80 == 0 || n > 125 || f[0]&finBit == 0 {
		return -1
	}
	return 2 + 4 + n
}

// handleFrame handles the complete frame p.frame and starts the next.
//
// requires p.mu
func (p *wsProbe) handleFrame() {
	f := p.frame
	p.frame = p.frame[:0]
	mask, payload := f[2:6], f[6:]
	for i := range payload {
		payload[i] ^= mask[i&3]
	}
	switch f[0] & opMask {
	case opText:
	case opPing:
		_ = p.g.writeFrames(appendControlFrame(nil, opPong, payload), false)
		return
	case opPong:
		return
	default: // close, binary, continuation
		p.state = probeFailed
		return
	}
	data := append([]byte(nil), payload...)
	if f[0]&rsv1Bit != 0 {
		if !p.g.deflate {
			p.state = probeFailed
			return
		}
		m, err := inflateMessage(data, probeFrameMax)
		if err != nil {
			p.state = probeFailed
			return
		}
		data = append(data[:0], m.b...)
		m.release()
	}
	pkt, err := DecodeText(data)
	switch {
	case err == nil && pkt.Type == PacketPing && string(pkt.Data) == "probe":
		if p.g.writeFrames(appendFrame(nil, queue.Item{Kind: byte(PacketPong), Data: []byte("probe")}), false) != nil {
			p.state = probeFailed
			return
		}
		p.probed = true
		p.c.probeSucceeded()
	case err == nil && pkt.Type == PacketUpgrade && p.probed:
		p.state = probeUpgraded
		p.c.attach(p.g)
	case err == nil && pkt.Type == PacketNoop:
		// Harmless; some clients send it while upgrading.
	default:
		p.state = probeFailed
	}
}

// rsv1Bit marks a compressed message (RFC 7692 §6).
const rsv1Bit = 0x40
