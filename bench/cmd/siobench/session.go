package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// sess is one connected Socket.IO client of the main namespace, over
// WebSocket (wsConn) or HTTP long-polling (pollConn), with or without TLS.
type sess interface {
	// readPacket returns the next Engine.IO message packet ("4…"),
	// answering pings itself; the slice is valid until the next call.
	readPacket() ([]byte, error)
	// writePacket sends one Engine.IO packet.
	writePacket(p []byte) error
	close()
}

// usePolling is -transport polling: every client stays on HTTP
// long-polling (it never upgrades).
var usePolling bool

// connect opens one Socket.IO client of the configured transport.
func connect(hostport string, timeout time.Duration, readBuf int) (sess, error) {
	var s sess
	var err error
	if usePolling {
		s, err = pollConnect(hostport, timeout)
	} else {
		s, err = sioConnect(hostport, nil, timeout, readBuf)
	}
	if err != nil {
		return nil, err // not a typed nil in the interface
	}
	return s, nil
}

// clientLoop drives the busy scenarios' connections: handle gets every
// message packet. On plain-TCP WebSocket without compression it is the
// epoll poller; otherwise (TLS, permessage-deflate, polling) a goroutine
// per connection blocked in readPacket (goLoop), whose cost shows in the
// generator's CPU figures.
type clientLoop interface {
	adopt(s sess, id int, bufSize int) (*epConn, error)
	run()
	stop()
}

func newClientLoop(handle func(c *epConn, msg []byte), onClose func(c *epConn, err error)) (clientLoop, error) {
	if usePolling || useTLS || useDeflate {
		return &goLoop{handle: handle, onClose: onClose}, nil
	}
	return newPoller(handle, onClose)
}

// goLoop reads each connection from a goroutine of its own.
type goLoop struct {
	handle  func(c *epConn, msg []byte)
	onClose func(c *epConn, err error)
	mu      sync.Mutex
	conns   []*epConn
	stopped atomic.Bool
	wg      sync.WaitGroup
}

func (g *goLoop) adopt(s sess, id int, _ int) (*epConn, error) {
	ec := &epConn{fd: -1, id: id, last: -1, s: s}
	g.mu.Lock()
	g.conns = append(g.conns, ec)
	g.mu.Unlock()
	return ec, nil
}

// run starts the readers and returns once they all ended (after stop).
func (g *goLoop) run() {
	g.mu.Lock()
	conns := g.conns
	g.mu.Unlock()
	for _, c := range conns {
		g.wg.Add(1)
		go func() {
			defer g.wg.Done()
			for {
				m, err := c.s.readPacket()
				if err != nil {
					if !g.stopped.Load() && g.onClose != nil {
						g.onClose(c, err)
					}
					return
				}
				g.handle(c, m)
			}
		}()
	}
	g.wg.Wait()
}

func (g *goLoop) stop() {
	g.stopped.Store(true)
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, c := range g.conns {
		c.s.close()
	}
}

// httpConn is one persistent HTTP/1.1 connection (TLS with -tls) on which
// requests go one at a time; the client sends no Accept-Encoding, so
// responses come uncompressed.
type httpConn struct {
	host     string
	timeout  time.Duration
	nc, raw  net.Conn
	br       *bufio.Reader
	wbuf     []byte
	body     bytes.Buffer
	lastUsed time.Time
}

func dialHTTP(hostport string, timeout time.Duration) (*httpConn, error) {
	nc, raw, err := dialTCP(hostport, nil, timeout)
	if err != nil {
		return nil, err
	}
	_ = nc.SetDeadline(time.Time{})
	return &httpConn{host: hostport, timeout: timeout, nc: nc, raw: raw, br: bufio.NewReaderSize(nc, 4096), lastUsed: time.Now()}, nil
}

// do sends one request and reads the whole response; the body is valid
// until the next call.
func (h *httpConn) do(method, path string, body []byte) (int, []byte, error) {
	h.wbuf = append(h.wbuf[:0], method...)
	h.wbuf = append(h.wbuf, ' ')
	h.wbuf = append(h.wbuf, path...)
	h.wbuf = append(h.wbuf, " HTTP/1.1\r\nHost: "...)
	h.wbuf = append(h.wbuf, h.host...)
	h.wbuf = append(h.wbuf, "\r\n"...)
	if body != nil {
		h.wbuf = append(h.wbuf, "Content-Type: text/plain;charset=UTF-8\r\nContent-Length: "...)
		h.wbuf = strconv.AppendInt(h.wbuf, int64(len(body)), 10)
		h.wbuf = append(h.wbuf, "\r\n"...)
	}
	h.wbuf = append(h.wbuf, "\r\n"...)
	h.wbuf = append(h.wbuf, body...)
	if _, err := h.nc.Write(h.wbuf); err != nil {
		return 0, nil, err
	}
	resp, err := http.ReadResponse(h.br, nil)
	if err != nil {
		return 0, nil, err
	}
	h.body.Reset()
	_, err = h.body.ReadFrom(resp.Body)
	resp.Body.Close()
	h.lastUsed = time.Now()
	if err != nil {
		return 0, nil, err
	}
	if resp.Close {
		err = errServerClosed
	}
	return resp.StatusCode, h.body.Bytes(), err
}

