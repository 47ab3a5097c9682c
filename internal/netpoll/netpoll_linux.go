//go:build linux

package netpoll

import (
	"errors"
	"net"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"unsafe"
)

// Supported reports whether this platform has a poller.
const Supported = true

// numPollers spreads connections over a few epoll instances so that reads
// of different connections can run on different cores.
var numPollers = min(runtime.GOMAXPROCS(0), 4)

var (
	pollersOnce sync.Once
	pollers     []*poller
	pollersErr  error
	// started holds pollers once they exist, for PollNow, which must not
	// create them.
	started atomic.Pointer[[]*poller]
)

func pick(fd int) (*poller, error) {
	pollersOnce.Do(func() {
		for range numPollers {
			p, err := newPoller()
			if err != nil {
				pollersErr = err
				return
			}
			pollers = append(pollers, p)
		}
		started.Store(&pollers)
	})
	if pollersErr != nil {
		return nil, pollersErr
	}
	return pollers[fd%len(pollers)], nil
}

// readBufferSize is the poller's shared read buffer: one read drains up
// to this much of one connection before the next connection's turn.
const readBufferSize = 64 << 10

// poller is one epoll instance. Its goroutine runs only while at least
// one descriptor is registered, so an idle process holds none.
type poller struct {
	epfd int
	file *os.File        // epfd, kept open for the life of the process
	rc   syscall.RawConn // waits for epfd to be readable in Go's poller

	mu      sync.Mutex
	descs   map[int32]*Desc  // registered descriptors by fd
	watches map[int32]*Watch // armed or idle watches by fd (watch_linux.go)
	running bool

	// serveMu is held while events are handled, by the loop or PollNow;
	// the buffers below belong to its holder.
	serveMu sync.Mutex
	buf     []byte // read buffer
	events  []syscall.EpollEvent
	ready   []*Desc
	woken   []*Watch
	wakeFd  int // an eventfd in the epoll set: makes the loop look again
}

func newPoller() (*poller, error) {
	epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	// The epoll descriptor is itself watched by Go's runtime poller (an
	// epoll instance is readable while it has events): the loop parks like
	// any goroutine waiting for the network instead of blocking a thread
	// in epoll_wait. A thread blocked in a system call keeps its P until
	// the runtime's monitor takes it back, up to milliseconds later, and
	// with GOMAXPROCS=1 every goroutine the loop woke would wait for that.
	if err := syscall.SetNonblock(epfd, true); err != nil {
		_ = syscall.Close(epfd)
		return nil, err
	}
	wake, _, errno := syscall.Syscall(syscall.SYS_EVENTFD2, 0, syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if errno != 0 {
		_ = syscall.Close(epfd)
		return nil, errno
	}
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: int32(wake)}
	if err := syscall.EpollCtl(epfd, syscall.EPOLL_CTL_ADD, int(wake), &ev); err != nil {
		_ = syscall.Close(int(wake))
		_ = syscall.Close(epfd)
		return nil, err
	}
	f := os.NewFile(uintptr(epfd), "netpoll")
	rc, err := f.SyscallConn()
	if err != nil {
		_ = f.Close()
		_ = syscall.Close(int(wake))
		return nil, err
	}
	return &poller{epfd: epfd, file: f, rc: rc, wakeFd: int(wake),
		descs: make(map[int32]*Desc), watches: make(map[int32]*Watch)}, nil
}

// Desc is a connection taken over by a poller.
type Desc struct {
	p *poller
	h Handler

	// mu guards fd against closing while a write uses it: the poller
	// closes the descriptor (and the kernel may hand its number to a new
	// connection) only under mu, and writes check fd under mu.
	mu       sync.Mutex
	fd       int // -1 once closed
	events   uint32
	started  bool // registered with epoll
	shutdown bool
}

