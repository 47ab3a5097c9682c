package auth

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-go/socketio/cmd/chat/internal/store"
)

// The whole flow over a real HTTP server with a cookie jar, as a browser
// page would run it.
func TestFlowOverHTTP(t *testing.T) {
	eachStore(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st, Options{})
		srv := httptest.NewServer(e.mux)
		defer srv.Close()
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar, Timeout: 10 * time.Second}
		u, _ := url.Parse(srv.URL)
		csrf := func() string {
			for _, ck := range jar.Cookies(u) {
				if ck.Name == CSRFCookie {
					return ck.Value
				}
			}
			return ""
		}
		call := func(method, path, body string) (int, string) {
			t.Helper()
			req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Origin", srv.URL)
			req.Header.Set(CSRFHeader, csrf())
			res, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			b, _ := io.ReadAll(res.Body)
			return res.StatusCode, string(b)
		}
		if code, body := call("GET", "/api/session", ""); code != 200 || !strings.Contains(body, `"user":null`) {
			t.Fatalf("session before signup: %d %s", code, body)
		}
		if csrf() == "" {
			t.Fatal("no CSRF cookie after GET /api/session")
		}
		if code, body := call("POST", "/api/signup", `{"username":"alice","password":"wonderland"}`); code != 201 || !strings.Contains(body, `"name":"alice"`) {
			t.Fatalf("signup: %d %s", code, body)
		}
		if code, body := call("GET", "/api/session", ""); code != 200 || !strings.Contains(body, `"name":"alice"`) {
			t.Fatalf("session after signup: %d %s", code, body)
		}
		var sess string
		for _, ck := range jar.Cookies(u) {
			if ck.Name == SessionCookie {
				sess = ck.Value
			}
		}
		if code, body := call("POST", "/api/logout", ""); code != 200 {
			t.Fatalf("logout: %d %s", code, body)
		}
		if code, body := call("GET", "/api/session", ""); code != 200 || !strings.Contains(body, `"user":null`) {
			t.Fatalf("session after logout: %d %s", code, body)
		}
		// The session is gone from the store, not only from the jar.
		if _, err := e.a.UserFromToken(context.Background(), sess); !errors.Is(err, ErrUnauthenticated) {
			t.Fatalf("the logged-out session still authenticates: %v", err)
		}
		if code, body := call("POST", "/api/login", `{"username":"alice","password":"wonderland"}`); code != 200 || !strings.Contains(body, `"name":"alice"`) {
			t.Fatalf("login: %d %s", code, body)
		}
		if code, body := call("GET", "/api/session", ""); code != 200 || !strings.Contains(body, `"name":"alice"`) {
			t.Fatalf("session after login: %d %s", code, body)
		}
	})
}

func TestWrongPassword(t *testing.T) {
	eachStore(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st, Options{})
		e.signup("bob", "builder123")
		b := e.browser()
		b.start()
		r := b.do("POST", "/api/login", cred("bob", "builder124"))
		want(t, r, 401, "wrong user name or password")
		if r.cookies[SessionCookie] != nil {
			t.Fatal("a failed login set a session cookie")
		}
		// An unknown name reads exactly the same.
		r2 := b.do("POST", "/api/login", cred("nobody", "builder123"))
		want(t, r2, 401, "")
		if r2.errMsg() != r.errMsg() {
			t.Fatalf("unknown user: %q; wrong password: %q", r2.errMsg(), r.errMsg())
		}
		want(t, b.do("POST", "/api/login", cred("bob", "builder123")), 200, "")
		// The name is case-folded (ASCII) and trimmed, the password not.
		want(t, b.do("POST", "/api/login", cred(" Bob ", "builder123")), 200, "")
		want(t, b.do("POST", "/api/login", cred("bob", "Builder123")), 401, "")
	})
}

