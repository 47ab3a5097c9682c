package auth

import (
	"crypto/subtle"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// CheckCSRF checks a state-changing request authenticated by the session
// cookie: its Origin (or, without one, its Referer) must be the server's
// own or an allowed origin, and the X-CSRF-Token header must equal the
// chat_csrf cookie. The error wraps ErrCSRF; answer it with 403.
//
// A request with neither Origin nor Referer is judged by the token alone:
// browsers send Origin on every cross-origin POST, so its absence means a
// same-origin request from an old browser or a privacy setting, or a
// non-browser client, which cannot ride on a victim's cookies anyway.
func (a *Auth) CheckCSRF(r *http.Request) error {
	if o := r.Header.Get("Origin"); o != "" {
		if !a.originAllowed(r, o) {
			return fmt.Errorf("%w: origin %q is not allowed", ErrCSRF, o)
		}
	} else if ref := r.Header.Get("Referer"); ref != "" {
		u, err := url.Parse(ref)
		if err != nil || !a.originAllowed(r, u.Scheme+"://"+u.Host) {
			return fmt.Errorf("%w: referer is not of an allowed origin", ErrCSRF)
		}
	}
	c, err := r.Cookie(CSRFCookie)
	if err != nil || !wellFormed(c.Value) {
		return fmt.Errorf("%w: no CSRF cookie (GET /api/session first)", ErrCSRF)
	}
	h := r.Header.Get(CSRFHeader)
	if h == "" {
		return fmt.Errorf("%w: no %s header", ErrCSRF, CSRFHeader)
	}
	if subtle.ConstantTimeCompare([]byte(h), []byte(c.Value)) != 1 {
		return fmt.Errorf("%w: wrong CSRF token", ErrCSRF)
	}
	return nil
}

// CheckOrigin reports whether a WebSocket or Socket.IO handshake may
// proceed: its Origin header must be the server's own origin (scheme, host
// and port) or one of Options.AllowedOrigins. This stops cross-site
// WebSocket hijacking, where a page on another site opens a socket to the
// chat and the browser attaches the victim's session cookie.
//
// A handshake without an Origin header is allowed: browsers always send
// Origin on WebSocket handshakes and on cross-origin requests (the
// long-polling transport's are fetches from the page), so a missing Origin
// means a non-browser client (the Go or Node client, websocat), which has
// no victim's cookies to abuse and must authenticate with its own token.
func (a *Auth) CheckOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	return o == "" || a.originAllowed(r, o)
}

// originAllowed compares origin with the request's own origin and the
// allowed ones, after normalising (lower case, default port dropped).
// "null" (sandboxed frames, file: pages) never matches.
func (a *Auth) originAllowed(r *http.Request, origin string) bool {
	o, ok := normOrigin(origin)
	if !ok {
		return false
	}
	if a.allowed[o] {
		return true
	}
	scheme := "http"
	if a.secure(r) {
		scheme = "https"
	}
	self, ok := normOrigin(scheme + "://" + r.Host)
	return ok && o == self
}

// normOrigin reduces an origin to scheme://host[:port], lower case,
// without a default port; false if it is not an http(s) origin.
func normOrigin(s string) (string, bool) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || u.Host == "" || u.User != nil {
		return "", false
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" {
		return "", false
	}
	// An origin has no path; a configured one may end in "/".
	if u.Path != "" && u.Path != "/" || u.RawQuery != "" || u.Fragment != "" {
		return "", false
	}
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if scheme == "http" && port == "80" || scheme == "https" && port == "443" {
		port = ""
	}
	if strings.Contains(host, ":") { // IPv6 literal
		host = "[" + host + "]"
	}
	if port != "" {
		host += ":" + port
	}
	return scheme + "://" + host, true
}

// csrfToken returns the request's CSRF cookie value, setting a new cookie
// on w when there is none.
func (a *Auth) csrfToken(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(CSRFCookie); err == nil && wellFormed(c.Value) {
		return c.Value
	}
	tok := newToken()
	http.SetCookie(w, &http.Cookie{
		Name:  CSRFCookie,
		Value: tok,
		Path:  "/",
		// As long as a session: a page left open a week still has both.
		MaxAge: int(a.opts.SessionTTL.Seconds()),
		// Not HttpOnly: the page reads it to echo it in the header.
		Secure: a.secure(r),
		// Strict: the token is only ever needed by the chat's own pages.
		SameSite: http.SameSiteStrictMode,
	})
	return tok
}
