package engineio

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/gorilla/websocket"
)

// hasHeader tells a header set to "" from one not set at all.
func hasHeader(h http.Header, name string) bool {
	_, ok := h[http.CanonicalHeaderKey(name)]
	return ok
}

// Every CORS option, on the preflight and on a plain request: what each
// one sets, and that an option left at its zero value sets nothing.
func TestCORSHeaders(t *testing.T) {
	type want struct {
		allowOrigin string // "" means absent
		vary        []string
		credentials bool
		expose      string // "" means absent
		methods     string // preflight only
		allowHdrs   string // preflight only; "" means absent
		maxAge      string // preflight only; "" means absent
	}
	allowExample := func(o string) bool { return o == "https://example.com" }
	cases := []struct {
		name    string
		cors    *CORSOptions
		origin  string
		reqHdrs string // Access-Control-Request-Headers of the preflight
		pre     want   // the OPTIONS answer
		get     want   // a handshake's headers (methods, allow-headers, max-age unused)
	}{
		{
			name:   "no CORS",
			cors:   nil,
			origin: "https://example.com",
		},
		{
			name:    "any origin, defaults",
			cors:    &CORSOptions{},
			origin:  "https://example.com",
			reqHdrs: "x-token",
			pre:     want{allowOrigin: "*", methods: "GET,HEAD,PUT,PATCH,POST,DELETE", allowHdrs: "x-token", vary: []string{"Access-Control-Request-Headers"}},
			get:     want{allowOrigin: "*"},
		},
		{
			name:   "any origin, no headers asked",
			cors:   &CORSOptions{Origins: []string{"*"}},
			origin: "https://example.com",
			pre:    want{allowOrigin: "*", methods: "GET,HEAD,PUT,PATCH,POST,DELETE"},
			get:    want{allowOrigin: "*"},
		},
		{
			name:   "star with credentials reflects the origin",
			cors:   &CORSOptions{Origins: []string{"https://other.example", "*"}, Credentials: true},
			origin: "https://example.com",
			pre:    want{allowOrigin: "https://example.com", vary: []string{"Origin"}, credentials: true, methods: "GET,HEAD,PUT,PATCH,POST,DELETE"},
			get:    want{allowOrigin: "https://example.com", vary: []string{"Origin"}, credentials: true},
		},
		{
			name:   "credentials without an origin",
			cors:   &CORSOptions{Credentials: true},
			origin: "",
			pre:    want{allowOrigin: "*", credentials: true, methods: "GET,HEAD,PUT,PATCH,POST,DELETE"},
			get:    want{allowOrigin: "*", credentials: true},
		},
		{
			name: "every option",
			cors: &CORSOptions{
				Origins:        []string{"https://a.example", "https://example.com"},
				Methods:        []string{"GET", "POST"},
				AllowedHeaders: []string{"x-a", "x-b"},
				ExposedHeaders: []string{"x-c", "x-d"},
				MaxAge:         600,
			},
			origin:  "https://example.com",
			reqHdrs: "x-token",
			pre:     want{allowOrigin: "https://example.com", vary: []string{"Origin"}, expose: "x-c,x-d", methods: "GET,POST", allowHdrs: "x-a,x-b", maxAge: "600"},
			get:     want{allowOrigin: "https://example.com", vary: []string{"Origin"}, expose: "x-c,x-d"},
		},
		{
			name:   "origin not listed",
			cors:   &CORSOptions{Origins: []string{"https://a.example"}, MaxAge: 1},
			origin: "https://example.com",
			pre:    want{vary: []string{"Origin"}, methods: "GET,HEAD,PUT,PATCH,POST,DELETE", maxAge: "1"},
			get:    want{vary: []string{"Origin"}},
		},
		{
			name:   "AllowOriginFunc allows",
			cors:   &CORSOptions{Origins: []string{"https://a.example"}, AllowOriginFunc: allowExample},
			origin: "https://example.com",
			pre:    want{allowOrigin: "https://example.com", vary: []string{"Origin"}, methods: "GET,HEAD,PUT,PATCH,POST,DELETE"},
			get:    want{allowOrigin: "https://example.com", vary: []string{"Origin"}},
		},
		{
			name:   "AllowOriginFunc refuses",
			cors:   &CORSOptions{Origins: []string{"*"}, AllowOriginFunc: allowExample},
			origin: "https://evil.example",
			pre:    want{methods: "GET,HEAD,PUT,PATCH,POST,DELETE"},
			get:    want{},
		},
		{
			name:   "AllowOriginFunc, no origin",
			cors:   &CORSOptions{AllowOriginFunc: func(string) bool { return true }},
			origin: "",
			pre:    want{methods: "GET,HEAD,PUT,PATCH,POST,DELETE"},
			get:    want{},
		},
	}
	check := func(t *testing.T, what string, h http.Header, w want, preflight bool) {
		t.Helper()
		if got := h.Get("Access-Control-Allow-Origin"); got != w.allowOrigin || hasHeader(h, "Access-Control-Allow-Origin") != (w.allowOrigin != "") {
			t.Errorf("%s: Allow-Origin %q, want %q", what, got, w.allowOrigin)
		}
		if got := h.Values("Vary"); strings.Join(got, ",") != strings.Join(w.vary, ",") {
			t.Errorf("%s: Vary %q, want %q", what, got, w.vary)
		}
		if got := h.Get("Access-Control-Allow-Credentials"); (got == "true") != w.credentials || hasHeader(h, "Access-Control-Allow-Credentials") != w.credentials {
			t.Errorf("%s: Allow-Credentials %q, want %v", what, got, w.credentials)
		}
		if got := h.Get("Access-Control-Expose-Headers"); got != w.expose || hasHeader(h, "Access-Control-Expose-Headers") != (w.expose != "") {
			t.Errorf("%s: Expose-Headers %q, want %q", what, got, w.expose)
		}
		if !preflight {
			for _, name := range []string{"Access-Control-Allow-Methods", "Access-Control-Allow-Headers", "Access-Control-Max-Age"} {
				if hasHeader(h, name) {
					t.Errorf("%s: %s %q on a request that is no preflight", what, name, h.Get(name))
				}
			}
			return
		}
		if got := h.Get("Access-Control-Allow-Methods"); got != w.methods {
			t.Errorf("%s: Allow-Methods %q, want %q", what, got, w.methods)
		}
		if got := h.Get("Access-Control-Allow-Headers"); got != w.allowHdrs || hasHeader(h, "Access-Control-Allow-Headers") != (w.allowHdrs != "") {
			t.Errorf("%s: Allow-Headers %q, want %q", what, got, w.allowHdrs)
		}
		if got := h.Get("Access-Control-Max-Age"); got != w.maxAge || hasHeader(h, "Access-Control-Max-Age") != (w.maxAge != "") {
			t.Errorf("%s: Max-Age %q, want %q", what, got, w.maxAge)
		}
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ts := startServer(t, &Options{CORS: tc.cors}, false)
			hdr := []string{"Origin", tc.origin}
			if tc.reqHdrs != "" {
				hdr = append(hdr, "Access-Control-Request-Headers", tc.reqHdrs)
			}
			status, h, body := do(t, "OPTIONS", ts.url("transport=polling"), "", hdr...)
			if tc.cors == nil {
				// No CORS: the preflight is no request the engine knows.
				if status != http.StatusBadRequest || hasHeader(h, "Access-Control-Allow-Origin") || hasHeader(h, "Access-Control-Allow-Methods") {
					t.Fatalf("preflight without CORS: %d %v %q", status, h, body)
				}
			} else {
				if status != http.StatusNoContent || body != "" {
					t.Fatalf("preflight: %d %q", status, body)
				}
				check(t, "preflight", h, tc.pre, true)
			}
			status, h, body = do(t, "GET", ts.url("transport=polling"), "", hdr...)
			if status != http.StatusOK || !strings.HasPrefix(body, "0{") {
				t.Fatalf("handshake: %d %q", status, body)
			}
			check(t, "handshake", h, tc.get, false)
		})
	}
}

