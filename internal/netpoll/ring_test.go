//go:build linux && (amd64 || arm64)

package netpoll

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
	"time"
)

// acquireRing returns a ring, or fails: a machine that refuses io_uring
// must say so with SWITCHBOARD_NO_IOURING=1, and only then are the ring
// tests skipped. A silent skip would let CI pass without ever running the
// ring's writes (scripts/test.sh does not set it).
func acquireRing(t *testing.T) *Ring {
	t.Helper()
	r := AcquireRing()
	noRings(t, r != nil)
	t.Cleanup(func() { ReleaseRing(r) })
	return r
}

// noRings skips t when SWITCHBOARD_NO_IOURING=1 declares that this machine
// refuses io_uring and it does; it fails t when io_uring is refused
// without that declaration, or works in spite of it.
func noRings(t *testing.T, ringOK bool) {
	t.Helper()
	declared := os.Getenv("SWITCHBOARD_NO_IOURING") == "1"
	switch {
	case ringOK && declared:
		t.Fatal("SWITCHBOARD_NO_IOURING=1, but io_uring works here: unset it so that the ring tests run")
	case ringOK:
	case declared:
		t.Skip("SWITCHBOARD_NO_IOURING=1: this machine refuses io_uring")
	default:
		_, err := newRing(ringEntries)
		t.Fatalf("io_uring is refused here (%v): the ring tests cannot run; set SWITCHBOARD_NO_IOURING=1 on a machine known to refuse it", err)
	}
}

// A batch writes each descriptor's buffers, in order and whole, to many
// connections at once, more than a ring holds, with empty buffers and
// descriptors with nothing to write mixed in.
func TestRingWritevMany(t *testing.T) {
	r := acquireRing(t)
	ln := listen(t)
	const n = 150 // more than ringEntries: several submissions
	clients := make([]*net.TCPConn, n)
	ws := make([]Write, n)
	want := make([][]byte, n)
	for i := range n {
		client, srv := pair(t, ln)
		clients[i] = client
		d := take(t, srv, newRecorder())
		var bufs [][]byte
		for j := range i % 5 { // connection 0, 5, 10... gets nothing
			b := bytes.Repeat([]byte{byte('a' + j)}, 1+i*j)
			bufs = append(bufs, b, nil)
			want[i] = append(want[i], b...)
		}
		ws[i] = Write{D: d, Bufs: bufs}
	}
	r.Writev(ws)
	for i, w := range ws {
		if w.Err != nil || w.N != len(want[i]) {
			t.Fatalf("write %d: n %d of %d, err %v", i, w.N, len(want[i]), w.Err)
		}
		got := make([]byte, len(want[i]))
		_ = clients[i].SetReadDeadline(time.Now().Add(waitTimeout))
		if _, err := io.ReadFull(clients[i], got); err != nil || !bytes.Equal(got, want[i]) {
			t.Fatalf("connection %d read %q (%v), want %q", i, got, err, want[i])
		}
	}
}

// A full socket: the write completes at once with what the kernel took
// and ErrWouldBlock (the caller waits for OnWritable), and a closed
// descriptor gives ErrClosed, without holding up the others.
func TestRingWritevFullAndClosed(t *testing.T) {
	r := acquireRing(t)
	ln := listen(t)
	_, srvFull := pair(t, ln)
	dFull := take(t, srvFull, newRecorder())
	_, srvClosed := pair(t, ln)
	rc := newRecorder()
	dClosed := take(t, srvClosed, rc)
	okClient, srvOK := pair(t, ln)
	dOK := take(t, srvOK, newRecorder())

	dClosed.Shutdown()
	rc.waitClosed(t)

	big := make([]byte, 1<<20)
	var sc Scratch
	for { // fill the socket the first connection's peer never reads
		if _, err := dFull.Writev([][]byte{big}, &sc); errors.Is(err, ErrWouldBlock) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
	}
	ws := []Write{
		{D: dFull, Bufs: [][]byte{big}},
		{D: dClosed, Bufs: [][]byte{[]byte("x")}},
		{D: dOK, Bufs: [][]byte{[]byte("hello "), []byte("world")}},
	}
	start := time.Now()
	r.Writev(ws)
	if d := time.Since(start); d > time.Second {
		t.Fatalf("the batch waited %v for a full socket", d)
	}
	if !errors.Is(ws[0].Err, ErrWouldBlock) || ws[0].N >= len(big) {
		t.Errorf("full socket: n %d, err %v", ws[0].N, ws[0].Err)
	}
	if !errors.Is(ws[1].Err, ErrClosed) {
		t.Errorf("closed descriptor: err %v", ws[1].Err)
	}
	if ws[2].Err != nil || ws[2].N != 11 {
		t.Errorf("healthy connection: n %d, err %v", ws[2].N, ws[2].Err)
	}
	got := make([]byte, 11)
	_ = okClient.SetReadDeadline(time.Now().Add(waitTimeout))
	if _, err := io.ReadFull(okClient, got); err != nil || string(got) != "hello world" {
		t.Errorf("read %q, %v", got, err)
	}
}

