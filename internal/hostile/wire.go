package hostile

import (
	"bufio"
	"bytes"
	"compress/flate"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// The attackers speak the wire protocols by hand: a well-formed library
// would refuse to send most of what they send.

// WebSocket opcodes and close codes (RFC 6455).
const (
	opCont   = 0x0
	opText   = 0x1
	opBinary = 0x2
	opClose  = 0x8
	opPing   = 0x9
	opPong   = 0xA

	closeProtocolError = 1002
	closeInvalidData   = 1007
	closeTooBig        = 1009
)

// rawWS is a client WebSocket on a plain net.Conn whose frames the attack
// writes byte by byte.
type rawWS struct {
	conn    net.Conn
	br      *bufio.Reader
	deflate bool          // permessage-deflate was negotiated
	inflate io.ReadCloser // reused for every compressed message
}

// dialTCP connects to the target's host.
func dialTCP(t *Target, d *net.Dialer) (net.Conn, error) {
	if d == nil {
		d = &net.Dialer{Timeout: 5 * time.Second}
	}
	return d.Dial("tcp", t.host)
}

// wsURLPath is the request target of a WebSocket handshake with the extra
// query parameters q.
func (t *Target) requestURI(q string) string {
	return t.path + "?" + q
}

// dialWS opens a WebSocket on the Engine.IO endpoint (a new session:
// EIO=4&transport=websocket) and reads the open packet. With the
// target's path being the compression one, it offers permessage-deflate,
// so that the server takes its compressing (goroutine) reader.
func dialWS(t *Target, d *net.Dialer) (*rawWS, error) {
	return dialWSDeflate(t, d, t.Path == PathDeflate)
}

// dialWSDeflate is dialWS offering permessage-deflate or not.
func dialWSDeflate(t *Target, d *net.Dialer, offerDeflate bool) (*rawWS, error) {
	ws, err := upgradeWS(t, d, "EIO=4&transport=websocket", offerDeflate)
	if err != nil {
		return nil, err
	}
	op, msg, err := ws.readMessage(5 * time.Second)
	if err != nil {
		ws.close()
		return nil, fmt.Errorf("reading the open packet: %w", err)
	}
	if op != opText || len(msg) == 0 || msg[0] != '0' {
		ws.close()
		return nil, fmt.Errorf("expected an open packet, got %q", clip(msg))
	}
	return ws, nil
}

// upgradeWS performs the WebSocket handshake with query q.
func upgradeWS(t *Target, d *net.Dialer, q string, offerDeflate bool) (*rawWS, error) {
	c, err := dialTCP(t, d)
	if err != nil {
		return nil, err
	}
	key := make([]byte, 16)
	_, _ = rand.Read(key)
	var b strings.Builder
	fmt.Fprintf(&b, "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n", t.requestURI(q), t.host)
	fmt.Fprintf(&b, "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n", base64.StdEncoding.EncodeToString(key))
	if offerDeflate {
		b.WriteString("Sec-WebSocket-Extensions: permessage-deflate; client_no_context_takeover; server_no_context_takeover\r\n")
	}
	b.WriteString("\r\n")
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, b.String()); err != nil {
		c.Close()
		return nil, err
	}
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		c.Close()
		return nil, err
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		c.Close()
		return nil, fmt.Errorf("handshake answered %d %s", resp.StatusCode, body)
	}
	_ = c.SetDeadline(time.Time{})
	ext := resp.Header.Get("Sec-Websocket-Extensions")
	return &rawWS{conn: c, br: br, deflate: strings.Contains(ext, "permessage-deflate")}, nil
}

func (w *rawWS) close() { _ = w.conn.Close() }

// pacedWriter writes whole frames to a connection that may stall, with a
// short deadline per call: a write cut by the deadline leaves the rest of
// its bytes pending, written first next time, so the frame stream is never
// torn (a torn frame would make the server close for a protocol error,
// not for what the attack tests).
type pacedWriter struct {
	conn    net.Conn
	pending []byte
	sent    int
}