// The WebSocket origin check: CORS origins apply to WebSocket handshakes
// too, AllowOriginFunc decides instead of them when set, and a request
// without Origin (no browser) is always let through.
func TestWebSocketOrigin(t *testing.T) {
	allowExample := func(o string) bool { return o == "https://example.com" }
	cases := []struct {
		name   string
		cors   *CORSOptions
		origin string
		ok     bool
	}{
		{"no CORS", nil, "https://evil.example", true},
		{"no origin", &CORSOptions{Origins: []string{"https://example.com"}}, "", true},
		{"any origin", &CORSOptions{}, "https://evil.example", true},
		{"star", &CORSOptions{Origins: []string{"https://example.com", "*"}}, "https://evil.example", true},
		{"listed", &CORSOptions{Origins: []string{"https://a.example", "https://example.com"}}, "https://example.com", true},
		{"not listed", &CORSOptions{Origins: []string{"https://example.com"}}, "https://evil.example", false},
		{"func allows", &CORSOptions{Origins: []string{"https://a.example"}, AllowOriginFunc: allowExample}, "https://example.com", true},
		{"func refuses", &CORSOptions{Origins: []string{"*"}, AllowOriginFunc: allowExample}, "https://evil.example", false},
		{"func, no origin", &CORSOptions{AllowOriginFunc: func(string) bool { return false }}, "", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ts := startServer(t, &Options{CORS: tc.cors}, false)
			u := "ws" + strings.TrimPrefix(ts.url("transport=websocket"), "http")
			var h http.Header
			if tc.origin != "" {
				h = http.Header{"Origin": {tc.origin}}
			}
			ws, res, err := websocket.DefaultDialer.Dial(u, h)
			if tc.ok {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				defer ws.Close()
				if got := readText(t, ws); !strings.HasPrefix(got, "0{") {
					t.Fatalf("open packet %q", got)
				}
				return
			}
			if err == nil {
				ws.Close()
				t.Fatal("accepted")
			}
			if res == nil || res.StatusCode != http.StatusBadRequest {
				t.Fatalf("refused with %v, want 400", err)
			}
		})
	}
}

