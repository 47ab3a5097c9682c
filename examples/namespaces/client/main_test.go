package main

import (
	"bufio"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// lines collects what a program printed, line by line.
type lines struct {
	mu   sync.Mutex
	all  []string
	more chan struct{}
}

func collect(r io.Reader) *lines {
	l := &lines{more: make(chan struct{}, 1)}
	go func() {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			l.mu.Lock()
			l.all = append(l.all, sc.Text())
			l.mu.Unlock()
			select {
			case l.more <- struct{}{}:
			default:
			}
		}
	}()
	return l
}

// wait returns the first line that starts with prefix, within 10 s.
func (l *lines) wait(t *testing.T, who, prefix string) string {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		l.mu.Lock()
		for _, line := range l.all {
			if strings.HasPrefix(line, prefix) {
				l.mu.Unlock()
				return line
			}
		}
		l.mu.Unlock()
		select {
		case <-l.more:
		case <-deadline:
			t.Fatalf("%s printed no line starting with %q within 10s; it printed:\n%s", who, prefix, l)
		}
	}
}

func (l *lines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.all, "\n")
}

// startServer builds and runs the namespaces example, the program the
// client is written for, on a free loopback port; its log is returned.
func startServer(t *testing.T) (url string, log *lines) {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "namespaces")
	build := exec.Command("go", "build", "-o", bin, "github.com/switchboard-go/socketio/examples/namespaces")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "-addr", "127.0.0.1:0")
	stderr, w := io.Pipe()
	cmd.Stderr = w
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	log = collect(stderr)
	exited := make(chan error, 1)
	go func() {
		err := cmd.Wait()
		_ = w.Close()
		exited <- err
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case err := <-exited:
			if err != nil {
				t.Errorf("the server ended with %v after an interrupt", err)
			}
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			t.Errorf("the server did not stop within 10s of an interrupt")
		}
	})
	line := log.wait(t, "the server", "") // log.Default prefixes the date
	_, url, ok := strings.Cut(line, "namespaces on ")
	if !ok {
		t.Fatalf("the server's first line: %q", line)
	}
	return url, log
}

// user is one run of the client with a pipe for its input.
type user struct {
	in   *io.PipeWriter
	out  *lines
	done chan struct{} // closed when run has returned, with err
	err  error
	sid  string
}

func join(t *testing.T, url, room string) *user {
	t.Helper()
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	u := &user{in: inW, out: collect(outR), done: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		u.err = run(ctx, url, room, inR, outW)
		_ = outW.Close()
		close(u.done)
	}()
	t.Cleanup(func() {
		cancel()
		_ = inW.Close()
		select {
		case <-u.done:
		case <-time.After(10 * time.Second):
			t.Error("the client did not return within 10s")
		}
	})
	u.sid = strings.TrimPrefix(u.out.wait(t, "client", "connected to /chat as "), "connected to /chat as ")
	u.out.wait(t, "client", "connected to /test as ")
	u.out.wait(t, "client", "/chat: "+u.sid+" has joined the room "+room)
	return u
}

func (u *user) say(t *testing.T, line string) {
	t.Helper()
	if _, err := io.WriteString(u.in, line+"\n"); err != nil {
		t.Fatal(err)
	}
}

// Three clients against the server: two in a room, one in another. Each
// line goes to the room; "/test …" lines to /test, answered to their
// sender; the end of the input disconnects.
func TestClient(t *testing.T) {
	url, serverLog := startServer(t)
	a := join(t, url, "lobby")
	b := join(t, url, "lobby")
	a.out.wait(t, "A", "/chat: "+b.sid+" has joined the room lobby")
	c := join(t, url, "other")

	a.say(t, "hello, lobby")
	for name, u := range map[string]*user{"A": a, "B": b} {
		u.out.wait(t, name, "/chat: "+a.sid+": hello, lobby")
	}
	b.say(t, "/test ping")
	b.out.wait(t, "B", "/test: /test received: ping")
	c.say(t, "anyone?")
	c.out.wait(t, "C", "/chat: "+c.sid+": anyone?")
	b.say(t, "") // an empty line sends nothing
	b.say(t, "last")
	a.out.wait(t, "A", "/chat: "+b.sid+": last")
	b.out.wait(t, "B", "/chat: "+b.sid+": last")

	// The end of A's input ends it, and the server sees it go.
	_ = a.in.Close()
	select {
	case <-a.done:
		if a.err != nil {
			t.Errorf("A: %v", a.err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("A did not return at the end of its input")
	}
	waitLog(t, serverLog, "/chat: "+a.sid+" disconnected (client namespace disconnect)")

	// Who heard what.
	for name, u := range map[string]*user{"A": a, "B": b} {
		if s := u.out.String(); strings.Contains(s, c.sid) || strings.Contains(s, "anyone?") {
			t.Errorf("%s heard the other room:\n%s", name, s)
		}
	}
	if s := a.out.String(); strings.Contains(s, "/test:") {
		t.Errorf("A heard B's /test answer:\n%s", s)
	}
	if s := c.out.String(); strings.Contains(s, a.sid) || strings.Contains(s, b.sid) || strings.Contains(s, "/test:") {
		t.Errorf("C heard the lobby:\n%s", s)
	}
}

// waitLog waits for a server log line containing s (after log's date).
func waitLog(t *testing.T, l *lines, s string) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for !strings.Contains(l.String(), s) {
		select {
		case <-l.more:
		case <-deadline:
			t.Fatalf("the server logged no %q within 10s:\n%s", s, l)
		}
	}
}
