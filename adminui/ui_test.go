package adminui

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"testing/fstest"
)

func TestUIHandler(t *testing.T) {
	dist := fstest.MapFS{
		"index.html":     {Data: []byte(`<script src="js/app.js"></script>`)},
		"js/app.js":      {Data: []byte("app()")},
		"css/app.css":    {Data: []byte("body{}")},
		"img/logo.svg":   {Data: []byte("<svg/>")},
		"favicon.png":    {Data: []byte("png")},
		"js/app.js.map":  {Data: []byte("{}")},
		"sub/index.html": {Data: []byte("sub")},
	}
	mux := http.NewServeMux()
	mux.Handle("/admin-ui/", http.StripPrefix("/admin-ui/", UIHandler(dist)))
	ts := httptest.NewServer(mux)
	defer ts.Close()
	get := func(path string) (int, string, http.Header) {
		t.Helper()
		res, err := http.Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b), res.Header
	}
	if code, body, h := get("/admin-ui/"); code != 200 || body != `<script src="js/app.js"></script>` ||
		h.Get("Cache-Control") != "no-cache" || h.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Errorf("index: %d %q %v", code, body, h)
	}
	if code, body, h := get("/admin-ui/js/app.js"); code != 200 || body != "app()" ||
		h.Get("Cache-Control") != "" || h.Get("Content-Type") != "text/javascript; charset=utf-8" {
		t.Errorf("app.js: %d %q %v", code, body, h)
	}
	if code, _, _ := get("/admin-ui/js/missing.js"); code != 404 {
		t.Errorf("missing file: %d", code)
	}
	// /admin-ui without its slash is redirected to the page.
	res, err := http.Get(ts.URL + "/admin-ui")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 || res.Request.URL.Path != "/admin-ui/" {
		t.Errorf("/admin-ui: %d at %s", res.StatusCode, res.Request.URL.Path)
	}
}
