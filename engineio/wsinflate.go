package engineio

import (
	"bytes"
	"compress/flate"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// Inflating permessage-deflate messages (RFC 7692) within a size limit.
//
// A compressed message is bounded by maxPayload on the wire like any
// other, but deflate reaches ratios of about 1000:1, so its inflated size
// must be bounded on its own: the output is produced a piece at a time and
// the inflation stops as soon as it passes the limit, so no more than
// limit+1 inflated bytes are ever held, whatever the input announces.
//
// The server negotiates no context takeover in either direction (gorilla's
// Upgrader answers with server_no_context_takeover and
// client_no_context_takeover), so every message inflates on its own with
// a fresh dictionary.

// deflateTail ends a message's deflate data (RFC 7692 §7.2.2: the sender
// strips 00 00 ff ff; the receiver puts it back), followed by an empty
// final stored block so that the inflater reports io.EOF at the end
// rather than waiting for more.
var deflateTail = []byte{0, 0, 0xff, 0xff, 1, 0, 0, 0xff, 0xff}

// pooledInflateBuffer is the largest output buffer kept for reuse: larger
// messages are rare and get a buffer of their own.
const pooledInflateBuffer = 64 << 10

// inflater is a reusable flate reader over a message and deflateTail.
type inflater struct {
	msg  bytes.Reader
	tail bytes.Reader
	fr   io.ReadCloser // a flate reader, also a flate.Resetter
}

// Read reads the message, then the tail.
func (in *inflater) Read(b []byte) (int, error) {
	if in.msg.Len() > 0 {
		return in.msg.Read(b)
	}
	return in.tail.Read(b)
}

var (
	inflaters      sync.Pool // *inflater
	inflateBuffers sync.Pool // *[]byte of cap pooledInflateBuffer
)

// inflatedMessage is the output of inflateMessage; release gives its
// buffer back once b is no longer used.
type inflatedMessage struct {
	b      []byte
	pooled *[]byte
}

func (m inflatedMessage) release() {
	if m.pooled != nil {
		*m.pooled = (*m.pooled)[:0]
		inflateBuffers.Put(m.pooled)
	}
}

// inflateMessage inflates one compressed message of at most limit bytes
// once inflated. A larger one fails with close 1009 after at most limit+1
// bytes were produced; data that is not valid deflate fails with 1007, as
// Node's ws answers it.
func inflateMessage(compressed []byte, limit int) (inflatedMessage, error) {
	limit = max(limit, 0)
	in, _ := inflaters.Get().(*inflater)
	if in == nil {
		in = new(inflater)
	}
	in.msg.Reset(compressed)
	in.tail.Reset(deflateTail)
	if in.fr == nil {
		in.fr = flate.NewReader(in)
	} else if err := in.fr.(flate.Resetter).Reset(in, nil); err != nil {
		return inflatedMessage{}, err // never: Reset only fails on a bad dictionary
	}
	defer func() {
		in.msg.Reset(nil)
		inflaters.Put(in)
	}()

	var out inflatedMessage
	if p, _ := inflateBuffers.Get().(*[]byte); p != nil {
		out.pooled, out.b = p, (*p)[:0]
	} else if limit+1 <= pooledInflateBuffer {
		b := make([]byte, 0, pooledInflateBuffer)
		out.pooled, out.b = &b, b
	}
	buf := out.b
	for {
		if len(buf) == cap(buf) {
			// Grow by doubling, never past limit+1: one byte more than
			// the limit is enough to know the message is too big.
			c := min(max(2*cap(buf), 4<<10), limit+1)
			if c <= len(buf) {
				out.release()
				return inflatedMessage{}, &wsCloseError{closeMessageTooBig, "inflated message larger than " + strconv.Itoa(limit) + " bytes"}
			}
			nb := make([]byte, len(buf), c)
			copy(nb, buf)
			buf = nb
		}
		n, err := in.fr.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if len(buf) > limit {
			out.release()
			return inflatedMessage{}, &wsCloseError{closeMessageTooBig, "inflated message larger than " + strconv.Itoa(limit) + " bytes"}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			out.release()
			var ce flate.CorruptInputError
			if errors.As(err, &ce) || errors.Is(err, io.ErrUnexpectedEOF) {
				return inflatedMessage{}, &wsCloseError{closeInvalidPayload, "invalid compressed message"}
			}
			return inflatedMessage{}, &wsCloseError{closeInvalidPayload, "invalid compressed message: " + err.Error()}
		}
	}
	if out.pooled != nil && cap(buf) != cap(*out.pooled) {
		// Grown past the pooled buffer: that one goes back now.
		out.release()
		out.pooled = nil
	}
	out.b = buf
	return out, nil
}

// negotiatesDeflate reports whether gorilla's Upgrader, with compression
// enabled, accepts permessage-deflate for a request with these headers:
// it does when one of the extensions offered is named
// permessage-deflate, whatever its parameters.
func negotiatesDeflate(h http.Header) bool {
	for _, v := range h.Values("Sec-Websocket-Extensions") {
		for ext := range strings.SplitSeq(v, ",") {
			name, _, _ := strings.Cut(ext, ";")
			if strings.TrimSpace(name) == "permessage-deflate" {
				return true
			}
		}
	}
	return false
}
