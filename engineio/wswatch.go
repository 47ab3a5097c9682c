package engineio

import (
	"errors"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchboard-go/socketio/internal/netpoll"
)

// Reads parked in the poller while idle.
//
// A WebSocket the poller cannot read itself (TLS, with or without
// permessage-deflate: a tls.Conn decrypts only what it reads through
// blocking calls) used to keep a reader goroutine, blocked in a read, for
// its whole life: 4–8 KiB of stack and a read buffer for every idle
// connection. Now the poller watches its descriptor (netpoll.Watch, no
// second descriptor) and a reader goroutine runs only while the client
// sends: started when input arrives, it reads until the client has been
// quiet for readLinger (a read deadline), gives its buffers back and
// parks the connection again. A partial record or frame waits in the
// tls.Conn and the frame parser meanwhile; a read deadline is not a
// lasting error for a tls.Conn (it keeps what it had read and carries on),
// and it does not touch writes.
//
// The reader role is one flag (gorillaWS.reading): whoever sets it runs
// the reader, so at most one goroutine reads. Closing a parked connection
// (abort) stops the watch, closes the descriptor and starts a reader,
// which finds the connection closed and ends the session's side of it as
// a reader that was there all along would have.

// readLinger is how long a reader goroutine waits for more input before it
// parks its connection: long enough that a client sending a stream of
// messages keeps one goroutine, short enough that an idle connection has
// none almost at once.
const readLinger = 5 * time.Millisecond

// smallReadBuffers holds the small read buffers of parked connections'
// readers between bursts.
var smallReadBuffers = sync.Pool{New: func() any { b := make([]byte, wsReadBuffer); return &b }}

// watchReads returns a watch for g's descriptor when its reads can be
// parked: on a platform with a poller, unless DisablePoller asks for a
// reader goroutine per connection, for TLS or plain TCP.
func (s *Server) watchReads(g *gorillaWS) *netpoll.Watch {
	if !netpoll.Supported || s.cfg.DisablePoller {
		return nil
	}
	tcp, ok := netConnOf(g.nc).(*net.TCPConn)
	if !ok {
		return nil
	}
	rc, err := tcp.SyscallConn()
	if err != nil {
		return nil
	}
	w, err := netpoll.NewWatch(rc, g.wake)
	if err != nil {
		return nil
	}
	return w
}

// wake starts a reader for g unless one is running: the poller saw input
// or a hang-up, or the connection was closed while parked.
func (g *gorillaWS) wake() {
	if g.reading.CompareAndSwap(false, true) {
		go g.c.readBurst(g, false)
	}
}

// park gives up the reader role and asks the poller to wake g on input. It
// reports false when the watch was stopped (the connection is closing) and
// the caller has taken the role back: it must read on, to see the
// connection closed. A wake that came between the two found the role free
// and started a reader of its own, which does that instead.
func (g *gorillaWS) park() bool {
	g.reading.Store(false)
	if g.watch.Arm() {
		if hook := testHookParked.Load(); hook != nil {
			(*hook)(g)
		}
		return true
	}
	return !g.reading.CompareAndSwap(false, true)
}

// testHookParked, set only by tests, is told of every connection parked.
var testHookParked atomic.Pointer[func(g *gorillaWS)]

// extendLinger moves a watched connection's read deadline readLinger
// ahead, unless the one set (at) is still more than half of it away: a
// stream of reads costs a timer update per half period, not per read.
func (g *gorillaWS) extendLinger(at time.Time) time.Time {
	now := time.Now()
	if at.Sub(now) > readLinger/2 {
		return at
	}
	at = now.Add(readLinger)
	_ = g.nc.SetReadDeadline(at)
	return at
}

// readBurst reads g on the calling goroutine (after the probe exchange,
// for a probe) until it parks or its reads end.
func (c *Conn) readBurst(g *gorillaWS, probing bool) {
	var parked bool
	if probing {
		parked = c.probeThenRead(g)
	} else {
		parked = c.readLoop(g)
	}
	if !parked {
		c.readsEnded(g)
	}
}

// readsEnded runs once g's reads have ended for good.
func (c *Conn) readsEnded(g *gorillaWS) {
	c.endWS(g)
	c.srv.wg.Done()
}

// isTimeout reports whether a read stopped at its deadline.
func isTimeout(err error) bool { return errors.Is(err, os.ErrDeadlineExceeded) }
