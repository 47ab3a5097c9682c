package engineio

import (
	"bytes"
	"crypto/tls"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
)

// helloSplitter sits under the front's tls.Conn and passes the client's
// first TLS record, the ClientHello, to crypto/tls in records of its own
// choosing (pieces, each with a header); then it steps aside.
//
// Why: a tls.Conn keeps, for the connection's life, the two buffers its
// handshake grew: rawInput, which holds a whole record, and hand, which
// holds a whole handshake message. A ClientHello with a post-quantum key
// share (X25519MLKEM768, what current browsers, Node and Go send) is
// about 1.5 KB: whole, it grows rawInput to 2 KiB (the record, plus the
// 512 bytes, bytes.MinRead, it keeps free) and hand to 1.5 KiB; 3.5 of
// the 8.4 KB live per idle TLS WebSocket, measured.
//
// rawInput starts at 576 bytes, and a piece that fits (maxPiece of
// payload) arrives whole in one read into it and leaves it at that. hand
// is a bytes.Buffer: written piece by piece, it doubles its capacity (in
// the allocator's size classes) whenever a piece does not fit, from the
// size class of the first piece. So the size of the pieces decides the
// capacity hand ends with: pieceFor picks the one that ends with the
// least that holds the message (1.5 KiB for Go's 1,498-byte hello, where
// 64-byte pieces end at 2 KiB and the hello whole at 1.5 KiB with 2 KiB
// of rawInput). A hello that fits one piece passes as it came.
//
// Splitting a handshake message across records is the protocol's own
// (RFC 8446, section 5.1; RFC 5246, section 6.2.1): the transcript covers
// messages, not records, so the handshake is the same. Only a first
// record of type handshake, within the plaintext limit, is split; anything
// else (an HTTP request on the TLS port, an SSLv2 hello) passes as it came,
// for crypto/tls to answer as it would.
//
// After the first record it passes reads on as they come, and notes
// whether the last one filled the buffer it was given (full): the kernel
// may then hold more input, which the front's edge-triggered watch will
// not report again (frontConn.readArrived). Only the goroutine reading
// the tls.Conn touches it.
//
// A round (frontConn.seal, gorillaWS's TLS rounds) has the tls.Conn seal
// its bytes while capturing: the splitter keeps the records instead of
// writing them, and the round writes them on the raw connection with its
// other writes. Until the round says they were sent (sent), a record the
// tls.Conn writes itself (an alert, or the KeyUpdate that answers the
// client's: the reader's, not the round's) waits, so that records reach
// the wire in the order they were sealed: the client would refuse any
// other. Once broken is set (an answer or a frame could not be written
// whole, so the stream is cut inside a record), it writes nothing more:
// closing the tls.Conn then sends no close_notify, which would wait up to
// 5 s for a client that does not read.
type helloSplitter struct {
	net.Conn
	first  *firstRecord // until the first record has been passed on
	full   bool         // the last read filled its buffer
	mode   splitRead    // how a read after the first record goes (the reader's alone)
	broken atomic.Bool

	// rc is the socket's, for reads that do not wait (splitNow).
	rc syscall.RawConn

	outMu   sync.Mutex
	sending bool          // captured records are on their way (captureInto to sent)
	capture *[]byte       // while set, what the tls.Conn writes goes here
	unsent  chan struct{} // made by a write that waits for sent, closed by it
}

func (c *helloSplitter) Write(p []byte) (int, error) {
	if c.broken.Load() {
		return 0, net.ErrClosed
	}
	c.outMu.Lock()
	for c.sending && c.capture == nil {
		if c.unsent == nil {
			c.unsent = make(chan struct{})
		}
		wait := c.unsent
		c.outMu.Unlock()
		<-wait
		c.outMu.Lock()
	}
	if b := c.capture; b != nil {
		*b = append(*b, p...)
		c.outMu.Unlock()
		return len(p), nil
	}
	c.outMu.Unlock()
	// (A round that captures from now on seals after this write: the
	// tls.Conn's output lock, held here, orders them.) A failure may have
	// come while this write waited.
	if c.broken.Load() {
		return 0, net.ErrClosed
	}
	return c.Conn.Write(p)
}

