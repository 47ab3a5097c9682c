// Package auth is the chat's accounts and security: sign-up, login and
// logout over a JSON HTTP API, server-side sessions in a cookie, API tokens
// for non-browser clients, CSRF and Origin checks, and login rate limits.
//
// # Passwords
//
// Passwords are hashed with argon2id (golang.org/x/crypto/argon2) using
// OWASP's recommended parameters: m=19456 KiB (19 MiB), t=2 passes, p=1
// lane, a 16-byte random salt per password and a 32-byte key. The hash is
// stored as a PHC string,
//
//	$argon2id$v=19$m=19456,t=2,p=1$<salt base64>$<key base64>
//
// and verification reads the parameters from that string and compares
// keys in constant time, so DefaultParams can be raised later without
// invalidating existing hashes. A successful login whose stored hash has
// other parameters than the current ones (or another salt or key length)
// stores a new hash of the password with the current ones, so accounts
// move to raised parameters as their owners log in. One hash takes about
// 25-30 ms on a shared 2-core machine (TestLoginTiming reports it). At most max(2, GOMAXPROCS)
// hashes run at once: each takes 19 MiB, and a burst of logins must not
// take the server's memory with it.
//
// A login for a name that does not exist verifies the password against a
// dummy hash with the same parameters, so the response takes as long as a
// wrong password for a real account and does not tell which names exist.
//
// # Sessions and tokens
//
// A session is a random 32-byte token, sent to the browser in the cookie
// chat_session (HttpOnly, SameSite=Lax, Path=/; Secure under
// Options.Secure and on any request that came over TLS) and
// stored only as its SHA-256 hash, so a copy of the database holds no
// usable session. Sessions last Options.SessionTTL (7 days by default);
// logout deletes the session from the store, and expired sessions are
// deleted every Options.SweepEvery (10 minutes by default, at most 1000
// per run) until Close. API tokens (POST /api/tokens) are "chat_" and 32
// random bytes, also stored as SHA-256 hashes, shown once, and do not
// expire: their owner lists them (GET /api/tokens, without the secrets)
// and revokes them (DELETE /api/tokens/{id}), after which they are
// refused at once, by every node. UserFromToken accepts either kind.
// OnRevoke tells the chat server of a revoked token or a logged-out
// session, and it disconnects the sockets that authenticated with it.
//
// # CSRF and Origin
//
// State-changing requests authenticated by the cookie are protected twice:
// a double-submit token (the cookie chat_csrf, readable by the page, which
// sends it back in the X-CSRF-Token header; another site can neither read
// the cookie nor set the header), and the Origin header (or, without one,
// the Referer) must be the server's own origin or one of
// Options.AllowedOrigins. The Origin check also stops a sibling subdomain
// that overwrote the chat_csrf cookie. Sign-up and login need the token
// too (login CSRF: another site logging the browser into the attacker's
// account); the page gets it from GET /api/session before the form is
// sent. The JSON endpoints also require Content-Type application/json,
// which a cross-site form cannot send.
//
// CheckOrigin guards the WebSocket and Socket.IO handshakes against
// cross-site WebSocket hijacking (a page elsewhere opening a socket that
// carries the victim's cookie).
//
// # Rate limits
//
// Sign-up and login attempts are limited per client address with a token
// bucket (a burst of 10, then one per 6 seconds; IPv6 by /64) and logins
// per account name: 5 failures in a row lock the name for a minute, and
// each further failure locks it again for twice as long, up to 15 minutes;
// a successful login or an hour without failures clears it. A refused
// attempt gets 429 with a Retry-After header. Both tables are capped at
// 100,000 entries, evicting idle entries first. A lock stops the account's
// owner too (anyone can lock a name by failing on purpose), which is why
// locks are short and capped. The address is the connection's, never
// X-Forwarded-For (which any client can write): behind a reverse proxy all
// clients share the proxy's bucket, and the proxy should limit instead.
//
// # Errors
//
// Every response is JSON; an error is {"error": "message for the user"}
// (validation errors add "field"), with status 400 (invalid input), 401
// (not logged in, wrong password), 403 (CSRF or Origin), 409 (the user
// name is taken), 413 (body too large), 415 (not JSON), 429 (rate limit)
// or 500.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchboard-go/socketio/cmd/chat/internal/store"
)

// Cookie and header names.
const (
	SessionCookie = "chat_session"
	CSRFCookie    = "chat_csrf"
	CSRFHeader    = "X-CSRF-Token"
	// APITokenPrefix starts every API token, so that a leaked one is
	// recognisable (secret scanners) and is told apart from a session.
	APITokenPrefix = "chat_"
)

// DefaultSessionTTL is how long a session lasts when Options.SessionTTL is 0.
const DefaultSessionTTL = 7 * 24 * time.Hour