var errServerClosed = errors.New("server closes the HTTP connection")

func (h *httpConn) close() {
	if tc, ok := h.raw.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = h.nc.Close()
}

// pollConn is a Socket.IO client on HTTP long-polling, as a browser that
// never upgrades: one connection carries its GETs back to back (the next
// GET leaves as soon as one returns, so it always holds one pending GET),
// a second its POSTs, one at a time.
type pollConn struct {
	hostport string
	timeout  time.Duration
	path     string // with the sid
	get      *httpConn
	pmu      sync.Mutex // serializes POSTs
	post     *httpConn
	queue    [][]byte
}

func pollConnect(hostport string, timeout time.Duration) (*pollConn, error) {
	get, err := dialHTTP(hostport, timeout)
	if err != nil {
		return nil, err
	}
	p := &pollConn{hostport: hostport, timeout: timeout, get: get}
	_ = get.nc.SetDeadline(time.Now().Add(timeout))
	status, body, err := get.do("GET", "/socket.io/?EIO=4&transport=polling", nil)
	if err == nil && (status != 200 || len(body) == 0 || body[0] != '0') {
		err = fmt.Errorf("handshake: %d %q", status, body)
	}
	if err != nil {
		get.close()
		return nil, err
	}
	if i := bytes.IndexByte(body, 0x1e); i >= 0 {
		body = body[:i]
	}
	var open struct {
		Sid string `json:"sid"`
	}
	if err := json.Unmarshal(body[1:], &open); err != nil || open.Sid == "" {
		get.close()
		return nil, fmt.Errorf("handshake: %q", body)
	}
	p.path = "/socket.io/?EIO=4&transport=polling&sid=" + open.Sid
	if err := p.writePacket([]byte("40")); err != nil {
		p.close()
		return nil, err
	}
	for {
		m, err := p.next()
		if err != nil {
			p.close()
			return nil, err
		}
		if bytes.HasPrefix(m, []byte("40")) {
			break
		}
		if bytes.HasPrefix(m, []byte("44")) {
			p.close()
			return nil, fmt.Errorf("connect refused: %s", m)
		}
	}
	_ = get.nc.SetDeadline(time.Time{})
	return p, nil
}

// next returns the next packet of any type, polling when none is left.
func (p *pollConn) next() ([]byte, error) {
	for len(p.queue) == 0 {
		status, body, err := p.get.do("GET", p.path, nil)
		if err != nil && err != errServerClosed {
			return nil, err
		}
		if status != 200 {
			return nil, fmt.Errorf("poll: %d %q", status, body)
		}
		if err == errServerClosed {
			p.get.close()
			if p.get, err = dialHTTP(p.hostport, p.timeout); err != nil {
				return nil, err
			}
		}
		for len(body) > 0 {
			i := bytes.IndexByte(body, 0x1e)
			if i < 0 {
				i = len(body)
			}
			p.queue = append(p.queue, body[:i])
			body = body[min(i+1, len(body)):]
		}
	}
	m := p.queue[0]
	p.queue = p.queue[1:]
	return m, nil
}

func (p *pollConn) readPacket() ([]byte, error) {
	for {
		m, err := p.next()
		if err != nil {
			return nil, err
		}
		if len(m) == 0 {
			continue
		}
		switch m[0] {
		case '2':
			if err := p.writePacket(pong); err != nil {
				return nil, err
			}
		case '1':
			return nil, errClosed
		case '4':
			return m, nil
		}
	}
}

// writePacket POSTs one packet. A POST connection idle for a while may
// have been closed by the server (Node's keep-alive timeout is 5 s), so
// it is replaced first; a failure on a reused connection is retried once
// on a new one.
func (p *pollConn) writePacket(b []byte) error {
	p.pmu.Lock()
	defer p.pmu.Unlock()
	for attempt := 0; ; attempt++ {
		if p.post != nil && time.Since(p.post.lastUsed) > 4*time.Second {
			p.post.close()
			p.post = nil
		}
		fresh := p.post == nil
		if fresh {
			var err error
			if p.post, err = dialHTTP(p.hostport, p.timeout); err != nil {
				return err
			}
		}
		status, body, err := p.post.do("POST", p.path, b)
		if err == errServerClosed {
			p.post.close()
			p.post = nil
			err = nil
		}
		if err != nil {
			p.post.close()
			p.post = nil
			if fresh || attempt > 0 {
				return err
			}
			continue
		}
		if status != 200 {
			return fmt.Errorf("post: %d %q", status, body)
		}
		return nil
	}
}

func (p *pollConn) close() {
	p.get.close()
	p.pmu.Lock()
	if p.post != nil {
		p.post.close()
	}
	p.pmu.Unlock()
}
