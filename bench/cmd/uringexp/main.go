//go:build linux && amd64

// Command uringexp measures what batching socket writes through io_uring
// would save at light broadcast load, before any of it goes near the
// library (BENCHMARKS.md, "Why 0.65× Node at light load is out of reach").
//
// It opens N loopback TCP connections to a reader process pinned to the
// other core, then R times a second writes one 64-byte frame to every
// connection, alternating between two ways for a fixed period each:
//
//	syscall: one write(2) per connection (what every server does now);
//	uring:   one io_uring_enter per round for all connections (IORING_OP_SEND).
//
// and reports the writer process's CPU time per delivery for each, from
// getrusage. Loopback only; bounded by -n, -rate, -period and -reps.
//
//	taskset -c 0 uringexp [-n 1000] [-rate 50] [-period 3s] [-reps 3]
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

func main() {
	n := flag.Int("n", 1000, "connections")
	rate := flag.Int("rate", 50, "rounds per second (one frame to every connection per round)")
	period := flag.Duration("period", 3*time.Second, "measuring period of each mode")
	reps := flag.Int("reps", 3, "alternations of the two modes")
	reader := flag.String("reader", "", "internal: run as the reader, connecting to this address")
	checkEAGAIN := flag.Bool("check-eagain", false, "only check that a send to a full non-blocking socket completes at once with EAGAIN instead of waiting for room")
	flag.Parse()
	if *reader != "" {
		runReader(*reader, *n)
		return
	}
	if *checkEAGAIN {
		if err := runCheckEAGAIN(); err != nil {
			log.Fatal(err)
		}
		return
	}
	if err := runWriter(*n, *rate, *period, *reps); err != nil {
		log.Fatal(err)
	}
}

// runReader connects n times and reads everything until the writer hangs
// up, one goroutine per connection (the reader's cost is not measured).
func runReader(addr string, n int) {
	conns := make([]net.Conn, n)
	for i := range conns {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			log.Fatal(err)
		}
		conns[i] = c
	}
	done := make(chan struct{}, n)
	for _, c := range conns {
		go func() {
			_, _ = io.Copy(io.Discard, c)
			done <- struct{}{}
		}()
	}
	for range conns {
		<-done
	}
}

func runWriter(n, rate int, period time.Duration, reps int) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	rd := exec.Command("taskset", "-c", "1", self, "-reader", ln.Addr().String(), "-n", fmt.Sprint(n))
	rd.Stderr = os.Stderr
	if err := rd.Start(); err != nil {
		return err
	}
	fds := make([]int, n)
	for i := range fds {
		c, err := ln.Accept()
		if err != nil {
			return err
		}
		f, err := c.(*net.TCPConn).File() // a blocking duplicate
		if err != nil {
			return err
		}
		_ = c.Close()
		fd := int(f.Fd())
		if err := syscall.SetNonblock(fd, true); err != nil {
			return err
		}
		fds[i] = fd
		defer f.Close()
	}
	_ = ln.Close()

	ring, err := newRing(1024)
	if err != nil {
		return fmt.Errorf("io_uring: %w", err)
	}
	frame := make([]byte, 64)
	frame[0], frame[1] = 0x81, 62 // a text frame, as a server sends
	copy(frame[2:], "42[\"broadcast\",\"...padding to 64 bytes............................\"]")

	writeSyscall := func() (int, error) {
		for _, fd := range fds {
			if _, err := syscall.Write(fd, frame); err != nil {
				return 0, err
			}
		}
		return len(fds), nil
	}
	writeURing := func() (int, error) { return ring.sendAll(fds, frame) }

	results := map[string][]float64{}
	for r := 0; r < reps; r++ {
		for _, m := range []struct {
			name  string
			write func() (int, error)
		}{{"syscall", writeSyscall}, {"uring", writeURing}} {
			us, core, err := measure(m.write, rate, period)
			if err != nil {
				return fmt.Errorf("%s: %w", m.name, err)
			}
			results[m.name] = append(results[m.name], us)
			results[m.name+"-core"] = append(results[m.name+"-core"], core)
			fmt.Printf("rep %d %-8s %6.2f µs CPU per delivery (process), %6.2f (CPU 0)\n", r+1, m.name, us, core)
		}
	}
	for _, fd := range fds {
		_ = syscall.Shutdown(fd, syscall.SHUT_WR)
	}
	_ = rd.Wait()
	s, u := median(results["syscall"]), median(results["uring"])
	sc, uc := median(results["syscall-core"]), median(results["uring-core"])
	fmt.Printf("n=%d rate=%d/s: median µs per delivery: process: write(2) %.2f, io_uring %.2f (%.2f×); CPU 0: %.2f, %.2f (%.2f×)\n", n, rate, s, u, u/s, sc, uc, uc/sc)
	return nil
}