func TestUserFromRequest(t *testing.T) {
	eachStore(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st, Options{})
		b := e.signup("carol", "password1")
		req := httptest.NewRequest("GET", "/socket.io/", nil)
		if _, err := e.a.UserFromRequest(req); !errors.Is(err, ErrUnauthenticated) {
			t.Fatalf("no cookie: %v", err)
		}
		for _, v := range []string{"", "x", strings.Repeat("A", 43), b.cookies[SessionCookie].Value + "A", "!" + b.cookies[SessionCookie].Value[1:]} {
			req := httptest.NewRequest("GET", "/socket.io/", nil)
			req.AddCookie(&http.Cookie{Name: SessionCookie, Value: v})
			if _, err := e.a.UserFromRequest(req); !errors.Is(err, ErrUnauthenticated) {
				t.Fatalf("cookie %q: %v", v, err)
			}
		}
		req = httptest.NewRequest("GET", "/socket.io/", nil)
		req.AddCookie(b.cookies[SessionCookie])
		u, err := e.a.UserFromRequest(req)
		if err != nil || u.Name != "carol" || u.ID == 0 {
			t.Fatalf("UserFromRequest = %+v, %v", u, err)
		}
		// The store holds the session under the SHA-256 of the token.
		if u2, err := st.SessionUser(context.Background(), tokenHash(b.cookies[SessionCookie].Value), e.clock.Now()); err != nil || u2.ID != u.ID {
			t.Fatalf("store lookup by hash: %+v, %v", u2, err)
		}
		if _, err := st.SessionUser(context.Background(), []byte(b.cookies[SessionCookie].Value), e.clock.Now()); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("the raw token is a key in the store: %v", err)
		}
	})
}

func TestSessionExpiry(t *testing.T) {
	eachStore(t, func(t *testing.T, st store.Store) {
		ttl := 2 * time.Hour
		e := newEnv(t, st, Options{SessionTTL: ttl})
		b := e.signup("dave", "password1")
		tok := b.cookies[SessionCookie].Value
		e.clock.Add(ttl - time.Second)
		if r := b.start(); r.userName() != "dave" {
			t.Fatalf("a second before expiry: %v", r.body)
		}
		e.clock.Add(2 * time.Second)
		r := b.start()
		if r.body["user"] != nil {
			t.Fatalf("after expiry the session still holds: %v", r.body)
		}
		if c := r.cookies[SessionCookie]; c == nil || c.MaxAge >= 0 {
			t.Fatalf("the dead session cookie was not cleared: %v", c)
		}
		if _, err := e.a.UserFromToken(context.Background(), tok); !errors.Is(err, ErrUnauthenticated) {
			t.Fatal("UserFromToken accepted an expired session")
		}
	})
}

func TestLogoutDeletesSession(t *testing.T) {
	eachStore(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st, Options{})
		b := e.signup("erin", "password1")
		tok := b.cookies[SessionCookie].Value
		// A second login of the same user survives the first's logout.
		b2 := e.browser()
		b2.start()
		want(t, b2.do("POST", "/api/login", cred("erin", "password1")), 200, "")
		r := b.do("POST", "/api/logout", nil)
		want(t, r, 200, "")
		if c := r.cookies[SessionCookie]; c == nil || c.MaxAge >= 0 || c.Value != "" {
			t.Fatalf("logout did not clear the cookie: %v", c)
		}
		if _, err := st.SessionUser(context.Background(), tokenHash(tok), e.clock.Now()); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("session still in the store: %v", err)
		}
		if r := b2.start(); r.userName() != "erin" {
			t.Fatalf("the other session was logged out too: %v", r.body)
		}
		// Logging out without a session is fine (idempotent).
		want(t, b.do("POST", "/api/logout", nil), 200, "")
	})
}

// A login over an existing session replaces it: the old token is deleted.
func TestLoginReplacesSession(t *testing.T) {
	eachStore(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st, Options{})
		b := e.signup("rita", "password1")
		old := b.cookies[SessionCookie].Value
		want(t, b.do("POST", "/api/login", cred("rita", "password1")), 200, "")
		if now := b.cookies[SessionCookie].Value; now == old {
			t.Fatal("login kept the session token")
		}
		if _, err := e.a.UserFromToken(context.Background(), old); !errors.Is(err, ErrUnauthenticated) {
			t.Fatalf("the replaced session still authenticates: %v", err)
		}
		if r := b.start(); r.userName() != "rita" {
			t.Fatalf("new session: %v", r.body)
		}
	})
}

