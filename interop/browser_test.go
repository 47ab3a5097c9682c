package interop_test

// Interop with the official browser client: socket.io-client@4's browser
// bundle (dist/socket.io.min.js from interop/node/node_modules, served by
// the Go server itself) in real headless Debian Chromium (/usr/bin/chromium,
// `apt-get install -y chromium`, or the binary $SWITCHBOARD_CHROMIUM names),
// driven by playwright-core from interop/browser (`npm ci` there) through
// browser/driver.js.
//
// Three pages, each in its own browser context, load a chat page like
// examples/chat: A and B with the default transports (polling, upgraded to
// WebSocket), C with transports: ['websocket']. A sends a chat message
// through the form and every page shows it; each page does an ack round
// trip and a binary (ArrayBuffer) round trip; then the server disconnects
// B with Disconnect(false) and B sees "io server disconnect". Screenshots
// go to $ARTIFACTS_DIR when set, else to a temp dir.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	socketio "github.com/switchboard-go/socketio"
)

// browserTimeout bounds one driver run; the driver's own watchdog fires at 45s.
const browserTimeout = 60 * time.Second

// chromiumPath is the Chromium the driver launches: $SWITCHBOARD_CHROMIUM,
// else Debian's.
var chromiumPath = binary("SWITCHBOARD_CHROMIUM", "/usr/bin/chromium")

// browserPage is the chat page of examples/chat with a status line, the
// client's options taken from the URL (?name=, ?transports=) and a trace
// the driver reads.
const browserPage = `<!doctype html>
<meta charset="utf-8">
<title>switchboard chat</title>
<style>body{font:16px sans-serif;margin:1em} #status{font-weight:bold}</style>
<p id="status">connecting</p>
<ul id="messages"></ul>
<form id="form"><input id="input" autocomplete="off"><button>Send</button></form>
<script src="/socket.io/socket.io.js"></script>
<script>
  const params = new URLSearchParams(location.search);
  const name = params.get('name') || '?';
  const opts = { query: { name } };
  if (params.get('transports')) opts.transports = params.get('transports').split(',');
  const socket = io(opts);
  const trace = { openTransport: null, upgrades: [], disconnectReason: null, bins: [] };
  window.socket = socket; window.trace = trace;
  const status = document.getElementById('status');
  const show = (s) => { status.textContent = name + ': ' + s; };
  socket.io.on('open', () => {
    const engine = socket.io.engine;
    trace.openTransport = engine.transport.name;
    engine.on('upgrade', (t) => { trace.upgrades.push(t.name); show('connected over ' + t.name + ' (upgraded)'); });
  });
  socket.on('connect', () => show('connected over ' + socket.io.engine.transport.name + (trace.upgrades.length ? ' (upgraded)' : '')));
  socket.on('disconnect', (reason) => { trace.disconnectReason = reason; show('disconnected: ' + reason); });
  socket.on('bin', (...args) => trace.bins.push(args));
  const form = document.getElementById('form'), input = document.getElementById('input');
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    if (input.value) { socket.emit('chat message', input.value); input.value = ''; }
  });
  socket.on('chat message', (msg) => {
    const li = document.createElement('li'); li.textContent = msg;
    document.getElementById('messages').appendChild(li);
  });
</script>`

// requireBrowser fails the test (never skips) when Chromium, node or an npm
// dependency is missing, saying what to install.
func requireBrowser(t *testing.T) (browserDir string) {
	t.Helper()
	requireNode(t) // node, and socket.io-client in interop/node
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("%s is missing: run `apt-get install -y chromium` or set SWITCHBOARD_CHROMIUM to a Chromium binary (the test never downloads a browser): %v", chromiumPath, err)
	}
	dir, err := filepath.Abs("browser")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "playwright-core", "package.json")); err != nil {
		t.Fatalf("playwright-core is not installed in %s: run `npm ci` in interop/browser, or scripts/test.sh, which does: %v", dir, err)
	}
	return dir
}

