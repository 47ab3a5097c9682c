//go:build !linux

package netpoll

import (
	"errors"
	"syscall"
)

// Watch is a connection watched for input; none exists here.
type Watch struct{}

// NewWatch always fails on this platform: callers keep a reader goroutine.
func NewWatch(rc syscall.RawConn, notify func()) (*Watch, error) {
	return nil, errors.ErrUnsupported
}

// NewEdgeWatch always fails on this platform, as NewWatch.
func NewEdgeWatch(rc syscall.RawConn, onEdge func(hangUp bool)) (*Watch, error) {
	return nil, errors.ErrUnsupported
}

func (w *Watch) Arm() bool     { return false }
func (w *Watch) Stop()         {}
func (w *Watch) Stopped() bool { return true }
