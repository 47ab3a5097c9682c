package interop_test

// The example programs of examples/, built and run as a user runs them
// (go build, then the binary with -addr on a free loopback port), and
// driven by the clients their tutorials use: Python's websockets
// (python3-websockets) and Chromium for the plain WebSocket chat,
// python-socketio clients written the tutorial's way for the namespaces,
// python-socketio and requests for the REST integration, Chromium with the
// official client the server serves for the simple chat, and the official
// Node client for the ticker.

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// example is an example program running on a free loopback port.
type example struct {
	URL string
	log *textLines
}

// startExample builds examples/<name> and runs it with -addr
// 127.0.0.1:0 and args; it is interrupted, and must exit, when the test
// ends.
func startExample(t *testing.T, name string, args ...string) *example {
	t.Helper()
	bin := filepath.Join(t.TempDir(), name)
	build := exec.Command("go", "build", "-o", bin, "github.com/switchboard-go/socketio/examples/"+name)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build examples/%s: %v\n%s", name, err, out)
	}
	cmd := exec.Command(bin, append([]string{"-addr", "127.0.0.1:0"}, args...)...)
	r, w := io.Pipe()
	cmd.Stderr = w // log.Default's output
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ex := &example{log: collectText(r)}
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
			// Some examples leave SIGINT to its default: death by it is
			// their way to stop.
			var ee *exec.ExitError
			if err != nil && !(asExitError(err, &ee) && ee.Sys().(syscall.WaitStatus).Signal() == syscall.SIGINT) {
				t.Errorf("examples/%s ended with %v after an interrupt\nits log:\n%s", name, err, ex.log)
			}
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
			t.Errorf("examples/%s did not stop within 10s of an interrupt", name)
		}
	})
	line := ex.log.waitFor(t, name+" on http://")
	_, url, _ := strings.Cut(line, name+" on ")
	ex.URL = strings.TrimSpace(url)
	return ex
}

func asExitError(err error, ee **exec.ExitError) bool {
	e, ok := err.(*exec.ExitError)
	*ee = e
	return ok
}

// textLines collects the lines a program writes.
type textLines struct {
	mu    sync.Mutex
	lines []string
	more  chan struct{}
}

func collectText(r io.Reader) *textLines {
	l := &textLines{more: make(chan struct{}, 1)}
	go func() {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			l.mu.Lock()
			l.lines = append(l.lines, sc.Text())
			l.mu.Unlock()
			select {
			case l.more <- struct{}{}:
			default:
			}
		}
	}()
	return l
}

// waitFor returns the first line containing s, failing the test after 20 s.
func (l *textLines) waitFor(t *testing.T, s string) string {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		l.mu.Lock()
		for _, line := range l.lines {
			if strings.Contains(line, s) {
				l.mu.Unlock()
				return line
			}
		}
		l.mu.Unlock()
		select {
		case <-l.more:
		case <-deadline:
			t.Fatalf("no line with %q within 20s; got:\n%s", s, l)
		}
	}
}

