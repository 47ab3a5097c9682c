package hostile

import (
	"net"
	"syscall"
	"time"
)

// smallBufferDialer connects with a 4 KiB receive buffer, set before the
// handshake so that the window the server sees is small: a client that
// does not read fills it, and the server's writes stall, after kilobytes
// rather than megabytes.
func smallBufferDialer() *net.Dialer { return bufferDialer(4096) }

// bufferDialer connects with a receive buffer of size bytes.
func bufferDialer(size int) *net.Dialer {
	return &net.Dialer{
		Timeout: 5 * time.Second,
		Control: func(_, _ string, c syscall.RawConn) error {
			var serr error
			err := c.Control(func(fd uintptr) {
				serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, size)
			})
			if err != nil {
				return err
			}
			return serr
		},
	}
}
