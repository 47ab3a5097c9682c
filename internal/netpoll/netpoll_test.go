//go:build linux

package netpoll

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// waitTimeout bounds every wait in these tests so that a bug shows as a
// failure, never as a hang.
const waitTimeout = 5 * time.Second

// recorder is a Handler that records what it is told.
type recorder struct {
	mu       sync.Mutex
	got      []byte
	closeErr error

	nData     atomic.Int64
	nWritable atomic.Int64
	nClose    atomic.Int64

	dataCh     chan struct{} // poked after each OnData
	writableCh chan struct{} // one token per OnWritable
	closed     chan struct{} // closed by the first OnClose

	onData func(b []byte) // optional, called after recording
}

func newRecorder() *recorder {
	return &recorder{
		dataCh:     make(chan struct{}, 1),
		writableCh: make(chan struct{}, 1<<16),
		closed:     make(chan struct{}),
	}
}

func (r *recorder) OnData(b []byte) {
	r.mu.Lock()
	r.got = append(r.got, b...) // b is valid only during the call
	r.mu.Unlock()
	r.nData.Add(1)
	select {
	case r.dataCh <- struct{}{}:
	default:
	}
	if r.onData != nil {
		r.onData(b)
	}
}

func (r *recorder) OnWritable() {
	r.nWritable.Add(1)
	select {
	case r.writableCh <- struct{}{}:
	default:
	}
}

func (r *recorder) OnClose(err error) {
	if r.nClose.Add(1) == 1 {
		r.mu.Lock()
		r.closeErr = err
		r.mu.Unlock()
		close(r.closed)
	}
}

func (r *recorder) bytes() []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return bytes.Clone(r.got)
}

func (r *recorder) err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.closeErr
}

// waitBytes waits until r has received at least n bytes and returns them.
func (r *recorder) waitBytes(t *testing.T, n int) []byte {
	t.Helper()
	timer := time.NewTimer(waitTimeout)
	defer timer.Stop()
	for {
		b := r.bytes()
		if len(b) >= n {
			return b
		}
		select {
		case <-r.dataCh:
		case <-r.closed:
			if b := r.bytes(); len(b) < n {
				t.Fatalf("connection closed (err %v) after %d of %d bytes", r.err(), len(b), n)
			}
		case <-timer.C:
			t.Fatalf("timeout: received %d of %d bytes", len(r.bytes()), n)
		}
	}
}

// waitClosed waits for OnClose and returns its error.
func (r *recorder) waitClosed(t *testing.T) error {
	t.Helper()
	select {
	case <-r.closed:
		return r.err()
	case <-time.After(waitTimeout):
		t.Fatalf("timeout waiting for OnClose")
		return nil
	}
}

// waitWritable waits for one OnWritable call.
func (r *recorder) waitWritable(t *testing.T) {
	t.Helper()
	select {
	case <-r.writableCh:
	case <-time.After(waitTimeout):
		t.Fatalf("timeout waiting for OnWritable (%d calls so far)", r.nWritable.Load())
	}
}

func listen(t *testing.T) *net.TCPListener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln.(*net.TCPListener)
}

// dialPair returns both ends of a new loopback connection, without
// registering any cleanup; it is safe to call from any goroutine as long as
// nobody else accepts on ln at the same time.
func dialPair(ln *net.TCPListener) (client, server *net.TCPConn, err error) {
	type accepted struct {
		c   *net.TCPConn
		err error
	}
	ch := make(chan accepted, 1)
	go func() {
		c, err := ln.AcceptTCP()
		ch <- accepted{c, err}
	}()
	nc, err := net.DialTimeout("tcp", ln.Addr().String(), waitTimeout)
	if err != nil {
		return nil, nil, err
	}
	select {
	case a := <-ch:
		if a.err != nil {
			nc.Close()
			return nil, nil, a.err
		}
		return nc.(*net.TCPConn), a.c, nil
	case <-time.After(waitTimeout):
		nc.Close()
		return nil, nil, errors.New("timeout in accept")
	}
}

// pair is dialPair for the test goroutine; both ends are closed at cleanup
// (closing the server end again after Take is harmless).
func pair(t *testing.T, ln *net.TCPListener) (client, server *net.TCPConn) {
	t.Helper()
	client, server, err := dialPair(ln)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		client.Close()
		server.Close()
	})
	return client, server
}

// take hands srv to a poller with handler r (Take, then Start); at cleanup
// the connection is shut down and OnClose awaited, so that no descriptor
// outlives its test.
func take(t *testing.T, srv *net.TCPConn, r *recorder) *Desc {
	t.Helper()
	d := takeOnly(t, srv, r)
	if err := d.Start(r); err != nil {
		t.Fatalf("Start: %v", err)
	}
	return d
}

// takeOnly is take without Start: the test must call d.Start(r).
func takeOnly(t *testing.T, srv *net.TCPConn, r *recorder) *Desc {
	t.Helper()
	d, err := Take(srv)
	if err != nil {
		t.Fatalf("Take: %v", err)
	}
	t.Cleanup(func() {
		d.Shutdown()
		select {
		case <-r.closed:
		case <-time.After(waitTimeout):
			t.Errorf("cleanup: OnClose not called after Shutdown")
		}
	})
	return d
}

func descFd(d *Desc) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.fd
}

// pat is the byte at position pos of a stream that shows reordered,
// repeated or lost chunks (no short period).
func pat(pos int64) byte {
	h := uint32(pos) * 2654435761
	return byte(h>>24) ^ byte(pos>>32)
}

func fillPat(b []byte, pos int64) {
	for i := range b {
		b[i] = pat(pos + int64(i))
	}
}

// readPattern reads c until EOF or an error and checks every byte against
// pat; it returns how many bytes it read, the offset of the first wrong
// byte (-1 when none) and the error that ended the stream (nil for EOF).
func readPattern(c net.Conn) (n int64, bad int64, err error) {
	bad = -1
	buf := make([]byte, 64<<10)
	want := make([]byte, len(buf))
	for {
		_ = c.SetReadDeadline(time.Now().Add(2 * waitTimeout))
		k, err := c.Read(buf)
		if k > 0 && bad < 0 {
			fillPat(want[:k], n)
			if !bytes.Equal(buf[:k], want[:k]) {
				for i := range k {
					if buf[i] != want[i] {
						bad = n + int64(i)
						break
					}
				}
			}
		}
		n += int64(k)
		if err == io.EOF {
			return n, bad, nil
		}
		if err != nil {
			return n, bad, err
		}
	}
}

