//go:build linux

package netpoll

import (
	"sync"
	"syscall"
)

// Watch is a connection that Go's own poller keeps and that is read by
// blocking calls (a tls.Conn, whose records cannot be fed to it from a
// shared buffer), watched for input by a poller so that no goroutine has
// to wait in a read while the connection is idle. Arm asks for one call
// of its notify function once input (or a hang-up) is there; the caller
// then reads on a goroutine of its own until the connection has nothing
// more, and arms it again.
//
// The descriptor stays Go's: it is added to the poller's epoll set as it
// is, not duplicated, so a watched connection costs no second descriptor.
// Hence the one rule: Stop must return before the descriptor is closed;
// otherwise the kernel may give its number to a new connection while the
// poller still knows the old one by it. The same rule lets a Ring write
// to a watched descriptor (Write.W): the batch holds the watch's lock, so
// Stop, and the close after it, wait until the batch has completed.
type Watch struct {
	p      *poller
	notify func()
	// edge: NewEdgeWatch's, registered once, edge-triggered, reporting
	// to onEdge instead of notify.
	edge   bool
	onEdge func(hangUp bool)

	mu    sync.Mutex
	fd    int  // -1 once stopped
	added bool // in the epoll set
}

// watchEvents: input or a hang-up, reported once per Arm (EPOLLONESHOT);
// level-triggered, so input that is already waiting is reported at once.
const watchEvents = syscall.EPOLLIN | syscall.EPOLLRDHUP | syscall.EPOLLONESHOT

// edgeEvents: every arrival of input, and a hang-up, reported as it
// happens (EPOLLET), for as long as the descriptor is in the set.
const edgeEvents = syscall.EPOLLIN | syscall.EPOLLRDHUP | epollET

// epollET is EPOLLET as the kernel's unsigned flag (package syscall has it
// as a negative int, which does not convert to an event mask).
const epollET = 1 << 31

// NewWatch prepares a watch of rc's descriptor; nothing is reported before
// the first Arm. notify runs on a poller goroutine and must not block; it
// may still run once after Stop returned (the event was taken just before)
// and must then find out for itself that the connection is gone.
func NewWatch(rc syscall.RawConn, notify func()) (*Watch, error) {
	return newWatch(rc, notify)
}

// NewEdgeWatch is NewWatch for a connection whose reader reads until the
// kernel holds no more input (a read that returns less than it asked for,
// or none) before it arms the watch. The first Arm adds the descriptor,
// edge-triggered, and it stays until Stop: every later arrival of input
// calls onEdge, also while a reader runs (which must then not miss it:
// the caller keeps a flag that onEdge sets and its reader clears before a
// read and looks at after giving up the reader role), and input already
// waiting when the descriptor is added is reported at once. Arm after the
// first makes no system call: a poll answered and the next one read cost
// no epoll_ctl (4 % of a polling delivery with NewWatch).
//
// hangUp tells that the peer has closed its side or the connection
// failed. That is not input a read takes: a read that returns the last
// data leaves the end of the stream, which only the next read reports,
// and no new edge comes for it. The caller keeps that news until a read
// has found the end.
func NewEdgeWatch(rc syscall.RawConn, onEdge func(hangUp bool)) (*Watch, error) {
	w, err := newWatch(rc, nil)
	if err != nil {
		return nil, err
	}
	w.edge, w.onEdge = true, onEdge
	return w, nil
}

func newWatch(rc syscall.RawConn, notify func()) (*Watch, error) {
	fd := -1
	if err := rc.Control(func(s uintptr) { fd = int(s) }); err != nil {
		return nil, err
	}
	p, err := pick(fd)
	if err != nil {
		return nil, err
	}
	return &Watch{p: p, notify: notify, fd: fd}, nil
}

// report passes an event of the watch's descriptor on.
func (w *Watch) report(events uint32) {
	if w.edge {
		w.onEdge(events&(syscall.EPOLLRDHUP|syscall.EPOLLHUP|syscall.EPOLLERR) != 0)
		return
	}
	w.notify()
}

// Arm asks for one notify once the connection has input or was hung up,
// at once if it has already. It reports false once the watch was stopped.
func (w *Watch) Arm() bool {
	if w.edge {
		w.mu.Lock()
		stopped, added := w.fd < 0, w.added
		w.mu.Unlock()
		if stopped {
			return false
		}
		if added {
			return true // in the set since the first Arm
		}
	}
	p := w.p
	p.mu.Lock()
	w.mu.Lock()
	if w.fd < 0 {
		w.mu.Unlock()
		p.mu.Unlock()
		return false
	}
	events := uint32(watchEvents)
	if w.edge {
		events = edgeEvents
	}
	ev := syscall.EpollEvent{Events: events, Fd: int32(w.fd)}
	var err error
	if w.added {
		err = syscall.EpollCtl(p.epfd, syscall.EPOLL_CTL_MOD, w.fd, &ev)
	} else {
		err = syscall.EpollCtl(p.epfd, syscall.EPOLL_CTL_ADD, w.fd, &ev)
		if err == nil {
			w.added = true
			p.watches[int32(w.fd)] = w
		}
	}
	w.mu.Unlock()
	start := false
	if err == nil && !p.running {
		p.running, start = true, true
	}
	p.mu.Unlock()
	if err != nil {
		// Not watchable after all (the descriptor is gone): report it as
		// a hang-up, so that the reader finds out by reading.
		w.report(syscall.EPOLLHUP)
		return true
	}
	if start {
		go p.loop()
	}
	return true
}

// Stop ends the watch: no Arm takes effect after it. Idempotent. Call it
// before the descriptor is closed.
func (w *Watch) Stop() {
	p := w.p
	p.mu.Lock()
	w.mu.Lock()
	if w.fd >= 0 && w.added {
		_ = syscall.EpollCtl(p.epfd, syscall.EPOLL_CTL_DEL, w.fd, nil)
		if p.watches[int32(w.fd)] == w {
			delete(p.watches, int32(w.fd))
		}
	}
	w.fd = -1
	w.mu.Unlock()
	// The loop stops once nothing is registered, but only notices when it
	// wakes: wake it.
	wake := p.idle() && p.running
	p.mu.Unlock()
	if wake {
		one := [8]byte{1}
		_, _ = syscall.Write(p.wakeFd, one[:])
	}
}

// Stopped reports whether Stop was called.
func (w *Watch) Stopped() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.fd < 0
}
