package engineio

import (
	"strings"
	"testing"
	"time"
)

// PostTimeout defaults to PingInterval + PingTimeout: with both an hour, a
// POST body larger than what net/http reads with the headers is read
// whole, not cut by a deadline already passed.
func TestDefaultPostTimeout(t *testing.T) {
	ts := startServer(t, &Options{PingInterval: time.Hour, PingTimeout: time.Hour}, false)
	op := handshake(t, ts)
	msg := strings.Repeat("p", 256<<10)
	status, _, body := do(t, "POST", ts.url("transport=polling&sid="+op.SID), "4"+msg)
	if status != 200 || body != "ok" {
		t.Fatalf("POST of %d bytes: %d %q", len(msg)+1, status, body)
	}
	if m := receive(t, ts.rec.msgs, "no message"); string(m.Data) != msg {
		t.Fatalf("got %d bytes, want %d", len(m.Data), len(msg))
	}
}

// Options.Path is served with and without its trailing slash, whether or
// not the option ends with one; other paths get 404.
func TestPathWithAndWithoutSlash(t *testing.T) {
	for _, path := range []string{"/engine", "/engine/"} {
		ts := startServer(t, &Options{Path: path}, false)
		for _, p := range []string{"/engine/", "/engine"} {
			status, _, body := do(t, "GET", ts.URL+p+"?EIO=4&transport=polling", "")
			if status != 200 || !strings.HasPrefix(body, "0{") {
				t.Errorf("Path %q, GET %s: %d %q", path, p, status, body)
				continue
			}
			ts.nextConn(t)
		}
		if status, _, _ := do(t, "GET", ts.URL+"/engine//?EIO=4&transport=polling", ""); status != 404 {
			t.Errorf("Path %q, GET /engine//: %d, want 404", path, status)
		}
	}
}
