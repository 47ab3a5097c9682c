package main

import (
	"bufio"
	"bytes"
	"compress/flate"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// useTLS and useDeflate are -tls and -deflate: every WebSocket goes
// through TLS, every WebSocket handshake offers permessage-deflate.
var useTLS, useDeflate bool

// deflateSeen is what the first server answer to the permessage-deflate
// offer was: 0 none, 1 without, 2 with server context takeover.
var deflateSeen atomic.Int32

// wsConn is a minimal client-side WebSocket connection speaking Engine.IO
// v4 / Socket.IO v5 text frames. It exists so the load generator costs as
// little as possible per message: frames are written pre-encoded with an
// all-zero masking key (legal; the payload then needs no XOR pass), reads
// parse frames straight out of one bufio.Reader, and nothing allocates per
// frame except payloads larger than the read buffer.
type wsConn struct {
	nc  net.Conn // raw, or a *tls.Conn over raw with -tls
	raw net.Conn
	br  *bufio.Reader

	wmu  sync.Mutex // serializes writes (reader answers pings, owner emits)
	wbuf []byte

	payload []byte // reassembly buffer for fragmented or oversized messages

	rsv1 bool     // the last frame read had RSV1 (compressed message) set
	z    *inflate // permessage-deflate was negotiated (-deflate)
}

var errClosed = errors.New("websocket closed")

// dialWS opens a WebSocket to the Engine.IO endpoint at hostport (path
// /socket.io/) and completes the HTTP upgrade. readBuf sizes the read
// buffer: idle connections use a small one.
func dialWS(hostport string, local net.Addr, timeout time.Duration, readBuf int) (*wsConn, error) {
	nc, raw, err := dialTCP(hostport, local, timeout)
	if err != nil {
		return nil, err
	}
	var key [16]byte
	_, _ = rand.Read(key[:])
	ext := ""
	if useDeflate {
		// What browsers offer: the server chooses whether to keep its
		// compression context between messages.
		ext = "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
	}
	req := "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n" +
		"Host: " + hostport + "\r\n" +
		"Upgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: " + base64.StdEncoding.EncodeToString(key[:]) + "\r\n" +
		ext + "Sec-WebSocket-Version: 13\r\n\r\n"
	if _, err := io.WriteString(nc, req); err != nil {
		nc.Close()
		return nil, err
	}
	br := bufio.NewReaderSize(nc, readBuf)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		nc.Close()
		return nil, err
	}
	if resp.StatusCode != http.StatusSwitchingProtocols || !strings.EqualFold(resp.Header.Get("Upgrade"), "websocket") {
		nc.Close()
		return nil, fmt.Errorf("upgrade refused: %s", resp.Status)
	}
	_ = nc.SetDeadline(time.Time{})
	c := &wsConn{nc: nc, raw: raw, br: br}
	if e := resp.Header.Get("Sec-WebSocket-Extensions"); strings.Contains(e, "permessage-deflate") {
		c.z = &inflate{takeover: !strings.Contains(e, "server_no_context_takeover")}
		if c.z.takeover {
			deflateSeen.CompareAndSwap(0, 2)
		} else {
			deflateSeen.CompareAndSwap(0, 1)
		}
	}
	return c, nil
}