func TestBrowserChat(t *testing.T) {
	t.Parallel()
	browserDir := requireBrowser(t)
	clientJS := filepath.Join(nodeDir(t), "node_modules", "socket.io-client", "dist", "socket.io.min.js")
	if _, err := os.Stat(clientJS); err != nil {
		t.Fatalf("the browser bundle of socket.io-client is missing: run `npm ci` in interop/node: %v", err)
	}
	shotDir := os.Getenv("ARTIFACTS_DIR")
	if shotDir == "" {
		shotDir = t.TempDir()
	} else {
		shotDir = filepath.Join(shotDir, "browser")
	}

	rec := newRecorder()
	var mu sync.Mutex
	byName := map[string]*socketio.Socket{}
	ts := startTestServer(t, nil, nil, func(io *socketio.Server) {
		io.OnConnection(func(s *socketio.Socket) {
			name := s.Handshake().Query.Get("name")
			mu.Lock()
			byName[name] = s
			mu.Unlock()
			rec.add("connect", map[string]any{"name": name, "transport": s.Handshake().Query.Get("transport")})
			_ = io.Emit("chat message", "a user connected")
			s.On("chat message", func(e *socketio.Event) {
				var msg string
				if e.Decode(0, &msg) == nil && msg != "" {
					rec.add("chat", map[string]any{"name": name, "msg": msg})
					_ = io.Emit("chat message", msg)
				}
			})
			s.On("add", func(e *socketio.Event) {
				var a, b float64
				if err := e.Decode(0, &a); err != nil {
					rec.add("error", "add: "+err.Error())
				}
				if err := e.Decode(1, &b); err != nil {
					rec.add("error", "add: "+err.Error())
				}
				if err := e.Ack(a + b); err != nil {
					rec.add("error", "add ack: "+err.Error())
				}
			})
			s.On("bin", func(e *socketio.Event) {
				var data []byte
				var tag string
				if err := e.Decode(0, &data); err != nil {
					rec.add("error", "bin: "+err.Error())
				}
				_ = e.Decode(1, &tag)
				rec.add("bin", map[string]any{"name": name, "hex": fmt.Sprintf("%x", data), "tag": tag})
				rev := slices.Clone(data)
				slices.Reverse(rev)
				if err := e.Ack(map[string]any{"len": len(data), "data": rev, "tag": tag}); err != nil {
					rec.add("error", "bin ack: "+err.Error())
				}
				if err := s.Emit("bin", rev, tag); err != nil {
					rec.add("error", "bin emit: "+err.Error())
				}
			})
			s.OnDisconnect(func(reason socketio.Reason) {
				rec.add("disconnect", map[string]any{"name": name, "reason": string(reason)})
				_ = io.Emit("chat message", "a user left ("+string(reason)+")")
			})
		})
	})
	mux, ok := ts.HTTP.Config.Handler.(*http.ServeMux)
	if !ok {
		t.Fatalf("startTestServer's handler is a %T, not an *http.ServeMux", ts.HTTP.Config.Handler)
	}
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(browserPage))
	})
	// The driver asks the server to disconnect a page's socket; the server
	// does it from this goroutine, not from a socket handler.
	mux.HandleFunc("GET /test/kick", func(w http.ResponseWriter, r *http.Request) {
		name := r.URL.Query().Get("name")
		mu.Lock()
		s := byName[name]
		transports := map[string]string{}
		for n, x := range byName {
			transports[n] = x.Conn().Transport()
		}
		mu.Unlock()
		if s == nil {
			http.Error(w, "no socket named "+name, http.StatusNotFound)
			return
		}
		rec.add("transports", transports)
		s.Disconnect(false)
		_ = json.NewEncoder(w).Encode(map[string]any{"kicked": s.ID(), "transports": transports})
	})

	start := time.Now()
	ls := runBrowserDriver(t, browserDir, ts.URL, shotDir)
	elapsed := time.Since(start)
	if t.Failed() {
		return
	}
	ls.expectExit(t)
	for _, ev := range []string{"pageerror", "console", "offsite"} {
		if bad := ls.all(ev); len(bad) > 0 {
			t.Errorf("pages reported %s:\n%s", ev, bad)
		}
	}

	// Connection and transports, as the pages saw them.
	for _, name := range []string{"A", "B", "C"} {
		p := ls.one(t, "page", "name", name)
		wantEqual(t, name+" engine transport", p["transport"], any("websocket"))
		if name == "C" {
			wantEqual(t, "C first transport", p["openTransport"], any("websocket"))
			wantJSON(t, "C upgrades", p["upgrades"], `[]`)
		} else {
			wantEqual(t, name+" first transport", p["openTransport"], any("polling"))
			wantJSON(t, name+" upgrades", p["upgrades"], `["websocket"]`)
		}
	}
	// ... and as the server saw them.
	wantJSON(t, "server: handshake transports", sortedByName(rec.get("connect")),
		`[{"name":"A","transport":"polling"},{"name":"B","transport":"polling"},{"name":"C","transport":"websocket"}]`)
	wantJSON(t, "server: transports before the kick", rec.one(t, "transports"),
		`{"A":"websocket","B":"websocket","C":"websocket"}`)

	// Chat: A's message reached the server once and every page's DOM.
	chats := rec.get("chat")
	if len(chats) != 1 {
		t.Fatalf("server got %d chat messages, want 1: %v", len(chats), chats)
	}
	text, _ := chats[0].(map[string]any)["msg"].(string)
	wantEqual(t, "chat sender", chats[0].(map[string]any)["name"], any("A"))
	if !strings.HasPrefix(text, "hello from A ") {
		t.Errorf("chat text %q", text)
	}
	for _, name := range []string{"A", "B", "C"} {
		l := ls.one(t, "chat", "name", name)
		wantEqual(t, name+" shows the message", l["text"], any(text))
		wantEqual(t, name+" shows it once", l["count"], any(1.0))
	}

	// Ack and binary round trips.
	for _, name := range []string{"A", "B", "C"} {
		wantJSON(t, name+" round trips", ls.one(t, "roundtrip", "name", name), `{
			"ev":"roundtrip","name":"`+name+`","sum":42,
			"ackLen":7,"ackTag":"tag","ackType":"[object ArrayBuffer]","ackHex":"fffe807f020100",
			"eventType":"[object ArrayBuffer]","eventHex":"fffe807f020100","eventTag":"tag",
			"transport":"websocket"}`)
	}
	wantJSON(t, "server: binary received", sortedByName(rec.get("bin")), `[
		{"name":"A","hex":"0001027f80feff","tag":"tag"},
		{"name":"B","hex":"0001027f80feff","tag":"tag"},
		{"name":"C","hex":"0001027f80feff","tag":"tag"}]`)

	// Server-initiated disconnect of B.
	wantEqual(t, "kick status", ls.one(t, "kick")["status"], any(200.0))
	d := ls.one(t, "disconnect", "name", "B")
	wantEqual(t, "B disconnect reason", d["reason"], any("io server disconnect"))
	wantEqual(t, "B connected after the kick", d["connected"], any(false))
	wantEqual(t, "B active (reconnecting) after the kick", d["active"], any(false))
	wantEqual(t, "B status line", d["status"], any("B: disconnected: io server disconnect"))
	// B first, by the server; A and C when the driver closed the browser.
	rec.waitFor(t, "disconnect", 3, 5*time.Second)
	discs := rec.get("disconnect")
	wantJSON(t, "server: first disconnect", discs[0], `{"name":"B","reason":"server namespace disconnect"}`)
	wantJSON(t, "server: all disconnects", sortedByName(discs), `[
		{"name":"A","reason":"transport close"},
		{"name":"B","reason":"server namespace disconnect"},
		{"name":"C","reason":"transport close"}]`)
	for _, name := range []string{"A", "C"} {
		l := ls.one(t, "left", "name", name)
		wantEqual(t, name+" sees B leave", l["text"], any("a user left (server namespace disconnect)"))
		wantEqual(t, name+" still connected", l["connected"], any(true))
	}

	for _, name := range []string{"A", "B", "C"} {
		s := ls.one(t, "screenshot", "name", name)
		if b, _ := s["bytes"].(float64); b < 1000 {
			t.Errorf("screenshot of %s is %v bytes", name, s["bytes"])
		}
	}
	if errs := rec.get("error"); len(errs) > 0 {
		t.Errorf("server handler errors: %v", errs)
	}
	t.Logf("%s, %s: %v (%s); screenshots in %s", clientVersion(clientJS), ls.one(t, "browser")["version"],
		elapsed.Round(time.Millisecond), timings(ls), shotDir)
}

