package engineio

import (
	"bytes"
	"compress/flate"
	"sync"
	"sync/atomic"

	"github.com/switchboard-go/socketio/internal/queue"
)

// Compressing the server's permessage-deflate messages (RFC 7692).
//
// The server negotiates no context takeover in either direction
// (gorilla's Upgrader answers every offer with server_no_context_takeover
// and client_no_context_takeover), so each message is compressed on its
// own, from a fresh dictionary: its compressed bytes depend on the
// message alone, never on the connection or on what was sent before.
// That is what lets a broadcast be compressed once and its frame shared by
// every receiver that negotiated the extension (queue.Frames, built
// lazily by the first of them), and what lets a connection hold no
// compressor at all between messages: the flate writers (several hundred
// KiB each, whatever the level) live in a pool and are taken only for the
// time of one message.
//
// The server writes these frames itself, on the poller as on the reader
// goroutine paths; gorilla only negotiates the extension.

// deflateLevel is the compression level of the server's messages:
// flate.BestSpeed, gorilla's default and the level the server used while
// gorilla compressed for it. Besides encoding faster, Go's BestSpeed
// encoder resets between messages by moving an offset, where the other
// levels clear two 128 KiB hash tables on every Reset, for every message,
// since no context is taken over. Measured on a 2 KiB JSON event
// (BenchmarkDeflateLevel, this package, a shared 2-core machine): 13-16 µs
// a message at level 1 against 28-45 µs at flate.DefaultCompression, for
// 474 compressed bytes against 415 (14 % more).
const deflateLevel = flate.BestSpeed

// deflateSyncTail is what a sync flush ends a deflate stream with (an
// empty stored block): RFC 7692 §7.2.1 has the sender remove it from every
// message, the receiver put it back (deflateTail, wsinflate.go).
var deflateSyncTail = []byte{0, 0, 0xff, 0xff}

// pooledDeflateBuffer is the largest output buffer a pooled compressor
// keeps between messages: larger outputs are rare and not worth holding.
const pooledDeflateBuffer = 64 << 10

// deflater is one message's compressor: a flate writer appending to out.
type deflater struct {
	fw  *flate.Writer
	out []byte
}

// Write collects the flate writer's output.
func (d *deflater) Write(p []byte) (int, error) {
	d.out = append(d.out, p...)
	return len(p), nil
}

var deflaters = sync.Pool{New: func() any {
	d := new(deflater)
	// NewWriter fails only on an invalid level.
	d.fw, _ = flate.NewWriter(d, deflateLevel)
	return d
}}

// testHookDeflate, set only by tests, is told of every message the server
// compresses: the bytes compressed after the prefix (a broadcast's whole
// payload; a single send's data, after its type digit).
var testHookDeflate atomic.Pointer[func(data []byte)]

// deflateFrame returns the complete frame (opcode op, FIN and RSV1 set,
// unmasked) of the message whose uncompressed payload is prefix followed
// by data, or nil when compressing does not make the payload smaller: such
// a message goes better uncompressed (RSV1 clear), which RFC 7692 allows
// for any message, and its receiver then has nothing to inflate.
func deflateFrame(op byte, prefix, data []byte) []byte {
	if hook := testHookDeflate.Load(); hook != nil {
		(*hook)(data)
	}
	d := deflaters.Get().(*deflater)
	defer func() {
		if cap(d.out) > pooledDeflateBuffer {
			d.out = nil
		}
		d.out = d.out[:0]
		deflaters.Put(d)
	}()
	d.out = d.out[:0]
	d.fw.Reset(d)
	// Writes to d cannot fail, and neither can the flate writer's then.
	_, _ = d.fw.Write(prefix)
	_, _ = d.fw.Write(data)
	_ = d.fw.Flush()
	// Flush ends the output with the sync marker, byte-aligned; the
	// message is what comes before it. No final block is written: the
	// receiver's inflater ends with the message (and Reset discards the
	// unfinished stream).
	z, ok := bytes.CutSuffix(d.out, deflateSyncTail)
	if !ok || len(z) >= len(prefix)+len(data) {
		return nil
	}
	f := appendFrameHeader(make([]byte, 0, 10+len(z)), rsv1Bit|op, len(z))
	return append(f, z...)
}

// deflateShared builds the compressed frame shared by a broadcast's
// receivers from its plain frame (queue.Frames.Deflated): the payload of
// the plain frame is exactly what is compressed. It returns plain itself
// when compressing would not make the message smaller.
func deflateShared(plain []byte) []byte {
	op, payload := plain[0]&opMask, framePayload(plain)
	if f := deflateFrame(op, nil, payload); f != nil {
		return f
	}
	return plain
}

// framePayload returns the payload of an unmasked frame built by
// appendFrameHeader.
func framePayload(f []byte) []byte {
	switch f[1] & len7Mask {
	case 126:
		return f[4:]
	case 127:
		return f[10:]
	}
	return f[2:]
}

// deflateItem returns the compressed frame of a message queued for one
// connection (not a broadcast: nothing to share), or nil when it goes
// uncompressed.
func deflateItem(it queue.Item) []byte {
	if it.Binary {
		return deflateFrame(opBinary, nil, it.Data)
	}
	return deflateFrame(opText, typeDigit(it.Kind), it.Data)
}