// captureInto has the records the tls.Conn writes from now on appended to
// *buf, until endCapture; they count as on their way until sent.
func (c *helloSplitter) captureInto(buf *[]byte) {
	c.outMu.Lock()
	c.sending, c.capture = true, buf
	c.outMu.Unlock()
}

// endCapture ends captureInto: *buf holds the records.
func (c *helloSplitter) endCapture() {
	c.outMu.Lock()
	c.capture = nil
	c.outMu.Unlock()
}

// sent says the captured records were written, or never will be (the
// connection failed): the tls.Conn's own writes go on. It may be called
// when nothing was captured.
func (c *helloSplitter) sent() {
	c.outMu.Lock()
	c.sending = false
	if c.unsent != nil {
		close(c.unsent)
		c.unsent = nil
	}
	c.outMu.Unlock()
}

const (
	tlsRecordHeader    = 5
	tlsRecordHandshake = 22
	tlsMaxPlaintext    = 1 << 14
)

// maxPiece is the most payload a piece has: with its header, what
// rawInput holds from its first growth (firstReadSize).
const maxPiece = firstReadSize - tlsRecordHeader

// handGrowth is how a bytes.Buffer written in pieces of one size grows:
// caps[i] is its capacity after the i-th growth.
type handGrowth struct {
	piece int
	caps  []int
}

// handGrowths are measured once, on real bytes.Buffers (the allocator's
// size classes are the runtime's), for piece sizes from 64 bytes (what
// bytes.Buffer starts with) to maxPiece: every size class's largest size
// is one of them, and the pieces of one class grow the buffer alike.
var handGrowths = sync.OnceValue(func() []handGrowth {
	// The allocator's classes up to 256 bytes are 16 apart, and above it
	// 32 or 64: 64, 80, ..., 544, and maxPiece.
	var sizes []int
	for k := range (maxPiece - 64) / 16 {
		sizes = append(sizes, 64+16*k)
	}
	sizes = append(sizes, maxPiece)
	var gs []handGrowth
	for _, p := range sizes {
		g := handGrowth{piece: p}
		var b bytes.Buffer
		piece := make([]byte, p)
		for b.Len() < tlsMaxPlaintext {
			b.Write(piece)
			if c := b.Cap(); len(g.caps) == 0 || c != g.caps[len(g.caps)-1] {
				g.caps = append(g.caps, c)
			}
		}
		gs = append(gs, g)
	}
	return gs
})

// pieceFor is the payload size of the pieces a handshake record of m
// bytes is passed in: the one whose growth of hand ends with the least
// capacity holding m bytes (of two alike, the larger: fewer records).
// Each piece is at most the buffer's capacity after the first, so the
// buffer grows only by doubling, as measured.
func pieceFor(m int) int {
	if m <= maxPiece {
		return m // one piece: hand is made to its size
	}
	best, bestCap := maxPiece, 0
	for _, g := range handGrowths() {
		for _, c := range g.caps {
			if c < m {
				continue
			}
			if bestCap == 0 || c <= bestCap {
				best, bestCap = g.piece, c
			}
			break
		}
	}
	return best
}

type firstRecord struct {
	started bool
	header  [3]byte // the record's type and version, repeated in each piece's header
	body    []byte  // the record's payload not yet passed on
	after   []byte  // bytes read past the record, passed on as they came after it
	out     []byte  // bytes ready for Read
	size    int     // the payload of each piece but the last (pieceFor)
	piece   [tlsRecordHeader + maxPiece]byte
}

// firstReadSize is what the first read may take: what crypto/tls's own
// first read takes (a header and bytes.MinRead, in a 576-byte class), so
// that input which is not TLS is consumed as crypto/tls alone would
// consume it (an HTTP request to the TLS port is then closed with a FIN,
// not reset for unread bytes).
const firstReadSize = 576

