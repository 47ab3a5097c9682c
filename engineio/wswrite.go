package engineio

import (
	"encoding/base64"
	"errors"
	"net"
	"sync"
	"syscall"

	"github.com/gorilla/websocket"

	"github.com/switchboard-go/socketio/internal/netpoll"
	"github.com/switchboard-go/socketio/internal/queue"
)

// The server's WebSocket write path.
//
// A writer runs only while the session has something to write: kick
// hands one to a dispatcher (dispatch.go) when the queue becomes
// non-empty, and it returns once the queue is empty, so an idle
// connection holds no writer stack; the dispatcher's goroutine, its stack
// grown by crypto/tls, serves the next writer or packets. (A broadcast to
// the front's TLS WebSockets is written by rounds instead: wstls.go.)
//
// The writer frames a whole drained batch itself and hands it to the
// kernel in one writev: server frames are unmasked, so a frame is a short
// header followed by the payload, and a broadcast's frames are built once
// (Prepare) and shared by every target. On a connection that negotiated
// permessage-deflate, a message of compressThreshold bytes or more is
// sent compressed by the engine's own compressor (wsdeflate.go): a
// broadcast's compressed frame is built once, by the first such receiver's
// writer, and shared by the others (queue.Frames); a message sent to one
// connection is compressed when it is written. Every path (the poller, a
// reader goroutine's connection, TLS) writes the same frames, and gorilla
// writes none of them. The control frames the reader answers with (pongs,
// close frames) take the connection's write lock as a batch does
// (gorillaWS.writeFrames), so they never land inside a frame, even on TLS
// where a batch is several writes.

// writeBatchBytes caps one batch so a connection with a deep queue does not
// hold its write deadline for too long in one go.
const writeBatchBytes = 256 << 10

// compressThreshold is the smallest message compressed when
// permessage-deflate was negotiated (Node: perMessageDeflate.threshold):
// below it deflate costs more CPU than it saves bytes.
const compressThreshold = 1024

// compressible reports whether it is worth compressing and allowed to be.
func compressible(it queue.Item) bool { return !it.NoCompress && len(it.Data) >= compressThreshold }

// typeDigits holds the packet type characters, sliced per write so that
// writing a type prefix does not allocate.
var typeDigits = []byte("0123456")

func typeDigit(kind byte) []byte {
	k := kind % byte(len(typeDigits))
	return typeDigits[k : k+1]
}

const (
	opText   = 0x1
	opBinary = 0x2
	finBit   = 0x80
)

