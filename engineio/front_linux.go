package engineio

import (
	"io"
	"sync"
	"syscall"
	"unsafe"
)

// readNow reads what the kernel holds for fc without waiting: 0 bytes and
// no error when nothing has arrived. A reader whose connection waits for
// an answer calls it instead of a read with a deadline: the only input to
// expect then is a hang-up, which the poller reports, and a read that
// waits would cost a timer and a wake-up per request.
func (fc *frontConn) readNow(b []byte) (int, error) {
	op := rawOps.Get().(*rawOp)
	op.b = b
	rerr := fc.rc.Read(op.read)
	n, err := op.n, op.err
	op.b = nil
	rawOps.Put(op)
	if rerr != nil {
		return 0, rerr
	}
	switch {
	case err == syscall.EAGAIN:
		if hook := testHookEmptyRead.Load(); hook != nil {
			(*hook)()
		}
		return 0, nil
	case err != nil:
		return 0, err
	case n <= 0:
		return 0, io.EOF
	}
	return n, nil
}

// writeNow writes what the kernel takes of b now, without waiting: a
// short count with a nil error means the send buffer is full.
func (fc *frontConn) writeNow(b []byte) (int, error) {
	op := rawOps.Get().(*rawOp)
	op.b = b
	werr := fc.rc.Write(op.write)
	n, err := op.n, op.err
	op.b = nil
	rawOps.Put(op)
	if werr != nil {
		return 0, werr
	}
	if err == syscall.EAGAIN {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return n, nil
}

// rawIO reads or writes b on a non-blocking socket with a raw system call,
// which never waits. Raw: the goroutine keeps its P through the call, as
// for any other short computation; with syscall.Read and Write, every call
// is announced to the scheduler, and a write to a loopback client (which
// runs the client's receive path in the same call) often outlasts the
// 20 µs after which the scheduler's monitor takes the P away and keeps
// waking: at 10,000 polling deliveries a second that monitor was 7 % of
// the server's CPU, sleeping and waking.
func rawIO(call, fd uintptr, b []byte) (int, error) {
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

// rawOp is one raw read or write through a RawConn, whose functions are
// made once per rawOp rather than as a closure per call (which the
// RawConn keeps, so it would be allocated: 80 bytes a request). They
// never wait: done, data or not.
type rawOp struct {
	b           []byte
	n           int
	err         error
	read, write func(fd uintptr) bool
}

var rawOps = sync.Pool{New: func() any {
	op := &rawOp{}
	op.read = func(fd uintptr) bool {
		op.n, op.err = rawIO(syscall.SYS_READ, fd, op.b)
		return true
	}
	op.write = func(fd uintptr) bool {
		op.n, op.err = rawIO(syscall.SYS_WRITE, fd, op.b)
		return true
	}
	return op
}}