// Take moves the TCP connection nc towards a poller: the descriptor is
// duplicated and nc is closed, which removes it from Go's own poller
// without ending the connection. Nothing is read until Start. On error nc
// is left untouched.
func Take(nc *net.TCPConn) (*Desc, error) {
	rc, err := nc.SyscallConn()
	if err != nil {
		return nil, err
	}
	fd := -1
	var dupErr error
	if err := rc.Control(func(s uintptr) {
		r, _, e := syscall.Syscall(syscall.SYS_FCNTL, s, syscall.F_DUPFD_CLOEXEC, 0)
		if e != 0 {
			dupErr = e
			return
		}
		fd = int(r)
	}); err != nil {
		return nil, err
	}
	if dupErr != nil {
		return nil, dupErr
	}
	// Go's descriptor was non-blocking and the duplicate shares its open
	// file description; set it again in case that ever changes.
	if err := syscall.SetNonblock(fd, true); err != nil {
		_ = syscall.Close(fd)
		return nil, err
	}
	p, err := pick(fd)
	if err != nil {
		_ = syscall.Close(fd)
		return nil, err
	}
	_ = nc.Close()
	return &Desc{p: p, fd: fd, events: syscall.EPOLLIN | syscall.EPOLLRDHUP}, nil
}

// Start watches d for input and calls h on the poller's goroutine from now
// on. Call it once, soon after Take: until then only Start can close the
// descriptor. On error the connection is closed (except for a second call)
// and h is not called.
func (d *Desc) Start(h Handler) error {
	p := d.p
	p.mu.Lock()
	d.mu.Lock()
	if d.started {
		d.mu.Unlock()
		p.mu.Unlock()
		return errStarted
	}
	d.h = h
	fd := d.fd
	if fd < 0 {
		d.mu.Unlock()
		p.mu.Unlock()
		return ErrClosed
	}
	// Writes may have asked for EPOLLOUT before Start: register what is
	// wanted now.
	ev := syscall.EpollEvent{Events: d.events, Fd: int32(fd)}
	err := syscall.EpollCtl(p.epfd, syscall.EPOLL_CTL_ADD, fd, &ev)
	if err == nil && d.shutdown {
		_ = syscall.Shutdown(fd, syscall.SHUT_RDWR)
	}
	if err != nil {
		_ = syscall.Close(fd)
		d.fd = -1
	} else {
		d.started = true
	}
	d.mu.Unlock()
	if err != nil {
		p.mu.Unlock()
		return err
	}
	p.descs[int32(fd)] = d
	start := !p.running
	p.running = true
	p.mu.Unlock()
	if start {
		go p.loop()
	}
	return nil
}

// Handler receives a descriptor's events, one at a time, on its poller's
// goroutine. It must not block: hand work that may block to another
// goroutine.
type Handler interface {
	// OnData gets bytes read from the connection; b is the poller's
	// buffer, valid only during the call (it may be modified).
	OnData(b []byte)
	// OnWritable is called once after WaitWritable when the connection
	// can take more bytes.
	OnWritable()
	// OnClose is called once, after the descriptor was closed: the peer
	// closed or reset the connection, or Shutdown was called. err is nil
	// for an orderly end.
	OnClose(err error)
}

// ErrClosed is returned by writes on a closed descriptor.
var ErrClosed = net.ErrClosed

// ErrWouldBlock means the kernel's send buffer is full: call
// WaitWritable and resume after OnWritable.
var ErrWouldBlock = syscall.EAGAIN

func (d *Desc) modify(events uint32) {
	// Called with d.mu held.
	if d.fd < 0 || d.events == events {
		return
	}
	d.events = events
	if !d.started {
		return // Start registers d.events
	}
	ev := syscall.EpollEvent{Events: events, Fd: int32(d.fd)}
	_ = syscall.EpollCtl(d.p.epfd, syscall.EPOLL_CTL_MOD, d.fd, &ev)
}

// WaitWritable asks for one OnWritable call once the send buffer has
// room again.
func (d *Desc) WaitWritable() {
	d.mu.Lock()
	d.modify(d.events | syscall.EPOLLOUT)
	d.mu.Unlock()
}

// PauseReads stops (true) or resumes (false) reading: a paused
// connection's input stays in the kernel, so a client that sends faster
// than it is served meets TCP backpressure. Once the peer has hung up,
// the rest of its input is read anyway, so that the connection can end.
func (d *Desc) PauseReads(pause bool) {
	d.mu.Lock()
	ev := d.events | syscall.EPOLLIN
	if pause {
		ev &^= syscall.EPOLLIN
	}
	d.modify(ev)
	d.mu.Unlock()
}

