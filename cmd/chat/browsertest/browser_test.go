// Package browsertest runs the chat's page in headless Chromium: see
// e2e.js. It needs Node.js, this directory's npm packages (npm ci) and
// Chromium (SWITCHBOARD_CHROMIUM, default /usr/bin/chromium).
package browsertest

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"syscall"
	"testing"
	"time"
)

// TestBrowser builds the chat, starts it on a free port with a fresh
// database, and runs e2e.js against it. Screenshots go to
// $CHAT_SCREENSHOTS when set (kept), else to a temporary directory.
func TestBrowser(t *testing.T) {
	if _, err := os.Stat("node_modules/playwright-core"); err != nil {
		t.Fatal("cmd/chat/browsertest has no node_modules: run 'npm ci' in it (scripts/test.sh does)")
	}
	chromium := os.Getenv("SWITCHBOARD_CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	shots := os.Getenv("CHAT_SCREENSHOTS")
	if shots == "" {
		shots = t.TempDir()
	} else if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "chat")
	build := exec.Command("go", "build", "-o", bin, "..")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	chat := exec.Command(bin, "-addr", "127.0.0.1:0", "-db", filepath.Join(dir, "chat.db"), "-shutdown-timeout", "5s")
	stderr, err := chat.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := chat.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	urlc := make(chan string, 1)
	go func() {
		re := regexp.MustCompile(`url=(http://\S+)`)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			t.Log("chat: " + sc.Text())
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case urlc <- m[1]:
				default:
				}
			}
		}
		exited <- chat.Wait()
	}()
	t.Cleanup(func() {
		if chat.ProcessState == nil {
			_ = chat.Process.Kill()
		}
	})
	var url string
	select {
	case url = <-urlc:
	case err := <-exited:
		t.Fatalf("the chat exited: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("the chat did not start")
	}

	ctx, cancel := context.WithTimeout(context.Background(), 170*time.Second)
	defer cancel()
	node := exec.CommandContext(ctx, "node", "e2e.js", url, shots, chromium)
	out, err := node.CombinedOutput()
	t.Logf("e2e.js:\n%s", out)
	if err != nil {
		t.Fatalf("e2e.js: %v (screenshots in %s)", err, shots)
	}
	t.Logf("screenshots in %s", shots)

	// SIGINT: the chat shuts down gracefully and exits 0.
	if err := chat.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("the chat exited with %v after SIGINT", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the chat did not stop after SIGINT")
	}
}