// appendFrameHeader appends an unmasked, final WebSocket frame header for a
// payload of n bytes (RFC 6455 §5.2).
func appendFrameHeader(dst []byte, opcode byte, n int) []byte {
	dst = append(dst, finBit|opcode)
	switch {
	case n < 126:
		return append(dst, byte(n))
	case n <= 0xffff:
		return append(dst, 126, byte(n>>8), byte(n))
	default:
		return append(dst, 127, byte(n>>56), byte(n>>48), byte(n>>40), byte(n>>32), byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
}

// appendFrame appends the whole frame of a queued message.
func appendFrame(dst []byte, it queue.Item) []byte {
	if it.Binary {
		dst = appendFrameHeader(dst, opBinary, len(it.Data))
		return append(dst, it.Data...)
	}
	dst = appendFrameHeader(dst, opText, 1+len(it.Data))
	dst = append(dst, typeDigit(it.Kind)...)
	return append(dst, it.Data...)
}

// framesV3 gives the binary messages of a batch for a v3 client their own
// frames: a binary frame with the type byte 4 before the data, or with b64
// a text frame "b4" and base64, in Frames of their own (a broadcast's are
// shared with v4 receivers). Such a frame goes uncompressed. Text frames
// are the same in v3 and v4.
func framesV3(batch []queue.Item, b64 bool) {
	for i := range batch {
		it := &batch[i]
		if !it.Binary {
			continue
		}
		var f []byte
		if b64 {
			n := len(eio3Base64Prefix) + base64.StdEncoding.EncodedLen(len(it.Data))
			f = appendFrameHeader(make([]byte, 0, n+10), opText, n)
			f = append(f, eio3Base64Prefix...)
			f = base64.StdEncoding.AppendEncode(f, it.Data)
		} else {
			f = appendFrameHeader(make([]byte, 0, len(it.Data)+11), opBinary, 1+len(it.Data))
			f = append(f, byte(PacketMessage))
			f = append(f, it.Data...)
		}
		it.Frames, it.NoCompress = &queue.Frames{Plain: f}, true
	}
}

// Prepared is a unit of messages encoded once to be sent to many
// connections: a broadcast. Its WebSocket frames are built once and shared
// by every target: the plain frames here, the compressed ones by the first
// target that negotiated permessage-deflate, if any does (so a broadcast to
// plain connections only compresses nothing); polling targets use the
// messages themselves. It is safe for concurrent use.
type Prepared struct {
	items  []queue.Item
	frames []queue.Frames // items[i].Frames is &frames[i]
}

// Prepare encodes msgs (one Socket.IO packet: its text and attachments)
// for SendPrepared.
func Prepare(msgs []Message) *Prepared {
	p := &Prepared{items: make([]queue.Item, len(msgs)), frames: make([]queue.Frames, len(msgs))}
	for i, m := range msgs {
		it := queue.Item{Kind: byte(PacketMessage), Binary: m.Binary, NoCompress: m.NoCompress, Data: m.Data}
		p.frames[i].Plain = appendFrame(make([]byte, 0, len(m.Data)+11), it)
		it.Frames = &p.frames[i]
		p.items[i] = it
	}
	return p
}

// SendPrepared queues p as SendMessages would, sharing its bytes.
func (c *Conn) SendPrepared(p *Prepared, volatile bool) error {
	var buf [4]queue.Item
	items := append(buf[:0], p.items...)
	for i := range items {
		items[i].Volatile = volatile
	}
	return c.push(items, volatile, false)
}

// kick makes sure the queue gets written once the session is on
// WebSocket. inline says the caller queued for this connection alone and
// may write itself (event-driven connections only: their writes never
// block); a broadcast passes false and leaves the writing to flushers.
func (c *Conn) kick(inline bool) {
	if pw := c.pollActive.Load(); pw != nil {
		pw.kick(inline)
		return
	}
	ws := c.wsActive.Load()
	if ws == nil {
		c.wakePoll()
		return
	}
	if c.writing.CompareAndSwap(false, true) {
		c.srv.wg.Add(1)
		if !inline && ws.sealer() != nil {
			c.srv.tlsFlushers.add(ws) // a broadcast's: written in rounds
			return
		}
		c.srv.dispatchers.run(ws)
	}
}

// runTask writes g's session's queue on a dispatcher (dispatch.go).
func (g *gorillaWS) runTask() { g.c.writeLoop(g) }

type writeScratch struct {
	batch []queue.Item
	bufs  net.Buffers
	wv    net.Buffers // what writev consumes
	hdr   []byte
	join  []byte // writeJoined's buffer
	poll  netpoll.Scratch
}

// joinMax is the most writeJoined gathers into one Write: a TLS record's
// plaintext limit (RFC 8446 §5.1), so that each Write is one record and
// one write(2). Larger buffers go out as they are.
const joinMax = 16 << 10

// frameBatch gathers the frames of sc.batch in sc.bufs: shared frames as
// they are, other messages as a header (in sc.hdr) and their data.
// deflate: the connection negotiated permessage-deflate, and its
// compressible messages go compressed.
func (sc *writeScratch) frameBatch(deflate bool) {
	sc.bufs, sc.hdr = sc.bufs[:0], sc.hdr[:0]
	// Headers are at most 10 bytes and a type digit: sized up front, hdr
	// never moves while bufs point into it.
	if need := 11 * len(sc.batch); cap(sc.hdr) < need {
		sc.hdr = make([]byte, 0, need)
	}
	for _, it := range sc.batch {
		if deflate && compressible(it) && sc.appendDeflated(it) {
			continue
		}
		sc.appendItem(it)
	}
}

// appendDeflated gathers the compressed frame of it: a broadcast's shared
// one, compressed by whichever of its receivers' writers needed it first,
// or one of its own. It reports false when the message goes uncompressed
// (compressing would not make it smaller).
func (sc *writeScratch) appendDeflated(it queue.Item) bool {
	var f []byte
	if it.Frames != nil {
		f = it.Frames.Deflated(deflateShared)
	} else {
		f = deflateItem(it)
	}
	if f == nil {
		return false
	}
	sc.bufs = append(sc.bufs, f)
	return true
}

// appendItem gathers the uncompressed frame of it.
func (sc *writeScratch) appendItem(it queue.Item) {
	if it.Frames != nil {
		sc.bufs = append(sc.bufs, it.Frames.Plain)
		return
	}
	start := len(sc.hdr)
	if it.Binary {
		sc.hdr = appendFrameHeader(sc.hdr, opBinary, len(it.Data))
	} else {
		sc.hdr = appendFrameHeader(sc.hdr, opText, 1+len(it.Data))
		sc.hdr = append(sc.hdr, typeDigit(it.Kind)...)
	}
	sc.bufs = append(sc.bufs, sc.hdr[start:len(sc.hdr):len(sc.hdr)])
	if len(it.Data) > 0 {
		sc.bufs = append(sc.bufs, it.Data)
	}
}

var scratchPool = sync.Pool{New: func() any { return new(writeScratch) }}

func getScratch() *writeScratch { return scratchPool.Get().(*writeScratch) }

// putScratch returns sc to the pool without references to sent data.
func putScratch(sc *writeScratch) {
	sc.reset()
	scratchPool.Put(sc)
}

// reset empties sc for its next batch, dropping its references to the
// data of the last one.
func (sc *writeScratch) reset() {
	clear(sc.batch)
	clear(sc.bufs)
	sc.batch, sc.bufs, sc.hdr = sc.batch[:0], sc.bufs[:0], sc.hdr[:0]
}

func (c *Conn) writeLoop(g *gorillaWS) {
	defer c.srv.wg.Done()
	sc := getScratch()
	defer putScratch(sc)
	for {
		c.mu.Lock()
		closed, flush := c.closed, c.flushOnClose
		c.mu.Unlock()
		if closed && !flush {
			g.abort() // close() already shut the connection
			return
		}
		sc.batch = c.q.Drain(sc.batch[:0], writeBatchBytes)
		if c.eio3 {
			framesV3(sc.batch, c.b64)
		}
		if len(sc.batch) > 0 {
			if err := g.writeBatch(sc); err != nil {
				c.writeFailed(g, err)
				return
			}
			clear(sc.batch)
			continue
		}
		if closed { // flushed: say goodbye
			_ = g.writeFrames(appendCloseFrame(nil, closeNormal, ""), true)
			g.abort()
			return
		}
		// Idle: let the goroutine go. A push that raced with this check
		// either sees writing==false and starts a writer, or is seen by
		// the re-check below.
		c.writing.Store(false)
		if n, _ := c.q.Len(); n == 0 && !c.isClosed() {
			return
		}
		if !c.writing.CompareAndSwap(false, true) {
			return // a pusher started another writer
		}
	}
}

// writeFailed ends the session after a write on g failed: the writer's, or
// the reader's answer to a ping.
func (c *Conn) writeFailed(g *gorillaWS, err error) {
	c.closeAfterWrite(writeErrorReason(err))
	g.abort()
}

// closeAfterWrite ends the session after a write that failed for reason
// (a WebSocket frame or, through Serve, a poll's answer). A client that
// did not take the write within WriteTimeout (ReasonWriteTimeout) is
// counted in Stats and logged as well. (Closing an already closed session
// forces its pending graceful close, which a client that does not read
// would not let finish.)
func (c *Conn) closeAfterWrite(reason string) {
	if reason == ReasonWriteTimeout && !c.isClosed() {
		c.srv.stats.writeTimeouts.Add(1)
		c.srv.cfg.Logger.Info("engineio: disconnecting a client that does not read", "sid", c.id, "reason", reason)
	}
	c.close(reason, false)
}

// writeBatch writes sc.batch, its frames gathered into one writev
// (compressed ones included). They are built before the write lock is
// taken: compressing a large message does not delay the reader's pongs.
func (g *gorillaWS) writeBatch(sc *writeScratch) error {
	sc.frameBatch(g.deflate)
	g.wmu.Lock()
	defer g.wmu.Unlock()
	if g.closing {
		return websocket.ErrCloseSent
	}
	if err := g.refreshDeadline(); err != nil {
		return err
	}
	return sc.flush(g.nc)
}

// flush writes the gathered frames with one writev.
func (sc *writeScratch) flush(nc net.Conn) error {
	if len(sc.bufs) == 0 {
		return nil
	}
	var err error
	if _, writev := nc.(*net.TCPConn); writev || len(sc.bufs) == 1 {
		// WriteTo consumes its receiver: hand it a copy of the slice
		// header, kept in the scratch so that taking its address
		// allocates nothing.
		sc.wv = sc.bufs
		_, err = sc.wv.WriteTo(nc)
		sc.wv = nil
	} else {
		err = sc.writeJoined(nc)
	}
	clear(sc.bufs)
	sc.bufs, sc.hdr = sc.bufs[:0], sc.hdr[:0]
	return err
}

// writeJoined writes sc.bufs to a connection without writev (TLS):
// net.Buffers would write them one by one, each buffer a record of its
// own, sealed and sent with a write(2) of its own (a frame header and its
// payload two records, a batch of 50 small frames 100). Gathered up to
// joinMax a Write, a batch of small frames is one record.
func (sc *writeScratch) writeJoined(nc net.Conn) error {
	buf := sc.join[:0]
	for _, b := range sc.bufs {
		if len(buf) > 0 && len(buf)+len(b) > joinMax {
			if _, err := nc.Write(buf); err != nil {
				return err
			}
			buf = buf[:0]
		}
		if len(b) >= joinMax {
			if _, err := nc.Write(b); err != nil {
				return err
			}
			continue
		}
		buf = append(buf, b...)
	}
	sc.join = buf[:0]
	if len(buf) == 0 {
		return nil
	}
	_, err := nc.Write(buf)
	return err
}

// writeErrorReason names why a write failed: the client stopped reading
// (timeout), or it went away, which is a close rather than a failure.
func writeErrorReason(err error) string {
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		return ReasonWriteTimeout
	case errors.Is(err, websocket.ErrCloseSent), errors.Is(err, syscall.EPIPE), errors.Is(err, syscall.ECONNRESET), errors.Is(err, net.ErrClosed):
		return ReasonTransportClose
	}
	return ReasonTransportError
}