// Waiting for a hashing slot ends with the request.
func TestHashWaitCancelled(t *testing.T) {
	a := New(openSQLite(t), Options{HashParams: cheap})
	for range cap(a.hashSem) {
		a.hashSem <- struct{}{}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := a.hash(ctx, "password1"); !errors.Is(err, context.Canceled) {
		t.Fatalf("hash with every slot taken and a cancelled context: %v", err)
	}
	if _, err := a.verify(ctx, a.dummy, "password1"); !errors.Is(err, context.Canceled) {
		t.Fatalf("verify: %v", err)
	}
	<-a.hashSem
	if ok, err := a.verify(context.Background(), a.dummy, "password1"); err != nil || ok {
		t.Fatalf("verify with a free slot: %v, %v", ok, err)
	}
}

func TestCookieAttributes(t *testing.T) {
	eachStore(t, func(t *testing.T, st store.Store) {
		// The third round: TLS without Options.Secure still gets Secure.
		for i, secure := range []bool{false, true, true} {
			e := newEnv(t, st, Options{Secure: secure && i == 1, SessionTTL: 3 * time.Hour})
			b := e.browser()
			b.tls = secure
			if secure {
				b.origin = "https://" + testHost
			}
			r := b.start()
			csrf := r.cookies[CSRFCookie]
			if csrf == nil {
				t.Fatal("GET /api/session set no CSRF cookie")
			}
			if csrf.HttpOnly || csrf.Secure != secure || csrf.Path != "/" || csrf.SameSite != http.SameSiteStrictMode {
				t.Fatalf("secure=%v: CSRF cookie %+v", secure, csrf)
			}
			if r.body["csrfToken"] != csrf.Value {
				t.Fatalf("csrfToken %v differs from the cookie %q", r.body["csrfToken"], csrf.Value)
			}
			// A second GET keeps the token.
			if r2 := b.start(); r2.cookies[CSRFCookie] != nil || r2.body["csrfToken"] != csrf.Value {
				t.Fatalf("the CSRF token changed: %v", r2.body)
			}
			name := fmt.Sprintf("frank%d", i)
			r = b.do("POST", "/api/signup", cred(name, "password1"))
			want(t, r, 201, "")
			s := r.cookies[SessionCookie]
			if s == nil {
				t.Fatal("signup set no session cookie")
			}
			if !s.HttpOnly || s.Secure != secure || s.Path != "/" || s.SameSite != http.SameSiteLaxMode || s.MaxAge != 3*3600 {
				t.Fatalf("secure=%v: session cookie %+v", secure, s)
			}
			if !s.Expires.Equal(e.clock.Now().Add(3 * time.Hour).Truncate(time.Second)) {
				t.Fatalf("session cookie expires %v", s.Expires)
			}
			if len(s.Value) != 43 {
				t.Fatalf("session token %q is not 32 bytes of base64url", s.Value)
			}
			raw := strings.Join(r.header.Values("Set-Cookie"), "\n")
			if secure != strings.Contains(raw, "Secure") {
				t.Fatalf("secure=%v, Set-Cookie: %s", secure, raw)
			}
			if cc := r.header.Get("Cache-Control"); cc != "no-store" {
				t.Fatalf("Cache-Control %q", cc)
			}
		}
	})
}

func TestTokensAreRandom(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		tok := newToken()
		if seen[tok] || !wellFormed(tok) {
			t.Fatalf("token %q repeated or malformed", tok)
		}
		seen[tok] = true
	}
}