// advance drops the first n bytes of bufs (without modifying them).
func advance(bufs [][]byte, n int) [][]byte {
	for len(bufs) > 0 && n >= len(bufs[0]) {
		n -= len(bufs[0])
		bufs = bufs[1:]
	}
	if n > 0 {
		bufs = append([][]byte{bufs[0][n:]}, bufs[1:]...)
	}
	return bufs
}

func totalLen(bufs [][]byte) int {
	n := 0
	for _, b := range bufs {
		n += len(b)
	}
	return n
}

// writeAll writes bufs through d, waiting for OnWritable (on r) whenever
// Writev would block; it returns how many times it called WaitWritable.
func writeAll(t *testing.T, d *Desc, r *recorder, bufs [][]byte, sc *Scratch) (waits int) {
	t.Helper()
	for totalLen(bufs) > 0 {
		n, err := d.Writev(bufs, sc)
		bufs = advance(bufs, n)
		switch {
		case err == nil:
			if totalLen(bufs) != 0 {
				t.Fatalf("Writev returned nil error with %d bytes unwritten", totalLen(bufs))
			}
		case errors.Is(err, ErrWouldBlock):
			d.WaitWritable()
			waits++
			r.waitWritable(t)
		default:
			t.Fatalf("Writev: %v", err)
		}
	}
	return waits
}

// pollerGoroutines returns the stacks of the running poller loops.
func pollerGoroutines() string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "internal/netpoll.(*poller).loop") {
			out = append(out, g)
		}
	}
	return strings.Join(out, "\n\n")
}

// waitNoPollerGoroutine fails unless every poller loop has exited within 2s.
func waitNoPollerGoroutine(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for {
		left := pollerGoroutines()
		if left == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("poller goroutine still running with no descriptor registered:\n%s", left)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// settle returns once p has handled every event its epoll set reports now:
// it waits for the round in progress, then serves what is left itself. A
// handler call that has not happened after settle is not going to happen
// without a new event, which is what the "not called" checks below need.
func settle(p *poller) {
	p.serveMu.Lock()
	_, _ = p.serveReady()
	p.serveMu.Unlock()
}

// waitInput waits until the kernel holds at least n unread bytes for d,
// so that a check after it knows the input has arrived, or fails.
func waitInput(t *testing.T, d *Desc, n int) {
	t.Helper()
	fd := descFd(d)
	for deadline := time.Now().Add(waitTimeout); ; time.Sleep(time.Millisecond) {
		var queued int32
		_, _, e := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), syscall.TIOCINQ, uintptr(unsafe.Pointer(&queued)))
		if e != 0 {
			t.Fatalf("FIONREAD on %d: %v", fd, e)
		}
		if int(queued) >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d bytes arrived for descriptor %d, want %d", queued, fd, n)
		}
	}
}

// waitPeerFin waits until d's connection has received the peer's FIN (TCP
// state CLOSE_WAIT), or fails.
func waitPeerFin(t *testing.T, d *Desc) {
	t.Helper()
	waitTCPState(t, d, 8, "CLOSE_WAIT")
}

// waitTCPState waits until d's connection is in TCP state state (named
// name in the failure), or fails.
func waitTCPState(t *testing.T, d *Desc, state byte, name string) {
	t.Helper()
	fd := descFd(d)
	for deadline := time.Now().Add(waitTimeout); ; time.Sleep(time.Millisecond) {
		var info [104]byte // struct tcp_info; tcpi_state is its first byte
		size := uint32(len(info))
		_, _, e := syscall.Syscall6(syscall.SYS_GETSOCKOPT, uintptr(fd), syscall.IPPROTO_TCP, syscall.TCP_INFO,
			uintptr(unsafe.Pointer(&info[0])), uintptr(unsafe.Pointer(&size)), 0)
		if e != 0 {
			t.Fatalf("TCP_INFO on %d: %v", fd, e)
		}
		if info[0] == state {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("descriptor %d in TCP state %d, want %s", fd, info[0], name)
		}
	}
}

