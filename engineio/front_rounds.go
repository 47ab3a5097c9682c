package engineio

import (
	"errors"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/switchboard-go/socketio/internal/netpoll"
)

// Answer rounds: the parked polls that one broadcast wakes are answered
// together. Each answer is still one write to its own connection, but the
// writes of a round go to the kernel in one io_uring submission per
// roundGrab connections (netpoll.Ring) instead of a write(2) each, and
// one worker answers them all instead of a worker per poll. At light load
// (one message per client per broadcast) that took a fifth off the CPU
// of a polling delivery; what it saved was less the kernel's work, which
// is the same per answer, than what surrounded each write: a worker's
// wake per poll, and Go's monitor thread, which an announced system call
// keeps waking (a submission's first enter is raw; BENCHMARKS.md,
// "Polling: answers in rounds").
//
// Over TLS each answer is sealed by its tls.Conn as the round takes it,
// and the records go out with the round's other writes (seal).

// testHookRound, set only by tests, is told when a round starts ("start",
// before its first grab: a test may hold it there), of each submission
// ("written", with the number of answers in it), and of each answer whose
// rest is left to a worker ("rest", with the bytes the round wrote). The
// rounds of TLS WebSockets (wstls.go) tell it the same, and "written"
// for a round without io_uring too.
var testHookRound atomic.Pointer[func(at string, n int)]

// answer has the parked poll p answered in a round.
func (f *front) answer(p *parkedPoll) {
	if f.rounds.add(p) {
		f.workers.run((*frontRound)(f))
	}
}

// frontRound is a front as the task of one of its rounds.
type frontRound front

// answerRound is one round's state, reused by the rounds that follow.
type answerRound struct {
	mine []*parkedPoll // the grab
	ws   []netpoll.Write
	outs []roundAnswer
	bufs [][]byte // outs[i]'s bytes, as ws[i].Bufs
}

// roundAnswer is an answer encoded for a round's batch.
type roundAnswer struct {
	w  *frontWriter
	bp *[]byte // the pooled buffer that holds it
}

// runTask answers the woken polls until none waits (a task of the
// front's workers).
func (t *frontRound) runTask() {
	q := &(*front)(t).rounds
	rd, ring := q.begin()
	defer q.end(rd, ring)
	// Let the waker finish first: a broadcast wakes its receivers' polls
	// one by one, and this round then finds them all.
	runtime.Gosched()
	if hook := testHookRound.Load(); hook != nil {
		(*hook)("start", 0)
	}
	for {
		var more bool
		rd.mine, more = q.grab(rd.mine)
		if len(rd.mine) == 0 {
			return
		}
		rd.answer(ring, rd.mine)
		clear(rd.mine)
		if more {
			// A long round: let the clients' next polls, and whatever
			// else waits, in before going on.
			runtime.Gosched()
		}
	}
}

// answer answers the polls ps: each drains its session's queue, and the
// answers are written with one submission of ring's (nil: io_uring
// unavailable, a write each).
func (rd *answerRound) answer(ring *netpoll.Ring, ps []*parkedPoll) {
	outs, bufs := rd.outs[:0], rd.bufs[:0]
	for _, p := range ps {
		c := p.c
		fw, answered := c.answerPoll(p.w, p.accept, nil, p.w)
		if !answered {
			continue // parked again, or taken by a waker
		}
		c.endPoll()
		fw.poll = c
		bp, out := fw.encode()
		if fw.fc.tls != nil {
			// The records, sealed now, go out with the others.
			sealedBP, sealed, err := fw.fc.seal(out)
			putAnswerBuffer(bp, out)
			if err != nil {
				fw.writtenInRound(sealedBP, sealed, err)
				continue
			}
			bp, out = sealedBP, sealed
		}
		outs = append(outs, roundAnswer{w: fw, bp: bp})
		bufs = append(bufs, out)
	}
	ws := rd.ws[:0]
	for i := range outs {
		ws = append(ws, netpoll.Write{W: outs[i].w.fc.watch, Bufs: bufs[i : i+1 : i+1]})
	}
	switch {
	case ring == nil:
		// Without io_uring: a write each, without waiting, as the
		// submission's.
		for i := range ws {
			ws[i].N, ws[i].Err = outs[i].w.fc.writeNow(bufs[i])
			if ws[i].Err == nil && ws[i].N < len(bufs[i]) {
				ws[i].Err = netpoll.ErrWouldBlock
			}
		}
	case len(ws) > 0:
		ring.Writev(ws)
		if hook := testHookRound.Load(); hook != nil {
			(*hook)("written", len(ws))
		}
	}
	for i, o := range outs {
		n, err := ws[i].N, ws[i].Err
		if errors.Is(err, netpoll.ErrWouldBlock) {
			// The client does not read as fast: the rest is written
			// within WriteTimeout on a worker of its own, as finish
			// writes it, not holding up the round.
			if hook := testHookRound.Load(); hook != nil {
				(*hook)("rest", n)
			}
			o.w.fc.f.workers.run(&answerRest{w: o.w, bp: o.bp, out: bufs[i], n: n})
			continue
		}
		o.w.writtenInRound(o.bp, bufs[i], err)
	}
	clear(ws)
	clear(outs)
	clear(bufs)
	rd.ws, rd.outs, rd.bufs = ws[:0], outs[:0], bufs[:0]
}

// answerRest writes what a round's submission left of an answer.
type answerRest struct {
	w   *frontWriter
	bp  *[]byte
	out []byte
	n   int // written by the round
}

func (r *answerRest) runTask() {
	r.w.written(r.bp, r.out, r.w.fc.writeOut(r.out[r.n:]))
}

// seal has fc's tls.Conn seal b into its records, which the splitter under
// it keeps (in a pooled buffer, bp's) instead of writing them: a round
// writes them with its other answers. The tls.Conn counts them written;
// the splitter holds the tls.Conn's own writes back until release says
// they were (helloSplitter.sent).
func (fc *frontConn) seal(b []byte) (bp *[]byte, sealed []byte, err error) {
	bp = frontAnswerBuffers.Get().(*[]byte)
	buf := (*bp)[:0]
	fc.split.captureInto(&buf)
	_, err = fc.tls.Write(b)
	fc.split.endCapture()
	return bp, buf, err
}

// writeOut writes b, an answer as it goes on the wire (a TLS connection's
// records, sealed already), within WriteTimeout.
func (fc *frontConn) writeOut(b []byte) error {
	if fc.tls == nil {
		return fc.write(b)
	}
	raw := fc.split.Conn
	_ = raw.SetWriteDeadline(time.Now().Add(fc.f.srv.cfg.WriteTimeout))
	_, err := raw.Write(b)
	return err
}

// writtenInRound is written for a round: the connection's next request
// is not read here (answeredHandOff).
func (w *frontWriter) writtenInRound(bp *[]byte, out []byte, err error) {
	if w.release(bp, out, err) {
		w.fc.answeredHandOff(w.close)
	}
}

// answeredHandOff is answered for a writer that answers other
// connections next (a round): it does not become the connection's reader.
// With nothing to read it parks the connection; a request that waits, or
// input or a hang-up reported meanwhile, is read by a worker of its own.
// (A reader may wait for the rest of a request begun, up to PostTimeout,
// which would hold up every answer after it in the round.)
func (fc *frontConn) answeredHandOff(closeAfter bool) {
	if !fc.endRequest(closeAfter) {
		return
	}
	if fc.reading.CompareAndSwap(false, true) && !fc.park() {
		fc.f.workers.run(fc)
	}
}
