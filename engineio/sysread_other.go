//go:build !windows

package engineio

import "syscall"

// sysRead reads a descriptor given by a RawConn.
func sysRead(fd uintptr, b []byte) (int, error) { return syscall.Read(int(fd), b) }