// dialTCP connects to hostport, through TLS with -tls (any certificate
// accepted: the servers use a throw-away self-signed one). raw is the TCP
// connection under nc. The deadline of nc is set to now+timeout.
func dialTCP(hostport string, local net.Addr, timeout time.Duration) (nc, raw net.Conn, err error) {
	d := net.Dialer{Timeout: timeout, LocalAddr: local}
	if local == nil {
		if src := nextSource(hostport); src != nil {
			d.LocalAddr, d.Control = src, bindNoPort
		}
	}
	raw, err = d.Dial("tcp", hostport)
	if err != nil {
		return nil, nil, err
	}
	_ = raw.SetDeadline(time.Now().Add(timeout))
	if !useTLS {
		return raw, raw, nil
	}
	tc := tls.Client(raw, &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // loopback benchmark, self-signed certificate
	if err := tc.Handshake(); err != nil {
		raw.Close()
		return nil, nil, err
	}
	return tc, raw, nil
}

// writeText sends one text frame holding payload.
func (c *wsConn) writeText(payload []byte) error {
	c.wmu.Lock()
	c.wbuf = appendFrame(c.wbuf[:0], 0x1, payload)
	_, err := c.nc.Write(c.wbuf)
	c.wmu.Unlock()
	return err
}

func (c *wsConn) writeFrame(op byte, payload []byte) error {
	c.wmu.Lock()
	c.wbuf = appendFrame(c.wbuf[:0], op, payload)
	_, err := c.nc.Write(c.wbuf)
	c.wmu.Unlock()
	return err
}

// writeRaw sends frames already framed with appendFrame.
func (c *wsConn) writeRaw(frames []byte) error {
	c.wmu.Lock()
	_, err := c.nc.Write(frames)
	c.wmu.Unlock()
	return err
}

// appendFrame appends a final, masked (zero key) client frame.
func appendFrame(b []byte, op byte, payload []byte) []byte {
	b = append(b, 0x80|op)
	n := len(payload)
	switch {
	case n < 126:
		b = append(b, 0x80|byte(n))
	case n < 1<<16:
		b = append(b, 0x80|126, byte(n>>8), byte(n))
	default:
		b = append(b, 0x80|127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	b = append(b, 0, 0, 0, 0) // masking key 0: payload goes as is
	return append(b, payload...)
}

// readMessage returns the next data message (text or binary), answering
// WebSocket pings and Engine.IO pings ("2" → "3") itself. The returned
// slice is valid until the next call.
func (c *wsConn) readMessage() (text bool, msg []byte, err error) {
	for {
		fin, op, p, err := c.readFrame()
		if err != nil {
			return false, nil, err
		}
		compressed := c.rsv1
		switch op {
		case 0x8:
			return false, nil, errClosed
		case 0x9:
			if err := c.writeFrame(0xA, p); err != nil {
				return false, nil, err
			}
			continue
		case 0xA:
			continue
		}
		if !fin || op == 0x0 {
			// Fragmented message: reassemble (rare with small messages).
			c.payload = append(c.payload[:0], p...)
			first := op
			for !fin {
				fin, op, p, err = c.readFrame()
				if err != nil {
					return false, nil, err
				}
				if op >= 0x8 {
					if op == 0x8 {
						return false, nil, errClosed
					}
					continue
				}
				c.payload = append(c.payload, p...)
			}
			p = c.payload
			op = first
		}
		if compressed {
			if c.z == nil {
				return false, nil, errors.New("compressed frame without permessage-deflate")
			}
			if p, err = c.z.message(p); err != nil {
				return false, nil, err
			}
		}
		if op == 0x1 && len(p) == 1 && p[0] == '2' {
			if err := c.writeText(pong); err != nil {
				return false, nil, err
			}
			continue
		}
		return op == 0x1, p, nil
	}
}

var pong = []byte("3")

// readFrame reads one frame. Server frames are never masked. Payloads that
// fit the read buffer are returned in place (no copy).
func (c *wsConn) readFrame() (fin bool, op byte, payload []byte, err error) {
	h, err := c.br.Peek(2)
	if err != nil {
		return false, 0, nil, err
	}
	fin = h[0]&0x80 != 0
	op = h[0] & 0x0f
	c.rsv1 = h[0]&0x40 != 0
	n := int(h[1] & 0x7f)
	hl := 2
	switch n {
	case 126:
		hl = 4
	case 127:
		hl = 10
	}
	if h[1]&0x80 != 0 {
		return false, 0, nil, errors.New("masked server frame")
	}
	if hl > 2 {
		if h, err = c.br.Peek(hl); err != nil {
			return false, 0, nil, err
		}
		if hl == 4 {
			n = int(binary.BigEndian.Uint16(h[2:4]))
		} else {
			n = int(binary.BigEndian.Uint64(h[2:10]))
		}
	}
	if hl+n <= c.br.Size() {
		all, err := c.br.Peek(hl + n)
		if err != nil {
			return false, 0, nil, err
		}
		payload = all[hl:]
		_, _ = c.br.Discard(hl + n)
		return fin, op, payload, nil
	}
	_, _ = c.br.Discard(hl)
	buf := make([]byte, n)
	if _, err := io.ReadFull(c.br, buf); err != nil {
		return false, 0, nil, err
	}
	return fin, op, buf, nil
}

// close drops the connection with an RST (SO_LINGER 0), so that tearing
// down thousands of connections leaves no TIME_WAIT entries to exhaust the
// loopback port range between runs.
func (c *wsConn) close() {
	if tc, ok := c.raw.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = c.nc.Close()
}

// sioConnect performs the Engine.IO open and the Socket.IO CONNECT to the
// main namespace, returning once the server has confirmed it.
func sioConnect(hostport string, local net.Addr, timeout time.Duration, readBuf int) (*wsConn, error) {
	c, err := dialWS(hostport, local, timeout, readBuf)
	if err != nil {
		return nil, err
	}
	_ = c.nc.SetReadDeadline(time.Now().Add(timeout))
	text, m, err := c.readMessage()
	if err != nil || !text || len(m) == 0 || m[0] != '0' {
		c.close()
		return nil, fmt.Errorf("no open packet: %v", err)
	}
	if err := c.writeText([]byte("40")); err != nil {
		c.close()
		return nil, err
	}
	for {
		text, m, err = c.readMessage()
		if err != nil {
			c.close()
			return nil, err
		}
		if text && bytes.HasPrefix(m, []byte("40")) {
			break
		}
		if text && bytes.HasPrefix(m, []byte("44")) {
			c.close()
			return nil, fmt.Errorf("connect refused: %s", m)
		}
	}
	_ = c.nc.SetReadDeadline(time.Time{})
	return c, nil
}

// readPacket returns the next Engine.IO message packet ("4…"), answering
// pings; the slice is valid until the next call.
func (c *wsConn) readPacket() ([]byte, error) {
	for {
		text, m, err := c.readMessage()
		if err != nil {
			return nil, err
		}
		if text {
			return m, nil
		}
	}
}

// writePacket sends one Engine.IO packet as an uncompressed text frame (a
// client may leave any message uncompressed under permessage-deflate).
func (c *wsConn) writePacket(p []byte) error { return c.writeText(p) }

// inflate decompresses permessage-deflate messages (RFC 7692). With
// context takeover (the server did not answer server_no_context_takeover)
// each message continues the previous one's 32 KiB window, given to the
// decompressor as its preset dictionary.
type inflate struct {
	takeover bool
	fr       io.ReadCloser
	src      bytes.Reader
	in       []byte
	out      bytes.Buffer
	dict     []byte
}

// inflateTail restores the 00 00 ff ff the sender stripped and adds an
// empty final stored block, so the decompressor ends with io.EOF.
var inflateTail = []byte{0, 0, 0xff, 0xff, 1, 0, 0, 0xff, 0xff}

func (z *inflate) message(p []byte) ([]byte, error) {
	z.in = append(append(z.in[:0], p...), inflateTail...)
	z.src.Reset(z.in)
	var dict []byte
	if z.takeover {
		dict = z.dict
	}
	if z.fr == nil {
		z.fr = flate.NewReaderDict(&z.src, dict)
	} else if err := z.fr.(flate.Resetter).Reset(&z.src, dict); err != nil {
		return nil, err
	}
	z.out.Reset()
	if _, err := z.out.ReadFrom(z.fr); err != nil {
		return nil, fmt.Errorf("inflate: %w", err)
	}
	b := z.out.Bytes()
	if z.takeover {
		z.dict = append(z.dict, b...)
		if len(z.dict) > 32<<10 {
			z.dict = append(z.dict[:0], z.dict[len(z.dict)-32<<10:]...)
		}
	}
	return b, nil
}

// sources is how many loopback addresses the generator's connections come
// from, in turn (127.0.0.2 and up), when the server is on IPv4 loopback.
// From one address, connect(2) searches the ephemeral ports for one whose
// address-and-port pair to the server is free, a search that grows with
// the connections open: at 19,000 it cost 210 µs a connection on this
// host (the generator's profile), which held the conns ramp to 1,700/s.
// From 32 addresses, each holds a 32nd of them, and the search ends at
// once.
const sources = 32

var sourceTurn atomic.Uint32

// nextSource returns the next source address for a connection to
// hostport, or nil when the target is not IPv4 loopback (or the system
// chooses: the default).
func nextSource(hostport string) net.Addr {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || ip.To4() == nil || !ip.IsLoopback() {
		return nil
	}
	k := sourceTurn.Add(1) % sources
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(2+k))}
}

// bindNoPort leaves the choice of the source port to connect(2), which
// knows the server's address (IP_BIND_ADDRESS_NO_PORT): bound with port
// 0, the kernel would pick a port then, without it.
func bindNoPort(_, _ string, c syscall.RawConn) error {
	var serr error
	if err := c.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_BIND_ADDRESS_NO_PORT, 1)
	}); err != nil {
		return err
	}
	return serr
}