func TestCSRF(t *testing.T) {
	eachStore(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st, Options{AllowedOrigins: []string{"https://proxy.example"}})
		e.signup("gina", "password1")
		bodies := map[string]any{
			"/api/signup": cred("gina2", "password1"),
			"/api/login":  cred("gina", "password1"),
			"/api/logout": nil,
			"/api/tokens": map[string]string{"label": "x"},
		}
		for _, path := range []string{"/api/signup", "/api/login", "/api/tokens", "/api/logout"} {
			t.Run(strings.TrimPrefix(path, "/api/"), func(t *testing.T) {
				// Each case on a fresh, logged-in browser whose session
				// the rate limiter has not seen.
				fresh := func() *browser {
					e.clock.Add(time.Minute)
					b := e.browser()
					b.start()
					want(t, b.do("POST", "/api/login", cred("gina", "password1")), 200, "")
					return b
				}
				b := fresh()
				delete(b.cookies, CSRFCookie)
				want(t, b.do("POST", path, bodies[path]), 403, "cross-site")

				b = fresh()
				b.noCSRF = true
				want(t, b.do("POST", path, bodies[path]), 403, "")

				b = fresh()
				wrong := newToken()
				want(t, b.do("POST", path, bodies[path], CSRFHeader, wrong), 403, "")

				// Cookie and header agree but the page is elsewhere (a
				// sibling subdomain that tossed its own cookie in): the
				// Origin check refuses it.

				b = fresh()
				b.origin = "http://evil.example"
				want(t, b.do("POST", path, bodies[path]), 403, "")

				b = fresh()
				b.origin = "null"
				want(t, b.do("POST", path, bodies[path]), 403, "")

				b = fresh()
				b.origin = ""
				want(t, b.do("POST", path, bodies[path], "Referer", "http://evil.example/page"), 403, "")

				b = fresh()
				b.origin = ""
				r := b.do("POST", path, bodies[path], "Referer", "http://"+testHost+"/chat")
				if r.code == 403 {
					t.Fatalf("same-origin Referer refused: %v", r.body)
				}

				b = fresh()
				b.origin = ""
				if r := b.do("POST", path, bodies[path]); r.code == 403 {
					t.Fatalf("no Origin nor Referer, right token refused: %v", r.body)
				}

				b = fresh()
				b.origin = "https://proxy.example"
				if r := b.do("POST", path, bodies[path]); r.code == 403 {
					t.Fatalf("allowed origin refused: %v", r.body)
				}

				b = fresh()
				if r := b.do("POST", path, bodies[path]); r.code == 403 {
					t.Fatalf("right token refused: %v", r.body)
				}
			})
		}
	})
}

func TestCheckOrigin(t *testing.T) {
	a := &Auth{allowed: map[string]bool{}}
	for _, o := range []string{"https://Chat.Example.com/", "http://localhost:5173", "not a url", "ftp://x.example"} {
		if n, ok := normOrigin(o); ok {
			a.allowed[n] = true
		}
	}
	if len(a.allowed) != 2 {
		t.Fatalf("allowed origins %v", a.allowed)
	}
	cases := []struct {
		name   string
		host   string
		tls    bool
		origin string
		ok     bool
	}{
		{"no origin: non-browser client", "chat.test", false, "", true},
		{"same origin", "chat.test", false, "http://chat.test", true},
		{"same origin with port", "chat.test:8080", false, "http://chat.test:8080", true},
		{"case-insensitive host", "Chat.Test", false, "http://CHAT.test", true},
		{"default port written out", "chat.test", false, "http://chat.test:80", true},
		{"default port in Host", "chat.test:443", true, "https://chat.test", true},
		{"TLS same origin", "chat.test", true, "https://chat.test", true},
		{"https page, plain server", "chat.test", false, "https://chat.test", false},
		{"http page, TLS server", "chat.test", true, "http://chat.test", false},
		{"other port", "chat.test:8080", false, "http://chat.test:8081", false},
		{"other host", "chat.test", false, "http://evil.example", false},
		{"suffix attack", "chat.test", false, "http://chat.test.evil.example", false},
		{"prefix attack", "chat.test", false, "http://evilchat.test", false},
		{"userinfo", "chat.test", false, "http://chat.test@evil.example", false},
		{"null", "chat.test", false, "null", false},
		{"garbage", "chat.test", false, "%%%", false},
		{"scheme only", "chat.test", false, "http://", false},
		{"file", "chat.test", false, "file://", false},
		{"allowed origin", "chat.test", false, "https://chat.example.com", true},
		{"allowed origin with default port", "chat.test", false, "https://chat.example.com:443", true},
		{"allowed origin, other scheme", "chat.test", false, "http://chat.example.com", false},
		{"allowed dev server", "chat.test", false, "http://localhost:5173", true},
		{"ipv6 same origin", "[::1]:8080", false, "http://[::1]:8080", true},
		{"origin with a path", "chat.test", false, "http://chat.test/chat", false},
		{"origin with a query", "chat.test", false, "http://chat.test?x=1", false},
		{"origin with a fragment", "chat.test", false, "http://chat.test#x", false},
		{"origin with a slash", "chat.test", false, "http://chat.test/", true},
		{"ipv6 other port", "[::1]:8080", false, "http://[::1]:8081", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "http://x/socket.io/?EIO=4&transport=websocket", nil)
			r.Host = c.host
			if c.tls {
				r.TLS = &tls.ConnectionState{}
			}
			if c.origin != "" {
				r.Header.Set("Origin", c.origin)
			}
			if got := a.CheckOrigin(r); got != c.ok {
				t.Fatalf("CheckOrigin(host %q, tls %v, origin %q) = %v", c.host, c.tls, c.origin, got)
			}
		})
	}
}

