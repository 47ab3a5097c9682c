// Package leakcheck fails a test binary that leaves goroutines behind: the
// project's own, the WebSocket library's and net/http's. It replaces a
// third-party leak checker so the core module keeps its single dependency.
package leakcheck

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// watched are the stack fragments that make a goroutine ours to account
// for; everything else (the runtime, testing, signal handling) is ignored.
var watched = []string{
	"github.com/switchboard-go/",
	"github.com/gorilla/websocket",
	"net/http.(*conn).serve",
	"net/http.(*persistConn)",
	"net/http/httptest.(*Server)",
}

// Main runs the tests, then waits up to five seconds for watched
// goroutines to finish, and fails the binary listing those that remain.
// Use it as: func TestMain(m *testing.M) { leakcheck.Main(m) }.
func Main(m *testing.M) { os.Exit(Run(m)) }

// Run is Main without the exit: it returns the binary's exit code, for a
// TestMain that has more to do before it exits.
func Run(m *testing.M) int {
	code := m.Run()
	if code == 0 {
		if leaks := Wait(5 * time.Second); leaks != "" {
			fmt.Fprintf(os.Stderr, "leakcheck: goroutines left behind:\n%s\n", leaks)
			code = 1
		}
	}
	return code
}

// Wait polls until no watched goroutine is left or d passes; it returns
// the stacks of those left ("" when none).
func Wait(d time.Duration) string {
	deadline := time.Now().Add(d)
	for {
		leaks := current()
		if leaks == "" || time.Now().After(deadline) {
			return leaks
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func current() string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "internal/leakcheck.") || strings.Contains(g, "testing.(*M).") {
			continue
		}
		for _, w := range watched {
			if strings.Contains(g, w) {
				out = append(out, g)
				break
			}
		}
	}
	return strings.Join(out, "\n\n")
}
