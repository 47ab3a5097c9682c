//go:build !linux

package engineio

import (
	"errors"
	"syscall"
)

// readNow is never reached without a poller (Serve is http.Server.Serve
// there).
func (fc *frontConn) readNow(b []byte) (int, error) { return 0, errors.ErrUnsupported }

func (fc *frontConn) writeNow(b []byte) (int, error) { return 0, errors.ErrUnsupported }

func (fc *frontConn) nothingArrived() bool { return true }

func readNowOn(rc syscall.RawConn, p []byte) (int, error) { return 0, errors.ErrUnsupported }