// Errors of the package.
var (
	// ErrUnauthenticated: no session or token, or an unknown or expired one.
	ErrUnauthenticated = errors.New("auth: not logged in")
	// ErrCSRF: a state-changing request without the right CSRF token or
	// from a foreign origin.
	ErrCSRF = errors.New("auth: cross-site request refused")
)

// Options configure an Auth.
type Options struct {
	Secure         bool          // TLS: cookies get Secure
	SessionTTL     time.Duration // default 7*24h
	AllowedOrigins []string      // extra origins besides the request's own host (the -origin flag)
	Logger         *slog.Logger
	Now            func() time.Time // tests; default time.Now

	// HashParams are the argon2id parameters of new password hashes; the
	// zero value means DefaultParams. Only tests should lower them (one
	// default hash takes over a second under the race detector). Out of
	// the bounds ParseHash accepts, they are ignored with a logged error.
	HashParams Params
	// OnSignup, when set, runs after an account and its session were
	// created and before the answer is sent (the chat puts new users into
	// the room general). An error there is the hook's to log.
	OnSignup func(ctx context.Context, u store.User)
	// SweepEvery is how often expired sessions are deleted from the store
	// (at most 1000 per run); default DefaultSweepEvery. Close stops it.
	SweepEvery time.Duration

	afterSweep func(n int64, err error) // tests: called after each timed sweep
	sweepLimit int                      // tests: sessions per sweep, default sweepLimit
}

// Auth authenticates the chat's users. It is safe for concurrent use.
type Auth struct {
	st      store.Store
	opts    Options
	log     *slog.Logger
	now     func() time.Time
	allowed map[string]bool // normalised AllowedOrigins
	params  Params          // of new hashes: DefaultParams but in this package's tests
	dummy   string          // hash verified for unknown names
	hashSem chan struct{}   // bounds concurrent argon2id runs
	ips     *ipLimiter
	locks   *lockout

	sweepStop chan struct{} // closed by Close
	sweepDone chan struct{} // closed when the sweeper returned
	closeOnce sync.Once
	onRevoke  atomic.Pointer[func(key string)]
}

