package tutorialtest

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// Browser is headless Chromium driven by browsertest/driver.js: the
// steps' pages with the official client, as a user would run them.
type Browser struct {
	t       testing.TB
	cmd     *exec.Cmd
	in      io.WriteCloser
	answers chan string
	stderr  strings.Builder
	shots   string
}

// browserDir is examples/tutorial/browsertest, found from this file so
// that every step's test finds it.
func browserDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "browsertest")
}

// StartBrowser starts the driver; it fails the test when Node.js, the npm
// packages or Chromium are missing (the tests never skip). Chromium is
// $SWITCHBOARD_CHROMIUM, default /usr/bin/chromium. Screenshots go to
// $TUTORIAL_SHOTS when set (to look at them), else to a temporary
// directory.
func StartBrowser(t testing.TB) *Browser {
	t.Helper()
	dir := browserDir()
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "playwright-core")); err != nil {
		t.Fatalf("playwright-core is not installed: run 'npm ci' in %s (%v)", dir, err)
	}
	chromium := os.Getenv("SWITCHBOARD_CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	if _, err := os.Stat(chromium); err != nil {
		t.Fatalf("no Chromium: %v (install it or set SWITCHBOARD_CHROMIUM)", err)
	}
	b := &Browser{t: t, answers: make(chan string, 1), shots: os.Getenv("TUTORIAL_SHOTS")}
	if b.shots == "" {
		b.shots = t.TempDir()
	}
	b.cmd = exec.Command("node", "driver.js", chromium)
	b.cmd.Dir = dir
	b.cmd.Stderr = &b.stderr
	var err error
	if b.in, err = b.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	out, err := b.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := b.cmd.Start(); err != nil {
		t.Fatalf("node: %v", err)
	}
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 64*1024), 1<<20)
		for sc.Scan() {
			b.answers <- sc.Text()
		}
		close(b.answers)
	}()
	t.Cleanup(b.quit)
	return b
}

// do sends one command and returns its answer; an error answer fails the
// test.
func (b *Browser) do(cmd map[string]any) map[string]any {
	b.t.Helper()
	line, err := json.Marshal(cmd)
	if err != nil {
		b.t.Fatal(err)
	}
	start := time.Now()
	defer func() { b.t.Logf("%s: %v", line, time.Since(start).Round(time.Millisecond)) }()
	if _, err := b.in.Write(append(line, '\n')); err != nil {
		b.t.Fatalf("driver: %v\n%s", err, b.stderr.String())
	}
	select {
	case ans, ok := <-b.answers:
		if !ok {
			b.t.Fatalf("the driver ended during %s\n%s", line, b.stderr.String())
		}
		var res map[string]any
		if err := json.Unmarshal([]byte(ans), &res); err != nil {
			b.t.Fatalf("driver answered %q: %v", ans, err)
		}
		if e, ok := res["error"]; ok {
			b.t.Fatalf("%s: %v", line, e)
		}
		return res
	case <-time.After(Wait + 10*time.Second): // the driver's own waits end first
		b.t.Fatalf("no answer to %s\n%s", line, b.stderr.String())
		return nil
	}
}

// Open opens a page named name at url and waits until its socket is
// connected, unless the page has none (steps 1 and 2).
func (b *Browser) Open(name, url string, socket bool) {
	b.t.Helper()
	b.do(map[string]any{"cmd": "open", "page": name, "url": url})
	if socket {
		b.Connected(name)
	}
}

// Connected waits until the page's socket is connected and returns its id.
func (b *Browser) Connected(name string) string {
	b.t.Helper()
	id, _ := b.do(map[string]any{"cmd": "connected", "page": name})["id"].(string)
	return id
}

// Disconnected waits until the page's socket has noticed it is cut off.
func (b *Browser) Disconnected(name string) {
	b.t.Helper()
	b.do(map[string]any{"cmd": "disconnected", "page": name})
}

// Send types text into the page's form and submits it.
func (b *Browser) Send(name, text string) {
	b.t.Helper()
	b.do(map[string]any{"cmd": "send", "page": name, "text": text})
}

// WaitItems waits until the page's list of messages is exactly items.
func (b *Browser) WaitItems(name string, items ...string) {
	b.t.Helper()
	if items == nil {
		items = []string{}
	}
	b.do(map[string]any{"cmd": "waitItems", "page": name, "items": items})
}

// Items returns the page's list of messages.
func (b *Browser) Items(name string) []string {
	b.t.Helper()
	var items []string
	for _, v := range b.do(map[string]any{"cmd": "items", "page": name})["items"].([]any) {
		items = append(items, v.(string))
	}
	return items
}

// Offline takes the page's network away (true) or gives it back.
func (b *Browser) Offline(name string, offline bool) {
	b.t.Helper()
	b.do(map[string]any{"cmd": "offline", "page": name, "offline": offline})
}

// Reload reloads the page.
func (b *Browser) Reload(name string) {
	b.t.Helper()
	b.do(map[string]any{"cmd": "reload", "page": name})
}

// Eval returns the value of a JavaScript expression in the page.
func (b *Browser) Eval(name, expr string) any {
	b.t.Helper()
	return b.do(map[string]any{"cmd": "eval", "page": name, "expr": expr})["value"]
}

// Screenshot saves the page as file (a name ending in .png) in the
// screenshot directory and returns its path.
func (b *Browser) Screenshot(name, file string) string {
	b.t.Helper()
	path := filepath.Join(b.shots, file)
	b.do(map[string]any{"cmd": "screenshot", "page": name, "path": path})
	return path
}

// quit closes the browser; uncaught errors in the pages, or requests to
// other sites, fail the test.
func (b *Browser) quit() {
	res := b.do(map[string]any{"cmd": "quit"})
	if problems, _ := res["problems"].([]any); len(problems) > 0 {
		b.t.Errorf("in the pages: %s", fmt.Sprint(problems...))
	}
	_ = b.in.Close()
	done := make(chan error, 1)
	go func() { done <- b.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			b.t.Errorf("driver: %v\n%s", err, b.stderr.String())
		}
	case <-time.After(Wait):
		_ = b.cmd.Process.Kill()
		<-done
		b.t.Error("the driver did not end")
	}
}
