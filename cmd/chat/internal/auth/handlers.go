package auth

import (
	"encoding/json"
	"errors"
	"io"
	"math"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/switchboard-go/socketio/cmd/chat/internal/store"
	"github.com/switchboard-go/socketio/cmd/chat/internal/valid"
)

// maxBody bounds a request body of the auth API: a name, a password of at
// most 128 bytes and a label fit in far less.
const maxBody = 4 << 10

// labelMax bounds an API token's label, in characters.
const labelMax = 64

// Routes registers the auth API on mux:
//
//	POST /api/signup  {"username","password"} → 201 {"user","csrfToken"}, logged in
//	POST /api/login   {"username","password"} → 200 {"user","csrfToken"}
//	POST /api/logout                          → 200 {"ok":true}
//	GET  /api/session                         → 200 {"user" (or null),"csrfToken"}
//	POST   /api/tokens {"label"}              → 201 {"id","token","label"}, the token shown once
//	GET    /api/tokens                        → 200 {"tokens":[{"id","label","created"}]}, oldest first
//	DELETE /api/tokens/{id}                   → 200 {"ok":true}; 404 unless it is the user's token
//
// Every POST and DELETE needs the CSRF token (see CheckCSRF), which GET
// /api/session hands out. The token routes take the session cookie only:
// an API token cannot list, make or revoke tokens.
func (a *Auth) Routes(mux *http.ServeMux) {
	mux.HandleFunc("POST /api/signup", a.signup)
	mux.HandleFunc("POST /api/login", a.login)
	mux.HandleFunc("POST /api/logout", a.logout)
	mux.HandleFunc("GET /api/session", a.session)
	mux.HandleFunc("POST /api/tokens", a.createToken)
	mux.HandleFunc("GET /api/tokens", a.listTokens)
	mux.HandleFunc("DELETE /api/tokens/{id}", a.revokeToken)
}

// userJSON is a user as the API shows it: never its hash.
type userJSON struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

func userOut(u store.User) *userJSON { return &userJSON{ID: u.ID, Name: u.Name} }

type credentials struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// WriteJSON writes v as a JSON response with status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store") // sessions and tokens stay out of caches
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v) // the client may be gone; nothing to do about it
}

// WriteError writes {"error": msg} with status.
func WriteError(w http.ResponseWriter, status int, msg string) {
	WriteJSON(w, status, map[string]string{"error": msg})
}

func writeFieldError(w http.ResponseWriter, field string, err error) {
	WriteJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error(), "field": field})
}

func writeRetry(w http.ResponseWriter, d time.Duration, msg string) {
	secs := int(math.Ceil(d.Seconds()))
	w.Header().Set("Retry-After", strconv.Itoa(max(1, secs)))
	WriteError(w, http.StatusTooManyRequests, msg)
}

// internal answers a failure of the server without telling its details.
func (a *Auth) internal(w http.ResponseWriter, r *http.Request, err error) {
	if r.Context().Err() != nil {
		return // the client left; the answer would go nowhere
	}
	a.log.Error("auth: internal error", "path", r.URL.Path, "err", err)
	WriteError(w, http.StatusInternalServerError, "internal error, try again later")
}

// readJSON decodes the body into v, answering and returning false when it
// is not one JSON object of at most maxBody bytes.
func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		WriteError(w, http.StatusUnsupportedMediaType, "the request body must be JSON (Content-Type: application/json)")
		return false
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	err = dec.Decode(v)
	if err == nil && dec.More() {
		err = errors.New("more than one JSON value")
	}
	if err == nil {
		if _, e := dec.Token(); e != io.EOF {
			err = errors.New("trailing data after the JSON object")
		}
	}
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			WriteError(w, http.StatusRequestEntityTooLarge, "the request body is too large")
		} else {
			WriteError(w, http.StatusBadRequest, "the request body is not valid JSON: "+err.Error())
		}
		return false
	}
	return true
}

// normName lower-cases ASCII letters and trims spaces, so "Alice " logs in
// as "alice". Only ASCII: Unicode case mapping would turn the Kelvin sign
// into "k" and let look-alike names collide.
func normName(s string) string {
	s = strings.TrimSpace(s)
	return strings.Map(func(r rune) rune {
		if r >= 'A' && r <= 'Z' {
			return r + ('a' - 'A')
		}
		return r
	}, s)
}

// begin runs the checks every sign-up and login passes first: CSRF, the
// per-address rate limit and the body. It answers and returns false when
// one fails.
func (a *Auth) begin(w http.ResponseWriter, r *http.Request, c *credentials) bool {
	if err := a.CheckCSRF(r); err != nil {
		a.log.Warn("auth: CSRF check failed", "path", r.URL.Path, "ip", clientKey(r), "err", err)
		WriteError(w, http.StatusForbidden, "the request was refused as cross-site; reload the page")
		return false
	}
	if ok, wait := a.ips.allow(clientKey(r), a.now()); !ok {
		a.log.Warn("auth: rate limited", "path", r.URL.Path, "ip", clientKey(r))
		writeRetry(w, wait, "too many attempts from your address; try again later")
		return false
	}
	if !readJSON(w, r, c) {
		return false
	}
	c.Username = normName(c.Username)
	if err := valid.Username(c.Username); err != nil {
		writeFieldError(w, "username", err)
		return false
	}
	if err := valid.Password(c.Password); err != nil {
		writeFieldError(w, "password", err)
		return false
	}
	return true
}

