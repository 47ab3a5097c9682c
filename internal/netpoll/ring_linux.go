//go:build linux && (amd64 || arm64)

package netpoll

import (
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"unsafe"
)

// Ring writes to many descriptors with one system call (io_uring), for a
// broadcast round at light load, where each connection has one message:
// there one writev per connection is the floor, and kernel entries are
// dear. Measured (bench/cmd/uringexp, 1,000 loopback connections, 50
// rounds/s): 5.7 µs of core time per delivery against 10.9 with write(2).
//
// A Ring belongs to one goroutine at a time (AcquireRing, ReleaseRing).
type Ring struct {
	fd      int
	broken  bool // a submission failed: never used or pooled again
	sqHead  *uint32
	sqTail  *uint32
	sqMask  uint32
	sqArray []uint32
	sqes    []ringSQE
	cqHead  *uint32
	cqTail  *uint32
	cqMask  uint32
	cqes    []ringCQE
	size    int
	mem     [][]byte // the mappings, unmapped by close

	// Per batch, reused: the iovecs and message headers the kernel reads
	// until the batch completes.
	iov  []syscall.Iovec
	msgs []ringMsghdr
	// Also per batch, reused so that a round allocates nothing: the
	// descriptors locked, the writes too large for one sendmsg, and the
	// scratch of their Desc.Writev.
	locked []*sync.Mutex
	slow   []int
	sc     Scratch
}

// ringMsghdr is struct msghdr on 64-bit Linux (syscall.Msghdr's length
// field has a different type per architecture).
type ringMsghdr struct {
	name       *byte
	namelen    uint32
	_          uint32
	iov        *syscall.Iovec
	iovlen     uint64
	control    *byte
	controllen uint64
	flags      int32
	_          int32
}

// Write is one descriptor's part of a batch: a descriptor the poller took
// (D), or a watched one that stays Go's (W, as the HTTP front's
// connections). Writev fills N and Err as Desc.Writev returns them.
type Write struct {
	D    *Desc
	W    *Watch // used when set, instead of D
	Bufs [][]byte
	N    int
	Err  error
}

// The io_uring ABI (linux/io_uring.h); the system call numbers are the
// same on every architecture.
const (
	sysIOURingSetup = 425
	sysIOURingEnter = 426

	ringOffSQEs        = 0x10000000
	ringOpSendmsg      = 9
	ringEnterGetEvents = 1
	ringFeatSingleMmap = 1

	ringEntries = 64 // a round's grab (engineio.roundGrab)
)

type ringSQOffsets struct {
	head, tail, ringMask, ringEntries, flags, dropped, array, resv1 uint32
	userAddr                                                        uint64
}

type ringCQOffsets struct {
	head, tail, ringMask, ringEntries, overflow, cqes, flags, resv1 uint32
	userAddr                                                        uint64
}

type ringParams struct {
	sqEntries, cqEntries, flags, sqThreadCPU, sqThreadIdle, features, wqFd uint32
	resv                                                                   [3]uint32
	sqOff                                                                  ringSQOffsets
	cqOff                                                                  ringCQOffsets
}

type ringSQE struct {
	opcode      uint8
	flags       uint8
	ioprio      uint16
	fd          int32
	off         uint64
	addr        uint64
	len         uint32
	msgFlags    uint32
	userData    uint64
	bufIndex    uint16
	personality uint16
	spliceFdIn  int32
	addr3       uint64
	pad         uint64
}

type ringCQE struct {
	userData uint64
	res      int32
	flags    uint32
}

// The rings of the process: made on demand, kept for reuse (a flusher
// goroutine lives for one round), never more than maxIdleRings idle.
var rings struct {
	mu   sync.Mutex
	free []*Ring
	off  bool // io_uring refused here, or disabled
}

const maxIdleRings = 8

// AcquireRing returns a ring for the caller's use until ReleaseRing, or
// nil when io_uring is unavailable (an old kernel, a container that
// refuses it): the caller then writes descriptor by descriptor.
func AcquireRing() *Ring {
	rings.mu.Lock()
	if rings.off {
		rings.mu.Unlock()
		return nil
	}
	if n := len(rings.free); n > 0 {
		r := rings.free[n-1]
		rings.free = rings.free[:n-1]
		rings.mu.Unlock()
		return r
	}
	rings.mu.Unlock()
	r, err := newRing(ringEntries)
	if err != nil {
		rings.mu.Lock()
		rings.off = true
		rings.mu.Unlock()
		return nil
	}
	return r
}