// The session cookie's path is "/" unless the option sets one.
func TestCookiePath(t *testing.T) {
	for _, tc := range []struct{ path, want string }{{"", "/"}, {"/app", "/app"}} {
		ts := startServer(t, &Options{Cookie: &http.Cookie{Name: "io", Path: tc.path}}, false)
		op := handshake(t, ts)
		_, hdr, _ := do(t, "GET", ts.url("transport=polling"), "")
		res := &http.Response{Header: hdr}
		cookies := res.Cookies()
		if len(cookies) != 1 || cookies[0].Name != "io" || cookies[0].Path != tc.want || cookies[0].Value == op.SID || cookies[0].Value == "" {
			t.Fatalf("path %q: cookies %v, want one named io with path %q and a fresh sid", tc.path, cookies, tc.want)
		}
	}
}

// A polling response is compressed from HTTPCompressionThreshold bytes on,
// with gzip or deflate as the client accepts (gzip first), and not at all
// under DisableHTTPCompression.
func TestPollingCompressionThreshold(t *testing.T) {
	const threshold = 100
	cases := []struct {
		name    string
		opts    Options
		size    int // bytes of the response body: "4" and the message
		accept  string
		wantEnc string
	}{
		{"at the threshold", Options{HTTPCompressionThreshold: threshold}, threshold, "gzip", "gzip"},
		{"one under", Options{HTTPCompressionThreshold: threshold}, threshold - 1, "gzip", ""},
		{"deflate", Options{HTTPCompressionThreshold: threshold}, threshold, "deflate", "deflate"},
		{"both: gzip first", Options{HTTPCompressionThreshold: threshold}, threshold, "deflate, gzip", "gzip"},
		{"neither", Options{HTTPCompressionThreshold: threshold}, threshold, "br", ""},
		{"default threshold", Options{}, 1024, "gzip", "gzip"},
		{"under the default", Options{}, 1023, "gzip", ""},
		{"disabled", Options{HTTPCompressionThreshold: threshold, DisableHTTPCompression: true}, 4 * threshold, "gzip", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			opts := tc.opts
			ts := startServer(t, &opts, false)
			op := handshake(t, ts)
			c := ts.nextConn(t)
			msg := strings.Repeat("z", tc.size-1)
			if err := c.Send([]byte(msg), false, false); err != nil {
				t.Fatal(err)
			}
			status, hdr, body := do(t, "GET", ts.url("transport=polling&sid="+op.SID), "", "Accept-Encoding", tc.accept)
			if status != http.StatusOK {
				t.Fatalf("poll: %d", status)
			}
			if got := hdr.Get("Content-Encoding"); got != tc.wantEnc {
				t.Fatalf("Content-Encoding %q, want %q", got, tc.wantEnc)
			}
			var r io.Reader = strings.NewReader(body)
			switch tc.wantEnc {
			case "gzip":
				zr, err := gzip.NewReader(r)
				if err != nil {
					t.Fatal(err)
				}
				r = zr
			case "deflate":
				r = flate.NewReader(r)
			default:
				if hdr.Get("Content-Length") != strconv.Itoa(len(body)) {
					t.Fatalf("Content-Length %q for %d bytes", hdr.Get("Content-Length"), len(body))
				}
			}
			plain, err := io.ReadAll(r)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(plain, []byte("4"+msg)) {
				t.Fatalf("body of %d bytes, want %d", len(plain), tc.size)
			}
			if tc.wantEnc != "" && !strings.Contains(strings.Join(hdr.Values("Vary"), ","), "Accept-Encoding") {
				t.Fatalf("compressed without Vary: Accept-Encoding: %v", hdr)
			}
		})
	}
}