// waitGoroutine waits until a goroutine's stack holds every one of parts
// (a state such as "[IO wait", function names), or fails.
func waitGoroutine(t *testing.T, parts ...string) {
	t.Helper()
	buf := make([]byte, 1<<20)
	for deadline := time.Now().Add(waitTimeout); ; time.Sleep(time.Millisecond) {
		n := runtime.Stack(buf, true)
	stacks:
		for _, g := range strings.Split(string(buf[:n]), "\n\n") {
			for _, p := range parts {
				if !strings.Contains(g, p) {
					continue stacks
				}
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no goroutine with %q", parts)
		}
	}
}

// 1. Bytes flow both ways, in order, through OnData and Writev.
func TestDataBothWays(t *testing.T) {
	ln := listen(t)
	client, srv := pair(t, ln)
	r := newRecorder()
	d := take(t, srv, r)

	big := make([]byte, 200<<10) // more than the poller's 64 KiB read buffer
	fillPat(big, 0)
	chunks := [][]byte{[]byte("hello"), []byte(", "), []byte("world\n"), big, []byte("tail")}
	var want []byte
	for _, c := range chunks {
		if _, err := client.Write(c); err != nil {
			t.Fatal(err)
		}
		want = append(want, c...)
	}
	got := r.waitBytes(t, len(want))
	if !bytes.Equal(got, want) {
		t.Fatalf("OnData got %d bytes, want %d; equal prefix %d", len(got), len(want), commonPrefix(got, want))
	}
	if r.nData.Load() < 2 {
		t.Errorf("%d bytes arrived in %d OnData calls; the 64 KiB buffer should need several", len(want), r.nData.Load())
	}

	// Answer with several buffers, including empty and nil ones.
	mid := make([]byte, 20000)
	fillPat(mid, 7)
	out := [][]byte{nil, []byte("abc"), {}, []byte("defg"), nil, mid, {}, []byte("z"), nil}
	wantOut := bytes.Join(out, nil)
	readDone := make(chan []byte, 1)
	go func() {
		b := make([]byte, len(wantOut))
		_ = client.SetReadDeadline(time.Now().Add(waitTimeout))
		n, err := io.ReadFull(client, b)
		if err != nil {
			t.Errorf("client read: %v after %d bytes", err, n)
		}
		readDone <- b[:n]
	}()
	var sc Scratch
	n, err := d.Writev(out, &sc)
	if err != nil || n != len(wantOut) {
		t.Fatalf("Writev = %d, %v; want %d, nil", n, err, len(wantOut))
	}
	if b := <-readDone; !bytes.Equal(b, wantOut) {
		t.Fatalf("client got %q..., want %q...", b[:min(len(b), 16)], wantOut[:16])
	}

	// Nothing to write is not an error.
	if n, err := d.Writev(nil, &sc); n != 0 || err != nil {
		t.Errorf("Writev(nil) = %d, %v", n, err)
	}
	if n, err := d.Writev([][]byte{{}, nil, {}}, &sc); n != 0 || err != nil {
		t.Errorf("Writev(empty buffers) = %d, %v", n, err)
	}
	if r.nClose.Load() != 0 {
		t.Fatalf("OnClose called on a live connection: %v", r.err())
	}
}

func commonPrefix(a, b []byte) int {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	return i
}

// 2. The peer closes: the last bytes arrive, OnClose(nil) is called once,
// and the descriptor refuses writes.
func TestPeerClose(t *testing.T) {
	ln := listen(t)
	client, srv := pair(t, ln)
	r := newRecorder()
	d := take(t, srv, r)

	if _, err := client.Write([]byte("bye")); err != nil {
		t.Fatal(err)
	}
	if err := client.Close(); err != nil {
		t.Fatal(err)
	}
	if err := r.waitClosed(t); err != nil {
		t.Fatalf("OnClose(%v), want nil for an orderly close", err)
	}
	if got := string(r.bytes()); got != "bye" {
		t.Fatalf("OnData got %q before the close, want %q", got, "bye")
	}
	var sc Scratch
	if n, err := d.Writev([][]byte{[]byte("too late")}, &sc); n != 0 || !errors.Is(err, ErrClosed) {
		t.Fatalf("Writev after close = %d, %v; want 0, ErrClosed", n, err)
	}
	d.Shutdown() // no-op now
	d.WaitWritable()
	d.PauseReads(true)
	d.PauseReads(false)
	settle(d.p)
	if n := r.nClose.Load(); n != 1 {
		t.Fatalf("OnClose called %d times", n)
	}
	if n := r.nWritable.Load(); n != 0 {
		t.Fatalf("OnWritable called %d times on a closed descriptor", n)
	}
}

// 3. Shutdown from other goroutines ends the connection once; the client
// reads EOF; repeated and concurrent calls are harmless.
func TestShutdown(t *testing.T) {
	ln := listen(t)
	check := func(t *testing.T, client *net.TCPConn, d *Desc, r *recorder) {
		t.Helper()
		if err := r.waitClosed(t); err != nil {
			t.Errorf("OnClose(%v) after Shutdown, want nil", err)
		}
		_ = client.SetReadDeadline(time.Now().Add(waitTimeout))
		if n, err := client.Read(make([]byte, 1)); n != 0 || err != io.EOF {
			t.Errorf("client Read after Shutdown = %d, %v; want 0, EOF", n, err)
		}
		settle(d.p)
		if n := r.nClose.Load(); n != 1 {
			t.Errorf("OnClose called %d times", n)
		}
	}

	t.Run("three calls", func(t *testing.T) {
		client, srv := pair(t, ln)
		r := newRecorder()
		d := take(t, srv, r)
		done := make(chan struct{})
		go func() {
			defer close(done)
			d.Shutdown()
			d.Shutdown()
			d.Shutdown()
		}()
		<-done
		check(t, client, d, r)
		d.Shutdown() // after the close as well
	})

	t.Run("concurrent", func(t *testing.T) {
		client, srv := pair(t, ln)
		r := newRecorder()
		d := take(t, srv, r)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				<-start
				for range 3 {
					d.Shutdown()
				}
			})
		}
		close(start)
		wg.Wait()
		check(t, client, d, r)
	})

	t.Run("reads paused", func(t *testing.T) {
		client, srv := pair(t, ln)
		r := newRecorder()
		d := take(t, srv, r)
		d.PauseReads(true)
		go d.Shutdown()
		check(t, client, d, r)
	})
}

// 4. Backpressure: Writev reports ErrWouldBlock with a short count when the
// peer does not read; after WaitWritable comes one OnWritable once the peer
// reads, and the rest of the stream arrives intact.
func TestBackpressure(t *testing.T) {
	ln := listen(t)
	client, srv := pair(t, ln)
	r := newRecorder()
	d := take(t, srv, r)

	const chunk = 64 << 10
	const limit = 256 << 20
	var sc Scratch
	buf := make([]byte, chunk)
	var pos int64 // bytes written so far
	var rest []byte
	for {
		if pos > limit {
			t.Fatalf("Writev never reported ErrWouldBlock after %d MiB to a peer that does not read", pos>>20)
		}
		fillPat(buf, pos)
		n, err := d.Writev([][]byte{buf}, &sc)
		pos += int64(n)
		if err == nil {
			if n != chunk {
				t.Fatalf("Writev = %d, nil; want %d", n, chunk)
			}
			continue
		}
		if !errors.Is(err, ErrWouldBlock) {
			t.Fatalf("Writev: %v", err)
		}
		if n >= chunk {
			t.Fatalf("Writev = %d, ErrWouldBlock: count not short", n)
		}
		rest = bytes.Clone(buf[n:])
		break
	}
	t.Logf("send path full after %d KiB", pos>>10)
	if n := r.nWritable.Load(); n != 0 {
		t.Fatalf("OnWritable called %d times without WaitWritable", n)
	}

	d.WaitWritable()
	waits := 1
	settle(d.p)
	if n := r.nWritable.Load(); n != 0 {
		t.Fatalf("OnWritable called while the peer reads nothing")
	}

	type result struct {
		n, bad int64
		err    error
	}
	readDone := make(chan result, 1)
	go func() {
		n, bad, err := readPattern(client)
		readDone <- result{n, bad, err}
	}()
	r.waitWritable(t)
	settle(d.p) // the socket stays writable: no second call
	if n := r.nWritable.Load(); n != 1 {
		t.Fatalf("OnWritable called %d times after one WaitWritable", n)
	}

	// The remainder of the blocked chunk, then 4 MiB more, in uneven buffers.
	extra := make([]byte, 4<<20)
	fillPat(extra, pos+int64(len(rest)))
	bufs := [][]byte{rest}
	for off := 0; off < len(extra); {
		k := min(len(extra)-off, 1+rand.IntN(100<<10))
		bufs = append(bufs, extra[off:off+k], nil)
		off += k
	}
	waits += writeAll(t, d, r, bufs, &sc)
	total := pos + int64(len(rest)) + int64(len(extra))
	settle(d.p)
	if n := r.nWritable.Load(); n != int64(waits) {
		t.Errorf("OnWritable called %d times for %d WaitWritable calls", n, waits)
	}

	d.Shutdown()
	select {
	case res := <-readDone:
		if res.err != nil {
			t.Fatalf("client read: %v after %d bytes", res.err, res.n)
		}
		if res.bad >= 0 {
			t.Fatalf("client got a wrong byte at offset %d", res.bad)
		}
		if res.n != total {
			t.Fatalf("client read %d bytes, want %d", res.n, total)
		}
	case <-time.After(2 * waitTimeout):
		t.Fatal("timeout waiting for the client to read everything")
	}
	if err := r.waitClosed(t); err != nil {
		t.Errorf("OnClose(%v), want nil", err)
	}
}