// With Options.Secure the server's own origin is https even when the
// request reached it in plain text (TLS ended at a proxy in front).
func TestCheckOriginSecureOption(t *testing.T) {
	a := &Auth{allowed: map[string]bool{}, opts: Options{Secure: true}}
	for origin, ok := range map[string]bool{"https://chat.test": true, "http://chat.test": false} {
		r := httptest.NewRequest("GET", "http://chat.test/ws", nil)
		r.Header.Set("Origin", origin)
		if got := a.CheckOrigin(r); got != ok {
			t.Errorf("Secure, plain request, Origin %s: %v", origin, got)
		}
	}
}

func TestValidationErrors(t *testing.T) {
	eachStore(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st, Options{})
		b := e.browser()
		b.start()
		step := func() { e.clock.Add(ipEvery) } // keep the address's bucket from running dry
		for _, c := range []struct {
			name  string
			user  string
			pw    string
			field string
			msg   string
		}{
			{"short name", "ab", "password1", "username", "3 to 32"},
			{"long name", strings.Repeat("a", 33), "password1", "username", "3 to 32"},
			{"name with digit first", "1abc", "password1", "username", "starts with a letter"},
			{"unicode name", "zoë", "password1", "username", "only a-z"},
			{"empty name", "", "password1", "username", "3 to 32"},
			{"short password", "henry", "1234567", "password", "at least 8"},
			{"long password", "henry", strings.Repeat("p", 129), "password", "at most 128"},
			{"empty password", "henry", "", "password", "at least 8"},
		} {
			for _, path := range []string{"/api/signup", "/api/login"} {
				step()
				r := b.do("POST", path, cred(c.user, c.pw))
				want(t, r, 400, c.msg)
				if r.body["field"] != c.field {
					t.Fatalf("%s %s: field %v, want %s", path, c.name, r.body["field"], c.field)
				}
			}
		}
		step()
		want(t, b.do("POST", "/api/signup", cred("Henry", "password1")), 201, "") // folded to henry
		step()
		r := b.do("POST", "/api/signup", cred("henry", "password2"))
		want(t, r, 409, "taken")
		if r.body["field"] != "username" {
			t.Fatalf("409 without field: %v", r.body)
		}
		step()
		want(t, b.do("POST", "/api/signup", `{"username":"ivy","password":"password1"`), 400, "not valid JSON")
		step()
		want(t, b.do("POST", "/api/signup", `{"username":"ivy","password":"password1","admin":true}`), 400, "unknown field")
		step()
		want(t, b.do("POST", "/api/signup", `{"username":"ivy","password":"password1"} {}`), 400, "")
		step()
		want(t, b.do("POST", "/api/signup", `{"username":5,"password":"password1"}`), 400, "")
		step()
		want(t, b.do("POST", "/api/signup", `{"username":"ivy","password":"`+strings.Repeat("x", 5000)+`"}`), 413, "too large")
		step()
		want(t, b.do("POST", "/api/signup", cred("ivy", "password1"), "Content-Type", "text/plain"), 415, "JSON")
		step()
		want(t, b.do("POST", "/api/signup", cred("ivy", "password1"), "Content-Type", "application/x-www-form-urlencoded"), 415, "")
		step()
		want(t, b.do("POST", "/api/signup", cred("ivy", "password1"), "Content-Type", "application/json; charset=utf-8"), 201, "")
		// Nothing of the refused attempts was stored.
		for _, n := range []string{"ab", "zoë", "1abc"} {
			if _, err := st.UserByName(context.Background(), n); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("user %q stored: %v", n, err)
			}
		}
		u, err := st.UserByName(context.Background(), "henry")
		if err != nil || !strings.HasPrefix(u.PasswordHash, "$argon2id$v=19$") {
			t.Fatalf("henry: %+v, %v", u, err)
		}
		// Wrong method (the mux's own plain-text answer).
		rec := httptest.NewRecorder()
		e.mux.ServeHTTP(rec, httptest.NewRequest("GET", "/api/login", nil))
		if rec.Code != http.StatusMethodNotAllowed {
			t.Fatalf("GET /api/login: %d", rec.Code)
		}
	})
}