func (l *textLines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

var (
	pyWebsocketsOnce sync.Once
	pyWebsocketsErr  error
)

// requirePythonWebsockets fails the test (never skips) when Python's
// websockets library cannot be imported.
func requirePythonWebsockets(t *testing.T) {
	t.Helper()
	pyWebsocketsOnce.Do(func() {
		if out, err := exec.Command(pyBin, "-c", "import websockets").CombinedOutput(); err != nil {
			pyWebsocketsErr = fmt.Errorf("%s cannot import websockets (%v):\n%s\ninstall it with: apt-get install -y python3-websockets, or set SWITCHBOARD_PYTHON to a python3 that has it", pyBin, err, out)
		}
	})
	if pyWebsocketsErr != nil {
		t.Fatal(pyWebsocketsErr)
	}
}

// runPythonScript runs interop/python/<script> with args and returns its
// lines, failing the test unless it finished cleanly.
func runPythonScript(t *testing.T, script string, args ...string) lines {
	t.Helper()
	dir, err := filepath.Abs("python")
	if err != nil {
		t.Fatal(err)
	}
	ls := runPeer(t, dir, pyBin, append([]string{script}, args...)...)
	ls.expectExit(t)
	return ls
}

// texts returns the field key of the lines matching ev and kv, in order.
func (ls lines) texts(key, ev string, kv ...any) []any {
	var out []any
	for _, l := range ls.all(ev, kv...) {
		out = append(out, l[key])
	}
	return out
}

func TestExampleWschatPython(t *testing.T) {
	t.Parallel()
	requirePython(t)
	requirePythonWebsockets(t)
	ex := startExample(t, "wschat")
	ls := runPythonScript(t, "example_wschat.py", "ws"+strings.TrimPrefix(ex.URL, "http"))
	wantJSON(t, "echo", ls.texts("text", "recv", "client", "echo"),
		`["Message text was: hello", "Message text was: ünïcødé ✓"]`)
	wantJSON(t, "client 111 (the author of hello)", ls.texts("text", "recv", "client", "111"),
		`["You wrote: hi, I am 111", "Client #222 says: hi, I am 222", "You wrote: hello from 111", "Client #222 left the chat"]`)
	wantJSON(t, "client 222", ls.texts("text", "recv", "client", "222"),
		`["You wrote: hi, I am 222", "Client #111 says: hello from 111"]`)
	wantEqual(t, "222's close code", ls.one(t, "closed")["code"], any(1000.0))
}

// runExampleDriver runs browser/examples.js for scenario against url.
func runExampleDriver(t *testing.T, scenario, url string) lines {
	t.Helper()
	dir := requireBrowser(t)
	shotDir := os.Getenv("ARTIFACTS_DIR")
	if shotDir == "" {
		shotDir = t.TempDir()
	} else {
		shotDir = filepath.Join(shotDir, "examples")
	}
	start := time.Now()
	cmd := exec.Command("node", "examples.js", scenario, url, shotDir, chromiumPath)
	cmd.Dir = dir
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(browserTimeout):
		// Interrupted, playwright closes Chromium rather than orphaning it.
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		t.Fatalf("examples.js %s timed out after %v\nstdout:\n%s\nstderr:\n%s", scenario, browserTimeout, stdout.String(), stderr.String())
	}
	ls, perr := parseLines([]byte(stdout.String()))
	if err != nil || perr != nil {
		t.Fatalf("examples.js %s: %v %v\nstdout:\n%s\nstderr:\n%s", scenario, err, perr, stdout.String(), stderr.String())
	}
	ls.expectExit(t)
	for _, ev := range []string{"pageerror", "console", "offsite"} {
		if bad := ls.all(ev); len(bad) > 0 {
			t.Errorf("pages reported %s:\n%s", ev, bad)
		}
	}
	for _, s := range ls.all("screenshot") {
		if b, _ := s["bytes"].(float64); b < 1000 {
			t.Errorf("screenshot %v: %v bytes", s["path"], s["bytes"])
		}
	}
	t.Logf("%s: %v; screenshots in %s", ls.one(t, "browser")["version"], time.Since(start).Round(time.Millisecond), shotDir)
	return ls
}

func TestExampleWschatBrowser(t *testing.T) {
	t.Parallel()
	ex := startExample(t, "wschat")
	ls := runExampleDriver(t, "wschat", ex.URL+"/")
	ids := ls.one(t, "ids")
	idA, idB := fmt.Sprint(ids["A"]), fmt.Sprint(ids["B"])
	for _, id := range []string{idA, idB} {
		// The page's id is Date.now(): milliseconds of this year or so.
		if len(id) != 13 || strings.Trim(id, "0123456789") != "" {
			t.Errorf("client id %q is not a timestamp in milliseconds", id)
		}
	}
	wantJSON(t, "A's messages", ls.one(t, "messages", "name", "A")["list"], mustJSONText(
		[]string{"You wrote: hi", "Client #" + idB + " says: hello from B", "You wrote: hello from A"}))
	wantJSON(t, "B's messages", ls.one(t, "messages", "name", "B")["list"], mustJSONText(
		[]string{"You wrote: hello from B", "Client #" + idA + " says: hello from A", "Client #" + idA + " left the chat"}))
}