// 5. PauseReads(true) keeps input in the kernel; PauseReads(false) delivers
// it.
func TestPauseReads(t *testing.T) {
	ln := listen(t)
	client, srv := pair(t, ln)
	r := newRecorder()
	d := take(t, srv, r)

	d.PauseReads(true)
	d.PauseReads(true) // twice is the same
	if _, err := client.Write([]byte("paused")); err != nil {
		t.Fatal(err)
	}
	waitInput(t, d, 6)
	settle(d.p)
	if n := r.nData.Load(); n != 0 {
		t.Fatalf("OnData called %d times while paused (%q)", n, r.bytes())
	}
	d.PauseReads(false)
	if got := string(r.waitBytes(t, 6)); got != "paused" {
		t.Fatalf("got %q", got)
	}

	// Again, with WaitWritable in between: the two settings are independent.
	d.PauseReads(true)
	d.WaitWritable()
	r.waitWritable(t)
	if _, err := client.Write([]byte("again")); err != nil {
		t.Fatal(err)
	}
	waitInput(t, d, 5)
	settle(d.p)
	if n := r.nData.Load(); n != 1 {
		t.Fatalf("OnData called while paused (%q)", r.bytes())
	}
	d.PauseReads(false)
	if got := string(r.waitBytes(t, 11)); got != "pausedagain" {
		t.Fatalf("got %q", got)
	}
}

// 5b. A paused connection keeps its input in the kernel until the peer
// hangs up; then, as documented, the rest is read anyway and the connection
// ends, still paused.
func TestPauseReadsPeerHangsUp(t *testing.T) {
	ln := listen(t)
	client, srv := pair(t, ln)
	r := newRecorder()
	d := take(t, srv, r)

	d.PauseReads(true)
	if _, err := client.Write([]byte("first, ")); err != nil {
		t.Fatal(err)
	}
	waitInput(t, d, 7)
	settle(d.p)
	if n := r.nData.Load(); n != 0 {
		t.Fatalf("OnData called %d times while paused (%q)", n, r.bytes())
	}
	if _, err := client.Write([]byte("last words")); err != nil {
		t.Fatal(err)
	}
	if err := client.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	if err := r.waitClosed(t); err != nil {
		t.Errorf("OnClose(%v), want nil", err)
	}
	if got := string(r.bytes()); got != "first, last words" {
		t.Errorf("got %q before OnClose", got)
	}
}

// echoer is a Handler that writes back what it reads, from the poller's
// goroutine, queueing what the socket does not take.
type echoer struct {
	d       *Desc
	sc      Scratch
	pending []byte
	werr    error // first unexpected write error

	closed chan struct{}
	nClose atomic.Int32
	err    error
}

func newEchoer() *echoer {
	return &echoer{closed: make(chan struct{})}
}

func (e *echoer) write(b []byte) {
	n, err := e.d.Writev([][]byte{b}, &e.sc)
	switch {
	case err == nil:
	case errors.Is(err, ErrWouldBlock):
		e.pending = append(e.pending, b[n:]...)
		e.d.WaitWritable()
	case e.werr == nil:
		e.werr = err
	}
}

func (e *echoer) OnData(b []byte) {
	if len(e.pending) > 0 {
		e.pending = append(e.pending, b...)
		return
	}
	e.write(b)
}

func (e *echoer) OnWritable() {
	p := e.pending
	e.pending = nil
	e.write(p)
}

func (e *echoer) OnClose(err error) {
	if e.nClose.Add(1) == 1 {
		e.err = err
		close(e.closed)
	}
}