func newHelloSplitter(nc net.Conn) *helloSplitter {
	return &helloSplitter{Conn: nc, first: &firstRecord{}}
}

// splitRead is how the splitter reads the socket once the first record
// has been passed on: the front's reader (frontConn.readArrived) chooses
// for each read of the tls.Conn.
type splitRead uint8

const (
	// splitWait: a read waits for input, within the connection's read
	// deadline (the handshake, the rest of a request begun).
	splitWait splitRead = iota
	// splitNow: one read of what the kernel holds, without waiting and
	// whatever the deadline; nothing there is a timeout, which a tls.Conn
	// takes as passing (it keeps what it read of a record and carries
	// on).
	splitNow
	// splitNone: the socket is not read (a timeout at once): the tls.Conn
	// gives what it holds already.
	splitNone
)

func (c *helloSplitter) Read(p []byte) (int, error) {
	r := c.first
	if r == nil {
		// (The front's reader reads the socket again while full is
		// set: a read that returns nothing leaves the kernel empty.)
		var n int
		var err error
		switch c.mode {
		case splitNone:
			return 0, os.ErrDeadlineExceeded
		case splitNow:
			n, err = readNowOn(c.rc, p)
		default:
			n, err = c.Conn.Read(p)
		}
		c.full = n == len(p)
		return n, err
	}
	if len(r.out) == 0 {
		if err := r.next(c.Conn); err != nil {
			c.first = nil
			return 0, err
		}
	}
	n := copy(p, r.out)
	r.out = r.out[n:]
	if len(r.out) == 0 && len(r.body) == 0 && len(r.after) == 0 {
		c.first = nil
	}
	return n, nil
}

// next readies the next bytes to pass on: on the first call it reads the
// record's header and, when the record is to be split, its payload.
func (r *firstRecord) next(nc net.Conn) error {
	if r.started {
		r.cut()
		return nil
	}
	r.started = true
	buf := make([]byte, firstReadSize)
	n := 0
	for n < tlsRecordHeader {
		m, err := nc.Read(buf[n:])
		n += m
		if err != nil {
			if n == 0 {
				return err
			}
			// What came goes on as it came; the error comes again on
			// the next Read.
			r.out = buf[:n]
			return nil
		}
	}
	size := int(buf[3])<<8 | int(buf[4])
	if buf[0] != tlsRecordHandshake || size == 0 || size > tlsMaxPlaintext {
		// Not a record to split. (One past the plaintext limit must
		// reach crypto/tls whole, which refuses it; a header version
		// it refuses is refused in a piece's header as well.)
		r.out = buf[:n]
		return nil
	}
	copy(r.header[:], buf[:3])
	r.size = pieceFor(size)
	r.body = make([]byte, size)
	k := copy(r.body, buf[tlsRecordHeader:n])
	r.after = buf[tlsRecordHeader+k : n]
	if _, err := io.ReadFull(nc, r.body[k:]); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF // the record had begun
		}
		return err
	}
	r.cut()
	return nil
}

// cut readies the next piece of the body, or, after the last one, the
// bytes read past the record.
func (r *firstRecord) cut() {
	if len(r.body) == 0 {
		r.out, r.after = r.after, nil
		return
	}
	k := min(len(r.body), r.size)
	copy(r.piece[:3], r.header[:])
	r.piece[3], r.piece[4] = byte(k>>8), byte(k)
	copy(r.piece[tlsRecordHeader:], r.body[:k])
	r.body = r.body[k:]
	r.out = r.piece[:tlsRecordHeader+k]
}

// netConnOf is the connection under a TLS one (the TCP connection the
// poller watches), or nc itself.
func netConnOf(nc net.Conn) net.Conn {
	if tc, ok := nc.(*tls.Conn); ok {
		nc = tc.NetConn()
	}
	if hs, ok := nc.(*helloSplitter); ok {
		nc = hs.Conn
	}
	return nc
}
