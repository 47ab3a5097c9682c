package adminui

import (
	"bytes"
	"io/fs"
	"net/http"
	"path"
	"regexp"
	"strings"
	"time"
)

// UIHandler serves the admin UI's built files: the ui/dist folder of the
// npm package @socket.io/admin-ui, which this module does not ship. Get
// it with `npm i @socket.io/admin-ui` and pass
// os.DirFS("node_modules/@socket.io/admin-ui/ui/dist"), or embed a copy
// of that folder in your program. The files use relative paths, so the
// handler can sit under any prefix:
//
//	http.Handle("/admin-ui/", http.StripPrefix("/admin-ui/", adminui.UIHandler(dist)))
//
// The page loads its fonts and icons from fonts.googleapis.com and
// cdn.jsdelivr.net, as the hosted UI does: without internet access it
// shows no icons. UIHandlerWithFonts serves them from local copies.
func UIHandler(dist fs.FS) http.Handler { return UIHandlerWithFonts(dist, Fonts{}) }

// Fonts are local copies of what the UI's page loads from CDNs, from npm
// packages this module does not ship either. Each is optional: the page
// keeps the CDN's link for one left nil.
type Fonts struct {
	// Icons is the folder of the npm package @mdi/font (Material Design
	// Icons, for the UI's icons): os.DirFS("node_modules/@mdi/font").
	// Its css/ and fonts/ folders are served.
	Icons fs.FS
	// Roboto is the folder of the npm package @fontsource/roboto (the
	// UI's text font; the browser's sans-serif stands in without it):
	// os.DirFS("node_modules/@fontsource/roboto"). The weights the page
	// asks for (100, 300, 400, 500, 700 and 900) and its files/ folder
	// are served.
	Roboto fs.FS
}

// UIHandlerWithFonts is UIHandler serving the page's fonts and icons from
// fonts too, for a UI that works offline: it rewrites the page's links to
// cdn.jsdelivr.net and fonts.googleapis.com to paths under its own
// (_fonts/), and serves the packages' files there. For example, after
// `npm i @socket.io/admin-ui @mdi/font @fontsource/roboto`:
//
//	nm := "node_modules/"
//	ui := adminui.UIHandlerWithFonts(os.DirFS(nm+"@socket.io/admin-ui/ui/dist"), adminui.Fonts{
//		Icons:  os.DirFS(nm + "@mdi/font"),
//		Roboto: os.DirFS(nm + "@fontsource/roboto"),
//	})
//	http.Handle("/admin-ui/", http.StripPrefix("/admin-ui/", ui))
func UIHandlerWithFonts(dist fs.FS, fonts Fonts) http.Handler {
	files := http.FileServerFS(dist)
	var icons, roboto http.Handler
	if fonts.Icons != nil {
		icons = http.FileServerFS(fonts.Icons)
	}
	if fonts.Roboto != nil {
		roboto = http.FileServerFS(fonts.Roboto)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Under http.StripPrefix("/admin-ui/", …) the path has no
		// leading slash, under StripPrefix("/admin-ui", …) it has one.
		p := strings.TrimPrefix(r.URL.Path, "/")
		switch {
		case p == "" || p == "index.html":
			// The built files have content hashes in their names, but
			// not index.html: revalidate it, so that an upgraded UI is
			// picked up.
			w.Header().Set("Cache-Control", "no-cache")
			if icons == nil && roboto == nil {
				files.ServeHTTP(w, r)
				return
			}
			serveIndex(w, r, dist, icons != nil, roboto != nil)
		case strings.HasPrefix(p, iconsPrefix):
			rest := cleanRest(p[len(iconsPrefix):])
			if icons == nil || !(strings.HasPrefix(rest, "css/") || strings.HasPrefix(rest, "fonts/")) {
				http.NotFound(w, r)
				return
			}
			serveSub(icons, w, r, rest)
		case p == robotoCSS:
			if roboto == nil {
				http.NotFound(w, r)
				return
			}
			w.Header().Set("Content-Type", "text/css; charset=utf-8")
			http.ServeContent(w, r, "roboto.css", time.Time{}, strings.NewReader(robotoImports))
		case strings.HasPrefix(p, robotoPrefix):
			rest := cleanRest(p[len(robotoPrefix):])
			if roboto == nil || !(robotoWeights[rest] || strings.HasPrefix(rest, "files/")) {
				http.NotFound(w, r)
				return
			}
			serveSub(roboto, w, r, rest)
		default:
			files.ServeHTTP(w, r)
		}
	})
}

// Where UIHandlerWithFonts serves the fonts, under the handler's path:
// a folder name the UI's build does not use.
const (
	iconsPrefix  = "_fonts/mdi/"
	robotoPrefix = "_fonts/roboto/"
	robotoCSS    = "_fonts/roboto.css"
)

// robotoWeights are the stylesheets of @fontsource/roboto for the weights
// the page asks fonts.googleapis.com for; robotoImports imports them
// (relative to robotoCSS).
var (
	robotoWeights = map[string]bool{}
	robotoImports string
)

func init() {
	var b strings.Builder
	for _, w := range []string{"100", "300", "400", "500", "700", "900"} {
		robotoWeights[w+".css"] = true
		b.WriteString(`@import url("roboto/` + w + `.css");` + "\n")
	}
	robotoImports = b.String()
}

// The page's links to the CDNs (index.html of @socket.io/admin-ui 0.5).
var (
	iconsLink  = regexp.MustCompile(`https://cdn\.jsdelivr\.net/npm/@mdi/font@[^/"]+/css/materialdesignicons(\.min)?\.css`)
	robotoLink = regexp.MustCompile(`https://fonts\.googleapis\.com/css2?\?family=Roboto[^"]*`)
)

// serveIndex serves the page with its links to the CDNs replaced by
// those to the local copies.
func serveIndex(w http.ResponseWriter, r *http.Request, dist fs.FS, icons, roboto bool) {
	page, err := fs.ReadFile(dist, "index.html")
	if err != nil {
		http.NotFound(w, r)
		return
	}
	if icons {
		page = iconsLink.ReplaceAll(page, []byte(iconsPrefix+"css/materialdesignicons.min.css"))
	}
	if roboto {
		page = robotoLink.ReplaceAll(page, []byte(robotoCSS))
	}
	var mod time.Time
	if st, err := fs.Stat(dist, "index.html"); err == nil {
		mod = st.ModTime()
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	http.ServeContent(w, r, "index.html", mod, bytes.NewReader(page))
}

// cleanRest cleans a path within a font's folder, so that a folder
// checked is the one served ("css/../package.json" is "package.json").
func cleanRest(rest string) string { return strings.TrimPrefix(path.Clean("/"+rest), "/") }

// serveSub has h serve the file at path rest of its file system.
func serveSub(h http.Handler, w http.ResponseWriter, r *http.Request, rest string) {
	r2 := new(http.Request)
	*r2 = *r
	u := *r.URL
	u.Path, u.RawPath = "/"+rest, ""
	r2.URL = &u
	h.ServeHTTP(w, r2)
}