func (a *Auth) signup(w http.ResponseWriter, r *http.Request) {
	var c credentials
	if !a.begin(w, r, &c) {
		return
	}
	h, err := a.hash(r.Context(), c.Password)
	if err != nil {
		a.internal(w, r, err)
		return
	}
	u, err := a.st.CreateUser(r.Context(), c.Username, h)
	if errors.Is(err, store.ErrExists) {
		WriteJSON(w, http.StatusConflict, map[string]string{"error": "that user name is taken", "field": "username"})
		return
	}
	if err != nil {
		a.internal(w, r, err)
		return
	}
	if err := a.newSession(w, r, u); err != nil {
		a.internal(w, r, err)
		return
	}
	if a.opts.OnSignup != nil {
		a.opts.OnSignup(r.Context(), u)
	}
	a.log.Info("auth: signed up", "user", u.Name, "ip", clientKey(r))
	WriteJSON(w, http.StatusCreated, map[string]any{"user": userOut(u), "csrfToken": a.csrfToken(w, r)})
}

func (a *Auth) login(w http.ResponseWriter, r *http.Request) {
	var c credentials
	if !a.begin(w, r, &c) {
		return
	}
	if d := a.locks.locked(c.Username, a.now()); d > 0 {
		writeRetry(w, d, "too many failed logins for this account; try again in "+roundUp(d))
		return
	}
	u, err := a.st.UserByName(r.Context(), c.Username)
	hash, found := u.PasswordHash, err == nil
	switch {
	case errors.Is(err, store.ErrNotFound):
		hash = a.dummy // as slow as a real check: the answer must not tell that the name is free
	case err != nil:
		a.internal(w, r, err)
		return
	}
	ok, err := a.verify(r.Context(), hash, c.Password)
	if err != nil {
		a.internal(w, r, err)
		return
	}
	if !ok || !found {
		if d := a.locks.fail(c.Username, a.now()); d > 0 {
			a.log.Warn("auth: account locked", "user", c.Username, "for", d, "ip", clientKey(r))
		} else {
			a.log.Info("auth: login failed", "user", c.Username, "ip", clientKey(r))
		}
		WriteError(w, http.StatusUnauthorized, "wrong user name or password")
		return
	}
	a.locks.success(c.Username)
	a.rehash(r, u, c.Password)
	if err := a.newSession(w, r, u); err != nil {
		a.internal(w, r, err)
		return
	}
	a.log.Info("auth: logged in", "user", u.Name, "ip", clientKey(r))
	WriteJSON(w, http.StatusOK, map[string]any{"user": userOut(u), "csrfToken": a.csrfToken(w, r)})
}

// roundUp says d in whole minutes or seconds, rounded up, for a message.
func roundUp(d time.Duration) string {
	if d > time.Minute {
		m := int(math.Ceil(d.Minutes()))
		return strconv.Itoa(m) + " minutes"
	}
	s := max(1, int(math.Ceil(d.Seconds())))
	if s == 1 {
		return "1 second"
	}
	return strconv.Itoa(s) + " seconds"
}

func (a *Auth) logout(w http.ResponseWriter, r *http.Request) {
	if err := a.CheckCSRF(r); err != nil {
		WriteError(w, http.StatusForbidden, "the request was refused as cross-site; reload the page")
		return
	}
	if c, err := r.Cookie(SessionCookie); err == nil && wellFormed(c.Value) {
		if err := a.st.DeleteSession(r.Context(), tokenHash(c.Value)); err != nil && !errors.Is(err, store.ErrNotFound) {
			a.internal(w, r, err)
			return
		}
		a.revoked(tokenHash(c.Value))
	}
	a.clearSessionCookie(w, r)
	WriteJSON(w, http.StatusOK, map[string]bool{"ok": true})
}

func (a *Auth) session(w http.ResponseWriter, r *http.Request) {
	out := map[string]any{"user": nil}
	u, err := a.UserFromRequest(r)
	switch {
	case err == nil:
		out["user"] = userOut(u)
	case errors.Is(err, ErrUnauthenticated):
		if _, e := r.Cookie(SessionCookie); e == nil {
			a.clearSessionCookie(w, r) // expired or logged out elsewhere: drop the dead cookie
		}
	default:
		a.internal(w, r, err)
		return
	}
	out["csrfToken"] = a.csrfToken(w, r)
	WriteJSON(w, http.StatusOK, out)
}