// Shutdown ends the connection in both directions; the poller then
// closes the descriptor and calls OnClose. Idempotent and safe to call
// from any goroutine.
func (d *Desc) Shutdown() {
	d.mu.Lock()
	if d.fd >= 0 && !d.shutdown {
		d.shutdown = true
		if !d.started {
			d.mu.Unlock()
			return // Start shuts it down
		}
		if err := syscall.Shutdown(d.fd, syscall.SHUT_RDWR); err != nil {
			// Not connected any more: the poller has seen or will see the
			// hang-up; make sure it wakes even with reads paused.
			d.modify(d.events | syscall.EPOLLIN)
		}
	}
	d.mu.Unlock()
}

// Scratch is a writer's reusable space for Writev.
type Scratch struct{ iov []syscall.Iovec }

// maxIovecs is the kernel's IOV_MAX.
const maxIovecs = 1024

// Writev writes bufs with as few writev calls as it takes, without
// blocking. It returns how many bytes were written; with a short count the
// error is ErrWouldBlock (the rest must wait for OnWritable) or the
// connection's failure (ErrClosed once the descriptor is closed).
// sc is scratch space, reused between calls by one writer.
func (d *Desc) Writev(bufs [][]byte, sc *Scratch) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return writevFD(d.fd, bufs, sc)
}

// lockFD locks w's descriptor against closing (a Desc closes, and a Watch
// stops, only under its lock) and returns the lock and the descriptor, -1
// once closed or stopped.
func (w *Write) lockFD() (*sync.Mutex, int) {
	if w.W != nil {
		w.W.mu.Lock()
		return &w.W.mu, w.W.fd
	}
	w.D.mu.Lock()
	return &w.D.mu, w.D.fd
}

// writev is Desc.Writev on w's descriptor.
func (w *Write) writev(sc *Scratch) (int, error) {
	mu, fd := w.lockFD()
	defer mu.Unlock()
	return writevFD(fd, w.Bufs, sc)
}

// WritevEach fills ws's results as Ring.Writev does, with a writev for
// each (non-blocking, as Desc.Writev): for a round without a ring.
func WritevEach(ws []Write, sc *Scratch) {
	for i := range ws {
		ws[i].N, ws[i].Err = ws[i].writev(sc)
	}
}

// writevFD is Writev on fd (-1: closed), which the caller keeps from
// closing meanwhile.
func writevFD(fd int, bufs [][]byte, sc *Scratch) (int, error) {
	if fd < 0 {
		return 0, ErrClosed
	}
	iov := sc.iov
	defer func() { clear(iov[:cap(iov)]); sc.iov = iov[:0] }()
	total := 0
	for len(bufs) > 0 {
		iov = iov[:0]
		want := 0
		for _, b := range bufs {
			if len(iov) == maxIovecs {
				break
			}
			if len(b) == 0 {
				continue
			}
			v := syscall.Iovec{Base: &b[0]}
			v.SetLen(len(b))
			iov = append(iov, v)
			want += len(b)
		}
		if len(iov) == 0 {
			break
		}
		// Raw, as RawIO: the descriptor is non-blocking.
		r, _, e := syscall.RawSyscall(syscall.SYS_WRITEV, uintptr(fd), uintptr(unsafe.Pointer(&iov[0])), uintptr(len(iov)))
		runtime.KeepAlive(bufs)
		if e == syscall.EINTR {
			continue
		}
		if e != 0 {
			return total, e
		}
		n := int(r)
		total += n
		if n < want {
			return total, ErrWouldBlock
		}
		// Skip the buffers written.
		for n > 0 || (len(bufs) > 0 && len(bufs[0]) == 0) {
			if len(bufs[0]) <= n {
				n -= len(bufs[0])
				bufs = bufs[1:]
				continue
			}
			break
		}
	}
	return total, nil
}

