package engineio

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// The handshake's request URI and headers are refused with 431 past
// exactly 16 KiB, each header counted as the line "name: value\r\n" it was
// sent as. A request handed to ServeHTTP without a RequestURI (not read by
// net/http's server) counts its URL's path and query instead, and its
// session's Request still has the URI.
func TestHandshakeSizeBound(t *testing.T) {
	ts := startServer(t, nil, false)
	const target = "/socket.io/?EIO=4&transport=polling"
	const name = "X-Pad"
	// The padding that makes URI and header exactly the bound.
	exact := maxKeptRequestBytes - len(target) - len(name+": \r\n")
	for _, c := range []struct {
		requestURI bool
		pad        int
		want       int
	}{
		{true, exact, http.StatusOK},
		{true, exact + 1, http.StatusRequestHeaderFieldsTooLarge},
		// Without RequestURI, path and query: the '?' is not counted.
		{false, exact + 1, http.StatusOK},
		{false, exact + 2, http.StatusRequestHeaderFieldsTooLarge},
	} {
		r := httptest.NewRequest("GET", target, nil)
		if !c.requestURI {
			r.RequestURI = ""
		}
		r.Header.Set(name, strings.Repeat("p", c.pad))
		w := httptest.NewRecorder()
		ts.eng.ServeHTTP(w, r)
		if w.Code != c.want {
			t.Errorf("RequestURI %v, %d bytes of padding: status %d, want %d", c.requestURI, c.pad, w.Code, c.want)
			continue
		}
		if c.want != http.StatusOK {
			continue
		}
		if body := w.Body.String(); !strings.HasPrefix(body, `0{"sid":`) {
			t.Errorf("RequestURI %v: handshake answered %q", c.requestURI, body)
		}
		kept := ts.nextConn(t).Request()
		if kept.RequestURI != target || kept.URL.RequestURI() != target || len(kept.Header.Get(name)) != c.pad {
			t.Errorf("RequestURI %v: kept %q, %v, %d bytes of %s", c.requestURI, kept.RequestURI, kept.URL, len(kept.Header.Get(name)), name)
		}
	}
}
