package interop_test

// The official client as the Go server serves it (serveClient): a page whose
// only script source is /socket.io/socket.io.js, opened in two tabs of
// headless Chromium (playwright-core from interop/browser, driven by
// browser/serveclient.js), connects and chats. Chromium is $SWITCHBOARD_CHROMIUM, else
// /usr/bin/chromium (`apt-get install -y chromium`). Screenshots go to
// $ARTIFACTS_DIR/serveclient when set, else to a temp dir.

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	socketio "github.com/switchboard-go/socketio"
	"github.com/switchboard-go/socketio/msgpackparser"
)

const serveClientPage = `<!doctype html>
<meta charset="utf-8">
<title>serveClient</title>
<link rel="icon" href="data:,">
<ul id="messages"></ul>
<form id="form"><input id="input" autocomplete="off"><button>Send</button></form>
<script src="/socket.io/socket.io.js"></script>
<script>
  const socket = io();
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

func TestBrowserServedClient(t *testing.T) {
	t.Parallel()
	// The version the lockfile pins, which the served client must be.
	var pkg struct{ Version string }
	b, err := os.ReadFile(filepath.Join(nodeDir(t), "node_modules", "socket.io-client", "package.json"))
	if err == nil {
		err = json.Unmarshal(b, &pkg)
	}
	if err != nil || pkg.Version == "" {
		t.Fatalf("socket.io-client's package.json in interop/node: %v", err)
	}
	start := time.Now()
	ts, rec := startChatServer(t, nil)
	ls, shotDir := runServeClientDriver(t, ts, serveClientPage, "serveclient")

	// Each tab loaded the client from the Go server, compressed, with the
	// reference's caching headers; the reload revalidated it: 304.
	etag := `"` + pkg.Version + `"`
	script := ts.URL + "/socket.io/socket.io.js"
	for _, name := range []string{"A", "B"} {
		wantJSON(t, name+" first load", ls.all("script", "name", name)[0], `{"ev":"script","name":"`+name+`","url":"`+script+`",
			"status":200,"contentType":"application/javascript; charset=utf-8","contentEncoding":"gzip",
			"etag":`+jsonString(etag)+`,"cacheControl":"public, max-age=0","ifNoneMatch":null}`)
	}
	if loads := ls.all("script", "name", "A"); len(loads) != 2 {
		t.Errorf("A loaded %d scripts, want 2 (load, reload):\n%s", len(loads), loads)
	} else {
		wantJSON(t, "A reload", loads[1], `{"ev":"script","name":"A","url":"`+script+`","status":304,
			"contentType":null,"contentEncoding":null,"etag":`+jsonString(etag)+`,"cacheControl":"public, max-age=0",
			"ifNoneMatch":`+jsonString(etag)+`}`)
	}
	checkChat(t, ls, rec)
	t.Logf("socket.io-client %s served, %s: %v; screenshots in %s", pkg.Version, ls.one(t, "browser")["version"],
		time.Since(start).Round(time.Millisecond), shotDir)
}

// The msgpack build of the served client (socket.io.msgpack.min.js, with
// the browser build of socket.io-msgpack-parser inside) chats with a Go
// server whose parser is msgpackparser's.
func TestBrowserServedMsgpackClient(t *testing.T) {
	t.Parallel()
	ts, rec := startChatServer(t, &socketio.Options{Parser: msgpackparser.Parser{}})
	page := strings.Replace(serveClientPage, "/socket.io/socket.io.js", "/socket.io/socket.io.msgpack.min.js", 1)
	ls, _ := runServeClientDriver(t, ts, page, "serveclient-msgpack")
	script := ts.URL + "/socket.io/socket.io.msgpack.min.js"
	for _, name := range []string{"A", "B"} {
		if got := ls.all("script", "name", name)[0]; got["url"] != script || got["status"] != 200.0 {
			t.Errorf("%s loaded %v", name, got)
		}
	}
	checkChat(t, ls, rec)
}

// The chat of TestBrowserServedClient with the server's own HTTP front
// (Server.Serve): the page and the client script go to net/http, the
// tabs' polling to the front, their upgrades to net/http and the poller.
func TestBrowserChatFront(t *testing.T) {
	t.Parallel()
	ts, rec := startChatServerWith(t, nil, func(t *testing.T, opts *socketio.Options, setup func(*socketio.Server)) *testServer {
		return startFrontTestServer(t, opts, setup)
	})
	ls, _ := runServeClientDriver(t, ts, serveClientPage, "serveclient-front")
	checkChat(t, ls, rec)
}

// startChatServer starts a Go server that relays "chat message" to
// everyone, recording each one.
func startChatServer(t *testing.T, opts *socketio.Options) (*testServer, *recorder) {
	t.Helper()
	return startChatServerWith(t, opts, func(t *testing.T, opts *socketio.Options, setup func(*socketio.Server)) *testServer {
		return startTestServer(t, opts, nil, setup)
	})
}

// startChatServerWith is startChatServer with the server started by start.
func startChatServerWith(t *testing.T, opts *socketio.Options, start func(*testing.T, *socketio.Options, func(*socketio.Server)) *testServer) (*testServer, *recorder) {
	t.Helper()
	rec := newRecorder()
	ts := start(t, opts, func(io *socketio.Server) {
		io.OnConnection(func(s *socketio.Socket) {
			s.On("chat message", func(e *socketio.Event) {
				var msg string
				if err := e.Decode(0, &msg); err != nil {
					rec.add("error", err.Error())
				}
				rec.add("chat", msg)
				_ = io.Emit("chat message", msg)
			})
		})
	})
	return ts, rec
}

// runServeClientDriver serves page at / of ts and runs browser/serveclient.js
// on it: two tabs of headless Chromium chat, then A reloads. It fails the
// test unless the driver ran to its end with no page error.
func runServeClientDriver(t *testing.T, ts *testServer, page, shotSub string) (lines, string) {
	t.Helper()
	requireNode(t)
	chromium := chromiumPath
	if _, err := os.Stat(chromium); err != nil {
		t.Fatalf("%s is missing: run `apt-get install -y chromium` or set SWITCHBOARD_CHROMIUM to a Chromium binary: %v", chromium, err)
	}
	browserDir, err := filepath.Abs("browser")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(browserDir, "node_modules", "playwright-core", "package.json")); err != nil {
		t.Fatalf("playwright-core is not installed in %s: run `npm ci` in interop/browser: %v", browserDir, err)
	}
	shotDir := os.Getenv("ARTIFACTS_DIR")
	if shotDir == "" {
		shotDir = t.TempDir()
	} else {
		shotDir = filepath.Join(shotDir, shotSub)
	}
	ts.Mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(page))
	})

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second) // the driver's watchdog fires at 45s
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", "serveclient.js", ts.URL+"/", shotDir, chromium)
	cmd.Dir = browserDir
	// On timeout, interrupt node so that playwright closes Chromium.
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	runErr := cmd.Run()
	ls, err := parseLines(stdout.Bytes())
	if runErr != nil || err != nil {
		t.Fatalf("serveclient.js: %v %v\nstdout:\n%s\nstderr:\n%s", runErr, err, stdout.String(), stderr.String())
	}
	if testing.Verbose() {
		t.Logf("serveclient.js (%v):\n%s%s", time.Since(start).Round(time.Millisecond), stdout.String(), stderr.String())
	}
	ls.expectExit(t)
	for _, ev := range []string{"pageerror", "console", "offsite"} {
		if bad := ls.all(ev); len(bad) > 0 {
			t.Errorf("pages reported %s:\n%s", ev, bad)
		}
	}
	return ls, shotDir
}

// checkChat checks that both tabs connected (upgraded to WebSocket), saw
// both messages once and were photographed, and that the server relayed
// them.
func checkChat(t *testing.T, ls lines, rec *recorder) {
	t.Helper()
	ls.one(t, "reloaded", "name", "A")
	for _, name := range []string{"A", "B"} {
		wantEqual(t, name+" transport", ls.one(t, "page", "name", name)["transport"], any("websocket"))
		for _, text := range []string{"hello from A", "hi from B"} {
			wantEqual(t, name+" shows "+text+" once", ls.one(t, "chat", "name", name, "text", text)["count"], any(1.0))
		}
		if s := ls.one(t, "screenshot", "name", name); s["bytes"].(float64) < 1000 {
			t.Errorf("screenshot of %s: %v bytes", name, s["bytes"])
		}
	}
	wantJSON(t, "server: chat messages", rec.get("chat"), `["hello from A","hi from B"]`)
	if errs := rec.get("error"); len(errs) > 0 {
		t.Errorf("server handler errors: %v", errs)
	}
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
