package main

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// wsConn is a minimal client-side WebSocket connection speaking Engine.IO
// v4 / Socket.IO v5 text frames. It exists so the load generator costs as
// little as possible per message: frames are written pre-encoded with an
// all-zero masking key (legal; the payload then needs no XOR pass), reads
// parse frames straight out of one bufio.Reader, and nothing allocates per
// frame except payloads larger than the read buffer.
type wsConn struct {
	nc net.Conn
	br *bufio.Reader

	wmu  sync.Mutex // serializes writes (reader answers pings, owner emits)
	wbuf []byte

	payload []byte // reassembly buffer for fragmented or oversized messages
}

var errClosed = errors.New("websocket closed")

// dialWS opens a WebSocket to the Engine.IO endpoint at hostport (path
// /socket.io/) and completes the HTTP upgrade. readBuf sizes the read
// buffer: idle connections use a small one.
func dialWS(hostport string, local net.Addr, timeout time.Duration, readBuf int) (*wsConn, error) {
	d := net.Dialer{Timeout: timeout, LocalAddr: local}
	nc, err := d.Dial("tcp", hostport)
	if err != nil {
		return nil, err
	}
	_ = nc.SetDeadline(time.Now().Add(timeout))
	var key [16]byte
	_, _ = rand.Read(key[:])
	req := "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n" +
		"Host: " + hostport + "\r\n" +
		"Upgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: " + base64.StdEncoding.EncodeToString(key[:]) + "\r\n" +
		"Sec-WebSocket-Version: 13\r\n\r\n"
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
	return &wsConn{nc: nc, br: br}, nil
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
	if tc, ok := c.nc.(*net.TCPConn); ok {
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