func (p *poller) loop() {
	stop := false
	var waitErr error
	// serve takes what is ready without blocking; false parks the loop
	// until Go's poller reports epfd readable.
	serve := func(uintptr) bool {
		p.serveMu.Lock()
		n, err := p.serveReady()
		p.serveMu.Unlock()
		if err != nil {
			if err == syscall.EINTR {
				return false
			}
			waitErr = err
			return true
		}
		if n == 0 {
			p.mu.Lock()
			if p.idle() {
				p.running = false
				stop = true
			}
			p.mu.Unlock()
			return stop
		}
		return true
	}
	for {
		err := p.rc.Read(serve)
		if err == nil {
			err = waitErr
		}
		if err != nil {
			// An epoll descriptor does not fail once created; if it did,
			// dropping every connection beats spinning.
			p.failAll(err)
			return
		}
		if stop {
			return
		}
		// Let the goroutines the handlers woke (dispatchers, flushers)
		// run before the next round, as Go's own poller would.
		runtime.Gosched()
	}
}

// serveReady handles the events ready now, without waiting, and returns
// how many there were. Called with serveMu held, which makes handlers run
// one at a time whichever goroutine serves.
func (p *poller) serveReady() (int, error) {
	if p.buf == nil {
		p.buf = make([]byte, readBufferSize)
		p.events = make([]syscall.EpollEvent, 128)
	}
	n, err := epollWaitNow(p.epfd, p.events)
	if err != nil || n == 0 {
		return 0, err
	}
	ready, woken := p.ready[:0], p.woken[:0]
	p.mu.Lock()
	for i := range n {
		fd := p.events[i].Fd
		ready = append(ready, p.descs[fd])
		woken = append(woken, p.watches[fd])
	}
	p.mu.Unlock()
	for i, d := range ready {
		switch {
		case d != nil:
			p.handle(d, p.events[i].Events)
		case woken[i] != nil:
			woken[i].report(p.events[i].Events)
		case int(p.events[i].Fd) == p.wakeFd:
			var b [8]byte
			_, _ = syscall.Read(p.wakeFd, b[:])
		}
	}
	clear(ready)
	clear(woken)
	p.ready, p.woken = ready[:0], woken[:0]
	return n, nil
}

// PollNow serves what every poller has ready, on the calling goroutine,
// unless a poller's own goroutine is at it. A goroutine that keeps the
// CPU for long (a flusher writing to thousands of connections) calls it
// now and then: Go's runtime looks for network input only when it runs
// out of work or every 10 ms, and input read meanwhile (a client's next
// message) is what lets the writes that follow be batched.
func PollNow() {
	ps := started.Load()
	if ps == nil {
		return
	}
	for _, p := range *ps {
		if !p.serveMu.TryLock() {
			continue
		}
		n, _ := p.serveReady()
		p.serveMu.Unlock()
		if n == 0 {
			continue
		}
		// The loop goroutine stops only when it finds no descriptor; if
		// the connections served here were the last ones, wake it so it
		// sees that.
		p.mu.Lock()
		empty := p.idle() && p.running
		p.mu.Unlock()
		if empty {
			one := [8]byte{1}
			_, _ = syscall.Write(p.wakeFd, one[:])
		}
	}
}

// idle reports whether nothing is registered: the loop goroutine stops.
// Called with p.mu held.
func (p *poller) idle() bool { return len(p.descs) == 0 && len(p.watches) == 0 }

func (p *poller) handle(d *Desc, ev uint32) {
	if ev&syscall.EPOLLOUT != 0 {
		d.mu.Lock()
		d.modify(d.events &^ syscall.EPOLLOUT)
		d.mu.Unlock()
		d.h.OnWritable()
	}
	if ev&(syscall.EPOLLIN|syscall.EPOLLRDHUP|syscall.EPOLLHUP|syscall.EPOLLERR) == 0 {
		return
	}
	d.mu.Lock()
	fd := d.fd
	d.mu.Unlock()
	if fd < 0 {
		return
	}
	// Only this goroutine reads or closes fd, so it stays valid here.
	for {
		n, err := RawIO(syscall.SYS_READ, uintptr(fd), p.buf)
		switch {
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN:
			if ev&(syscall.EPOLLHUP|syscall.EPOLLERR) != 0 {
				p.close(d, errConnReset)
			}
			return
		case err != nil:
			p.close(d, err)
			return
		case n == 0:
			p.close(d, nil)
			return
		}
		d.h.OnData(p.buf[:n])
		// Level-triggered: whatever is left is reported by the next wait,
		// after the other ready connections had their turn.
		return
	}
}