// runCheckEAGAIN fills a connection whose peer never reads, then sends
// once more through io_uring: the library's stall path (wait for EPOLLOUT)
// can take over only if that completes at once with EAGAIN.
func runCheckEAGAIN() error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer ln.Close()
	peer, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		return err
	}
	defer peer.Close() // never read
	c, err := ln.Accept()
	if err != nil {
		return err
	}
	f, err := c.(*net.TCPConn).File()
	_ = c.Close()
	if err != nil {
		return err
	}
	defer f.Close()
	fd := int(f.Fd())
	if err := syscall.SetNonblock(fd, true); err != nil {
		return err
	}
	buf := make([]byte, 64<<10)
	filled := 0
	for {
		n, err := syscall.Write(fd, buf)
		if err == syscall.EAGAIN {
			break
		}
		if err != nil {
			return err
		}
		filled += n
	}
	r, err := newRing(8)
	if err != nil {
		return fmt.Errorf("io_uring: %w", err)
	}
	start := time.Now()
	res, err := r.send(fd, buf[:64])
	if err != nil {
		return err
	}
	fmt.Printf("after %d bytes filled the socket: io_uring send completed with %d (%v) in %v\n", filled, res, syscall.Errno(-res), time.Since(start))
	if res != -int32(syscall.EAGAIN) {
		return errors.New("expected EAGAIN")
	}
	return nil
}

// measure runs rounds at rate for period and returns the process's CPU
// time per delivery and CPU 0's busy time per delivery (which includes
// softirq work the kernel may have moved to ksoftirqd), in µs.
func measure(write func() (int, error), rate int, period time.Duration) (float64, float64, error) {
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	core0 := coreBusy()
	start, end := cpuTime(), time.Now().Add(period)
	delivered := 0
	for time.Now().Before(end) {
		<-tick.C
		k, err := write()
		if err != nil {
			return 0, 0, err
		}
		delivered += k
	}
	proc := float64(cpuTime()-start) / 1e3 / float64(delivered)
	core := float64(coreBusy()-core0) / 1e3 / float64(delivered)
	return proc, core, nil
}

// coreBusy returns CPU 0's busy time in nanoseconds (/proc/stat: all but
// idle and iowait), in USER_HZ ticks of 10 ms.
func coreBusy() int64 {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 9 || f[0] != "cpu0" {
			continue
		}
		var busy int64
		for i, v := range f[1:9] {
			if i == 3 || i == 4 { // idle, iowait
				continue
			}
			n, _ := strconv.ParseInt(v, 10, 64)
			busy += n
		}
		return busy * 10_000_000
	}
	return 0
}

func cpuTime() int64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Utime.Nano() + ru.Stime.Nano()
}

func median(v []float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	return s[len(s)/2]
}

// The io_uring ABI (linux/io_uring.h), x86-64.
const (
	sysIOURingSetup = 425
	sysIOURingEnter = 426

	offSQRing = 0
	offCQRing = 0x8000000
	offSQEs   = 0x10000000

	opSend         = 26
	enterGetEvents = 1
	featSingleMmap = 1
)

type sqringOffsets struct {
	head, tail, ringMask, ringEntries, flags, dropped, array, resv1 uint32
	userAddr                                                        uint64
}

type cqringOffsets struct {
	head, tail, ringMask, ringEntries, overflow, cqes, flags, resv1 uint32
	userAddr                                                        uint64
}

type params struct {
	sqEntries, cqEntries, flags, sqThreadCPU, sqThreadIdle, features, wqFd uint32
	resv                                                                   [3]uint32
	sqOff                                                                  sqringOffsets
	cqOff                                                                  cqringOffsets
}