// New returns an Auth over st. It computes one argon2id hash (the dummy
// for unknown names), which takes a few tens of milliseconds, and starts
// the periodic deletion of expired sessions, which Close stops.
func New(st store.Store, opts Options) *Auth {
	if opts.SessionTTL <= 0 {
		opts.SessionTTL = DefaultSessionTTL
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	a := &Auth{
		st:      st,
		opts:    opts,
		log:     opts.Logger,
		now:     opts.Now,
		allowed: make(map[string]bool),
		params:  DefaultParams,
		hashSem: make(chan struct{}, max(2, runtime.GOMAXPROCS(0))),
		ips:     newIPLimiter(ipBurst, ipEvery, maxEntries),
		locks:   newLockout(maxEntries),
	}
	for _, o := range opts.AllowedOrigins {
		if n, ok := normOrigin(o); ok {
			a.allowed[n] = true
		} else {
			a.log.Warn("auth: ignoring malformed allowed origin", "origin", o)
		}
	}
	if opts.HashParams != (Params{}) {
		// Hash once with them and parse the result: whatever ParseHash
		// refuses would lock every new account out.
		h, err := hashWith(opts.HashParams, "check")
		if _, _, _, perr := ParseHash(h); err == nil && perr == nil {
			a.params = opts.HashParams
		} else {
			a.log.Error("auth: HashParams out of bounds, using DefaultParams", "params", opts.HashParams, "err", errors.Join(err, perr))
		}
	}
	var err error
	// A random password: the dummy must not match anything a client sends.
	if a.dummy, err = hashWith(a.params, rand.Text()); err != nil {
		panic("auth: no randomness: " + err.Error()) // crypto/rand does not fail on supported systems
	}
	if opts.SweepEvery <= 0 {
		opts.SweepEvery = DefaultSweepEvery
	}
	if opts.sweepLimit <= 0 {
		a.opts.sweepLimit = sweepLimit
	}
	a.sweepStop, a.sweepDone = make(chan struct{}), make(chan struct{})
	go a.sweeper(opts.SweepEvery)
	return a
}

// newToken returns 32 random bytes, base64url without padding (43 characters).
func newToken() string {
	b := make([]byte, 32)
	rand.Read(b) // never fails; see crypto/rand
	return base64.RawURLEncoding.EncodeToString(b)
}

const tokenLen = 43 // base64url of 32 bytes

func tokenHash(tok string) []byte {
	h := sha256.Sum256([]byte(tok))
	return h[:]
}

// CredentialKey names the session or API token tok without giving it
// away (the hex of its SHA-256 hash, as the store keys it): the server
// files each socket under the key of the credential it authenticated
// with, and OnRevoke hands over the key of a revoked one.
func CredentialKey(tok string) string { return hex.EncodeToString(tokenHash(tok)) }

// OnRevoke sets f to be called with the CredentialKey of every API token
// revoked and every session logged out, after the store forgot it (the
// chat server disconnects the sockets that authenticated with it). f runs
// in the request's goroutine and should not block.
func (a *Auth) OnRevoke(f func(key string)) { a.onRevoke.Store(&f) }

func (a *Auth) revoked(hash []byte) {
	if f := a.onRevoke.Load(); f != nil {
		(*f)(hex.EncodeToString(hash))
	}
}

// wellFormed reports whether tok could be a token newToken made; others
// are refused without a database query.
func wellFormed(tok string) bool {
	if len(tok) != tokenLen {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(tok)
	return err == nil
}

// UserFromRequest returns the user of the request's session cookie, or
// ErrUnauthenticated. Other errors are failures of the store.
func (a *Auth) UserFromRequest(r *http.Request) (store.User, error) {
	c, err := r.Cookie(SessionCookie)
	if err != nil {
		return store.User{}, ErrUnauthenticated
	}
	return a.sessionUser(r.Context(), c.Value)
}

func (a *Auth) sessionUser(ctx context.Context, tok string) (store.User, error) {
	if !wellFormed(tok) {
		return store.User{}, ErrUnauthenticated
	}
	u, err := a.st.SessionUser(ctx, tokenHash(tok), a.now())
	if errors.Is(err, store.ErrNotFound) {
		return store.User{}, ErrUnauthenticated
	}
	return u, err
}

// UserFromToken returns the user of a session token or an API token (as a
// non-browser client sends it in the Socket.IO auth payload or an
// Authorization: Bearer header), or ErrUnauthenticated.
func (a *Auth) UserFromToken(ctx context.Context, token string) (store.User, error) {
	if rest, ok := strings.CutPrefix(token, APITokenPrefix); ok && wellFormed(rest) {
		u, err := a.st.APITokenUser(ctx, tokenHash(token))
		if errors.Is(err, store.ErrNotFound) {
			return store.User{}, ErrUnauthenticated
		}
		return u, err
	}
	return a.sessionUser(ctx, token)
}

// BearerToken returns the token of an "Authorization: Bearer <token>"
// header (the scheme is case-insensitive, RFC 9110), or false.
func BearerToken(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}

// UserFromBearer is UserFromToken on the request's Authorization header.
func (a *Auth) UserFromBearer(r *http.Request) (store.User, error) {
	tok, ok := BearerToken(r)
	if !ok {
		return store.User{}, ErrUnauthenticated
	}
	return a.UserFromToken(r.Context(), tok)
}

// newSession stores a session for u and sets its cookie on w. A session
// the request's cookie still names is deleted: the browser is about to
// forget it, and a row nobody can use should not live on for a week.
func (a *Auth) newSession(w http.ResponseWriter, r *http.Request, u store.User) error {
	ctx := r.Context()
	tok := newToken()
	exp := a.now().Add(a.opts.SessionTTL)
	if err := a.st.CreateSession(ctx, tokenHash(tok), u.ID, exp); err != nil {
		return err
	}
	if c, err := r.Cookie(SessionCookie); err == nil && wellFormed(c.Value) {
		if err := a.st.DeleteSession(ctx, tokenHash(c.Value)); err != nil && !errors.Is(err, store.ErrNotFound) {
			a.log.Warn("auth: deleting the replaced session", "err", err)
		}
	}
	http.SetCookie(w, &http.Cookie{
		Name:     SessionCookie,
		Value:    tok,
		Path:     "/",
		Expires:  exp,
		MaxAge:   int(a.opts.SessionTTL / time.Second),
		HttpOnly: true,
		Secure:   a.secure(r),
		SameSite: http.SameSiteLaxMode,
	})
	return nil
}

// secure reports whether cookies get the Secure attribute: under
// Options.Secure, and on any request that came over TLS even without it.
func (a *Auth) secure(r *http.Request) bool { return a.opts.Secure || r.TLS != nil }

func (a *Auth) clearSessionCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{
		Name:     SessionCookie,
		Path:     "/",
		MaxAge:   -1,
		HttpOnly: true,
		Secure:   a.secure(r),
		SameSite: http.SameSiteLaxMode,
	})
}

// hash and verify run argon2id under the concurrency bound.
func (a *Auth) acquire(ctx context.Context) error {
	select {
	case a.hashSem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (a *Auth) release() { <-a.hashSem }

func (a *Auth) hash(ctx context.Context, password string) (string, error) {
	if err := a.acquire(ctx); err != nil {
		return "", err
	}
	defer a.release()
	return hashWith(a.params, password)
}

func (a *Auth) verify(ctx context.Context, hash, password string) (bool, error) {
	if err := a.acquire(ctx); err != nil {
		return false, err
	}
	defer a.release()
	return VerifyPassword(hash, password)
}