func TestRateLimitPerIP(t *testing.T) {
	eachStore(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st, Options{})
		e.signup("jack", "password1") // from 192.0.2.1
		b := e.browser()
		b.remote = "198.51.100.7:1234"
		b.start()
		// Different names, so that no account lockout gets in the way.
		for i := range ipBurst {
			want(t, b.do("POST", "/api/login", cred("guess"+string(rune('a'+i)), "password1")), 401, "")
		}
		r := b.do("POST", "/api/login", cred("jack", "password1"))
		want(t, r, 429, "too many attempts")
		if ra := r.header.Get("Retry-After"); ra != "6" {
			t.Fatalf("Retry-After %q, want 6", ra)
		}
		// Sign-up shares the bucket.
		want(t, b.do("POST", "/api/signup", cred("kate", "password1")), 429, "")
		// Another address is not affected; the same /64 of IPv6 is one.
		other := e.browser()
		other.remote = "198.51.100.8:1234"
		other.start()
		want(t, other.do("POST", "/api/login", cred("jack", "password1")), 200, "")
		// After 6 seconds, one more attempt.
		e.clock.Add(ipEvery)
		want(t, b.do("POST", "/api/login", cred("jack", "password1")), 200, "")
		want(t, b.do("POST", "/api/login", cred("jack", "password1")), 429, "")

		v6 := e.browser()
		v6.start()
		for i := range ipBurst {
			v6.remote = "[2001:db8:aa:bb::" + string(rune('1'+i%9)) + "]:5000"
			want(t, v6.do("POST", "/api/login", cred("jack", "password1")), 200, "")
		}
		v6.remote = "[2001:db8:aa:bb:ffff::1]:5000"
		want(t, v6.do("POST", "/api/login", cred("jack", "password1")), 429, "")
		v6.remote = "[2001:db8:aa:bc::1]:5000"
		want(t, v6.do("POST", "/api/login", cred("jack", "password1")), 200, "")
	})
}

func TestLockoutPerAccount(t *testing.T) {
	eachStore(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st, Options{})
		e.signup("liam", "password1")
		// Each attempt from another address: the account lock is what is
		// tested, not the per-address one.
		n := 0
		try := func(user, pw string) resp {
			n++
			b := e.browser()
			b.remote = "203.0.113." + string(rune('0'+n%10)) + string(rune('0'+n/10%10)) + ":1"
			b.start()
			return b.do("POST", "/api/login", cred(user, pw))
		}
		for _, name := range []string{"liam", "nobody"} { // an unknown name locks alike
			for range lockAfter {
				want(t, try(name, "wrong-password"), 401, "")
			}
			r := try(name, "password1") // even the right password
			want(t, r, 429, "too many failed logins")
			if ra := r.header.Get("Retry-After"); ra != "60" {
				t.Fatalf("%s: Retry-After %q, want 60", name, ra)
			}
		}
		want(t, try("mia", "wrong-password"), 401, "") // another account is free
		e.clock.Add(59 * time.Second)
		r := try("liam", "password1")
		want(t, r, 429, "")
		if ra := r.header.Get("Retry-After"); ra != "1" {
			t.Fatalf("Retry-After %q one second before the end", ra)
		}
		e.clock.Add(time.Second)
		// One failure after a lock locks again, for twice as long.
		want(t, try("liam", "wrong-password"), 401, "")
		r = try("liam", "password1")
		want(t, r, 429, "2 minutes")
		if ra := r.header.Get("Retry-After"); ra != "120" {
			t.Fatalf("second lock: Retry-After %q, want 120", ra)
		}
		e.clock.Add(2 * time.Minute)
		want(t, try("liam", "password1"), 200, "")
		// The success cleared the count: four failures do not lock.
		for range lockAfter - 1 {
			want(t, try("liam", "wrong-password"), 401, "")
		}
		want(t, try("liam", "password1"), 200, "")
	})
}