func mustJSONText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func TestExampleSimplechatBrowser(t *testing.T) {
	t.Parallel()
	ex := startExample(t, "simplechat")
	ls := runExampleDriver(t, "simplechat", ex.URL+"/")
	for _, name := range []string{"A", "B"} {
		wantEqual(t, name+"'s transport", ls.one(t, "page", "name", name)["transport"], any("websocket"))
		wantJSON(t, name+"'s messages", ls.one(t, "messages", "name", name)["list"], `["hello from A", "hi from B"]`)
	}
}

// The ticker's dashboard: a click follows a symbol, whose price then moves.
func TestExampleTickerBrowser(t *testing.T) {
	t.Parallel()
	ex := startExample(t, "ticker", "-every", "10ms")
	ls := runExampleDriver(t, "ticker", ex.URL+"/")
	tk := ls.one(t, "ticker")
	first, later := fmt.Sprint(tk["first"]), fmt.Sprint(tk["later"])
	if first == later {
		t.Errorf("the price did not move: %s, then %s", first, later)
	}
	wantEqual(t, "transport", tk["transport"], any("websocket"))
	// Only AAPL was followed: the other rows never showed a price.
	wantJSON(t, "the price cells after AAPL was left", tk["others"], `["-", "-", "-", "-", "-", "-"]`)
}

// The restemit page: it joins a room, posts to it through its form, and
// shows an event posted by another program.
func TestExampleRestemitBrowser(t *testing.T) {
	t.Parallel()
	ex := startExample(t, "restemit")
	ls := runExampleDriver(t, "restemit", ex.URL+"/")
	wantJSON(t, "the other program's POST", ls.one(t, "post"), `{"ev": "post", "status": 200, "answer": {"room": "", "sent": "news"}}`)
	// The room's message reaches the page over its socket and the POST's
	// answer over HTTP: either may come first.
	list, _ := ls.one(t, "messages", "name", "A")["list"].([]any)
	if len(list) == 4 && list[1] != "message: [\"from the page\"]" {
		list[1], list[2] = list[2], list[1]
	}
	wantJSON(t, "the page's events", list, `[
		"join: \"sports\"",
		"message: [\"from the page\"]",
		"POST /send: 200 {\"room\":\"sports\",\"sent\":\"message\"}\n",
		"news: [{\"n\":1}]"]`)
}

func TestExampleNamespacesPython(t *testing.T) {
	t.Parallel()
	requirePython(t)
	ex := startExample(t, "namespaces")
	ls := runPythonScript(t, "example_namespaces.py", ex.URL)
	sid := map[string]string{}
	for _, name := range []string{"alice", "bob", "carol", "dave"} {
		sid[name], _ = ls.one(t, "sid", "client", name)["sid"].(string)
	}
	resp := func(from, room, data string) string {
		return `{"event": "response", "data": {"from": "` + sid[from] + `", "room": "` + room + `", "data": "` + data + `"}}`
	}
	joined := func(who, room string) string {
		return `{"event": "message", "data": "` + sid[who] + ` has joined the room ` + room + `"}`
	}
	received := func(client string) []any {
		var out []any
		for _, l := range ls.all("recv", "client", client) {
			out = append(out, map[string]any{"event": l["event"], "data": l["data"]})
		}
		return out
	}
	wantJSON(t, "alice's events", received("alice"), `[`+joined("alice", "lobby")+`,`+joined("bob", "lobby")+`,`+
		resp("alice", "lobby", "hello lobby")+`,`+resp("bob", "lobby", "bye")+`]`)
	wantJSON(t, "bob's events", received("bob"), `[`+joined("bob", "lobby")+`,`+resp("alice", "lobby", "hello lobby")+`,`+resp("bob", "lobby", "bye")+`]`)
	wantJSON(t, "carol's events", received("carol"), `[`+joined("carol", "other")+`,`+resp("carol", "other", "anyone?")+`]`)
	wantJSON(t, "dave's events", received("dave"), `[{"event": "response", "data": "/test received: ping"}]`)
	for _, l := range ls.all("recv", "client", "dave") {
		wantEqual(t, "dave's namespace", l["ns"], any("/test"))
	}
	// The server logged every connection and disconnection. The reason is
	// "client namespace disconnect" or "transport close": python-socketio
	// 5.7's disconnect() races its DISCONNECT packet against the closing
	// of the WebSocket (see pyWantClientDisconnect).
	for name, id := range sid {
		ns := "/chat"
		if name == "dave" {
			ns = "/test"
		}
		ex.log.waitFor(t, ns+": "+id+" connected")
		line := ex.log.waitFor(t, ns+": "+id+" disconnected (")
		if !strings.HasSuffix(line, "(client namespace disconnect)") && !strings.HasSuffix(line, "(transport close)") {
			t.Errorf("server log: %s", line)
		}
	}
}

