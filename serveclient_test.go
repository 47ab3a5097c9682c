package socketio

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/switchboard-go/socketio/engineio"
	"github.com/switchboard-go/socketio/internal/clientbundle"
)

// The official client's files, served beside the engine as by the
// reference server (Node: serveClient).

// startClientServer starts an HTTP server whose only handler is a Server
// made with opts, and returns its base URL.
func startClientServer(t *testing.T, opts *Options) string {
	t.Helper()
	srv := NewServer(opts)
	ts := httptest.NewServer(srv)
	t.Cleanup(func() {
		_ = srv.Close()
		ts.Close()
	})
	return ts.URL
}

// rawGet sends one request with exactly the given headers (no automatic
// Accept-Encoding, no decompression) and returns the response with its
// body read.
func rawGet(t *testing.T, method, url string, header ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Add(header[i], header[i+1])
	}
	tr := &http.Transport{DisableCompression: true}
	defer tr.CloseIdleConnections()
	res, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, body
}

func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return plain
}

var clientFiles = []string{
	"socket.io.js", "socket.io.js.map",
	"socket.io.min.js", "socket.io.min.js.map",
	"socket.io.esm.min.js", "socket.io.esm.min.js.map",
	"socket.io.msgpack.min.js", "socket.io.msgpack.min.js.map",
}

func TestServeClientFiles(t *testing.T) {
	base := startClientServer(t, nil)
	etag := `"` + clientbundle.Version + `"`
	for _, name := range clientFiles {
		isMap := strings.HasSuffix(name, ".map")
		wantType := "application/javascript; charset=utf-8"
		if isMap {
			wantType = "application/json; charset=utf-8"
		}
		check := func(how string, res *http.Response, body []byte, wantEncoding string) {
			t.Helper()
			if res.StatusCode != http.StatusOK {
				t.Fatalf("%s %s: status %d: %s", how, name, res.StatusCode, body)
			}
			for k, want := range map[string]string{
				"Content-Type":     wantType,
				"Cache-Control":    "public, max-age=0",
				"ETag":             etag,
				"Vary":             "Accept-Encoding",
				"Content-Encoding": wantEncoding,
			} {
				if got := res.Header.Get(k); got != want {
					t.Errorf("%s %s: %s %q, want %q", how, name, k, got, want)
				}
			}
			if got := res.Header.Get("Content-Length"); got != strconv.Itoa(len(body)) {
				t.Errorf("%s %s: Content-Length %s, body %d bytes", how, name, got, len(body))
			}
		}

		// A browser: gzip accepted, sent as stored.
		res, gz := rawGet(t, "GET", base+"/socket.io/"+name, "Accept-Encoding", "gzip, deflate, br, zstd")
		check("gzip", res, gz, "gzip")
		plain := gunzip(t, gz)
		// No Accept-Encoding: the same file, uncompressed.
		res, body := rawGet(t, "GET", base+"/socket.io/"+name)
		check("identity", res, body, "")
		if !bytes.Equal(body, plain) {
			t.Errorf("%s: identity body (%d bytes) differs from the gzip body uncompressed (%d bytes)", name, len(body), len(plain))
		}
		if isMap {
			if !json.Valid(body) {
				t.Errorf("%s is not JSON", name)
			}
		} else if !bytes.Contains(body[:200], []byte("Socket.IO v"+clientbundle.Version+"\n")) {
			t.Errorf("%s does not start with the Socket.IO v%s banner: %q", name, clientbundle.Version, body[:80])
		}
	}

	// A query string (a cache buster) does not matter, as for the reference.
	if res, _ := rawGet(t, "GET", base+"/socket.io/socket.io.js?v=1"); res.StatusCode != http.StatusOK {
		t.Errorf("socket.io.js?v=1: status %d", res.StatusCode)
	}
	// HEAD: the headers of GET, no body.
	res, body := rawGet(t, "HEAD", base+"/socket.io/socket.io.min.js", "Accept-Encoding", "gzip")
	f, _ := clientbundle.Lookup("socket.io.min.js")
	if res.StatusCode != http.StatusOK || len(body) != 0 || res.Header.Get("Content-Length") != strconv.Itoa(len(f.Gzip)) ||
		res.Header.Get("ETag") != etag {
		t.Errorf("HEAD: status %d, %d body bytes, headers %v", res.StatusCode, len(body), res.Header)
	}
}

func TestServeClientNotModified(t *testing.T) {
	base := startClientServer(t, nil)
	url := base + "/socket.io/socket.io.js"
	v := clientbundle.Version
	for _, inm := range []string{`"` + v + `"`, `W/"` + v + `"`, `"0.0.1", "` + v + `"`, `*`} {
		res, body := rawGet(t, "GET", url, "If-None-Match", inm, "Accept-Encoding", "gzip")
		if res.StatusCode != http.StatusNotModified || len(body) != 0 {
			t.Errorf("If-None-Match %s: status %d, %d body bytes; want 304 and none", inm, res.StatusCode, len(body))
		}
		if res.Header.Get("ETag") != `"`+v+`"` || res.Header.Get("Content-Encoding") != "" {
			t.Errorf("If-None-Match %s: headers %v", inm, res.Header)
		}
	}
	for _, inm := range []string{`"0.0.1"`, v, `"` + v + `-x"`} {
		if res, _ := rawGet(t, "GET", url, "If-None-Match", inm); res.StatusCode != http.StatusOK {
			t.Errorf("If-None-Match %s: status %d, want 200", inm, res.StatusCode)
		}
	}
}

