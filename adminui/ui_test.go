package adminui

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
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

// UIHandlerWithFonts rewrites the page's links to the CDNs and serves the
// local copies' files, and only those the page needs.
func TestUIHandlerWithFonts(t *testing.T) {
	const page = `<link rel="stylesheet" href="https://fonts.googleapis.com/css?family=Roboto:100,300,400,500,700,900">` +
		`<link rel="stylesheet" href="https://cdn.jsdelivr.net/npm/@mdi/font@latest/css/materialdesignicons.min.css">` +
		`<script src="js/app.js"></script>`
	dist := fstest.MapFS{
		"index.html": {Data: []byte(page)},
		"js/app.js":  {Data: []byte("app()")},
	}
	mdi := fstest.MapFS{
		"css/materialdesignicons.min.css":         {Data: []byte(`@font-face{src:url("../fonts/materialdesignicons-webfont.woff2?v=7")}`)},
		"fonts/materialdesignicons-webfont.woff2": {Data: []byte("woff2")},
		"package.json": {Data: []byte("{}")},
	}
	roboto := fstest.MapFS{
		"400.css":                             {Data: []byte(`@font-face{src:url(./files/roboto-latin-400-normal.woff2)}`)},
		"200.css":                             {Data: []byte("")},
		"files/roboto-latin-400-normal.woff2": {Data: []byte("roboto")},
		"README.md":                           {Data: []byte("readme")},
	}
	get := func(h http.Handler, prefix, path string) (int, string, http.Header) {
		t.Helper()
		mux := http.NewServeMux()
		mux.Handle("/admin-ui/", http.StripPrefix(prefix, h))
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		return rec.Code, rec.Body.String(), rec.Header()
	}
	h := UIHandlerWithFonts(dist, Fonts{Icons: mdi, Roboto: roboto})
	for _, prefix := range []string{"/admin-ui/", "/admin-ui"} {
		for _, p := range []string{"/admin-ui/", "/admin-ui/index.html"} {
			code, body, hdr := get(h, prefix, p)
			want := `<link rel="stylesheet" href="_fonts/roboto.css">` +
				`<link rel="stylesheet" href="_fonts/mdi/css/materialdesignicons.min.css">` +
				`<script src="js/app.js"></script>`
			if code != 200 || body != want || hdr.Get("Cache-Control") != "no-cache" ||
				hdr.Get("Content-Type") != "text/html; charset=utf-8" {
				t.Errorf("%s under %s: %d %q %v", p, prefix, code, body, hdr)
			}
		}
		for p, want := range map[string]string{
			"/admin-ui/js/app.js": "app()",
			"/admin-ui/_fonts/mdi/css/materialdesignicons.min.css":         string(mdi["css/materialdesignicons.min.css"].Data),
			"/admin-ui/_fonts/mdi/fonts/materialdesignicons-webfont.woff2": "woff2",
			"/admin-ui/_fonts/roboto.css": `@import url("roboto/100.css");` + "\n" + `@import url("roboto/300.css");` + "\n" +
				`@import url("roboto/400.css");` + "\n" + `@import url("roboto/500.css");` + "\n" +
				`@import url("roboto/700.css");` + "\n" + `@import url("roboto/900.css");` + "\n",
			"/admin-ui/_fonts/roboto/400.css":                             string(roboto["400.css"].Data),
			"/admin-ui/_fonts/roboto/files/roboto-latin-400-normal.woff2": "roboto",
		} {
			if code, body, _ := get(h, prefix, p); code != 200 || body != want {
				t.Errorf("%s under %s: %d %q", p, prefix, code, body)
			}
		}
		// The rest of the packages is not served.
		for _, p := range []string{"/admin-ui/_fonts/mdi/package.json",
			"/admin-ui/_fonts/roboto/README.md", "/admin-ui/_fonts/roboto/200.css", "/admin-ui/_fonts/other"} {
			if code, _, _ := get(h, prefix, p); code != 404 {
				t.Errorf("%s under %s: %d, want 404", p, prefix, code)
			}
		}
	}
	// A path the mux would have cleaned (it redirects).
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/", nil)
	req.URL.Path = "_fonts/mdi/css/../package.json"
	if h.ServeHTTP(rec, req); rec.Code != 404 {
		t.Errorf("css/../package.json: %d, want 404", rec.Code)
	}
	if _, _, hdr := get(h, "/admin-ui/", "/admin-ui/_fonts/roboto.css"); hdr.Get("Content-Type") != "text/css; charset=utf-8" {
		t.Errorf("roboto.css: %v", hdr)
	}

	// One copy only: the other link stays; none: the page as it is, and
	// no _fonts/.
	_, body, _ := get(UIHandlerWithFonts(dist, Fonts{Icons: mdi}), "/admin-ui/", "/admin-ui/")
	if !strings.Contains(body, `href="https://fonts.googleapis.com/css?family=Roboto`) || !strings.Contains(body, `href="_fonts/mdi/`) {
		t.Errorf("icons only: %q", body)
	}
	_, body, _ = get(UIHandlerWithFonts(dist, Fonts{Roboto: roboto}), "/admin-ui/", "/admin-ui/")
	if !strings.Contains(body, `href="_fonts/roboto.css"`) || !strings.Contains(body, `href="https://cdn.jsdelivr.net/`) {
		t.Errorf("roboto only: %q", body)
	}
	if _, body, _ = get(UIHandler(dist), "/admin-ui/", "/admin-ui/"); body != page {
		t.Errorf("no fonts: %q", body)
	}
	if code, _, _ := get(UIHandler(dist), "/admin-ui/", "/admin-ui/_fonts/roboto.css"); code != 404 {
		t.Errorf("no fonts: roboto.css %d", code)
	}
}