func TestExampleRestemitPython(t *testing.T) {
	t.Parallel()
	requirePython(t)
	const origin = "http://app.example"
	ex := startExample(t, "restemit", "-origins", origin)
	ls := runPythonScript(t, "example_restemit.py", ex.URL, origin)
	wantJSON(t, "fan's join", ls.one(t, "joined")["ack"], `"sports"`)
	wantJSON(t, "POST answers", ls.texts("answer", "post"), `[
		{"room": "", "sent": "message"},
		{"room": "sports", "sent": "score"},
		{"error": "socketio: reserved event name"},
		{"room": "", "sent": "end"}]`)
	wantJSON(t, "POST statuses", ls.texts("status", "post"), `[200, 200, 400, 200]`)
	received := func(client string) []any {
		var out []any
		for _, l := range ls.all("recv", "client", client) {
			out = append(out, map[string]any{"event": l["event"], "data": l["data"]})
		}
		return out
	}
	wantJSON(t, "fan's events", received("fan"), `[
		{"event": "message", "data": "hello everyone"},
		{"event": "score", "data": {"home": 2, "away": 1}},
		{"event": "end", "data": [1, "two"]}]`)
	wantJSON(t, "reader's events", received("reader"), `[
		{"event": "message", "data": "hello everyone"},
		{"event": "end", "data": [1, "two"]}]`)
	wantJSON(t, "CORS preflights", ls.all("cors"), `[
		{"ev": "cors", "origin": "`+origin+`", "status": 204, "allow_origin": "`+origin+`", "allow_methods": "POST"},
		{"ev": "cors", "origin": "http://elsewhere.example", "status": 405, "allow_origin": null, "allow_methods": null}]`)
}

// streamPeer is a program whose JSON lines the test reads as they come
// and whose stdin it writes.
type streamPeer struct {
	name  string
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   chan map[string]any
	all   lines
	mu    sync.Mutex
	done  chan error
}

func startStreamPeer(t *testing.T, dir, name, program string, args ...string) *streamPeer {
	t.Helper()
	p := &streamPeer{name: name, out: make(chan map[string]any, 100), done: make(chan error, 1)}
	p.cmd = exec.Command(program, args...)
	p.cmd.Dir = dir
	var err error
	if p.stdin, err = p.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	r, w := io.Pipe()
	p.cmd.Stdout = w
	var stderr strings.Builder
	p.cmd.Stderr = &stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		err := p.cmd.Wait()
		_ = w.Close()
		if err != nil {
			err = fmt.Errorf("%v\nstderr:\n%s", err, stderr.String())
		}
		p.done <- err
	}()
	go func() {
		defer close(p.out)
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			var m map[string]any
			if json.Unmarshal(sc.Bytes(), &m) != nil {
				m = map[string]any{"ev": "unparsable", "line": sc.Text()}
			}
			p.mu.Lock()
			p.all = append(p.all, m)
			p.mu.Unlock()
			p.out <- m
		}
		_, _ = io.Copy(io.Discard, r)
	}()
	t.Cleanup(func() {
		_ = p.stdin.Close()
		select {
		case <-p.done:
		case <-time.After(5 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.done
		}
		for range p.out { // drain, so that the reader ends
		}
	})
	return p
}

