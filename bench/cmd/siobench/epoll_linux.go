package main

import (
	"encoding/binary"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// poller reads many established connections from one epoll loop: one
// epoll_wait returns every readable connection, and each gets one read(2)
// that usually holds several frames. Compared with a goroutine per
// connection this saves the runtime's netpoll hand-off and a goroutine
// switch per message, which is most of the generator's cost per delivery,
// so the generator stays well below the server's CPU per message.
type poller struct {
	epfd    int
	mu      sync.Mutex
	conns   map[int32]*epConn
	handle  func(c *epConn, msg []byte)
	onClose func(c *epConn, err error)
	stopped atomic.Bool
}

// epConn is one connection owned by a poller. Its fd is a duplicate of the
// dialed connection's; the net.Conn itself is closed.
type epConn struct {
	fd   int
	buf  []byte // unparsed input: buf[:n]
	n    int
	wmu  sync.Mutex
	wbuf []byte
	id   int // caller's index
	last int64
	s    sess // set by goLoop (fd is then -1): writes go through it
}

func newPoller(handle func(c *epConn, msg []byte), onClose func(c *epConn, err error)) (*poller, error) {
	fd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	return &poller{epfd: fd, conns: make(map[int32]*epConn), handle: handle, onClose: onClose}, nil
}

// adopt moves an established connection into the poller. Bytes the
// handshake left buffered are processed first.
func (p *poller) adopt(s sess, id int, bufSize int) (*epConn, error) {
	c, ok := s.(*wsConn)
	if !ok || c.z != nil {
		return nil, errors.New("the poller takes uncompressed WebSockets only")
	}
	tc, ok := c.nc.(*net.TCPConn)
	if !ok {
		return nil, errors.New("not a TCP connection")
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return nil, err
	}
	fd := -1
	var derr error
	_ = rc.Control(func(s uintptr) { fd, derr = syscall.Dup(int(s)) })
	if derr != nil {
		return nil, derr
	}
	pending, _ := c.br.Peek(c.br.Buffered())
	ec := &epConn{fd: fd, buf: make([]byte, max(bufSize, 2*len(pending), 256)), id: id, last: -1}
	ec.n = copy(ec.buf, pending)
	_ = c.nc.Close() // the duplicate keeps the socket open
	_ = syscall.SetNonblock(fd, true)
	p.mu.Lock()
	p.conns[int32(fd)] = ec
	p.mu.Unlock()
	if ec.n > 0 {
		p.parse(ec)
	}
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN | syscall.EPOLLRDHUP, Fd: int32(fd)}
	if err := syscall.EpollCtl(p.epfd, syscall.EPOLL_CTL_ADD, fd, &ev); err != nil {
		return nil, err
	}
	return ec, nil
}

// run is the event loop; it returns after stop.
func (p *poller) run() {
	events := make([]syscall.EpollEvent, 256)
	for !p.stopped.Load() {
		n, err := syscall.EpollWait(p.epfd, events, 100)
		if err != nil {
			if err == syscall.EINTR {
				continue
			}
			return
		}
		for i := 0; i < n; i++ {
			p.mu.Lock()
			c := p.conns[events[i].Fd]
			p.mu.Unlock()
			if c != nil {
				p.readable(c)
			}
		}
	}
}

func (p *poller) readable(c *epConn) {
	if c.n == len(c.buf) {
		grown := make([]byte, 2*len(c.buf))
		copy(grown, c.buf[:c.n])
		c.buf = grown
	}
	m, err := syscall.Read(c.fd, c.buf[c.n:])
	if err == syscall.EAGAIN || err == syscall.EINTR {
		return
	}
	if m <= 0 {
		if err == nil {
			err = errClosed
		}
		p.drop(c, err)
		return
	}
	c.n += m
	p.parse(c)
}

// parse handles every complete frame in c.buf and keeps the remainder.
func (p *poller) parse(c *epConn) {
	b := c.buf[:c.n]
	for len(b) >= 2 {
		op := b[0] & 0x0f
		n := int(b[1] & 0x7f)
		hl := 2
		switch n {
		case 126:
			hl = 4
		case 127:
			hl = 10
		}
		if len(b) < hl {
			break
		}
		if hl == 4 {
			n = int(binary.BigEndian.Uint16(b[2:4]))
		} else if hl == 10 {
			n = int(binary.BigEndian.Uint64(b[2:10]))
		}
		if len(b) < hl+n {
			if hl+n > len(c.buf) {
				grown := make([]byte, hl+n)
				copy(grown, b)
				c.buf = grown
				c.n = len(b)
				return
			}
			break
		}
		payload := b[hl : hl+n]
		b = b[hl+n:]
		switch {
		case op == 0x8:
			p.drop(c, errClosed)
			return
		case op == 0x9:
			_ = c.write(0xA, payload)
		case op == 0x1 && n == 1 && payload[0] == '2':
			_ = c.write(0x1, pong)
		case op == 0x1 || op == 0x2:
			p.handle(c, payload)
		}
		// Fragmented messages never occur with the small messages of the
		// benchmark; their pieces are ignored.
	}
	c.n = copy(c.buf, b)
}

// write sends one frame (blocking until the kernel took it).
func (c *epConn) write(op byte, payload []byte) error {
	if c.s != nil {
		return c.s.writePacket(payload) // op is 0x1 here: the poller answers pings itself
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.wbuf = appendFrame(c.wbuf[:0], op, payload)
	b := c.wbuf
	for len(b) > 0 {
		m, err := syscall.Write(c.fd, b)
		if err == syscall.EAGAIN || err == syscall.EINTR {
			// Rare: the socket buffer is full (the server is not reading).
			time.Sleep(100 * time.Microsecond)
			continue
		}
		if err != nil {
			return err
		}
		b = b[m:]
	}
	return nil
}

func (p *poller) drop(c *epConn, err error) {
	p.mu.Lock()
	_, ok := p.conns[int32(c.fd)]
	delete(p.conns, int32(c.fd))
	p.mu.Unlock()
	if !ok {
		return
	}
	_ = syscall.EpollCtl(p.epfd, syscall.EPOLL_CTL_DEL, c.fd, nil)
	_ = syscall.Close(c.fd)
	if p.onClose != nil {
		p.onClose(c, err)
	}
}

// stop ends run and closes every connection with an RST.
func (p *poller) stop() {
	p.stopped.Store(true)
	p.mu.Lock()
	conns := make([]*epConn, 0, len(p.conns))
	for _, c := range p.conns {
		conns = append(conns, c)
	}
	p.conns = map[int32]*epConn{}
	p.mu.Unlock()
	for _, c := range conns {
		_ = syscall.SetsockoptLinger(c.fd, syscall.SOL_SOCKET, syscall.SO_LINGER, &syscall.Linger{Onoff: 1, Linger: 0})
		_ = syscall.EpollCtl(p.epfd, syscall.EPOLL_CTL_DEL, c.fd, nil)
		_ = syscall.Close(c.fd)
	}
}
