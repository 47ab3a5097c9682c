package engineio

import (
	"io"
	"os"
	"sync"
	"syscall"

	"github.com/switchboard-go/socketio/internal/netpoll"
)

// readNow reads what the kernel holds for fc without waiting: 0 bytes and
// no error when nothing has arrived. A reader whose connection waits for
// an answer calls it instead of a read with a deadline: the only input to
// expect then is a hang-up, which the poller reports, and a read that
// waits would cost a timer and a wake-up per request.
func (fc *frontConn) readNow(b []byte) (int, error) {
	n, err := fc.rawNow(false, b)
	switch {
	case err == syscall.EAGAIN:
		n, err = 0, nil
	case err != nil:
		n = 0
	case n <= 0:
		n, err = 0, io.EOF
	}
	if hook := testHookRead.Load(); hook != nil {
		(*hook)(n, err)
	}
	return n, err
}

// writeNow writes what the kernel takes of b now, without waiting: a
// short count with a nil error means the send buffer is full.
func (fc *frontConn) writeNow(b []byte) (int, error) {
	n, err := fc.rawNow(true, b)
	if err == syscall.EAGAIN {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return n, nil
}

// rawNow is one raw read or write (netpoll.RawIO) of fc's socket through
// its RawConn, which keeps the descriptor open meanwhile.
func (fc *frontConn) rawNow(write bool, b []byte) (int, error) {
	op := rawOps.Get().(*rawOp)
	op.b = b
	var cerr error
	if write {
		cerr = fc.rc.Write(op.write)
	} else {
		cerr = fc.rc.Read(op.read)
	}
	n, err := op.n, op.err
	op.b = nil
	rawOps.Put(op)
	if cerr != nil {
		return 0, cerr
	}
	return n, err
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
	control     func(fd uintptr) // a read through Control
}

var rawOps = sync.Pool{New: func() any {
	op := &rawOp{}
	op.read = func(fd uintptr) bool {
		op.n, op.err = netpoll.RawIO(syscall.SYS_READ, fd, op.b)
		return true
	}
	op.write = func(fd uintptr) bool {
		op.n, op.err = netpoll.RawIO(syscall.SYS_WRITE, fd, op.b)
		return true
	}
	op.control = func(fd uintptr) {
		op.n, op.err = netpoll.RawIO(syscall.SYS_READ, fd, op.b)
	}
	return op
}}

// nothingArrived reports whether the kernel holds no input for fc (it
// peeks without taking any): true as well when the client has closed or
// the connection failed, which closing it then ends as it should. It
// peeks through Control, which a read deadline does not stop: a TLS
// reader's last deadline may have passed, and RawConn.Read would then
// fail without looking, which said "nothing" for a connection with a
// request waiting.
func (fc *frontConn) nothingArrived() bool {
	var one [1]byte
	n := 0
	var err error
	cerr := fc.rc.Control(func(fd uintptr) {
		n, _, err = syscall.Recvfrom(int(fd), one[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
	})
	return cerr != nil || err != nil || n < len(one)
}

// readNowOn reads what the kernel holds for rc's socket into p without
// waiting, whatever its read deadline (through Control, which a deadline
// does not stop): nothing there is os.ErrDeadlineExceeded, the end of the
// stream io.EOF. The reader role keeps any other read away meanwhile.
func readNowOn(rc syscall.RawConn, p []byte) (int, error) {
	op := rawOps.Get().(*rawOp)
	op.b = p
	cerr := rc.Control(op.control)
	n, err := op.n, op.err
	op.b = nil
	rawOps.Put(op)
	switch {
	case cerr != nil:
		return 0, cerr
	case err == syscall.EAGAIN:
		return 0, os.ErrDeadlineExceeded
	case err != nil:
		return 0, err
	case n <= 0:
		return 0, io.EOF
	}
	return n, nil
}