func TestAPITokens(t *testing.T) {
	eachStore(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st, Options{})
		anon := e.browser()
		anon.start()
		want(t, anon.do("POST", "/api/tokens", map[string]string{"label": "bot"}), 401, "log in")

		b := e.signup("nina", "password1")
		r := b.do("POST", "/api/tokens", map[string]string{"label": "  my bot "})
		want(t, r, 201, "")
		tok, _ := r.body["token"].(string)
		if !strings.HasPrefix(tok, APITokenPrefix) || len(tok) != len(APITokenPrefix)+43 || r.body["label"] != "my bot" {
			t.Fatalf("token answer %v", r.body)
		}
		ctx := context.Background()
		u, err := e.a.UserFromToken(ctx, tok)
		if err != nil || u.Name != "nina" {
			t.Fatalf("UserFromToken(api token) = %+v, %v", u, err)
		}
		// A second token is another one; both work.
		r2 := b.do("POST", "/api/tokens", map[string]string{})
		want(t, r2, 201, "")
		if r2.body["token"] == tok || r2.body["label"] != "api" {
			t.Fatalf("second token %v", r2.body)
		}
		if u, err := e.a.UserFromToken(ctx, r2.body["token"].(string)); err != nil || u.Name != "nina" {
			t.Fatalf("second token: %+v, %v", u, err)
		}
		// The session token works too (the Socket.IO auth payload).
		if u, err := e.a.UserFromToken(ctx, b.cookies[SessionCookie].Value); err != nil || u.Name != "nina" {
			t.Fatalf("UserFromToken(session) = %+v, %v", u, err)
		}
		// Label rules.
		want(t, b.do("POST", "/api/tokens", map[string]string{"label": strings.Repeat("é", 65)}), 400, "at most 64")
		want(t, b.do("POST", "/api/tokens", map[string]string{"label": "a\x07b"}), 400, "control")
		// API tokens do not expire with sessions.
		e.clock.Add(30 * 24 * time.Hour)
		if _, err := e.a.UserFromToken(ctx, tok); err != nil {
			t.Fatalf("API token after 30 days: %v", err)
		}
		for _, bad := range []string{"", "chat_", tok[:len(tok)-1], tok + "A", tok[:len(tok)-1] + "B", strings.TrimPrefix(tok, APITokenPrefix), "Bearer " + tok} {
			if _, err := e.a.UserFromToken(ctx, bad); !errors.Is(err, ErrUnauthenticated) {
				t.Fatalf("UserFromToken(%q) = %v", bad, err)
			}
		}
		// Bearer header.
		req := httptest.NewRequest("POST", "/api/rooms/general/messages", nil)
		req.Header.Set("Authorization", "bearer "+tok)
		if u, err := e.a.UserFromBearer(req); err != nil || u.Name != "nina" {
			t.Fatalf("UserFromBearer = %+v, %v", u, err)
		}
		req.Header.Set("Authorization", "Basic "+tok)
		if _, err := e.a.UserFromBearer(req); !errors.Is(err, ErrUnauthenticated) {
			t.Fatalf("Basic accepted: %v", err)
		}
		// An API token is not a session: it cannot mint tokens through
		// the cookie.
		fake := e.browser()
		fake.start()
		fake.cookies[SessionCookie] = &http.Cookie{Name: SessionCookie, Value: tok}
		want(t, fake.do("POST", "/api/tokens", map[string]string{}), 401, "")
	})
}