// runBrowserDriver runs `node driver.js url shotDir chromium` in dir. Unlike runPeer
// it allows browserTimeout and, on timeout, interrupts node rather than
// killing it, so that playwright closes Chromium instead of orphaning it
// (SIGKILL follows after 5s).
func runBrowserDriver(t *testing.T, dir, url, shotDir string) lines {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), browserTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", "driver.js", url, shotDir, chromiumPath)
	cmd.Dir = dir
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	err := cmd.Run()
	ls, perr := parseLines(stdout.Bytes())
	switch {
	case ctx.Err() != nil:
		t.Errorf("driver.js timed out after %v\nstdout:\n%s\nstderr:\n%s", browserTimeout, stdout.String(), stderr.String())
	case err != nil:
		t.Errorf("driver.js: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	case perr != nil:
		t.Errorf("driver.js: %v\nstdout:\n%s", perr, stdout.String())
	}
	if testing.Verbose() {
		t.Logf("driver.js:\n%s%s", stdout.String(), stderr.String())
	}
	return ls
}

// sortedByName orders recorded maps by their "name" field.
func sortedByName(vs []any) []any {
	out := slices.Clone(vs)
	slices.SortStableFunc(out, func(a, b any) int {
		an, _ := a.(map[string]any)["name"].(string)
		bn, _ := b.(map[string]any)["name"].(string)
		return strings.Compare(an, bn)
	})
	return out
}

// timings renders the driver's timing lines as "step=ms ...".
func timings(ls lines) string {
	var b strings.Builder
	for _, l := range ls.all("timing") {
		fmt.Fprintf(&b, "%v=%vms ", l["step"], l["ms"])
	}
	return strings.TrimSpace(b.String())
}

// clientVersion reads "Socket.IO v4.x.y" from the bundle's banner.
func clientVersion(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	if i := bytes.Index(b, []byte("Socket.IO v")); i >= 0 {
		if line, _, _ := bytes.Cut(b[i:], []byte("\n")); len(line) < 40 {
			return string(bytes.TrimSpace(line))
		}
	}
	return "socket.io-client (unknown version)"
}
