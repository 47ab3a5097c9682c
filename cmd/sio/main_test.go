package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-go/socketio"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// sioBinary builds the command once for all the tests.
func sioBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "sio-test")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "sio")
		if out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput(); err != nil {
			buildErr = errors.New("build: " + err.Error() + "\n" + string(out))
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

// cli is a running sio: its stdin, its JSON lines, its stderr.
type cli struct {
	t      *testing.T
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	lines  *bufio.Scanner
	stderr *bytes.Buffer
}

func startCLI(t *testing.T, args ...string) *cli {
	t.Helper()
	// Built before the clock starts: under a loaded CI run the build can
	// take much of the 30 seconds.
	bin := sioBinary(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	c := &cli{t: t, cmd: exec.CommandContext(ctx, bin, args...), stderr: new(bytes.Buffer)}
	c.stdin, _ = c.cmd.StdinPipe()
	stdout, _ := c.cmd.StdoutPipe()
	c.cmd.Stderr = c.stderr
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c.lines = bufio.NewScanner(stdout)
	return c
}

func (c *cli) send(line string) {
	c.t.Helper()
	if _, err := io.WriteString(c.stdin, line+"\n"); err != nil {
		c.t.Fatal(err)
	}
}

// next returns the next output line, as a map and as text.
func (c *cli) next() (map[string]any, string) {
	c.t.Helper()
	if !c.lines.Scan() {
		c.t.Fatalf("output ended: %v; stderr:\n%s", c.lines.Err(), c.stderr)
	}
	var m map[string]any
	if err := json.Unmarshal(c.lines.Bytes(), &m); err != nil {
		c.t.Fatalf("not a JSON line: %q", c.lines.Text())
	}
	return m, c.lines.Text()
}

// expect checks that the next output line is want, exactly.
func (c *cli) expect(want string) {
	c.t.Helper()
	if _, got := c.next(); got != want {
		c.t.Fatalf("output line %s, want %s", got, want)
	}
}

// wait waits for the end of the program and returns its exit status.
func (c *cli) wait() int {
	c.t.Helper()
	for c.lines.Scan() {
		c.t.Logf("more output: %s", c.lines.Text())
	}
	err := c.cmd.Wait()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &exit):
		return exit.ExitCode()
	}
	c.t.Fatalf("sio: %v", err)
	return -1
}

// chatServer is the README's chat server (examples/chat): namespace /
// only, every "chat message" sent to everyone.
func chatServer(t *testing.T) string {
	srv := socketio.NewServer(nil)
	srv.OnConnection(func(s *socketio.Socket) {
		s.On("chat message", func(e *socketio.Event) {
			var msg string
			if e.Decode(0, &msg) == nil && msg != "" {
				srv.Emit("chat message", msg)
			}
		})
	})
	ts := httptest.NewServer(srv)
	t.Cleanup(func() { ts.Close(); srv.Close() })
	return ts.URL
}

// TestCLI builds sio and drives it against a Go server: events typed on
// stdin reach the server (with acks), typed lines get their "sent" and
// "ack" lines, server events print as JSON lines, and a server-side
// disconnect ends the program.
func TestCLI(t *testing.T) {
	srv := socketio.NewServer(nil)
	ts := httptest.NewServer(srv)
	defer ts.Close()
	defer srv.Close()
	got := make(chan string, 4)
	srv.Of("/chat").OnConnection(func(s *socketio.Socket) {
		var auth map[string]string
		_ = json.Unmarshal(s.Handshake().Auth, &auth)
		_ = s.Emit("welcome", auth["name"], []byte{1, 2})
		s.On("add", func(e *socketio.Event) {
			var a, b int
			_ = e.Decode(0, &a)
			_ = e.Decode(1, &b)
			_ = e.Ack(a + b)
		})
		s.On("chat message", func(e *socketio.Event) {
			b, _ := json.Marshal(e.Values())
			_ = e.Ack(string(b))
		})
		s.On("say", func(e *socketio.Event) {
			var text string
			_ = e.Decode(0, &text)
			got <- text
			s.Disconnect(false)
		})
	})

	for _, mode := range []string{"polling", "websocket", "upgrade"} {
		t.Run(mode, func(t *testing.T) {
			c := startCLI(t, "-ns", "/chat", "-transport", mode, "-auth", `{"name":"ann"}`, "-ack", "5s", ts.URL)
			if m, _ := c.next(); m["event"] != "connect" {
				t.Fatalf("first line %v", m)
			}
			c.expect(`{"event":"welcome","args":["ann",{"$binary":"AQI="}]}`)
			c.send("add [2, 40]")
			c.expect(`{"sent":"add","args":[2,40]}`)
			c.expect(`{"ack":"add","args":[42]}`)
			// An event name with a space, quoted or as a JSON array.
			c.send(`"chat message" hello`)
			c.expect(`{"sent":"chat message","args":["hello"]}`)
			c.expect(`{"ack":"chat message","args":["[\"hello\"]"]}`)
			c.send(`["chat message", "hi there", {"$binary":"AQI="}]`)
			c.expect(`{"sent":"chat message","args":["hi there",{"$binary":"AQI="}]}`)
			c.expect(`{"ack":"chat message","args":["[\"hi there\",\"AQI=\"]"]}`)
			// A line that does not parse is not sent, and sio says why.
			c.send(`"chat message`)
			c.send("say hello there")
			if text := <-got; text != "hello there" {
				t.Fatalf("server got %q", text)
			}
			c.expect(`{"sent":"say","args":["hello there"]}`)
			for {
				m, _ := c.next()
				if m["event"] == "disconnect" {
					if m["reason"] != "io server disconnect" {
						t.Fatalf("reason %v", m["reason"])
					}
					break
				}
			}
			if code := c.wait(); code != 0 {
				t.Fatalf("sio exited with %d; stderr:\n%s", code, c.stderr)
			}
			if want := "sio: input line 4 not sent: a line starting with \" must start with the event name as a JSON string"; !strings.Contains(c.stderr.String(), want) {
				t.Errorf("stderr %q, want %q", c.stderr, want)
			}
		})
	}
}

