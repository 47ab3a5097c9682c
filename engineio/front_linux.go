package engineio

import (
	"io"
	"syscall"
)

// readNow reads what the kernel holds for fc without waiting: 0 bytes and
// no error when nothing has arrived. A reader whose connection waits for
// an answer calls it instead of a read with a deadline: the only input to
// expect then is a hang-up, which the poller reports, and a read that
// waits would cost a timer and a wake-up per request.
func (fc *frontConn) readNow(b []byte) (int, error) {
	var n int
	var err error
	if rerr := fc.rc.Read(func(fd uintptr) bool {
		for {
			n, err = syscall.Read(int(fd), b)
			if err != syscall.EINTR {
				return true // done, data or not: never wait
			}
		}
	}); rerr != nil {
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