// Anything but the exact names under the engine path, and any method but
// GET and HEAD, is the engine's, which answers 404 off its path.
func TestServeClientOtherPaths(t *testing.T) {
	base := startClientServer(t, nil)
	for _, path := range []string{
		"/socket.io.js",
		"/socket.io/socket.io.jsx",
		"/socket.io/SOCKET.IO.JS",
		"/socket.io/socket.io.js.gz",
		"/socket.io/dist/socket.io.js",
		"/socket.io/socket.io.js/",
		"/socket.io//socket.io.js",
		"/socket.iosocket.io.js",
		"/other/socket.io.js",
	} {
		if res, body := rawGet(t, "GET", base+path); res.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: status %d, want 404: %.80s", path, res.StatusCode, body)
		}
	}
	for _, method := range []string{"POST", "PUT", "DELETE"} {
		if res, _ := rawGet(t, method, base+"/socket.io/socket.io.js"); res.StatusCode != http.StatusNotFound {
			t.Errorf("%s /socket.io/socket.io.js: status %d, want 404", method, res.StatusCode)
		}
	}
	// The engine still answers at its path.
	res, body := rawGet(t, "GET", base+"/socket.io/?EIO=4&transport=polling")
	if res.StatusCode != http.StatusOK || !bytes.HasPrefix(body, []byte(`0{"sid":`)) {
		t.Errorf("handshake: status %d: %s", res.StatusCode, body)
	}
}

func TestServeClientCustomPath(t *testing.T) {
	for _, path := range []string{"/rt", "/rt/", "/a/b/"} {
		base := startClientServer(t, &Options{Engine: engineio.Options{Path: path}})
		prefix := strings.TrimSuffix(path, "/") + "/"
		if res, body := rawGet(t, "GET", base+prefix+"socket.io.min.js"); res.StatusCode != http.StatusOK ||
			!bytes.Contains(body[:200], []byte("Socket.IO v")) {
			t.Errorf("path %q: GET %ssocket.io.min.js: status %d", path, prefix, res.StatusCode)
		}
		if res, _ := rawGet(t, "GET", base+"/socket.io/socket.io.min.js"); res.StatusCode != http.StatusNotFound {
			t.Errorf("path %q: GET /socket.io/socket.io.min.js: status %d, want 404", path, res.StatusCode)
		}
	}
}

// Disabled, the files are not served: the request reaches the engine, as
// any request did before (404 off the engine path), and the engine works.
func TestServeClientDisabled(t *testing.T) {
	base := startClientServer(t, &Options{DisableServeClient: true})
	for _, name := range clientFiles {
		res, body := rawGet(t, "GET", base+"/socket.io/"+name)
		if res.StatusCode != http.StatusNotFound || res.Header.Get("ETag") != "" {
			t.Errorf("%s: status %d, ETag %q; want the engine's 404: %.80s", name, res.StatusCode, res.Header.Get("ETag"), body)
		}
	}
	res, body := rawGet(t, "GET", base+"/socket.io/?EIO=4&transport=polling")
	if res.StatusCode != http.StatusOK || !bytes.HasPrefix(body, []byte(`0{"sid":`)) {
		t.Errorf("handshake: status %d: %s", res.StatusCode, body)
	}
}

func TestAcceptsGzip(t *testing.T) {
	for header, want := range map[string]bool{
		"":                       false,
		"gzip":                   true,
		"GZIP":                   true,
		"x-gzip":                 true,
		"gzip, deflate, br":      true,
		"br;q=1.0, gzip;q=0.8":   true,
		"gzip;q=0.1, identity":   true, // a compression wins, as in the reference
		"gzip;q=0":               false,
		"gzip; q=0.000":          false,
		"deflate, br":            false,
		"identity":               false,
		"*":                      true,
		"*;q=0":                  false,
		"*, gzip;q=0":            false,
		"gzip;q=0, *":            false,
		"br, *;q=0.5":            true,
		"gzip;q=bogus":           false,
		"deflate;q=0.5 , gzip ;": true,
	} {
		var values []string
		if header != "" {
			values = []string{header}
		}
		if got := acceptsGzip(values); got != want {
			t.Errorf("Accept-Encoding %q: acceptsGzip %v, want %v", header, got, want)
		}
	}
}

// The client files get the engine's CORS headers, as from the reference's
// cors middleware: a module import from another origin needs them.
func TestServeClientCORS(t *testing.T) {
	base := startClientServer(t, &Options{Engine: engineio.Options{
		CORS: &engineio.CORSOptions{Origins: []string{"https://app.example"}, Credentials: true},
	}})
	for origin, want := range map[string]string{"https://app.example": "https://app.example", "https://evil.example": ""} {
		req, _ := http.NewRequest(http.MethodGet, base+"/socket.io/socket.io.esm.min.js", nil)
		req.Header.Set("Origin", origin)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("origin %s: status %d", origin, res.StatusCode)
		}
		if got := res.Header.Get("Access-Control-Allow-Origin"); got != want {
			t.Errorf("origin %s: Access-Control-Allow-Origin %q, want %q", origin, got, want)
		}
		if got := res.Header.Get("Access-Control-Allow-Credentials"); got != "true" {
			t.Errorf("origin %s: Access-Control-Allow-Credentials %q", origin, got)
		}
		if got := res.Header.Values("Vary"); !slices.Contains(got, "Origin") || !slices.Contains(got, "Accept-Encoding") {
			t.Errorf("origin %s: Vary %q, want Origin and Accept-Encoding", origin, got)
		}
	}
}