// next returns the peer's next line whose ev is ev, failing on a "fail"
// line, the end of its output, or the deadline.
func (p *streamPeer) next(t *testing.T, ev string, within time.Duration) map[string]any {
	t.Helper()
	deadline := time.After(within)
	for {
		select {
		case m, ok := <-p.out:
			if !ok {
				err := <-p.done
				p.done <- err
				t.Fatalf("%s ended before a %q line: %v\n%s", p.name, ev, err, p.lines())
			}
			if m["ev"] == "fail" || m["ev"] == "unparsable" {
				t.Fatalf("%s: %v", p.name, m)
			}
			if m["ev"] == ev {
				return m
			}
		case <-deadline:
			t.Fatalf("%s printed no %q line within %v:\n%s", p.name, ev, within, p.lines())
		}
	}
}

func (p *streamPeer) lines() lines {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append(lines(nil), p.all...)
}

func (p *streamPeer) send(t *testing.T, line string) {
	t.Helper()
	if _, err := io.WriteString(p.stdin, line+"\n"); err != nil {
		t.Fatalf("%s: %v", p.name, err)
	}
}

// The ticker with the official Node client: a client that stops reading
// misses quotes, dropped for it by the server, while a client reading all
// along gets every one. The quotes of the stall fill the kernel's buffers
// first (some MB on loopback), so the stall lasts seconds.
func TestExampleTickerNode(t *testing.T) {
	t.Parallel()
	requireNode(t)
	ex := startExample(t, "ticker", "-every", "1ms")
	fast := startStreamPeer(t, nodeDir(t), "fast", "node", "example_ticker.js", ex.URL, "fast")
	slow := startStreamPeer(t, nodeDir(t), "slow", "node", "example_ticker.js", ex.URL, "slow")
	for _, p := range []*streamPeer{fast, slow} {
		wantEqual(t, p.name+"'s transport", p.next(t, "subscribed", 20*time.Second)["transport"], any("websocket"))
	}
	// The slow one is not reading; wait until the server drops quotes.
	const enough = 600
	start := time.Now()
	var dropped uint64
	for dropped < enough {
		if time.Since(start) > 100*time.Second {
			t.Fatalf("only %d quotes dropped within 100s", dropped)
		}
		time.Sleep(50 * time.Millisecond) // polling the counter, not standing in for it
		res, err := http.Get(ex.URL + "/stats")
		if err != nil {
			t.Fatal(err)
		}
		var st struct{ Dropped uint64 }
		err = json.NewDecoder(res.Body).Decode(&st)
		res.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		dropped = st.Dropped
	}
	stalled := time.Since(start)
	slow.send(t, "resume")
	slow.next(t, "resumed", 10*time.Second)
	slowSum := slow.next(t, "summary", 60*time.Second)
	fast.send(t, "stop")
	fastSum := fast.next(t, "summary", 10*time.Second)
	for _, p := range []*streamPeer{fast, slow} {
		p.next(t, "exit", 10*time.Second)
	}

	fastMissed, _ := fastSum["missed"].(map[string]any)
	slowMissed, _ := slowSum["missed"].(map[string]any)
	// Every tick drops the quotes of every symbol alike.
	for _, sym := range []string{"AAPL", "AMZN", "GOOG", "MSFT", "NVDA", "TSLA"} {
		if fastMissed[sym] != 0.0 {
			t.Errorf("the fast client missed %v %s quotes", fastMissed[sym], sym)
		}
		if m, _ := slowMissed[sym].(float64); m == 0 {
			t.Errorf("the slow client missed no %s quote: %v", sym, slowSum)
		}
	}
	for _, s := range []map[string]any{fastSum, slowSum} {
		wantJSON(t, "order", s["wrong"], `[]`)
		wantEqual(t, "transport at the end", s["transport"], any("websocket"))
	}
	t.Logf("stalled %v until %d quotes were dropped; fast got %v, missed none; slow got %v, missed %v",
		stalled.Round(time.Millisecond), dropped, fastSum["received"], slowSum["received"], slowSum["missed"])
}