// 6. Many connections over all pollers, each echoing from OnData: every
// client gets exactly its own bytes back.
func TestManyConnectionsEcho(t *testing.T) {
	const conns = 200
	ln := listen(t)

	type served struct {
		d *Desc
		e *echoer
	}
	var (
		mu     sync.Mutex
		server []served
	)
	acceptDone := make(chan error, 1)
	go func() {
		for range conns {
			c, err := ln.AcceptTCP()
			if err != nil {
				acceptDone <- err
				return
			}
			e := newEchoer()
			d, err := Take(c)
			if err != nil {
				c.Close()
				acceptDone <- err
				return
			}
			e.d = d
			if err := d.Start(e); err != nil {
				acceptDone <- err
				return
			}
			mu.Lock()
			server = append(server, served{d, e})
			mu.Unlock()
		}
		acceptDone <- nil
	}()
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for _, s := range server {
			s.d.Shutdown()
			select {
			case <-s.e.closed:
			case <-time.After(waitTimeout):
				t.Errorf("cleanup: OnClose not called")
			}
		}
	})

	var wg sync.WaitGroup
	errs := make(chan error, conns)
	for i := range conns {
		wg.Go(func() {
			c, err := net.DialTimeout("tcp", ln.Addr().String(), waitTimeout)
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			msg := []byte(strings.Repeat(fmt.Sprintf("<client %03d>", i), 400+i))
			readDone := make(chan error, 1)
			go func() {
				got := make([]byte, len(msg))
				_ = c.SetReadDeadline(time.Now().Add(2 * waitTimeout))
				n, err := io.ReadFull(c, got)
				switch {
				case err != nil:
					readDone <- fmt.Errorf("client %d: read %d of %d bytes: %v", i, n, len(msg), err)
				case !bytes.Equal(got, msg):
					at := commonPrefix(got, msg)
					readDone <- fmt.Errorf("client %d: wrong echo at %d: %q", i, at, got[at:min(at+24, len(got))])
				default:
					readDone <- nil
				}
			}()
			for off := 0; off < len(msg); {
				k := min(len(msg)-off, 1+rand.IntN(2000))
				if _, err := c.Write(msg[off : off+k]); err != nil {
					errs <- err
					return
				}
				off += k
			}
			if err := <-readDone; err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	select {
	case err := <-acceptDone:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(waitTimeout):
		t.Fatal("timeout in accept loop")
	}

	// The clients have closed: every server side sees an orderly close.
	mu.Lock()
	all := append([]served(nil), server...)
	mu.Unlock()
	used := map[*poller]int{}
	for _, s := range all {
		used[s.d.p]++
		select {
		case <-s.e.closed:
			if s.e.err != nil {
				t.Errorf("OnClose(%v) after the client closed", s.e.err)
			}
			if s.e.werr != nil {
				t.Errorf("echo write: %v", s.e.werr)
			}
		case <-time.After(waitTimeout):
			t.Fatalf("OnClose not called after the client closed")
		}
	}
	if len(used) != len(pollers) {
		t.Errorf("%d connections used %d of %d pollers", conns, len(used), len(pollers))
	}
	t.Logf("%d pollers: %v", len(pollers), used)
}

// 7. Take takes the connection away from Go's poller: the *net.TCPConn is
// closed (a Read blocked in it returns), and the connection goes on through
// the Desc.
func TestTakeClosesOriginalConn(t *testing.T) {
	ln := listen(t)
	client, srv := pair(t, ln)

	// Use the connection through Go's poller first.
	if _, err := client.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 4)
	_ = srv.SetReadDeadline(time.Now().Add(waitTimeout))
	if _, err := io.ReadFull(srv, b); err != nil || string(b) != "ping" {
		t.Fatalf("before Take: %q, %v", b, err)
	}
	if _, err := srv.Write([]byte("pong")); err != nil {
		t.Fatal(err)
	}
	_ = client.SetReadDeadline(time.Now().Add(waitTimeout))
	if _, err := io.ReadFull(client, b); err != nil || string(b) != "pong" {
		t.Fatalf("before Take: %q, %v", b, err)
	}
	_ = srv.SetReadDeadline(time.Time{})

	// A goroutine is parked in Go's poller, reading, when Take runs.
	blocked := make(chan error, 1)
	go func() {
		_, err := srv.Read(make([]byte, 1))
		blocked <- err
	}()
	waitGoroutine(t, "[IO wait", "netpoll.TestTakeClosesOriginalConn.func")

	var origFd int
	rc, err := srv.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	_ = rc.Control(func(s uintptr) { origFd = int(s) })

	r := newRecorder()
	d := take(t, srv, r)
	if fd := descFd(d); fd == origFd {
		t.Errorf("Desc uses the original descriptor %d, not a duplicate", fd)
	}
	select {
	case err := <-blocked:
		if !errors.Is(err, net.ErrClosed) {
			t.Errorf("blocked Read returned %v, want net.ErrClosed", err)
		}
	case <-time.After(waitTimeout):
		t.Fatal("Read blocked in the taken connection did not return")
	}
	if _, err := srv.Read(make([]byte, 1)); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Read on the taken conn = %v, want net.ErrClosed", err)
	}
	if _, err := srv.Write([]byte("x")); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Write on the taken conn = %v, want net.ErrClosed", err)
	}

	if _, err := client.Write([]byte("after")); err != nil {
		t.Fatal(err)
	}
	if got := string(r.waitBytes(t, 5)); got != "after" {
		t.Fatalf("OnData got %q", got)
	}
	var sc Scratch
	if n, err := d.Writev([][]byte{[]byte("still "), []byte("here")}, &sc); n != 10 || err != nil {
		t.Fatalf("Writev = %d, %v", n, err)
	}
	got := make([]byte, 10)
	_ = client.SetReadDeadline(time.Now().Add(waitTimeout))
	if _, err := io.ReadFull(client, got); err != nil || string(got) != "still here" {
		t.Fatalf("client got %q, %v", got, err)
	}
	if r.nClose.Load() != 0 {
		t.Fatalf("OnClose(%v) on a live connection", r.err())
	}
}

