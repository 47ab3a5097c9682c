//go:build !linux

package netpoll

import (
	"errors"
	"net"
)

// Supported reports whether this platform has a poller.
const Supported = false

// Desc is a connection taken over by a poller; none exists here.
type Desc struct{}

// Handler receives a descriptor's events; see the Linux implementation.
type Handler interface {
	OnData(b []byte)
	OnWritable()
	OnClose(err error)
}

var (
	ErrClosed     = net.ErrClosed
	ErrWouldBlock = errors.New("netpoll: would block")
)

// Take always fails on this platform.
func Take(nc *net.TCPConn) (*Desc, error) { return nil, errors.ErrUnsupported }

// Start is never reached on this platform.
func (d *Desc) Start(h Handler) error { return errors.ErrUnsupported }

func (d *Desc) WaitWritable()                                  {}
func (d *Desc) PauseReads(bool)                                {}
func (d *Desc) Shutdown()                                      {}
func (d *Desc) ReadNow()                                       {}
func (d *Desc) Writev(bufs [][]byte, sc *Scratch) (int, error) { return 0, ErrClosed }

// Scratch is a writer's reusable space for Writev.
type Scratch struct{}

// PollNow does nothing on this platform.
func PollNow() {}

// WritevEach is never reached on this platform: nothing is watched.
func WritevEach(ws []Write, sc *Scratch) {
	for i := range ws {
		ws[i].Err = ErrClosed
	}
}
