// Command chatbench measures the chat application (cmd/chat) end to end,
// persistence included: it builds the chat, starts it on a loopback port
// with a fresh SQLite file or a fresh PostgreSQL schema, signs up users
// over the HTTP API, connects them with the project's Go client over
// WebSocket into rooms, and has some of them send messages with
// acknowledgements for a bounded count and time. It reports
//
//   - messages stored and acknowledged per second, and the ack latency
//     (p50, p99, max): the chat acknowledges a message once it is stored;
//   - deliveries per second (a message to a room of M members is M
//     deliveries: the sender gets its own too);
//   - the chat process's CPU time (utime+stime from /proc/PID/stat) per
//     delivered and per stored message, and the generator's own CPU;
//   - the load average, since the numbers of a shared machine mean little
//     without it.
//
// It checks while measuring: every acknowledged message must reach every
// member of its room exactly once and no one else, and the room's history
// must hold it. A failed check makes the run fail (exit status 1).
//
// The summary goes to standard output, then, as its last line, the result
// as one JSON object (also appended to -out).
//
//	go run ./cmd/chatbench -store sqlite
//	go run ./cmd/chatbench -store postgres -pg postgres://postgres@127.0.0.1:5432/test?sslmode=disable
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"
)

type config struct {
	store    string // sqlite or postgres
	pg       string // PostgreSQL URL of the database the schema is made in
	repo     string // repository root; "" finds it from the working directory
	bin      string // a chat binary already built; "" builds one
	users    int
	rooms    int
	senders  int
	window   int // messages in flight per sender
	messages int // at most this many messages in all
	duration time.Duration
	text     int // bytes of text per message
	out      string
	label    string // copied into the result
}

func main() {
	var c config
	flag.StringVar(&c.store, "store", "sqlite", "the chat's database: sqlite (a temporary file) or postgres (a temporary schema in -pg)")
	flag.StringVar(&c.pg, "pg", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable", "PostgreSQL `URL` for -store postgres; a schema chatbench_* is created there and dropped after")
	flag.StringVar(&c.repo, "repo", "", "repository root to build ./cmd/chat in (default: found from the working directory)")
	flag.StringVar(&c.bin, "bin", "", "a chat `binary` to run instead of building one")
	flag.IntVar(&c.users, "users", 50, "users signed up and connected")
	flag.IntVar(&c.rooms, "rooms", 5, "rooms; user i is a member of room i mod rooms")
	flag.IntVar(&c.senders, "senders", 10, "users sending (the first ones, so spread over the rooms)")
	flag.IntVar(&c.window, "window", 4, "messages each sender has in flight (awaiting their ack) at most")
	flag.IntVar(&c.messages, "messages", 20000, "messages to send at most")
	flag.DurationVar(&c.duration, "duration", 20*time.Second, "sending stops after this long at most")
	flag.IntVar(&c.text, "text", 100, "bytes of text per message")
	flag.StringVar(&c.label, "label", "", "a `name` for this run, copied into the JSON (the chat build, say)")
	flag.StringVar(&c.out, "out", "", "append the JSON result line to this `file`")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	r, err := bench(ctx, c, os.Stderr)
	if r != nil {
		printSummary(os.Stdout, r)
		line, _ := json.Marshal(r)
		fmt.Println(string(line))
		if c.out != "" {
			if werr := appendLine(c.out, line); werr != nil {
				fmt.Fprintln(os.Stderr, "chatbench:", werr)
				os.Exit(1)
			}
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "chatbench:", err)
		os.Exit(1)
	}
}

func appendLine(path string, line []byte) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(append(line, '\n'))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// bench prepares the chat (build, database, process), runs the load and
// tears everything down. Progress goes to logw.
func bench(ctx context.Context, c config, logw io.Writer) (res *result, err error) {
	if c.users < 1 || c.rooms < 1 || c.senders < 1 || c.window < 1 || c.messages < 1 || c.text < 1 || c.duration <= 0 {
		return nil, fmt.Errorf("-users, -rooms, -senders, -window, -messages, -text and -duration must be positive")
	}
	if c.rooms > c.users || c.senders > c.users {
		return nil, fmt.Errorf("-rooms and -senders are at most -users")
	}
	if c.text > 2000 {
		return nil, fmt.Errorf("-text: the chat takes at most 2000 characters")
	}
	tmp, err := os.MkdirTemp("", "chatbench")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)

	bin := c.bin
	if bin == "" {
		repo := c.repo
		if repo == "" {
			if repo, err = findRepo("."); err != nil {
				return nil, err
			}
		}
		bin = filepath.Join(tmp, "chat")
		fmt.Fprintln(logw, "building ./cmd/chat in", repo)
		bctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
		err = buildChat(bctx, repo, bin)
		cancel()
		if err != nil {
			return nil, err
		}
	}

	var dsn string
	switch c.store {
	case "sqlite":
		dsn = filepath.Join(tmp, "chat.db")
	case "postgres":
		u, drop, err := pgSchema(ctx, c.pg)
		if err != nil {
			return nil, err
		}
		defer func() {
			if derr := drop(); derr != nil && err == nil {
				err = fmt.Errorf("dropping the schema: %w", derr)
			}
		}()
		dsn = u
	default:
		return nil, fmt.Errorf("-store %q: want sqlite or postgres", c.store)
	}

	p, err := startChat(ctx, bin, dsn, 60*time.Second)
	if err != nil {
		return nil, err
	}
	defer func() {
		if serr := p.stop(); serr != nil && err == nil {
			err = fmt.Errorf("stopping the chat: %w", serr)
		}
	}()
	fmt.Fprintln(logw, "chat", p.url, "pid", p.pid(), "store", c.store)
	res, err = load(ctx, c, p, logw)
	if res != nil {
		res.Store = c.store
		res.Label = c.label
	}
	if err != nil && res == nil {
		err = fmt.Errorf("%w\nthe chat's last log lines:\n%s", err, p.logTail())
	}
	return res, err
}