// write writes the pending bytes, then b if they all went, within d. It
// returns whether the connection failed (any error but a timeout).
func (p *pacedWriter) write(b []byte, d time.Duration) (failed error) {
	_ = p.conn.SetWriteDeadline(time.Now().Add(d))
	if len(p.pending) == 0 {
		p.pending = append(p.pending, b...)
	}
	n, err := p.conn.Write(p.pending)
	p.sent += n
	p.pending = p.pending[n:]
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return nil
		}
		return err
	}
	return nil
}

// frame encodes one client frame. length, when non-negative, is written as
// the header's payload length whatever the payload's real size (for lying
// headers); masked false sends the payload unmasked, which a server must
// refuse.
type frame struct {
	fin     bool
	rsv     byte // RSV bits, already shifted (0x40 is RSV1)
	op      byte
	payload []byte
	length  int64 // <0: len(payload)
	noMask  bool
	hugeLen uint64 // when non-zero, the 64-bit length written instead
}

func (f frame) bytes() []byte {
	var out bytes.Buffer
	b0 := f.rsv | f.op
	if f.fin {
		b0 |= 0x80
	}
	out.WriteByte(b0)
	n := f.length
	if n < 0 {
		n = int64(len(f.payload))
	}
	mask := byte(0x80)
	if f.noMask {
		mask = 0
	}
	switch {
	case f.hugeLen != 0 || uint64(n) > 0xFFFF:
		out.WriteByte(mask | 127)
		var l [8]byte
		binary.BigEndian.PutUint64(l[:], uint64(n))
		if f.hugeLen != 0 {
			binary.BigEndian.PutUint64(l[:], f.hugeLen)
		}
		out.Write(l[:])
	case n > 125:
		out.WriteByte(mask | 126)
		var l [2]byte
		binary.BigEndian.PutUint16(l[:], uint16(n))
		out.Write(l[:])
	default:
		out.WriteByte(mask | byte(n))
	}
	if f.noMask {
		out.Write(f.payload)
		return out.Bytes()
	}
	key := [4]byte{0x12, 0x34, 0x56, 0x78}
	out.Write(key[:])
	for i, c := range f.payload {
		out.WriteByte(c ^ key[i%4])
	}
	return out.Bytes()
}

// send writes frames, each whole, with a write deadline of d.
func (w *rawWS) send(d time.Duration, frames ...frame) error {
	var buf []byte
	for _, f := range frames {
		buf = append(buf, f.bytes()...)
	}
	_ = w.conn.SetWriteDeadline(time.Now().Add(d))
	_, err := w.conn.Write(buf)
	return err
}

// sendText sends one masked, final, uncompressed text frame.
func (w *rawWS) sendText(s string) error {
	return w.send(5*time.Second, frame{fin: true, op: opText, payload: []byte(s), length: -1})
}

// sendBinary sends one masked, final, uncompressed binary frame.
func (w *rawWS) sendBinary(b []byte) error {
	return w.send(5*time.Second, frame{fin: true, op: opBinary, payload: b, length: -1})
}

// serverFrame is a frame as read from the server.
type serverFrame struct {
	fin     bool
	rsv1    bool
	op      byte
	payload []byte
}

// maxServerFrame bounds what the attackers read from one server frame: a
// server that lets an attack through may answer with very large echoes.
const maxServerFrame = 64 << 20