// A peer that reset the connection: the error comes back like writev's.
func TestRingWritevReset(t *testing.T) {
	r := acquireRing(t)
	ln := listen(t)
	client, srv := pair(t, ln)
	d := take(t, srv, newRecorder())
	_ = client.SetLinger(0)
	client.Close() // RST
	// The RST has no event to wait for here (the descriptor's own reads
	// would close it first): write until a write fails, with a deadline.
	// The first writes after the reset may still succeed.
	var err error
	for deadline := time.Now().Add(waitTimeout); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		ws := []Write{{D: d, Bufs: [][]byte{[]byte("ping")}}}
		r.Writev(ws)
		if err = ws[0].Err; err != nil {
			break
		}
	}
	if !errors.Is(err, syscall.EPIPE) && !errors.Is(err, syscall.ECONNRESET) && !errors.Is(err, ErrClosed) {
		t.Fatalf("err %v, want EPIPE, ECONNRESET or ErrClosed", err)
	}
}

// More buffers than one sendmsg takes go through Desc.Writev, whole.
func TestRingWritevManyBuffers(t *testing.T) {
	r := acquireRing(t)
	ln := listen(t)
	client, srv := pair(t, ln)
	d := take(t, srv, newRecorder())
	var bufs [][]byte
	var want []byte
	for i := range maxIovecs + 500 {
		b := []byte{byte(i)}
		bufs = append(bufs, b)
		want = append(want, b...)
	}
	ws := []Write{{D: d, Bufs: bufs}}
	r.Writev(ws)
	if ws[0].Err != nil || ws[0].N != len(want) {
		t.Fatalf("n %d of %d, err %v", ws[0].N, len(want), ws[0].Err)
	}
	got := make([]byte, len(want))
	_ = client.SetReadDeadline(time.Now().Add(waitTimeout))
	if _, err := io.ReadFull(client, got); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("read mismatch: %v", err)
	}
}

// Rings are reused, and SetRings(false) turns them off for the process.
func TestRingPool(t *testing.T) {
	r := AcquireRing()
	noRings(t, r != nil)
	ReleaseRing(r)
	if again := AcquireRing(); again != r {
		t.Error("a released ring was not reused")
		ReleaseRing(again)
	} else {
		ReleaseRing(again)
	}
	SetRings(false)
	defer SetRings(true)
	if AcquireRing() != nil {
		t.Fatal("a ring while rings are off")
	}
}

// A flusher calls Writev for every grab of connections, dozens of times a
// second: once its arenas have grown, a batch allocates nothing (the
// descriptors it locks and the writes it defers reuse the ring's space).
func TestRingWritevAllocatesNothing(t *testing.T) {
	r := acquireRing(t)
	ln := listen(t)
	const n = 64
	clients := make([]*net.TCPConn, n)
	ws := make([]Write, n)
	msg := []byte("x")
	for i := range n {
		client, srv := pair(t, ln)
		clients[i] = client
		ws[i] = Write{D: take(t, srv, newRecorder()), Bufs: [][]byte{msg}}
	}
	runs := 0
	allocs := testing.AllocsPerRun(20, func() {
		r.Writev(ws)
		runs++
		for i := range ws {
			if ws[i].Err != nil || ws[i].N != 1 {
				t.Fatalf("write %d: n %d, err %v", i, ws[i].N, ws[i].Err)
			}
		}
	})
	if allocs != 0 {
		t.Errorf("a batch of %d writes allocated %v times, want 0", n, allocs)
	}
	// Every peer got one byte per run.
	got := make([]byte, runs)
	for i, c := range clients {
		_ = c.SetReadDeadline(time.Now().Add(waitTimeout))
		if _, err := io.ReadFull(c, got); err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
	}
}