type sqe struct {
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

type cqe struct {
	userData uint64
	res      int32
	flags    uint32
}

// ring is a minimal io_uring: submit a batch, wait for all of it.
type ring struct {
	fd      int
	sqHead  *uint32
	sqTail  *uint32
	sqMask  uint32
	sqArray []uint32
	sqes    []sqe
	cqHead  *uint32
	cqTail  *uint32
	cqMask  uint32
	cqes    []cqe
	entries uint32
}

func newRing(entries uint32) (*ring, error) {
	var p params
	fd, _, e := syscall.Syscall(sysIOURingSetup, uintptr(entries), uintptr(unsafe.Pointer(&p)), 0)
	if e != 0 {
		return nil, e
	}
	if p.features&featSingleMmap == 0 {
		return nil, errors.New("kernel without IORING_FEAT_SINGLE_MMAP")
	}
	sqSize := p.sqOff.array + p.sqEntries*4
	cqSize := p.cqOff.cqes + p.cqEntries*uint32(unsafe.Sizeof(cqe{}))
	size := max(sqSize, cqSize)
	rb, err := syscall.Mmap(int(fd), offSQRing, int(size), syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED|syscall.MAP_POPULATE)
	if err != nil {
		return nil, err
	}
	sb, err := syscall.Mmap(int(fd), offSQEs, int(p.sqEntries)*int(unsafe.Sizeof(sqe{})), syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED|syscall.MAP_POPULATE)
	if err != nil {
		return nil, err
	}
	_ = offCQRing // the CQ ring shares the SQ ring's mapping (single mmap)
	at := func(off uint32) unsafe.Pointer { return unsafe.Pointer(&rb[off]) }
	return &ring{
		fd:      int(fd),
		sqHead:  (*uint32)(at(p.sqOff.head)),
		sqTail:  (*uint32)(at(p.sqOff.tail)),
		sqMask:  *(*uint32)(at(p.sqOff.ringMask)),
		sqArray: unsafe.Slice((*uint32)(at(p.sqOff.array)), p.sqEntries),
		sqes:    unsafe.Slice((*sqe)(unsafe.Pointer(&sb[0])), p.sqEntries),
		cqHead:  (*uint32)(at(p.cqOff.head)),
		cqTail:  (*uint32)(at(p.cqOff.tail)),
		cqMask:  *(*uint32)(at(p.cqOff.ringMask)),
		cqes:    unsafe.Slice((*cqe)(at(p.cqOff.cqes)), p.cqEntries),
		entries: p.sqEntries,
	}, nil
}

// send sends buf on fd once and returns the completion's result.
func (r *ring) send(fd int, buf []byte) (int32, error) {
	tail := atomic.LoadUint32(r.sqTail)
	idx := tail & r.sqMask
	r.sqes[idx] = sqe{opcode: opSend, fd: int32(fd), addr: uint64(uintptr(unsafe.Pointer(&buf[0]))), len: uint32(len(buf)), msgFlags: syscall.MSG_DONTWAIT | syscall.MSG_NOSIGNAL}
	r.sqArray[idx] = idx
	atomic.StoreUint32(r.sqTail, tail+1)
	if _, _, e := syscall.Syscall6(sysIOURingEnter, uintptr(r.fd), 1, 1, enterGetEvents, 0, 0); e != 0 {
		return 0, e
	}
	head := atomic.LoadUint32(r.cqHead)
	for head == atomic.LoadUint32(r.cqTail) {
	}
	res := r.cqes[head&r.cqMask].res
	atomic.StoreUint32(r.cqHead, head+1)
	return res, nil
}

// sendAll sends buf on every fd, as many per io_uring_enter as the ring
// holds, and waits for all completions. A short or failed send is an
// error: at light load the socket buffers are never full.
func (r *ring) sendAll(fds []int, buf []byte) (int, error) {
	total := len(fds)
	for len(fds) > 0 {
		k := min(uint32(len(fds)), r.entries)
		tail := atomic.LoadUint32(r.sqTail)
		for i := uint32(0); i < k; i++ {
			idx := (tail + i) & r.sqMask
			r.sqes[idx] = sqe{
				opcode:   opSend,
				fd:       int32(fds[i]),
				addr:     uint64(uintptr(unsafe.Pointer(&buf[0]))),
				len:      uint32(len(buf)),
				msgFlags: syscall.MSG_DONTWAIT | syscall.MSG_NOSIGNAL,
				userData: uint64(i),
			}
			r.sqArray[idx] = idx
		}
		atomic.StoreUint32(r.sqTail, tail+k)
		_, _, e := syscall.Syscall6(sysIOURingEnter, uintptr(r.fd), uintptr(k), uintptr(k), enterGetEvents, 0, 0)
		if e != 0 {
			return 0, e
		}
		head := atomic.LoadUint32(r.cqHead)
		for seen := uint32(0); seen < k; {
			ctail := atomic.LoadUint32(r.cqTail)
			for ; head != ctail; head++ {
				c := r.cqes[head&r.cqMask]
				if c.res != int32(len(buf)) {
					return 0, fmt.Errorf("send on connection %d: result %d", c.userData, c.res)
				}
				seen++
			}
			atomic.StoreUint32(r.cqHead, head)
		}
		fds = fds[k:]
	}
	return total, nil
}
