package adminui

import (
	"io/fs"
	"net/http"
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
// cdn.jsdelivr.net, as the hosted UI does.
func UIHandler(dist fs.FS) http.Handler {
	files := http.FileServerFS(dist)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The built files have content hashes in their names, but not
		// index.html: revalidate it, so that an upgraded UI is picked up.
		if r.URL.Path == "" || r.URL.Path == "/" || r.URL.Path == "/index.html" {
			w.Header().Set("Cache-Control", "no-cache")
		}
		files.ServeHTTP(w, r)
	})
}
