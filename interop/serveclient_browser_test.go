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
	"testing"
	"time"

	socketio "github.com/switchboard-go/socketio"
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
	// The version the lockfile pins, which the served client must be.
	var pkg struct{ Version string }
	b, err := os.ReadFile(filepath.Join(nodeDir(t), "node_modules", "socket.io-client", "package.json"))
	if err == nil {
		err = json.Unmarshal(b, &pkg)
	}
	if err != nil || pkg.Version == "" {
		t.Fatalf("socket.io-client's package.json in interop/node: %v", err)
	}
	shotDir := os.Getenv("ARTIFACTS_DIR")
	if shotDir == "" {
		shotDir = t.TempDir()
	} else {
		shotDir = filepath.Join(shotDir, "serveclient")
	}

	rec := newRecorder()
	ts := startTestServer(t, nil, nil, func(io *socketio.Server) {
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
	mux := ts.HTTP.Config.Handler.(*http.ServeMux)
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(serveClientPage))
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
	ls.one(t, "reloaded", "name", "A")

	// Both tabs connected (upgraded to WebSocket) and saw both messages once.
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
	t.Logf("socket.io-client %s served, %s: %v; screenshots in %s", pkg.Version, ls.one(t, "browser")["version"],
		time.Since(start).Round(time.Millisecond), shotDir)
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