func (w *rawWS) readFrame(deadline time.Time) (serverFrame, error) {
	_ = w.conn.SetReadDeadline(deadline)
	var h [2]byte
	if _, err := io.ReadFull(w.br, h[:]); err != nil {
		return serverFrame{}, err
	}
	f := serverFrame{fin: h[0]&0x80 != 0, rsv1: h[0]&0x40 != 0, op: h[0] & 0x0f}
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		var l [2]byte
		if _, err := io.ReadFull(w.br, l[:]); err != nil {
			return f, err
		}
		n = uint64(binary.BigEndian.Uint16(l[:]))
	case 127:
		var l [8]byte
		if _, err := io.ReadFull(w.br, l[:]); err != nil {
			return f, err
		}
		n = binary.BigEndian.Uint64(l[:])
	}
	if h[1]&0x80 != 0 {
		return f, errors.New("server frame is masked")
	}
	if n > maxServerFrame {
		return f, fmt.Errorf("server frame of %d bytes", n)
	}
	f.payload = make([]byte, n)
	_, err := io.ReadFull(w.br, f.payload)
	return f, err
}

// readMessage reads the next data message (reassembled, inflated), within
// d; control frames other than close are skipped. A close frame is
// returned as errClosed with its code.
func (w *rawWS) readMessage(d time.Duration) (byte, []byte, error) {
	deadline := time.Now().Add(d)
	var (
		op         byte
		msg        []byte
		compressed bool
		started    bool
	)
	for {
		f, err := w.readFrame(deadline)
		if err != nil {
			return 0, nil, err
		}
		switch f.op {
		case opClose:
			return 0, nil, closeFrameError(f.payload)
		case opPing, opPong:
			continue
		}
		if !started {
			op, compressed, started = f.op, f.rsv1, true
		}
		msg = append(msg, f.payload...)
		if f.fin {
			break
		}
	}
	if compressed {
		// No context takeover was negotiated: each message inflates on
		// its own, so one reader is reset for each (a new one per message
		// costs 40 KiB of allocations and would slow paced readers).
		src := io.MultiReader(bytes.NewReader(msg), bytes.NewReader([]byte{0, 0, 0xff, 0xff, 1, 0, 0, 0xff, 0xff}))
		if w.inflate == nil {
			w.inflate = flate.NewReader(src)
		} else if err := w.inflate.(flate.Resetter).Reset(src, nil); err != nil {
			return 0, nil, err
		}
		out, err := io.ReadAll(io.LimitReader(w.inflate, maxServerFrame))
		if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
			return 0, nil, fmt.Errorf("inflating a server message: %w", err)
		}
		msg = out
	}
	return op, msg, nil
}

// closeError is a close frame received from the server.
type closeError struct {
	code   int // 1005 when the frame had no status
	reason string
}

func (e *closeError) Error() string { return fmt.Sprintf("close %d %q", e.code, e.reason) }

func closeFrameError(p []byte) error {
	if len(p) < 2 {
		return &closeError{code: 1005}
	}
	return &closeError{code: int(binary.BigEndian.Uint16(p)), reason: string(p[2:])}
}

// wsEnd is how a WebSocket ended, as the attacker saw it.
type wsEnd struct {
	code    int           // close code received; 0: no close frame
	dropped bool          // the connection ended (EOF, reset) without a close frame
	open    bool          // still open when the wait ended
	after   time.Duration // when the end was seen
}

func (e wsEnd) String() string {
	switch {
	case e.code != 0:
		return fmt.Sprintf("close %d after %s", e.code, ms(e.after))
	case e.dropped:
		return fmt.Sprintf("dropped without a close frame after %s", ms(e.after))
	default:
		return fmt.Sprintf("still open after %s", ms(e.after))
	}
}

// waitEnd reads (discarding data) until the server closes the WebSocket
// or d passes.
func (w *rawWS) waitEnd(d time.Duration) wsEnd {
	start := time.Now()
	deadline := start.Add(d)
	for {
		f, err := w.readFrame(deadline)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return wsEnd{open: true, after: time.Since(start)}
			}
			return wsEnd{dropped: true, after: time.Since(start)}
		}
		if f.op == opClose {
			ce := closeFrameError(f.payload).(*closeError)
			return wsEnd{code: ce.code, after: time.Since(start)}
		}
	}
}