// 7b. What a Desc does between Take and Start: writes go out, input and
// requests wait for Start, and a Shutdown is carried out by Start.
func TestBeforeStart(t *testing.T) {
	ln := listen(t)

	t.Run("write and read", func(t *testing.T) {
		client, srv := pair(t, ln)
		r := newRecorder()
		d := takeOnly(t, srv, r)
		var sc Scratch
		if n, err := d.Writev([][]byte{[]byte("early")}, &sc); n != 5 || err != nil {
			t.Fatalf("Writev before Start = %d, %v", n, err)
		}
		got := make([]byte, 5)
		_ = client.SetReadDeadline(time.Now().Add(waitTimeout))
		if _, err := io.ReadFull(client, got); err != nil || string(got) != "early" {
			t.Fatalf("client got %q, %v", got, err)
		}
		if _, err := client.Write([]byte("waiting")); err != nil {
			t.Fatal(err)
		}
		waitInput(t, d, 7) // it waits in the kernel for Start
		if err := d.Start(r); err != nil {
			t.Fatal(err)
		}
		if got := string(r.waitBytes(t, 7)); got != "waiting" {
			t.Fatalf("OnData got %q", got)
		}
	})

	t.Run("paused and waiting for room", func(t *testing.T) {
		client, srv := pair(t, ln)
		r := newRecorder()
		d := takeOnly(t, srv, r)
		d.PauseReads(true)
		d.WaitWritable()
		if _, err := client.Write([]byte("held")); err != nil {
			t.Fatal(err)
		}
		waitInput(t, d, 4)
		if err := d.Start(r); err != nil {
			t.Fatal(err)
		}
		r.waitWritable(t)
		settle(d.p)
		if n := r.nData.Load(); n != 0 {
			t.Fatalf("OnData called while paused before Start")
		}
		if n := r.nWritable.Load(); n != 1 {
			t.Fatalf("OnWritable called %d times", n)
		}
		d.PauseReads(false)
		if got := string(r.waitBytes(t, 4)); got != "held" {
			t.Fatalf("OnData got %q", got)
		}
	})

	t.Run("shutdown", func(t *testing.T) {
		client, srv := pair(t, ln)
		r := newRecorder()
		d := takeOnly(t, srv, r)
		d.Shutdown()
		d.Shutdown()
		if err := d.Start(r); err != nil {
			t.Fatal(err)
		}
		if err := r.waitClosed(t); err != nil {
			t.Errorf("OnClose(%v)", err)
		}
		_ = client.SetReadDeadline(time.Now().Add(waitTimeout))
		if n, err := client.Read(make([]byte, 1)); n != 0 || err != io.EOF {
			t.Errorf("client Read = %d, %v; want EOF", n, err)
		}
	})

	t.Run("peer closed", func(t *testing.T) {
		client, srv := pair(t, ln)
		r := newRecorder()
		d := takeOnly(t, srv, r)
		client.Write([]byte("x"))
		client.Close()
		waitInput(t, d, 1) // both arrived before Start
		waitPeerFin(t, d)
		if err := d.Start(r); err != nil {
			t.Fatal(err)
		}
		if err := r.waitClosed(t); err != nil {
			t.Errorf("OnClose(%v)", err)
		}
		if got := string(r.bytes()); got != "x" {
			t.Errorf("OnData got %q", got)
		}
	})
}

// 8. A poller's goroutine runs only while it has descriptors, and starts
// again for the next one.
func TestPollerGoroutineExits(t *testing.T) {
	waitNoPollerGoroutine(t) // earlier tests cleaned up

	ln := listen(t)
	round := func(t *testing.T, n int) {
		type conn struct {
			client *net.TCPConn
			d      *Desc
			r      *recorder
		}
		var cs []conn
		for range n {
			client, srv := pair(t, ln)
			r := newRecorder()
			d := take(t, srv, r)
			cs = append(cs, conn{client, d, r})
		}
		// A goroutine just started by Start may not be in runtime.Stack's
		// list at once: poll.
		for deadline := time.Now().Add(2 * time.Second); pollerGoroutines() == ""; {
			if time.Now().After(deadline) {
				t.Fatal("no poller goroutine while descriptors are registered")
			}
			time.Sleep(time.Millisecond)
		}
		var sc Scratch
		for i, c := range cs {
			if _, err := c.client.Write([]byte{byte(i)}); err != nil {
				t.Fatal(err)
			}
			if got := c.r.waitBytes(t, 1); got[0] != byte(i) {
				t.Fatalf("conn %d got %v", i, got)
			}
			if n, err := c.d.Writev([][]byte{{byte(i)}}, &sc); n != 1 || err != nil {
				t.Fatalf("Writev = %d, %v", n, err)
			}
		}
		for i, c := range cs { // half end by the peer, half by Shutdown
			if i%2 == 0 {
				c.client.Close()
			} else {
				c.d.Shutdown()
			}
		}
		for _, c := range cs {
			c.r.waitClosed(t)
		}
		waitNoPollerGoroutine(t)
	}
	t.Run("first", func(t *testing.T) { round(t, 8) })
	t.Run("restart", func(t *testing.T) { round(t, 8) })
	t.Run("one", func(t *testing.T) { round(t, 1) })
}

// 9. Writev splits more than IOV_MAX buffers over several writev calls.
func TestWritevManyBuffers(t *testing.T) {
	ln := listen(t)
	client, srv := pair(t, ln)
	r := newRecorder()
	d := take(t, srv, r)

	const nbufs = 3000
	var bufs [][]byte
	var pos int64
	for i := range nbufs {
		var b []byte
		switch {
		case i%7 == 3, i >= 1020 && i < 1030, i >= 2045 && i < 2050:
			// empty buffers, some of them around the 1024 boundaries
		default:
			b = make([]byte, 1+i%5)
			fillPat(b, pos)
			pos += int64(len(b))
		}
		bufs = append(bufs, b)
	}
	// One variant where exactly 1024 non-empty buffers come first.
	exact := make([][]byte, 0, 2100)
	for i := range 2100 {
		b := make([]byte, 1)
		if i >= 1024 && i < 1034 {
			b = nil
		}
		if b != nil {
			b[0] = pat(pos)
			pos++
		}
		exact = append(exact, b)
	}
	want := pos

	type result struct {
		n, bad int64
		err    error
	}
	readDone := make(chan result, 1)
	go func() {
		n, bad, err := readPattern(client)
		readDone <- result{n, bad, err}
	}()
	var sc Scratch
	if n, err := d.Writev(bufs, &sc); err != nil || n != totalLen(bufs) {
		t.Fatalf("Writev(%d buffers) = %d, %v; want %d, nil", len(bufs), n, err, totalLen(bufs))
	}
	if n, err := d.Writev(exact, &sc); err != nil || n != totalLen(exact) {
		t.Fatalf("Writev(%d buffers) = %d, %v; want %d, nil", len(exact), n, err, totalLen(exact))
	}
	d.Shutdown()
	select {
	case res := <-readDone:
		if res.err != nil || res.bad >= 0 || res.n != want {
			t.Fatalf("client read %d bytes (want %d), first wrong byte at %d, err %v", res.n, want, res.bad, res.err)
		}
	case <-time.After(waitTimeout):
		t.Fatal("timeout reading")
	}
}