// A watched connection (one that stays Go's, as the HTTP front's) is
// written through its Watch: in the batch, through writev when it has
// more buffers than one submission takes, with ErrWouldBlock once its
// socket is full, and with ErrClosed once the watch has stopped, which is
// what keeps the descriptor from closing while a batch names it.
func TestRingWritevWatched(t *testing.T) {
	r := acquireRing(t)
	watched := func() (*net.TCPConn, *Watch) {
		client, _, rc := watchedPair(t)
		w, err := NewEdgeWatch(rc, func(bool) {})
		if err != nil {
			t.Fatal(err)
		}
		return client, w
	}
	client, w := watched()
	many := make([][]byte, maxIovecs+1) // past one sendmsg: writev
	var want []byte
	for i := range many {
		many[i] = []byte{byte('a' + i%26)}
		want = append(want, many[i]...)
	}
	_, stopped := watched()
	stopped.Stop()
	fullClient, full := watched()
	_ = fullClient.SetReadBuffer(4 << 10)
	big := make([]byte, 8<<20)
	ws := []Write{
		{W: w, Bufs: [][]byte{[]byte("one "), []byte("two ")}},
		{W: stopped, Bufs: [][]byte{[]byte("x")}},
		{W: full, Bufs: [][]byte{big}},
	}
	r.Writev(ws)
	if ws[0].Err != nil || ws[0].N != 8 {
		t.Errorf("watched: n %d, err %v", ws[0].N, ws[0].Err)
	}
	if !errors.Is(ws[1].Err, ErrClosed) || ws[1].N != 0 {
		t.Errorf("stopped watch: n %d, err %v", ws[1].N, ws[1].Err)
	}
	if !errors.Is(ws[2].Err, ErrWouldBlock) || ws[2].N >= len(big) {
		t.Errorf("full socket: n %d of %d, err %v", ws[2].N, len(big), ws[2].Err)
	}
	ws = []Write{{W: w, Bufs: many}}
	r.Writev(ws)
	if ws[0].Err != nil || ws[0].N != len(want) {
		t.Fatalf("writev: n %d of %d, err %v", ws[0].N, len(want), ws[0].Err)
	}
	got := make([]byte, 8+len(want))
	_ = client.SetReadDeadline(time.Now().Add(waitTimeout))
	if _, err := io.ReadFull(client, got); err != nil || string(got) != "one two "+string(want) {
		t.Fatalf("read %q (%v)", got, err)
	}
}

// The second enter of a submission, which waits for what the first did
// not complete: with the first leaving an entry behind, the second
// submits it and waits for its completion, and every write is whole.
func TestRingWritevSecondEnter(t *testing.T) {
	r := acquireRing(t)
	testHoldBackOne = true
	t.Cleanup(func() { testHoldBackOne = false })
	ln := listen(t)
	const n = 3
	clients := make([]*net.TCPConn, n)
	ws := make([]Write, n)
	for i := range n {
		client, srv := pair(t, ln)
		clients[i] = client
		ws[i] = Write{D: take(t, srv, newRecorder()), Bufs: [][]byte{[]byte("hello")}}
	}
	r.Writev(ws)
	for i, w := range ws {
		if w.Err != nil || w.N != 5 {
			t.Fatalf("write %d: n %d, err %v", i, w.N, w.Err)
		}
		got := make([]byte, 5)
		_ = clients[i].SetReadDeadline(time.Now().Add(waitTimeout))
		if _, err := io.ReadFull(clients[i], got); err != nil || string(got) != "hello" {
			t.Fatalf("connection %d read %q (%v)", i, got, err)
		}
	}
}
