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
// poller still knows the old one by it.
type Watch struct {
	p      *poller
	notify func()

	mu    sync.Mutex
	fd    int  // -1 once stopped
	added bool // in the epoll set
}

// watchEvents: input or a hang-up, reported once per Arm (EPOLLONESHOT);
// level-triggered, so input that is already waiting is reported at once.
const watchEvents = syscall.EPOLLIN | syscall.EPOLLRDHUP | syscall.EPOLLONESHOT

// NewWatch prepares a watch of rc's descriptor; nothing is reported before
// the first Arm. notify runs on a poller goroutine and must not block; it
// may still run once after Stop returned (the event was taken just before)
// and must then find out for itself that the connection is gone.
func NewWatch(rc syscall.RawConn, notify func()) (*Watch, error) {
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

// Arm asks for one notify once the connection has input or was hung up,
// at once if it has already. It reports false once the watch was stopped.
func (w *Watch) Arm() bool {
	p := w.p
	p.mu.Lock()
	w.mu.Lock()
	if w.fd < 0 {
		w.mu.Unlock()
		p.mu.Unlock()
		return false
	}
	ev := syscall.EpollEvent{Events: watchEvents, Fd: int32(w.fd)}
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
		// input, so that the reader finds out by reading.
		w.notify()
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
