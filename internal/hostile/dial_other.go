//go:build !linux

package hostile

import (
	"net"
	"time"
)

// smallBufferDialer is a plain dialer where the receive buffer cannot be
// set portably; the attacks that use it send more before the server's
// writes stall.
func smallBufferDialer() *net.Dialer { return bufferDialer(4096) }

// bufferDialer connects with a receive buffer of size bytes.
func bufferDialer(int) *net.Dialer { return &net.Dialer{Timeout: 5 * time.Second} }