// RawIO reads (SYS_READ) or writes (SYS_WRITE) b on a non-blocking
// descriptor with a raw system call, which never waits: a short count, or
// EAGAIN, when the kernel has or takes less. Raw, the call is not
// announced to Go's scheduler, whose monitor thread (sysmon), asleep while
// the process is idle, is woken by the first scheduled system call the
// process makes when it has work again and then wakes every 20 µs for a
// millisecond or more (and takes the P from a call that outlasts that, as
// a write to a loopback client, which runs the client's receive path, can).
// A polling load is bursts of work: at 10,000 deliveries a second the
// monitor was 7 % of the server's CPU, sleeping and waking. n is 0 with an
// error.
func RawIO(call, fd uintptr, b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	for {
		r, _, e := syscall.RawSyscall(call, fd, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
		switch e {
		case 0:
			return int(r), nil
		case syscall.EINTR:
			continue
		}
		return 0, e
	}
}

// epollWaitNow takes the events ready now, with a raw system call (see
// RawIO): with a timeout of 0 it never waits.
func epollWaitNow(epfd int, events []syscall.EpollEvent) (int, error) {
	for {
		r, _, e := syscall.RawSyscall6(syscall.SYS_EPOLL_PWAIT, uintptr(epfd),
			uintptr(unsafe.Pointer(&events[0])), uintptr(len(events)), 0, 0, 0)
		switch e {
		case 0:
			return int(r), nil
		case syscall.EINTR:
			continue
		}
		return 0, e
	}
}

var (
	errConnReset = errors.New("netpoll: connection reset")
	errStarted   = errors.New("netpoll: Start called twice")
)

// close removes d and closes its descriptor, then tells its handler. The
// table entry goes before the descriptor is closed: once it is, the kernel
// may give its number to a new connection, whose Start must not be undone.
func (p *poller) close(d *Desc, err error) {
	p.mu.Lock()
	d.mu.Lock()
	fd := d.fd
	if fd < 0 {
		d.mu.Unlock()
		p.mu.Unlock()
		return
	}
	_ = syscall.EpollCtl(p.epfd, syscall.EPOLL_CTL_DEL, fd, nil)
	if p.descs[int32(fd)] == d {
		delete(p.descs, int32(fd))
	}
	_ = syscall.Close(fd)
	d.fd = -1
	d.mu.Unlock()
	p.mu.Unlock()
	d.h.OnClose(err)
}

func (p *poller) failAll(err error) {
	p.mu.Lock()
	all := make([]*Desc, 0, len(p.descs))
	for _, d := range p.descs {
		all = append(all, d)
	}
	p.mu.Unlock()
	for _, d := range all {
		p.close(d, err)
	}
	p.mu.Lock()
	p.running = false
	restart := !p.idle()
	if restart {
		p.running = true
	}
	p.mu.Unlock()
	if restart {
		go p.loop()
	}
}

// ReadNow reads what has arrived on d, up to the poller's buffer size,
// and hands it to d's handler on the calling goroutine, after whatever
// round of events the poller is serving (handlers still run one at a
// time). A caller that must see a connection's input in the order it
// arrived relative to input elsewhere (another connection of the same
// client) calls it before acting on the other input. It does nothing
// before Start or after the descriptor closed.
func (d *Desc) ReadNow() {
	p := d.p
	p.serveMu.Lock()
	defer p.serveMu.Unlock()
	d.mu.Lock()
	ok := d.started && d.fd >= 0
	d.mu.Unlock()
	if !ok {
		return
	}
	if p.buf == nil {
		p.buf = make([]byte, readBufferSize)
		p.events = make([]syscall.EpollEvent, 128)
	}
	p.handle(d, syscall.EPOLLIN)
}
