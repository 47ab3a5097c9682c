package engineio

import (
	"crypto/tls"
	"errors"
	"runtime"

	"github.com/switchboard-go/socketio/internal/netpoll"
)

// TLS WebSockets written in rounds.
//
// A TLS WebSocket of the front (ServeTLS) is read by a goroutine only
// while its client sends (wswatch.go), and its writes used to be a writer
// task each: for a broadcast to 500 such connections, 500 wakes of a
// dispatcher, each sealing one record and making one write(2). Now the
// connections a broadcast makes ready are written in rounds, as the plain
// ones on the poller are (flushers, wspoll.go): a round takes up to
// roundGrab of them, has each one's tls.Conn seal its queued frames while
// the splitter under it captures the records (helloSplitter.captureInto,
// as a polling answer is sealed: front_rounds.go), and writes all the
// records with one io_uring submission on the raw descriptors.
//
// The records are sealed under the connection's write lock (wmu), which
// the round holds until they are on the wire: a pong the reader answers
// with waits for them, as it waits for a writer goroutine's batch. What
// the kernel does not take at once is written by a task of its own within
// WriteTimeout (tlsRest), still under the lock, so the round never waits
// for a slow client. A connection whose lock is taken (a pong being
// written), that is closing, or that has no rounds (net/http's TLS, no
// poller) is written by its writer task as before (writeLoop).

// tlsFlushers is a server's rounds of TLS WebSockets made ready by
// broadcasts: tasks on its dispatchers, at most one per CPU, only while
// there is work (roundQueue).
type tlsFlushers struct {
	srv *Server
	q   roundQueue[*gorillaWS, tlsRound]
}

// tlsRound is one round's state, reused by the rounds that follow.
type tlsRound struct {
	mine []*gorillaWS // the grab
	ws   []netpoll.Write
	who  []*gorillaWS
	bps  []*[]byte // who[i]'s records are in *bps[i], as outs[i]
	outs [][]byte
	sc   *writeScratch // frames a connection's batch before it is sealed
	ioSc netpoll.Scratch
}

// sealer returns the splitter under g's tls.Conn when g's writes can go in
// rounds: a TLS WebSocket of the front, watched by the poller.
func (g *gorillaWS) sealer() *helloSplitter {
	if g.watch == nil {
		return nil
	}
	tc, ok := g.nc.(*tls.Conn)
	if !ok {
		return nil
	}
	split, _ := tc.NetConn().(*helloSplitter)
	return split
}

// add queues g, whose writer role the caller holds (counted in srv.wg),
// for a round.
func (f *tlsFlushers) add(g *gorillaWS) {
	if f.q.add(g) {
		f.srv.wg.Add(1)
		f.srv.dispatchers.run(f)
	}
}

// runTask runs rounds until no connection waits (a task of the server's
// dispatchers).
func (f *tlsFlushers) runTask() {
	defer f.srv.wg.Done()
	rd, ring := f.q.begin()
	defer f.q.end(rd, ring)
	// As the flushers do: let the input already waiting in first, so that
	// what it queues goes out in this round.
	netpoll.PollNow()
	runtime.Gosched()
	if hook := testHookRound.Load(); hook != nil {
		(*hook)("start", 0)
	}
	for {
		var more bool
		rd.mine, more = f.q.grab(rd.mine)
		if len(rd.mine) == 0 {
			return
		}
		rd.flush(ring, rd.mine)
		clear(rd.mine)
		if more {
			netpoll.PollNow()
			runtime.Gosched()
		}
	}
}