// The README's commands: the chat server serves namespace / only, so
// `sio URL` talks to it, and `sio -ns /chat URL` is refused, with a message
// that says which namespace and why.
func TestCLIChatServer(t *testing.T) {
	url := chatServer(t)

	c := startCLI(t, url)
	if m, _ := c.next(); m["event"] != "connect" {
		t.Fatalf("first line %v", m)
	}
	c.send(`"chat message" hello`)
	c.expect(`{"sent":"chat message","args":["hello"]}`)
	c.expect(`{"event":"chat message","args":["hello"]}`)
	c.send(`["chat message","hi there"]`)
	c.expect(`{"sent":"chat message","args":["hi there"]}`)
	c.expect(`{"event":"chat message","args":["hi there"]}`)
	c.send("# the end of stdin ends sio")
	_ = c.stdin.Close()
	if code := c.wait(); code != 0 {
		t.Fatalf("sio exited with %d; stderr:\n%s", code, c.stderr)
	}

	c = startCLI(t, "-ns", "/chat", url)
	c.expect(`{"event":"connect_error","message":"Invalid namespace"}`)
	if code := c.wait(); code != 1 {
		t.Errorf("sio exited with %d after a refusal, want 1", code)
	}
	want := "sio: the server refused namespace /chat: Invalid namespace\n" +
		"sio: the server has no namespace /chat; the namespace is the URL's path or -ns, / when neither gives one\n"
	if c.stderr.String() != want {
		t.Errorf("stderr:\n%s\nwant:\n%s", c.stderr, want)
	}
}

// A middleware's refusal: its message and data.
func TestCLIRefusedByMiddleware(t *testing.T) {
	srv := socketio.NewServer(nil)
	srv.Of("/private").Use(func(s *socketio.Socket) error {
		return &socketio.ConnectError{Message: "unauthorized", Data: map[string]any{"code": 401}}
	})
	ts := httptest.NewServer(srv)
	defer ts.Close()
	defer srv.Close()
	c := startCLI(t, ts.URL+"/private")
	c.expect(`{"event":"connect_error","message":"unauthorized","data":{"code":401}}`)
	if code := c.wait(); code != 1 {
		t.Errorf("sio exited with %d after a refusal, want 1", code)
	}
	if want := "sio: the server refused namespace /private: unauthorized (data: {\"code\":401})\n"; c.stderr.String() != want {
		t.Errorf("stderr %q, want %q", c.stderr, want)
	}
}

// -h explains the input syntax, with examples, and the output.
func TestCLIUsage(t *testing.T) {
	out, err := exec.Command(sioBinary(t), "-h").CombinedOutput()
	if err != nil {
		t.Fatalf("sio -h: %v\n%s", err, out)
	}
	for _, want := range []string{"usage: sio [flags] URL", inputSyntax, usageOutput, "-ns string", "-ack duration"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("sio -h does not say\n%s\nit says:\n%s", want, out)
		}
	}
}