// ReleaseRing gives r back for reuse.
func ReleaseRing(r *Ring) {
	if r.broken {
		// Writes it took may still be in flight, reading memory it
		// points to: it is dropped, not closed.
		return
	}
	rings.mu.Lock()
	if !rings.off && len(rings.free) < maxIdleRings {
		rings.free = append(rings.free, r)
		r = nil
	}
	rings.mu.Unlock()
	if r != nil {
		r.close()
	}
}

// SetRings turns the use of io_uring on or off for the process (tests run
// the engine both ways). Off also releases the idle rings.
func SetRings(on bool) {
	rings.mu.Lock()
	rings.off = !on
	free := rings.free
	rings.free = nil
	rings.mu.Unlock()
	for _, r := range free {
		r.close()
	}
}

func newRing(entries uint32) (*Ring, error) {
	var p ringParams
	fd, _, e := syscall.Syscall(sysIOURingSetup, uintptr(entries), uintptr(unsafe.Pointer(&p)), 0)
	if e != 0 {
		return nil, e
	}
	r := &Ring{fd: int(fd)}
	fail := func(err error) (*Ring, error) {
		r.close()
		return nil, err
	}
	if p.features&ringFeatSingleMmap == 0 {
		return fail(errors.New("netpoll: io_uring without IORING_FEAT_SINGLE_MMAP"))
	}
	size := max(p.sqOff.array+p.sqEntries*4, p.cqOff.cqes+p.cqEntries*uint32(unsafe.Sizeof(ringCQE{})))
	rb, err := syscall.Mmap(r.fd, 0, int(size), syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED|syscall.MAP_POPULATE)
	if err != nil {
		return fail(err)
	}
	r.mem = append(r.mem, rb)
	sb, err := syscall.Mmap(r.fd, ringOffSQEs, int(p.sqEntries)*int(unsafe.Sizeof(ringSQE{})), syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED|syscall.MAP_POPULATE)
	if err != nil {
		return fail(err)
	}
	r.mem = append(r.mem, sb)
	at := func(off uint32) unsafe.Pointer { return unsafe.Pointer(&rb[off]) }
	r.sqHead = (*uint32)(at(p.sqOff.head))
	r.sqTail = (*uint32)(at(p.sqOff.tail))
	r.sqMask = *(*uint32)(at(p.sqOff.ringMask))
	r.sqArray = unsafe.Slice((*uint32)(at(p.sqOff.array)), p.sqEntries)
	r.sqes = unsafe.Slice((*ringSQE)(unsafe.Pointer(&sb[0])), p.sqEntries)
	r.cqHead = (*uint32)(at(p.cqOff.head))
	r.cqTail = (*uint32)(at(p.cqOff.tail))
	r.cqMask = *(*uint32)(at(p.cqOff.ringMask))
	r.cqes = unsafe.Slice((*ringCQE)(at(p.cqOff.cqes)), p.cqEntries)
	r.size = int(p.sqEntries)
	return r, nil
}

func (r *Ring) close() {
	for _, m := range r.mem {
		_ = syscall.Munmap(m)
	}
	r.mem = nil
	if r.fd >= 0 {
		_ = syscall.Close(r.fd)
		r.fd = -1
	}
}

// Writev writes each w.Bufs to its descriptor, as Desc.Writev would, but with one
// system call for up to a ring's worth of descriptors. Each write is
// attempted once: what the kernel did not take is reported with
// ErrWouldBlock and N, for the caller's stall path.
//
// Each descriptor's lock is held from preparing its write until the batch
// has completed, so the poller cannot close the descriptor (and the
// kernel hand its number to a new connection) while a submitted write
// names it.
func (r *Ring) Writev(ws []Write) {
	for len(ws) > 0 {
		k := min(len(ws), r.size)
		r.writeChunk(ws[:k])
		ws = ws[k:]
	}
}