// 9b. Scratch does not keep the written buffers alive after Writev returns.
func TestWritevScratchDropsBuffers(t *testing.T) {
	ln := listen(t)
	client, srv := pair(t, ln)
	r := newRecorder()
	d := take(t, srv, r)
	go io.Copy(io.Discard, client)

	for _, nbufs := range []int{10, 3000, 2048} {
		bufs := make([][]byte, nbufs)
		for i := range bufs {
			bufs[i] = []byte{byte(i)}
		}
		if nbufs == 2048 {
			bufs = append(bufs, nil, nil) // the last round finds only empty buffers
		}
		var sc Scratch
		if n, err := d.Writev(bufs, &sc); n != nbufs || err != nil {
			t.Fatalf("Writev = %d, %v", n, err)
		}
		for i, v := range sc.iov[:cap(sc.iov)] {
			if v.Base != nil {
				t.Errorf("after Writev of %d buffers, Scratch still points at a caller's buffer (iov[%d] of cap %d)", nbufs, i, cap(sc.iov))
				break
			}
		}
	}
}

// 10. Writev racing with Shutdown and the peer's close never panics and
// never writes to a descriptor that is not its own, even when the number is
// reused at once by new connections.
func TestRaceWritevShutdownPeerClose(t *testing.T) {
	iters := 60
	if testing.Short() {
		iters = 10
	}
	ln := listen(t)
	lnC := listen(t) // newcomers: accepted only by the newcomer goroutine

	// A bystander with a stream of its own, written all along.
	cB, sB := pair(t, ln)
	rB := newRecorder()
	dB := take(t, sB, rB)
	type result struct {
		n, bad int64
		err    error
	}
	bRead := make(chan result, 1)
	go func() {
		n, bad, err := readPattern(cB)
		bRead <- result{n, bad, err}
	}()
	stopB := make(chan struct{})
	bWrote := make(chan int64, 1)
	go func() {
		var sc Scratch
		var pos int64
		buf := make([]byte, 1500)
		defer func() { bWrote <- pos }()
		for {
			select {
			case <-stopB:
				return
			default:
			}
			fillPat(buf, pos)
			n, err := dB.Writev([][]byte{buf[:500], nil, buf[500:]}, &sc)
			pos += int64(n)
			if err != nil && !errors.Is(err, ErrWouldBlock) {
				t.Errorf("bystander Writev: %v", err)
				return
			}
			if err != nil {
				// The unwritten rest is dropped: the next round refills
				// buf from pos, so the stream stays continuous.
				runtime.Gosched()
			}
		}
	}()

	for it := range iters {
		cA, sA, err := dialPair(ln)
		if err != nil {
			t.Fatal(err)
		}
		rA := newRecorder()
		dA, err := Take(sA)
		if err != nil {
			t.Fatal(err)
		}
		if err := dA.Start(rA); err != nil {
			t.Fatal(err)
		}
		start := make(chan struct{})
		var wg sync.WaitGroup
		wg.Go(func() { // writer
			<-start
			var sc Scratch
			aBytes := bytes.Repeat([]byte{0xAA}, 4096)
			deadline := time.Now().Add(waitTimeout)
			for {
				_, err := dA.Writev([][]byte{aBytes[:1000], {}, aBytes[1000:]}, &sc)
				if errors.Is(err, ErrClosed) {
					return
				}
				if err != nil && !errors.Is(err, ErrWouldBlock) && !errors.Is(err, syscall.EPIPE) && !errors.Is(err, syscall.ECONNRESET) {
					t.Errorf("iteration %d: Writev: %v", it, err)
				}
				if time.Now().After(deadline) {
					t.Errorf("iteration %d: Writev never reported ErrClosed", it)
					return
				}
				if err != nil {
					runtime.Gosched()
				}
			}
		})
		// The random sleeps below are the test's subject, not waits for
		// events: they spread the three actors' steps over different
		// interleavings from one iteration to the next.
		wg.Go(func() { // Shutdown
			<-start
			time.Sleep(time.Duration(rand.IntN(1000)) * time.Microsecond)
			dA.Shutdown()
		})
		wg.Go(func() { // peer close
			<-start
			if rand.IntN(2) == 0 {
				_, _ = cA.Read(make([]byte, 4096))
			}
			time.Sleep(time.Duration(rand.IntN(1000)) * time.Microsecond)
			cA.Close()
		})
		wg.Go(func() { // newcomers that may get A's descriptor number
			<-start
			for k := range 4 {
				time.Sleep(time.Duration(rand.IntN(500)) * time.Microsecond)
				cC, sC, err := dialPair(lnC)
				if err != nil {
					t.Errorf("newcomer: %v", err)
					return
				}
				marker := fmt.Appendf(nil, "newcomer %d.%d", it, k)
				if _, err := sC.Write(marker); err != nil {
					t.Errorf("newcomer write: %v", err)
				}
				time.Sleep(time.Duration(rand.IntN(300)) * time.Microsecond)
				_ = sC.CloseWrite()
				_ = cC.SetReadDeadline(time.Now().Add(waitTimeout))
				got, err := io.ReadAll(cC)
				if err != nil {
					t.Errorf("newcomer read: %v", err)
				}
				if !bytes.Equal(got, marker) {
					t.Errorf("newcomer %d.%d received %q (%d bytes), want only %q", it, k, got[:min(len(got), 40)], len(got), marker)
				}
				sC.Close()
				cC.Close()
			}
		})
		close(start)
		wg.Wait()
		select {
		case <-rA.closed:
		case <-time.After(waitTimeout):
			t.Fatalf("iteration %d: OnClose not called", it)
		}
		if n := rA.nClose.Load(); n != 1 {
			t.Fatalf("iteration %d: OnClose called %d times", it, n)
		}
		if t.Failed() {
			break
		}
	}

	close(stopB)
	wrote := <-bWrote
	dB.Shutdown()
	select {
	case res := <-bRead:
		if res.err != nil || res.bad >= 0 || res.n != wrote {
			t.Errorf("bystander read %d bytes (wrote %d), first wrong byte at %d, err %v", res.n, wrote, res.bad, res.err)
		}
	case <-time.After(2 * waitTimeout):
		t.Fatal("timeout reading the bystander's stream")
	}
}