// sioConnect joins the main namespace and waits for the CONNECT answer.
func (w *rawWS) sioConnect() error {
	if err := w.sendText("40"); err != nil {
		return err
	}
	for {
		op, msg, err := w.readMessage(5 * time.Second)
		if err != nil {
			return fmt.Errorf("joining /: %w", err)
		}
		if op == opText && bytes.HasPrefix(msg, []byte("40")) {
			return nil
		}
		if op == opText && bytes.HasPrefix(msg, []byte("44")) {
			return fmt.Errorf("joining /: refused %q", clip(msg))
		}
	}
}

// deflateMessage compresses msg as a permessage-deflate message body
// (RFC 7692 §7.2.1: the trailing empty stored block removed).
// deflateBomb compresses prefix, n bytes of 'a' and suffix as one
// permessage-deflate message without holding the n bytes: the attacker
// runs in the server's process, and its own memory must not count as the
// server's.
func deflateBomb(prefix string, n int, suffix string) []byte {
	var buf bytes.Buffer
	fw, _ := flate.NewWriter(&buf, flate.BestCompression)
	_, _ = fw.Write([]byte(prefix))
	chunk := bytes.Repeat([]byte("a"), 64<<10)
	for n > 0 {
		k := min(n, len(chunk))
		_, _ = fw.Write(chunk[:k])
		n -= k
	}
	_, _ = fw.Write([]byte(suffix))
	_ = fw.Flush()
	return bytes.TrimSuffix(buf.Bytes(), []byte{0, 0, 0xff, 0xff})
}

// httpAnswer is a plain HTTP exchange's result.
type httpAnswer struct {
	status int
	body   string
	err    error
}

func (a httpAnswer) String() string {
	if a.err != nil {
		return "error: " + a.err.Error()
	}
	return fmt.Sprintf("%d %s", a.status, clip([]byte(a.body)))
}

// eioCode is the Engine.IO error code of an error answer's body, or -1.
func (a httpAnswer) eioCode() int {
	var v struct {
		Code *int `json:"code"`
	}
	if json.Unmarshal([]byte(a.body), &v) != nil || v.Code == nil {
		return -1
	}
	return *v.Code
}

// plainClient never keeps a connection alive, so that an attack leaves no
// idle connection (and its goroutines) behind on either side.
var plainClient = &http.Client{
	Timeout:   10 * time.Second,
	Transport: &http.Transport{DisableKeepAlives: true, DisableCompression: true},
}

// do sends one request to the endpoint with query q.
func (t *Target) do(method, q string, body io.Reader, hdr http.Header) httpAnswer {
	req, err := http.NewRequest(method, t.base+"?"+q, body)
	if err != nil {
		return httpAnswer{err: err}
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	if body != nil && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
	}
	resp, err := plainClient.Do(req)
	if err != nil {
		return httpAnswer{err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return httpAnswer{status: resp.StatusCode, body: string(b), err: err}
}

// openPolling opens a long-polling session and returns its sid.
func (t *Target) openPolling() (string, error) {
	a := t.do("GET", "EIO=4&transport=polling", nil, nil)
	if a.err != nil {
		return "", a.err
	}
	if a.status != 200 || !strings.HasPrefix(a.body, "0{") {
		return "", fmt.Errorf("polling handshake answered %s", a)
	}
	var open struct {
		SID string `json:"sid"`
	}
	if err := json.Unmarshal([]byte(a.body[1:]), &open); err != nil || open.SID == "" {
		return "", fmt.Errorf("polling handshake: bad open packet %q", clip([]byte(a.body)))
	}
	return open.SID, nil
}

func sidQuery(sid string) string {
	return "EIO=4&transport=polling&sid=" + url.QueryEscape(sid)
}

func clip(b []byte) string {
	const max = 80
	if len(b) > max {
		return fmt.Sprintf("%s…(%d bytes)", b[:max], len(b))
	}
	return string(b)
}

func ms(d time.Duration) string { return d.Round(time.Millisecond).String() }
