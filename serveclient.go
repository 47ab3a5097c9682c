package socketio

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/switchboard-go/socketio/engineio"
	"github.com/switchboard-go/socketio/internal/clientbundle"
)

// clientETag is the ETag of every client file, the client's version, as
// the reference server's (which uses its own version, released with the
// client's).
var clientETag = `"` + clientbundle.Version + `"`

// serveClient answers a GET or HEAD for one of the official client's files
// under the engine path (enginePath + "socket.io.js", ...) and reports
// whether it did; any other request is the engine's. As the reference
// (Node: serveClient, Server.serve): ETag the client's version, 304 when
// If-None-Match has it, "Cache-Control: public, max-age=0" so that
// browsers revalidate, JavaScript or JSON (maps) in UTF-8, compressed
// when the client accepts it (gzip only: the reference also offers
// brotli and deflate). Unlike the reference, a 304 repeats the caching
// headers (RFC 9110, 15.4.5), responses say "Vary: Accept-Encoding", and
// other methods are left to the engine. Options.Engine.CORS applies, as
// the reference's cors middleware does: a cross-origin module import
// needs it.
func serveClient(w http.ResponseWriter, r *http.Request, enginePath string, cors *engineio.Server) bool {
	name, ok := strings.CutPrefix(r.URL.Path, enginePath)
	if !ok {
		return false
	}
	f, ok := clientbundle.Lookup(name)
	if !ok || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
		return false
	}
	// The reference runs its CORS middleware before serving a client
	// file: a module import from another origin needs the headers. A
	// preflight never gets here (only GET and HEAD are served above).
	cors.ApplyCORS(w, r)
	h := w.Header()
	h.Set("Cache-Control", "public, max-age=0")
	h.Set("ETag", clientETag)
	h.Add("Vary", "Accept-Encoding") // after the Origin that CORS may have added
	if etagMatches(r.Header.Values("If-None-Match")) {
		w.WriteHeader(http.StatusNotModified)
		return true
	}
	if f.Map {
		h.Set("Content-Type", "application/json; charset=utf-8")
	} else {
		h.Set("Content-Type", "application/javascript; charset=utf-8")
	}
	gzipped := acceptsGzip(r.Header.Values("Accept-Encoding"))
	if gzipped {
		h.Set("Content-Encoding", "gzip")
		h.Set("Content-Length", strconv.Itoa(len(f.Gzip)))
	} else {
		h.Set("Content-Length", strconv.FormatInt(f.Size, 10))
	}
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return true
	}
	if gzipped {
		_, _ = w.Write(f.Gzip)
		return true
	}
	// A client that refuses gzip is rare (not a browser): decompressing
	// per request keeps 1.2 MB of plain copies out of memory.
	zr, err := gzip.NewReader(bytes.NewReader(f.Gzip))
	if err == nil {
		_, _ = io.Copy(w, zr)
	}
	return true
}

// etagMatches reports whether If-None-Match names the client's ETag,
// strong or weak, or is "*".
func etagMatches(values []string) bool {
	for _, v := range values {
		for tag := range strings.SplitSeq(v, ",") {
			tag = strings.TrimSpace(tag)
			if tag == "*" || strings.TrimPrefix(tag, "W/") == clientETag {
				return true
			}
		}
	}
	return false
}

// acceptsGzip reports whether Accept-Encoding accepts gzip: named, or
// covered by "*", with a quality above zero. As with the reference's
// negotiation, an accepted compression wins over identity whatever their
// qualities.
func acceptsGzip(values []string) bool {
	gzipQ, starQ := -1.0, -1.0
	for _, v := range values {
		for item := range strings.SplitSeq(v, ",") {
			coding, params, _ := strings.Cut(item, ";")
			q := 1.0
			for p := range strings.SplitSeq(params, ";") {
				if k, val, ok := strings.Cut(strings.TrimSpace(p), "="); ok && strings.EqualFold(strings.TrimSpace(k), "q") {
					if f, err := strconv.ParseFloat(strings.TrimSpace(val), 64); err == nil {
						q = f
					} else {
						q = 0
					}
				}
			}
			switch strings.ToLower(strings.TrimSpace(coding)) {
			case "gzip", "x-gzip":
				gzipQ = q
			case "*":
				starQ = q
			}
		}
	}
	if gzipQ >= 0 {
		return gzipQ > 0
	}
	return starQ > 0
}
