package engineio

import "syscall"

// sysRead reads a descriptor given by a RawConn.
func sysRead(fd uintptr, b []byte) (int, error) { return syscall.Read(syscall.Handle(fd), b) }
