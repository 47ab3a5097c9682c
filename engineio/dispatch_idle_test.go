package engineio

import (
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-go/socketio/internal/netpoll"
)

// dispatcherGoroutines counts the goroutines dispatching the packets of
// poller-held WebSockets, idle ones included.
func dispatcherGoroutines() int {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	return strings.Count(string(buf), "(*dispatchers).loop(")
}

// A dispatcher idle for dispatcherIdle exits, and the next message of a
// poller-held connection gets a dispatcher all the same.
func TestIdleDispatcherExits(t *testing.T) {
	if !netpoll.Supported {
		t.Skip("no poller on this platform")
	}
	ts := startServerRaw(t, &Options{PingInterval: time.Hour}, true) // the poller, in the -nopoller pass too
	ws := dialWS(t, ts, "")
	readText(t, ws) // open
	for round := range 2 {
		if err := ws.WriteMessage(1, []byte("4hi")); err != nil {
			t.Fatal(err)
		}
		if got := readText(t, ws); got != "4hi" {
			t.Fatalf("round %d: echo %q", round, got)
		}
		// The dispatcher parks, then exits after dispatcherIdle.
		deadline := time.Now().Add(dispatcherIdle + 10*time.Second)
		for dispatcherGoroutines() != 0 {
			if time.Now().After(deadline) {
				t.Fatalf("round %d: %d dispatchers still running %v after the last message", round, dispatcherGoroutines(), dispatcherIdle+10*time.Second)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}