// Login answers for an unknown name must take as long as for a wrong
// password: both run one argon2id with the default parameters. The numbers
// are reported, not asserted (the machine is shared).
func TestLoginTiming(t *testing.T) {
	st := openSQLite(t)
	c := newClock()
	a := New(st, Options{Now: c.Now})
	mux := http.NewServeMux()
	a.Routes(mux)
	e := &env{t: t, st: st, a: a, mux: mux, clock: c}
	b := e.browser()
	b.start()
	h, err := HashPassword("password1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateUser(context.Background(), "olga", h); err != nil {
		t.Fatal(err)
	}
	rounds := 20
	if raceBuild {
		rounds = 3
	}
	var known, unknown []time.Duration
	for i := range 2 * rounds {
		name, into := "olga", &known
		if i%2 == 1 {
			name, into = "pavel", &unknown
		}
		// An hour apart: the address's bucket refills and the name's
		// failures are forgotten, so no limit answers in place of argon2id.
		c.Add(lockForget)
		start := time.Now()
		r := b.do("POST", "/api/login", cred(name, "wrong-password"))
		*into = append(*into, time.Since(start))
		want(t, r, 401, "")
	}
	start := time.Now()
	want(t, b.do("POST", "/api/login", cred("olga", "password1")), 200, "")
	ok := time.Since(start)
	med := func(d []time.Duration) time.Duration {
		s := slices.Clone(d)
		slices.Sort(s)
		if len(s)%2 == 1 {
			return s[len(s)/2]
		}
		return (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	t.Logf("login with DefaultParams %+v:", DefaultParams)
	mean := func(d []time.Duration) time.Duration {
		var sum time.Duration
		for _, x := range d {
			sum += x
		}
		return sum / time.Duration(len(d))
	}
	t.Logf("  wrong password of a user: median %s, mean %s, min %s, max %s (%d rounds)", fmtDur(med(known)), fmtDur(mean(known)), fmtDur(slices.Min(known)), fmtDur(slices.Max(known)), rounds)
	t.Logf("  unknown user:             median %s, mean %s, min %s, max %s", fmtDur(med(unknown)), fmtDur(mean(unknown)), fmtDur(slices.Min(unknown)), fmtDur(slices.Max(unknown)))
	t.Logf("  right password:           %s", fmtDur(ok))
}

func TestHashParamsAndOnSignup(t *testing.T) {
	eachStore(t, func(t *testing.T, st store.Store) {
		var got []store.User
		var mu sync.Mutex
		e := newEnv(t, st, Options{OnSignup: func(ctx context.Context, u store.User) {
			mu.Lock()
			defer mu.Unlock()
			got = append(got, u)
		}})
		e.signup(" Sam ", "password1")
		mu.Lock()
		defer mu.Unlock()
		if len(got) != 1 || got[0].Name != "sam" || got[0].ID == 0 {
			t.Fatalf("OnSignup got %+v, want the stored user sam once", got)
		}
		u, err := st.UserByName(context.Background(), "sam")
		if err != nil || !strings.HasPrefix(u.PasswordHash, "$argon2id$v=19$m=64,t=1,p=1$") {
			t.Fatalf("stored hash %q (%v) is not of Options.HashParams", u.PasswordHash, err)
		}
		// A refused sign-up does not call it.
		b := e.browser()
		b.start()
		want(t, b.do("POST", "/api/signup", cred("sam", "password1")), 409, "")
		if len(got) != 1 {
			t.Fatalf("OnSignup ran for a refused sign-up: %+v", got)
		}
	})
}

// Parameters whose hashes ParseHash would refuse are not used.
func TestHashParamsOutOfBounds(t *testing.T) {
	for _, p := range []Params{
		{Memory: 1, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, // memory below 8 KiB per lane
		{Memory: 64, Time: 1, Threads: 1, SaltLen: 4, KeyLen: 32}, // short salt
		{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 8}, // short key
	} {
		a := New(nil, Options{HashParams: p})
		if a.params != DefaultParams {
			t.Fatalf("HashParams %+v accepted", p)
		}
	}
}
