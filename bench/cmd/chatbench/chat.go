package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// findRepo returns the repository root: the nearest directory, from dir
// upwards, holding cmd/chat/go.mod.
func findRepo(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "cmd", "chat", "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no cmd/chat/go.mod in this directory or above: give -repo")
		}
		dir = parent
	}
}

// buildChat builds the chat as a user would, from the repository root,
// whose go.work includes cmd/chat and the library it replaces.
func buildChat(ctx context.Context, repo, out string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, "./cmd/chat")
	cmd.Dir = repo
	// A GOWORK inherited from the caller (bench/go.work, say) would not
	// include cmd/chat; the root's go.work is found from cmd.Dir.
	env := os.Environ()
	for i := 0; i < len(env); i++ {
		if strings.HasPrefix(env[i], "GOWORK=") {
			env = append(env[:i], env[i+1:]...)
			i--
		}
	}
	cmd.Env = env
	b, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("go build ./cmd/chat: %v\n%s", err, b)
	}
	return nil
}

// pgSchema creates a fresh schema in the database of base and returns the
// URL that makes the chat use it (search_path, which pgx passes on to the
// server as a run-time parameter) and a function that drops it.
func pgSchema(ctx context.Context, base string) (string, func() error, error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", nil, fmt.Errorf("-pg %q: %w", base, err)
	}
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		return "", nil, fmt.Errorf("connecting to PostgreSQL: %w", err)
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	schema := fmt.Sprintf("chatbench_%d_%s", os.Getpid(), hex.EncodeToString(b[:]))
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		conn.Close(ctx)
		return "", nil, fmt.Errorf("create schema: %w", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	drop := func() error {
		// The run's context may be over by now; dropping is bounded alone.
		dctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		defer conn.Close(dctx)
		_, err := conn.Exec(dctx, "DROP SCHEMA "+schema+" CASCADE")
		return err
	}
	return u.String(), drop, nil
}

// chatProc is the chat server under test.
type chatProc struct {
	cmd  *exec.Cmd
	url  string
	done chan struct{}
	err  error // of Wait, once done is closed

	mu   sync.Mutex
	tail []string // its last log lines, for error messages
}

var openLine = regexp.MustCompile(`Open (https?://\S+) in a browser`)

// startChat starts bin on a free loopback port with the database dsn and
// waits until it says where it listens.
func startChat(ctx context.Context, bin, dsn string, timeout time.Duration) (*chatProc, error) {
	cmd := exec.Command(bin, "-addr", "127.0.0.1:0", "-db", dsn, "-log-level", "warn", "-shutdown-timeout", "5s")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &chatProc{cmd: cmd, done: make(chan struct{})}
	found := make(chan string, 1)
	scanned := make(chan struct{})
	go func() {
		defer close(scanned)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			if m := openLine.FindStringSubmatch(line); m != nil {
				select {
				case found <- m[1]:
				default:
				}
			}
			p.mu.Lock()
			p.tail = append(p.tail, line)
			if len(p.tail) > 20 {
				p.tail = p.tail[1:]
			}
			p.mu.Unlock()
		}
	}()
	go func() {
		<-scanned // Wait closes the pipe: read it to the end first
		p.err = cmd.Wait()
		close(p.done)
	}()
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case p.url = <-found:
		return p, nil
	case <-p.done:
		return nil, fmt.Errorf("the chat exited at start (%v):\n%s", p.err, p.logTail())
	case <-t.C:
	case <-ctx.Done():
	}
	_ = p.stop()
	return nil, fmt.Errorf("the chat did not start within %v:\n%s", timeout, p.logTail())
}

func (p *chatProc) pid() int { return p.cmd.Process.Pid }

func (p *chatProc) logTail() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.tail, "\n")
}

// stop shuts the chat down as an operator would (SIGTERM: clients told,
// store closed), killing it if it does not exit in time.
func (p *chatProc) stop() error {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	t := time.NewTimer(15 * time.Second)
	defer t.Stop()
	select {
	case <-p.done:
		return p.err
	case <-t.C:
		_ = p.cmd.Process.Kill()
		<-p.done
		return fmt.Errorf("the chat did not stop within 15s of SIGTERM:\n%s", p.logTail())
	}
}

// clockTick is USER_HZ, the unit of utime and stime in /proc/PID/stat: 100
// on every Linux platform Go supports.
const clockTick = 100

// procCPU returns the user+system CPU time process pid has used so far.
func procCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name may hold spaces and parentheses: fields resume
	// after the last ')'. Then state is field 3, utime 14, stime 15.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("malformed /proc/%d/stat", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("short /proc/%d/stat", pid)
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("malformed /proc/%d/stat", pid)
	}
	return time.Duration(ut+st) * time.Second / clockTick, nil
}

// selfCPU is this process's CPU time (the load generator's).
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// loadAvg is the first three fields of /proc/loadavg.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}

// postgresCPU sums the CPU time of every PostgreSQL server process (the
// postmaster, its backends and its writers): the database's share of a
// chat on PostgreSQL, which the chat process's own CPU leaves out. It
// counts whatever else uses that server meanwhile too.
func postgresCPU() time.Duration {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return 0
	}
	var sum time.Duration
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
		if err != nil || !strings.HasPrefix(string(comm), "postgres") {
			continue
		}
		if d, err := procCPU(pid); err == nil {
			sum += d
		}
	}
	return sum
}
