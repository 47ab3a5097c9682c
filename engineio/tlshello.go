package engineio

import (
	"crypto/tls"
	"io"
	"net"
)

// helloSplitter sits under the front's tls.Conn and passes the client's
// first TLS record, the ClientHello, to crypto/tls in records of at most
// helloPiece bytes of payload, each with a header of its own; then it
// steps aside.
//
// Why: a tls.Conn keeps, for the connection's life, the two buffers its
// handshake grew: rawInput to hold the largest record read, plus 512
// bytes (bytes.MinRead), and hand to hold the largest handshake message.
// A ClientHello with a post-quantum key share (X25519MLKEM768, what
// current browsers, Node and Go send) is about 1.5 KB, so every idle TLS
// connection held 2 KB of rawInput and 1.5 KB of hand (measured: 3.5 of
// the 8.4 KB live per idle TLS WebSocket). In pieces that fit the 576
// bytes rawInput starts with, beside its 512 spare bytes, rawInput stays
// at 576; hand, filled piece by piece, ends at 2 KB. About 0.95 KB less
// per connection, for about 25 records parsed once per handshake.
//
// Splitting a handshake message across records is the protocol's own
// (RFC 8446, section 5.1; RFC 5246, section 6.2.1): the transcript covers
// messages, not records, so the handshake is the same. Only a first
// record of type handshake, within the plaintext limit, is split; anything
// else (an HTTP request on the TLS port, an SSLv2 hello) passes as it came,
// for crypto/tls to answer as it would.
type helloSplitter struct {
	net.Conn
	first *firstRecord // until the first record has been passed on
}

// A piece is at most pieceSize bytes, helloPiece of payload after its
// 5-byte header: the 64 bytes rawInput may hold beside the 512 it keeps
// free.
const (
	pieceSize  = 64
	helloPiece = 59
)

const (
	tlsRecordHeader    = 5
	tlsRecordHandshake = 22
	tlsMaxPlaintext    = 1 << 14
)

type firstRecord struct {
	started bool
	header  [3]byte // the record's type and version, repeated in each piece's header
	body    []byte  // the record's payload not yet passed on
	after   []byte  // bytes read past the record, passed on as they came after it
	out     []byte  // bytes ready for Read
	piece   [pieceSize]byte
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

func (c *helloSplitter) Read(p []byte) (int, error) {
	r := c.first
	if r == nil {
		return c.Conn.Read(p)
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
	k := min(len(r.body), helloPiece)
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