// 11. Start on one goroutine while the poller closes another descriptor:
// many connections come and go at once on every poller; each must be
// served and closed.
func TestStartWhileClosingStress(t *testing.T) {
	workers := 8
	dur := time.Second
	if testing.Short() {
		dur = 200 * time.Millisecond
	}
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	var total atomic.Int64
	for w := range workers {
		ln := listen(t) // one listener per worker, so accepts do not mix
		wg.Go(func() {
			end := time.Now().Add(dur)
			for time.Now().Before(end) {
				client, srv, err := dialPair(ln)
				if err != nil {
					errs <- err
					return
				}
				r := newRecorder()
				d, err := Take(srv)
				if err != nil {
					errs <- err
					return
				}
				if err := d.Start(r); err != nil {
					errs <- err
					return
				}
				fail := func(what string) {
					fd := descFd(d)
					d.p.mu.Lock()
					inTable, running := d.p.descs[int32(fd)] == d, d.p.running
					d.p.mu.Unlock()
					what = fmt.Sprintf("%s [in the poller's table: %v, poller running: %v]", what, inTable, running)
					// Leave nothing behind for the next tests: see repairLost.
					repairLost(d)
					d.Shutdown()
					client.Close()
					select {
					case <-r.closed:
					case <-time.After(waitTimeout):
					}
					errs <- fmt.Errorf("worker %d, after %d connections, fd %d: %s", w, total.Load(), fd, what)
				}
				if _, err := client.Write([]byte{1}); err != nil {
					errs <- err
					return
				}
				select {
				case <-r.dataCh:
				case <-time.After(2 * time.Second):
					fail("OnData never called")
					return
				}
				client.Close()
				select {
				case <-r.closed:
				case <-time.After(2 * time.Second):
					fail("OnClose never called after the peer closed")
					return
				}
				total.Add(1)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	t.Logf("%d connections", total.Load())
}

// repairLost puts d back into its poller's table if it is missing from it
// (see TestStartReusingClosingFdNumber), so that a failing test can still
// end its connection and leave no descriptor registered for later tests.
func repairLost(d *Desc) {
	fd := descFd(d)
	if fd < 0 {
		return
	}
	p := d.p
	p.mu.Lock()
	start := false
	if p.descs[int32(fd)] == nil {
		p.descs[int32(fd)] = d
		start = !p.running
		p.running = true
	}
	p.mu.Unlock()
	if start {
		go p.loop()
	}
}

// waitPollerBlocked waits until a poller loop is blocked taking a mutex
// inside fn (a function name such as "(*poller).close"), or fails.
func waitPollerBlocked(t *testing.T, fn string) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		for _, g := range strings.Split(pollerGoroutines(), "\n\n") {
			if strings.Contains(g, "[sync.Mutex.Lock") && strings.Contains(g, "internal/netpoll."+fn+"(") {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no poller blocked on a mutex in %s:\n%s", fn, pollerGoroutines())
		}
		time.Sleep(time.Millisecond)
	}
}

// 12. The same race as above, arranged deterministically: the poller has
// read connection A's end and is closing it when connection B, whose
// duplicate gets A's descriptor number f, is started. The poller is held
// in close, waiting for p.mu, which the test holds: A's descriptor must
// still be open and A still in the table then (the entry goes before the
// descriptor is closed, so the number cannot be handed out while the
// table still names A). Once A is closed, B gets f and must be served.
func TestStartReusingClosingFdNumber(t *testing.T) {
	ln := listen(t)
	cA, sA := pair(t, ln)
	rA := newRecorder()
	dA := take(t, sA, rA)
	cB, sB := pair(t, ln)
	f := descFd(dA)
	p := dA.p

	// Hold dA.mu so that the poller, woken by A's end, stops in handle
	// (after it has looked A up in p.descs); then hold p.mu and let it go:
	// it reads EOF and stops in close, taking p.mu.
	dA.mu.Lock()
	cA.Close()
	waitPollerBlocked(t, "(*poller).handle")
	p.mu.Lock()
	dA.mu.Unlock()
	waitPollerBlocked(t, "(*poller).close")
	_, _, e := syscall.Syscall(syscall.SYS_FCNTL, uintptr(f), syscall.F_GETFD, 0)
	inTable := p.descs[int32(f)] == dA
	p.mu.Unlock()
	if e != 0 {
		t.Fatalf("descriptor %d closed (%v) while the poller waited for p.mu to remove it from the table", f, e)
	}
	if !inTable {
		t.Fatalf("A left the table before the poller had p.mu")
	}
	if err := rA.waitClosed(t); err != nil {
		t.Errorf("A: OnClose(%v)", err)
	}
	if _, _, e := syscall.Syscall(syscall.SYS_FCNTL, uintptr(f), syscall.F_GETFD, 0); e != syscall.EBADF {
		t.Fatalf("descriptor %d still open after OnClose (%v)", f, e)
	}

	// Make f the lowest free descriptor number, so that Take's dup gets it
	// (Take does not need p.mu; Start does).
	var fillers []int
	for {
		fd, err := syscall.Open(os.DevNull, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		if fd == f {
			syscall.Close(fd)
			break
		}
		fillers = append(fillers, fd)
		if fd > f+1000 {
			t.Fatalf("cannot arrange for descriptor %d to be reused", f)
		}
	}
	rB := newRecorder()
	dB := takeOnly(t, sB, rB)
	for _, fd := range fillers {
		syscall.Close(fd)
	}
	t.Cleanup(func() { repairLost(dB) }) // runs before takeOnly's cleanup
	if fdB := descFd(dB); fdB != f || dB.p != p {
		_ = dB.Start(rB)
		t.Fatalf("B got descriptor %d on poller %p, not %d on %p: the reuse was not arranged", fdB, dB.p, f, p)
	}
	if err := dB.Start(rB); err != nil {
		t.Fatal(err)
	}
	if _, err := cB.Write([]byte("B")); err != nil {
		t.Fatal(err)
	}
	select {
	case <-rB.dataCh:
		if got := string(rB.bytes()); got != "B" {
			t.Fatalf("B got %q", got)
		}
	case <-time.After(2 * time.Second):
		p.mu.Lock()
		inTable := p.descs[int32(f)] == dB
		running := p.running
		p.mu.Unlock()
		t.Fatalf("B (fd %d) is never served: it is registered in epoll, but in the poller's table: %v, poller running: %v", f, inTable, running)
	}
}