func (a *Auth) createToken(w http.ResponseWriter, r *http.Request) {
	if err := a.CheckCSRF(r); err != nil {
		WriteError(w, http.StatusForbidden, "the request was refused as cross-site; reload the page")
		return
	}
	u, err := a.UserFromRequest(r)
	if errors.Is(err, ErrUnauthenticated) {
		WriteError(w, http.StatusUnauthorized, "log in first")
		return
	}
	if err != nil {
		a.internal(w, r, err)
		return
	}
	var in struct {
		Label string `json:"label"`
	}
	if !readJSON(w, r, &in) {
		return
	}
	in.Label = strings.TrimSpace(in.Label)
	if err := checkLabel(in.Label); err != nil {
		writeFieldError(w, "label", err)
		return
	}
	if in.Label == "" {
		in.Label = "api"
	}
	tok := APITokenPrefix + newToken()
	id, err := a.st.CreateAPIToken(r.Context(), tokenHash(tok), u.ID, in.Label)
	if err != nil {
		a.internal(w, r, err)
		return
	}
	a.log.Info("auth: API token created", "user", u.Name, "label", in.Label, "id", id)
	WriteJSON(w, http.StatusCreated, map[string]any{"id": id, "token": tok, "label": in.Label})
}

// tokenJSON is an API token as GET /api/tokens lists it: never the secret
// (which the server does not have).
type tokenJSON struct {
	ID      int64  `json:"id"`
	Label   string `json:"label"`
	Created int64  `json:"created"` // Unix milliseconds
}

// cookieUser is the user of the request's session, answering 401 or 500
// and returning false when there is none.
func (a *Auth) cookieUser(w http.ResponseWriter, r *http.Request) (store.User, bool) {
	u, err := a.UserFromRequest(r)
	if errors.Is(err, ErrUnauthenticated) {
		WriteError(w, http.StatusUnauthorized, "log in first")
		return u, false
	}
	if err != nil {
		a.internal(w, r, err)
		return u, false
	}
	return u, true
}

func (a *Auth) listTokens(w http.ResponseWriter, r *http.Request) {
	u, ok := a.cookieUser(w, r)
	if !ok {
		return
	}
	ts, err := a.st.APITokens(r.Context(), u.ID)
	if err != nil {
		a.internal(w, r, err)
		return
	}
	out := make([]tokenJSON, len(ts))
	for i, t := range ts {
		out[i] = tokenJSON{ID: t.ID, Label: t.Label, Created: t.Created.UnixMilli()}
	}
	WriteJSON(w, http.StatusOK, map[string]any{"tokens": out})
}

// revokeToken deletes one of the user's API tokens. Every request that
// presents it afterwards is refused: tokens are looked up in the store on
// each use, by every node; OnRevoke tells the server, which disconnects the
// Socket.IO connections that authenticated with it.
func (a *Auth) revokeToken(w http.ResponseWriter, r *http.Request) {
	if err := a.CheckCSRF(r); err != nil {
		WriteError(w, http.StatusForbidden, "the request was refused as cross-site; reload the page")
		return
	}
	u, ok := a.cookieUser(w, r)
	if !ok {
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		WriteError(w, http.StatusNotFound, "no such token")
		return
	}
	hash, err := a.st.DeleteAPIToken(r.Context(), u.ID, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		WriteError(w, http.StatusNotFound, "no such token")
		return
	case err != nil:
		a.internal(w, r, err)
		return
	}
	a.revoked(hash)
	a.log.Info("auth: API token revoked", "user", u.Name, "id", id)
	WriteJSON(w, http.StatusOK, map[string]bool{"ok": true})
}

// rehash stores a new hash of password, with the current parameters, when
// u's stored hash was made with other ones. The login succeeds either way:
// a failure here is logged, and the next login tries again.
func (a *Auth) rehash(r *http.Request, u store.User, password string) {
	p, _, _, err := ParseHash(u.PasswordHash)
	if err != nil || p == a.params {
		return // err: VerifyPassword accepted it, so it cannot be malformed
	}
	h, err := a.hash(r.Context(), password)
	if err != nil {
		a.log.Warn("auth: re-hashing the password", "user", u.Name, "err", err)
		return
	}
	// Only over the hash just verified: a password changed meanwhile stays.
	if _, err := a.st.SetPasswordHash(r.Context(), u.ID, u.PasswordHash, h); err != nil {
		a.log.Warn("auth: storing the re-hashed password", "user", u.Name, "err", err)
		return
	}
	a.log.Info("auth: password re-hashed with the current parameters", "user", u.Name, "from", p, "to", a.params)
}

func checkLabel(s string) error {
	if !utf8.ValidString(s) || utf8.RuneCountInString(s) > labelMax {
		return &valid.Error{Msg: "a token label has at most " + strconv.Itoa(labelMax) + " characters of UTF-8"}
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return &valid.Error{Msg: "a token label cannot hold control characters"}
		}
	}
	return nil
}