// flush seals the queued frames of the connections gs and writes them
// with one submission of ring's (nil: io_uring unavailable, a writev
// each).
func (rd *tlsRound) flush(ring *netpoll.Ring, gs []*gorillaWS) {
	if rd.sc == nil {
		rd.sc = new(writeScratch)
	}
	who, bps, outs := rd.who[:0], rd.bps[:0], rd.outs[:0]
	for _, g := range gs {
		bp, out, ok := g.sealRound(rd.sc)
		if !ok {
			continue
		}
		who = append(who, g)
		bps = append(bps, bp)
		outs = append(outs, out)
	}
	ws := rd.ws[:0]
	for i, g := range who {
		ws = append(ws, netpoll.Write{W: g.watch, Bufs: outs[i : i+1 : i+1]})
	}
	switch {
	case len(ws) == 0:
	case ring == nil:
		netpoll.WritevEach(ws, &rd.ioSc)
	default:
		ring.Writev(ws)
	}
	if hook := testHookRound.Load(); hook != nil && len(ws) > 0 {
		(*hook)("written", len(ws))
	}
	for i, g := range who {
		if errors.Is(ws[i].Err, netpoll.ErrWouldBlock) {
			if hook := testHookRound.Load(); hook != nil {
				(*hook)("rest", ws[i].N)
			}
			// The client does not read as fast: the rest goes out within
			// WriteTimeout on a task of its own, the lock still held.
			g.c.srv.dispatchers.run(&tlsRest{g: g, bp: bps[i], out: outs[i], n: ws[i].N})
			continue
		}
		g.roundWritten(bps[i], outs[i], ws[i].Err)
	}
	clear(ws)
	clear(who)
	clear(bps)
	clear(outs)
	rd.ws, rd.who, rd.bps, rd.outs = ws[:0], who[:0], bps[:0], outs[:0]
}

// sealRound takes g's queued frames for a round, sealed into records in a
// pooled buffer (bp's), and holds g.wmu until roundWritten. It reports
// false when it has not: g went to its writer task (its lock was taken, or
// it is closing), or had nothing queued, or its records could not be
// sealed; the writer role has gone on accordingly.
func (g *gorillaWS) sealRound(sc *writeScratch) (bp *[]byte, out []byte, ok bool) {
	c := g.c
	if c.isClosed() || !g.wmu.TryLock() {
		c.srv.dispatchers.run(g) // writeLoop: the close, or waiting for the lock
		return nil, nil, false
	}
	if g.closing {
		g.wmu.Unlock()
		c.srv.dispatchers.run(g)
		return nil, nil, false
	}
	sc.batch = c.q.Drain(sc.batch[:0], writeBatchBytes)
	if c.eio3 {
		framesV3(sc.batch, c.b64)
	}
	if len(sc.batch) == 0 {
		g.wmu.Unlock()
		c.writerIdle(g)
		return nil, nil, false
	}
	sc.frameBatch(g.deflate)
	split := g.sealer()
	bp = frontAnswerBuffers.Get().(*[]byte)
	buf := (*bp)[:0]
	split.captureInto(&buf)
	err := sc.writeJoined(g.nc)
	split.endCapture()
	sc.reset() // the records hold a copy of the frames
	if err != nil {
		g.roundWritten(bp, buf, err)
		return nil, nil, false
	}
	return bp, buf, true
}

// roundWritten ends a round's write of out (in bp's buffer): it lets the
// tls.Conn's own writes and g.wmu go, then ends the session if the write
// failed, or carries on as the writer.
func (g *gorillaWS) roundWritten(bp *[]byte, out []byte, err error) {
	split := g.sealer()
	if err != nil {
		// The stream may be cut inside a record: nothing may follow.
		split.broken.Store(true)
	}
	split.sent()
	g.wmu.Unlock()
	putAnswerBuffer(bp, out)
	c := g.c
	if err != nil {
		c.writeFailed(g, err)
		c.srv.wg.Done() // the writer role ends here, as writeLoop's does
		return
	}
	c.writerIdle(g)
}

// writerIdle gives up the writer role of g after a round, or queues g for
// the next round when more was queued meanwhile (its writer task when
// the session is closing).
func (c *Conn) writerIdle(g *gorillaWS) {
	c.writing.Store(false)
	// A push that raced with this either sees writing==false and takes
	// the role itself, or is seen here.
	if n, _ := c.q.Len(); n == 0 && !c.isClosed() {
		c.srv.wg.Done()
		return
	}
	if !c.writing.CompareAndSwap(false, true) {
		c.srv.wg.Done() // a pusher took the role
		return
	}
	if c.isClosed() {
		c.srv.dispatchers.run(g)
		return
	}
	c.srv.tlsFlushers.add(g)
}

// tlsRest writes what a round's submission left of a connection's records.
type tlsRest struct {
	g   *gorillaWS
	bp  *[]byte
	out []byte
	n   int // written by the round
}

func (r *tlsRest) runTask() {
	g := r.g
	err := g.refreshDeadline()
	if err == nil {
		_, err = netConnOf(g.nc).Write(r.out[r.n:])
	}
	g.roundWritten(r.bp, r.out, err)
}
