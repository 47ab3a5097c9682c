//go:build linux && (amd64 || arm64)

// Command uringexp measures what batching socket writes through io_uring
// would save at light broadcast load, before any of it goes near the
// library (BENCHMARKS.md, "Why 0.65× Node at light load is out of reach").
//
// It opens N loopback TCP connections to a reader process pinned to the
// other core, hands them to the library's poller (internal/netpoll), then
// R times a second writes one 64-byte frame to every connection,
// alternating between the library's two write paths for a fixed period
// each:
//
//	writev: Desc.Writev, one system call per connection;
//	uring:  Ring.Writev, one io_uring_enter per 64 connections.
//
// and reports the writer process's CPU time per delivery for each, from
// getrusage. Loopback only; bounded by -n, -rate, -period and -reps.
//
//	taskset -c 0 uringexp [-n 1000] [-rate 50] [-period 3s] [-reps 3]
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/switchboard-go/socketio/internal/netpoll"
)

// discard is the poller handler of the writer's connections: the reader
// sends nothing.
type discard struct{}

func (discard) OnData([]byte) {}
func (discard) OnWritable()   {}
func (discard) OnClose(error) {}

func main() {
	n := flag.Int("n", 1000, "connections")
	rate := flag.Int("rate", 50, "rounds per second (one frame to every connection per round)")
	period := flag.Duration("period", 3*time.Second, "measuring period of each mode")
	reps := flag.Int("reps", 3, "alternations of the two modes")
	reader := flag.String("reader", "", "internal: run as the reader, connecting to this address")
	flag.Parse()
	if *reader != "" {
		runReader(*reader, *n)
		return
	}
	if err := runWriter(*n, *rate, *period, *reps); err != nil {
		log.Fatal(err)
	}
}

// runReader connects n times and reads everything until the writer hangs
// up, one goroutine per connection (the reader's cost is not measured).
func runReader(addr string, n int) {
	conns := make([]net.Conn, n)
	for i := range conns {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			log.Fatal(err)
		}
		conns[i] = c
	}
	done := make(chan struct{}, n)
	for _, c := range conns {
		go func() {
			_, _ = io.Copy(io.Discard, c)
			done <- struct{}{}
		}()
	}
	for range conns {
		<-done
	}
}

func runWriter(n, rate int, period time.Duration, reps int) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	rd := exec.Command("taskset", "-c", "1", self, "-reader", ln.Addr().String(), "-n", fmt.Sprint(n))
	rd.Stderr = os.Stderr
	if err := rd.Start(); err != nil {
		return err
	}
	descs := make([]*netpoll.Desc, n)
	for i := range descs {
		c, err := ln.Accept()
		if err != nil {
			return err
		}
		d, err := netpoll.Take(c.(*net.TCPConn))
		if err != nil {
			return err
		}
		if err := d.Start(discard{}); err != nil {
			return err
		}
		descs[i] = d
	}
	_ = ln.Close()

	ring := netpoll.AcquireRing()
	if ring == nil {
		return errors.New("io_uring is unavailable here")
	}
	defer netpoll.ReleaseRing(ring)
	frame := make([]byte, 64)
	frame[0], frame[1] = 0x81, 62 // a text frame, as a server sends
	copy(frame[2:], "42[\"broadcast\",\"...padding to 64 bytes............................\"]")
	bufs := [][]byte{frame}

	var sc netpoll.Scratch
	writeEach := func() (int, error) {
		for _, d := range descs {
			if _, err := d.Writev(bufs, &sc); err != nil {
				return 0, err
			}
		}
		return len(descs), nil
	}
	ws := make([]netpoll.Write, n)
	writeRing := func() (int, error) {
		for i, d := range descs {
			ws[i] = netpoll.Write{D: d, Bufs: bufs}
		}
		ring.Writev(ws)
		for _, w := range ws {
			if w.Err != nil {
				return 0, w.Err
			}
		}
		return len(ws), nil
	}

	results := map[string][]float64{}
	for r := 0; r < reps; r++ {
		for _, m := range []struct {
			name  string
			write func() (int, error)
		}{{"writev", writeEach}, {"uring", writeRing}} {
			us, core, err := measure(m.write, rate, period)
			if err != nil {
				return fmt.Errorf("%s: %w", m.name, err)
			}
			results[m.name] = append(results[m.name], us)
			results[m.name+"-core"] = append(results[m.name+"-core"], core)
			fmt.Printf("rep %d %-8s %6.2f µs CPU per delivery (process), %6.2f (CPU 0)\n", r+1, m.name, us, core)
		}
	}
	for _, d := range descs {
		d.Shutdown()
	}
	_ = rd.Wait()
	s, u := median(results["writev"]), median(results["uring"])
	wc, uc := median(results["writev-core"]), median(results["uring-core"])
	fmt.Printf("n=%d rate=%d/s: median µs per delivery: process: writev %.2f, io_uring %.2f (%.2f×); CPU 0: %.2f, %.2f (%.2f×)\n", n, rate, s, u, u/s, wc, uc, uc/wc)
	return nil
}

// measure runs rounds at rate for period and returns the process's CPU
// time per delivery and CPU 0's busy time per delivery (which includes
// softirq work the kernel may have moved to ksoftirqd), in µs.
func measure(write func() (int, error), rate int, period time.Duration) (float64, float64, error) {
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	core0 := coreBusy()
	start, end := cpuTime(), time.Now().Add(period)
	delivered := 0
	for time.Now().Before(end) {
		<-tick.C
		k, err := write()
		if err != nil {
			return 0, 0, err
		}
		delivered += k
	}
	proc := float64(cpuTime()-start) / 1e3 / float64(delivered)
	core := float64(coreBusy()-core0) / 1e3 / float64(delivered)
	return proc, core, nil
}

// coreBusy returns CPU 0's busy time in nanoseconds (/proc/stat: all but
// idle and iowait), in USER_HZ ticks of 10 ms.
func coreBusy() int64 {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 9 || f[0] != "cpu0" {
			continue
		}
		var busy int64
		for i, v := range f[1:9] {
			if i == 3 || i == 4 { // idle, iowait
				continue
			}
			n, _ := strconv.ParseInt(v, 10, 64)
			busy += n
		}
		return busy * 10_000_000
	}
	return 0
}

func cpuTime() int64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Utime.Nano() + ru.Stime.Nano()
}

func median(v []float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	return s[len(s)/2]
}