func (r *Ring) writeChunk(ws []Write) {
	// Size the arenas first: the kernel reads them until completion, so
	// they must not move once a submission entry points into them.
	nIov := 0
	for i := range ws {
		nIov += len(ws[i].Bufs)
	}
	if cap(r.iov) < nIov {
		r.iov = make([]syscall.Iovec, 0, nIov)
	}
	if cap(r.msgs) < len(ws) {
		r.msgs = make([]ringMsghdr, len(ws))
	}
	iov, msgs := r.iov[:0], r.msgs[:len(ws)]
	locked := r.locked[:0]
	slow := r.slow[:0] // writes too large for one sendmsg: Desc.Writev after the batch
	tail := atomic.LoadUint32(r.sqTail)
	queued := uint32(0)
	for i := range ws {
		w := &ws[i]
		w.N, w.Err = 0, nil
		if len(w.Bufs) > maxIovecs {
			slow = append(slow, i)
			continue
		}
		mu, fd := w.lockFD()
		locked = append(locked, mu)
		if fd < 0 {
			w.Err = ErrClosed
			continue
		}
		start := len(iov)
		for _, b := range w.Bufs {
			if len(b) > 0 {
				v := syscall.Iovec{Base: &b[0]}
				v.SetLen(len(b))
				iov = append(iov, v)
			}
		}
		if len(iov) == start {
			continue // nothing to write
		}
		m := &msgs[i]
		*m = ringMsghdr{iov: &iov[start], iovlen: uint64(len(iov) - start)}
		idx := (tail + queued) & r.sqMask
		r.sqes[idx] = ringSQE{
			opcode:   ringOpSendmsg,
			fd:       int32(fd),
			addr:     uint64(uintptr(unsafe.Pointer(m))),
			msgFlags: syscall.MSG_DONTWAIT | syscall.MSG_NOSIGNAL,
			userData: uint64(i),
		}
		r.sqArray[idx] = idx
		w.Err = errPending
		queued++
	}
	if queued > 0 {
		atomic.StoreUint32(r.sqTail, tail+queued)
		if err := r.submitAndWait(ws, tail+queued, queued); err != nil {
			// Should not happen. Whether the kernel ran the writes still
			// pending is unknown, so their connections fail rather than
			// risk a message twice; the process stops using io_uring.
			r.broken = true
			rings.mu.Lock()
			rings.off = true
			rings.mu.Unlock()
			for i := range ws {
				if ws[i].Err == errPending {
					ws[i].Err = err
				}
			}
		}
	}
	for _, mu := range locked {
		mu.Unlock()
	}
	runtime.KeepAlive(ws)
	runtime.KeepAlive(iov)
	clear(iov) // only what this chunk used: the arena keeps its size
	clear(msgs)
	clear(locked)
	r.locked, r.slow = locked[:0], slow[:0]
	for _, i := range slow {
		ws[i].N, ws[i].Err = ws[i].writev(&r.sc)
	}
}

// errPending marks a write submitted and not yet completed.
var errPending = errors.New("netpoll: write pending")

// testHoldBackOne, set only by tests, has the first enter of a
// submission leave its last entry to the second, the one that waits.
var testHoldBackOne bool

// submitAndWait submits the entries up to tail (n of them) and reaps
// their n completions into ws.
func (r *Ring) submitAndWait(ws []Write, tail, n uint32) error {
	for done, first := uint32(0), true; done < n; first = false {
		// What the kernel has not taken yet (a signal may interrupt an
		// enter before or after it took them).
		toSubmit := tail - atomic.LoadUint32(r.sqHead)
		var e syscall.Errno
		if first {
			// Submitting runs each send there and then: the socket is
			// non-blocking and the sends say MSG_DONTWAIT, so a full send
			// buffer completes with EAGAIN rather than waiting. So the
			// first call does not wait for completions, and is raw, not
			// announced to the scheduler, for the reason RawIO gives:
			// announced, sysmon woke and slept 1,300 times a second
			// under a polling load, and answering 500 polls in rounds
			// cost as much as a write per answer (BENCHMARKS.md).
			k := toSubmit
			if testHoldBackOne {
				k--
			}
			_, _, e = syscall.RawSyscall6(sysIOURingEnter, uintptr(r.fd), uintptr(k), 0, 0, 0, 0)
		} else {
			// A send did not complete as it was submitted (which the
			// flags above should rule out): wait for it, announced.
			_, _, e = syscall.Syscall6(sysIOURingEnter, uintptr(r.fd), uintptr(toSubmit), uintptr(n-done), ringEnterGetEvents, 0, 0)
		}
		if e != 0 && e != syscall.EINTR {
			return e
		}
		head := atomic.LoadUint32(r.cqHead)
		for ctail := atomic.LoadUint32(r.cqTail); head != ctail; head++ {
			c := r.cqes[head&r.cqMask]
			w := &ws[c.userData]
			want := 0
			for _, b := range w.Bufs {
				want += len(b)
			}
			switch {
			case c.res == -int32(syscall.EAGAIN):
				w.Err = ErrWouldBlock
			case c.res < 0:
				w.Err = syscall.Errno(-c.res)
			default:
				w.N = int(c.res)
				w.Err = nil
				if w.N < want {
					w.Err = ErrWouldBlock
				}
			}
			done++
		}
		atomic.StoreUint32(r.cqHead, head)
	}
	return nil
}
