package prommetrics_test

import (
	"net/http/httptest"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	socketio "github.com/switchboard-go/socketio"
	"github.com/switchboard-go/socketio/prommetrics"
)

// BenchmarkBroadcastQueue isolates the server's own work per delivery:
// one broadcast queued to N long-polling sessions that are answered
// through an httptest.ResponseRecorder, with no network, no writer and
// no client sharing the CPU. Every 64 broadcasts the sessions are polled,
// outside the timer, so that their queues stay small. The only
// difference between metrics=off and metrics=on is the observer: this is
// where its cost shows most, as a share of the least work a delivery
// takes.
//
// Besides ns/delivery (wall time) it reports thread-cpu-ns/delivery: the
// CPU time of the benchmark's own thread, which does all of this work
// (the goroutine is locked to it), and which time spent waiting for the
// CPU does not inflate on a loaded machine.
func BenchmarkBroadcastQueue(b *testing.B) {
	for _, n := range []int{100, 1000} {
		for _, on := range []bool{false, true} {
			name := strconv.Itoa(n) + "-sockets/metrics=off"
			if on {
				name = strconv.Itoa(n) + "-sockets/metrics=on"
			}
			b.Run(name, func(b *testing.B) {
				opts := &socketio.Options{}
				if on {
					opts.Observer = prommetrics.New()
				}
				benchQueue(b, n, opts)
			})
		}
	}
}

var sidRE = regexp.MustCompile(`"sid":"([^"]+)"`)

func benchQueue(b *testing.B, n int, opts *socketio.Options) {
	srv := socketio.NewServer(opts)
	defer srv.Close()
	const base = "/socket.io/?EIO=4&transport=polling"
	joined := make(chan struct{}, n)
	srv.OnConnection(func(*socketio.Socket) { joined <- struct{}{} })
	sids := make([]string, n)
	for i := range sids {
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, httptest.NewRequest("GET", base, nil))
		m := sidRE.FindStringSubmatch(w.Body.String())
		if m == nil {
			b.Fatalf("handshake %q", w.Body.String())
		}
		sids[i] = m[1]
		w = httptest.NewRecorder()
		srv.ServeHTTP(w, httptest.NewRequest("POST", base+"&sid="+m[1], strings.NewReader("40")))
		<-joined
	}
	poll := func() {
		for _, sid := range sids {
			w := httptest.NewRecorder()
			srv.ServeHTTP(w, httptest.NewRequest("GET", base+"&sid="+sid, nil))
			if w.Code != 200 {
				b.Fatalf("poll: %d %s", w.Code, w.Body)
			}
		}
	}
	poll() // the CONNECT answers
	payload := map[string]any{"user": "bench", "text": "hello, everyone", "ts": 1732700000000}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var cpu time.Duration
	b.ReportAllocs()
	b.ResetTimer()
	t0 := threadCPU()
	for i := 0; i < b.N; i++ {
		if err := srv.Emit("message", payload); err != nil {
			b.Fatal(err)
		}
		if i%64 == 63 {
			cpu += threadCPU() - t0
			b.StopTimer()
			poll()
			b.StartTimer()
			t0 = threadCPU()
		}
	}
	cpu += threadCPU() - t0
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/delivery")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N*n), "thread-cpu-ns/delivery")
}

// threadCPU is the user and system CPU time of the calling thread.
func threadCPU() time.Duration {
	const rusageThread = 1 // RUSAGE_THREAD (Linux)
	var ru syscall.Rusage
	_ = syscall.Getrusage(rusageThread, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
