package auth

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver, to make a schema per test

	"github.com/switchboard-go/socketio/cmd/chat/internal/store"
)

// The tests run against the real databases: SQLite in a temporary file and
// PostgreSQL at CHAT_TEST_POSTGRES (default 127.0.0.1:5432, database test,
// trust auth, as in CI), each test in a schema of its own.
func pgURL() string {
	if u := os.Getenv("CHAT_TEST_POSTGRES"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
}

// eachStore runs f once per database.
func eachStore(t *testing.T, f func(t *testing.T, st store.Store)) {
	t.Run("sqlite", func(t *testing.T) { f(t, openSQLite(t)) })
	t.Run("postgres", func(t *testing.T) { f(t, openPostgres(t)) })
}

func openSQLite(t *testing.T) store.Store {
	t.Helper()
	st, err := store.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "chat.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func openPostgres(t *testing.T) store.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin, err := sql.Open("pgx", pgURL())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	schema := "auth_test_" + strings.ToLower(rand.Text()[:12])
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("PostgreSQL at %s (set CHAT_TEST_POSTGRES): %v", pgURL(), err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		db, err := sql.Open("pgx", pgURL())
		if err != nil {
			return
		}
		defer db.Close()
		if _, err := db.ExecContext(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema: %v", err)
		}
	})
	sep := "?"
	if strings.Contains(pgURL(), "?") {
		sep = "&"
	}
	st, err := store.OpenPostgres(ctx, pgURL()+sep+"search_path="+schema)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// clock is a settable Options.Now.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// env is an Auth over a real store, its routes on a mux, and a fake clock.
type env struct {
	t     *testing.T
	st    store.Store
	a     *Auth
	mux   *http.ServeMux
	clock *clock
}

func newEnv(t *testing.T, st store.Store, opts Options) *env {
	c := newClock()
	if opts.Now == nil {
		opts.Now = c.Now
	}
	if opts.HashParams == (Params{}) {
		opts.HashParams = cheap
	}
	a := New(st, opts)
	t.Cleanup(a.Close)
	mux := http.NewServeMux()
	a.Routes(mux)
	return &env{t: t, st: st, a: a, mux: mux, clock: c}
}

const testHost = "chat.test"

// browser plays a browser on one page of the chat: it keeps cookies,
// sends the page's Origin, and echoes the CSRF cookie in the header, as
// the chat's page does.
type browser struct {
	e       *env
	remote  string // RemoteAddr
	origin  string // "" = send none
	tls     bool
	cookies map[string]*http.Cookie
	noCSRF  bool // do not send the header
}

func (e *env) browser() *browser {
	return &browser{e: e, remote: "192.0.2.1:40000", origin: "http://" + testHost, cookies: map[string]*http.Cookie{}}
}

// resp is a recorded response with its decoded JSON body.
type resp struct {
	code    int
	header  http.Header
	body    map[string]any
	cookies map[string]*http.Cookie
}

func (r resp) errMsg() string { s, _ := r.body["error"].(string); return s }

func (r resp) userName() string {
	u, _ := r.body["user"].(map[string]any)
	s, _ := u["name"].(string)
	return s
}

// do sends a request through the mux; body is JSON-encoded unless it is
// a string (sent as is).
func (b *browser) do(method, path string, body any, hdr ...string) resp {
	b.e.t.Helper()
	var rd io.Reader
	switch v := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(v)
	default:
		j, err := json.Marshal(v)
		if err != nil {
			b.e.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req := httptest.NewRequest(method, "http://"+testHost+path, rd)
	req.RemoteAddr = b.remote
	if b.tls {
		req.TLS = &tls.ConnectionState{}
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if b.origin != "" {
		req.Header.Set("Origin", b.origin)
	}
	for _, c := range b.cookies {
		req.AddCookie(c)
	}
	if c := b.cookies[CSRFCookie]; c != nil && !b.noCSRF {
		req.Header.Set(CSRFHeader, c.Value)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i+1] == "" {
			req.Header.Del(hdr[i])
		} else {
			req.Header.Set(hdr[i], hdr[i+1])
		}
	}
	rec := httptest.NewRecorder()
	b.e.mux.ServeHTTP(rec, req)
	res := rec.Result()
	defer res.Body.Close()
	out := resp{code: res.StatusCode, header: res.Header, cookies: map[string]*http.Cookie{}}
	raw, _ := io.ReadAll(res.Body)
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &out.body); err != nil {
			b.e.t.Fatalf("%s %s: answer is not a JSON object: %q", method, path, raw)
		}
		if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			b.e.t.Fatalf("%s %s: Content-Type %q", method, path, ct)
		}
	}
	for _, c := range res.Cookies() {
		out.cookies[c.Name] = c
		if c.MaxAge < 0 {
			delete(b.cookies, c.Name)
		} else {
			b.cookies[c.Name] = c
		}
	}
	return out
}

// start fetches the session (and the CSRF cookie), as the page does first.
func (b *browser) start() resp {
	b.e.t.Helper()
	r := b.do("GET", "/api/session", nil)
	if r.code != 200 {
		b.e.t.Fatalf("GET /api/session: %d %v", r.code, r.body)
	}
	return r
}

func cred(user, pw string) map[string]string {
	return map[string]string{"username": user, "password": pw}
}

// signup makes an account through the API and returns a browser logged in.
func (e *env) signup(user, pw string) *browser {
	e.t.Helper()
	b := e.browser()
	b.start()
	if r := b.do("POST", "/api/signup", cred(user, pw)); r.code != 201 {
		e.t.Fatalf("signup %s: %d %v", user, r.code, r.body)
	}
	return b
}

func want(t *testing.T, r resp, code int, errPart string) {
	t.Helper()
	if r.code != code {
		t.Fatalf("status %d (%v), want %d", r.code, r.body, code)
	}
	if errPart != "" && !strings.Contains(r.errMsg(), errPart) {
		t.Fatalf("error %q, want it to contain %q", r.errMsg(), errPart)
	}
	if code >= 400 && r.errMsg() == "" {
		t.Fatalf("status %d without an error message: %v", code, r.body)
	}
}

func fmtDur(d time.Duration) string { return fmt.Sprint(d.Round(10 * time.Microsecond)) }
