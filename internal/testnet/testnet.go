// Package testnet holds network helpers shared by the tests of several
// packages.
package testnet

import (
	"net"
	"sync/atomic"
)

// CountingDial returns a dial function (for websocket.Dialer.NetDial)
// whose connections add the bytes they read from the wire to n: what a
// client received before decompression.
func CountingDial(n *atomic.Int64) func(network, addr string) (net.Conn, error) {
	return func(network, addr string) (net.Conn, error) {
		c, err := net.Dial(network, addr)
		if err != nil {
			return nil, err
		}
		return countingConn{c, n}, nil
	}
}

type countingConn struct {
	net.Conn
	n *atomic.Int64
}

func (c countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.n.Add(int64(n))
	return n, err
}
