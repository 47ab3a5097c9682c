package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-go/socketio/cmd/chat/internal/auth"
	"github.com/switchboard-go/socketio/cmd/chat/internal/store"
	"github.com/switchboard-go/socketio/sioclient"
	"github.com/switchboard-go/socketio/socketiotest"
)

// wait is how long a test waits for an event before failing.
// It is long: the machines that run the tests are shared, and the race
// detector slows everything; a passing test does not wait for it.
const wait = 30 * time.Second

// env is a chat server on a loopback port over a real store.
type env struct {
	t    testing.TB
	url  string
	st   store.Store
	chat *Server
	http *httptest.Server
}

// openSQLite opens a fresh SQLite database in the test's directory.
func openSQLite(t testing.TB) store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "chat.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

func newEnv(t testing.TB, st store.Store, cfg Config) *env {
	t.Helper()
	if st == nil {
		st = openSQLite(t)
	}
	logger := socketiotest.Logger()
	a := auth.New(st, auth.Options{Logger: logger, OnSignup: JoinGeneralOnSignup(st, logger)})
	cfg.Store, cfg.Auth, cfg.Logger = st, a, logger
	if cfg.DBTimeout == 0 {
		cfg.DBTimeout = time.Minute // see wait
	}
	if cfg.PingInterval == 0 {
		// Short enough that a lost long-polling client is noticed within
		// the test, long enough that a 5 MiB frame under the race detector
		// does not delay a pong past it.
		cfg.PingInterval, cfg.PingTimeout = time.Second, 3*time.Second
	}
	chat := New(cfg)
	hs := httptest.NewServer(chat.Handler())
	e := &env{t: t, url: hs.URL, st: st, chat: chat, http: hs}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = chat.Shutdown(ctx)
		hs.Close()
	})
	return e
}

// user is an account with a logged-in HTTP client.
type user struct {
	name  string
	jar   http.CookieJar
	hc    *http.Client
	csrf  string
	token string // an API token, made by apiToken
}

// do sends a JSON request as u and decodes the JSON answer into out.
func (e *env) do(u *user, method, path string, body, out any) int {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, e.url+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if u.csrf != "" {
		req.Header.Set("X-CSRF-Token", u.csrf)
	}
	resp, err := u.hc.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil {
		_ = json.NewDecoder(resp.Body).Decode(out)
	}
	return resp.StatusCode
}

// signup makes an account, logged in (its session cookie in its jar) and
// a member of general.
func (e *env) signup(name string) *user {
	e.t.Helper()
	jar, _ := cookiejar.New(nil)
	u := &user{name: name, jar: jar, hc: &http.Client{Jar: jar, Timeout: wait}}
	var s struct {
		CSRF string `json:"csrfToken"`
	}
	e.do(u, "GET", "/api/session", nil, &s)
	u.csrf = s.CSRF
	var r struct {
		CSRF  string `json:"csrfToken"`
		Error string `json:"error"`
	}
	if code := e.do(u, "POST", "/api/signup", map[string]string{"username": name, "password": "password-" + name}, &r); code != http.StatusCreated {
		e.t.Fatalf("signup %s: %d %s", name, code, r.Error)
	}
	if r.CSRF != "" {
		u.csrf = r.CSRF
	}
	return u
}

func (e *env) apiToken(u *user) string {
	e.t.Helper()
	var r struct {
		Token string `json:"token"`
		Error string `json:"error"`
	}
	if code := e.do(u, "POST", "/api/tokens", map[string]string{"label": "test"}, &r); code != http.StatusCreated {
		e.t.Fatalf("token: %d %s", code, r.Error)
	}
	u.token = r.Token
	return r.Token
}

// client is a Socket.IO connection of a user, recording what it receives.
type client struct {
	t    testing.TB
	u    *user
	s    *sioclient.Socket
	life *socketiotest.Lifecycle

	mu      sync.Mutex
	changed chan struct{} // closed and replaced on every event
	msgs    []wireMsg     // "message" events, in arrival order
	ids     map[int64]int // how many times each message id arrived
	events  []recorded    // every other event
	offset  int64         // the highest "session" offset
	session bool          // a "session" event arrived
}

type recorded struct {
	name string
	arg  json.RawMessage
}

// connect opens a socket for u with opts (nil: polling upgraded to
// WebSocket), authenticated by its cookie, or by auth when given.
func (e *env) connect(u *user, opts *sioclient.Options, authPayload func() (any, error)) *client {
	e.t.Helper()
	c := e.newClient(u, opts, authPayload)
	c.s.Connect()
	select {
	case <-c.life.Connected:
	case err := <-c.life.ConnectErrors:
		e.t.Fatalf("%s: connect: %v", u.name, err)
	case <-time.After(wait):
		e.t.Fatalf("%s: no connection", u.name)
	}
	c.waitEvent("session", func(json.RawMessage) bool { return true })
	return c
}

func (e *env) newClient(u *user, opts *sioclient.Options, authPayload func() (any, error)) *client {
	e.t.Helper()
	o := sioclient.Options{}
	if opts != nil {
		o = *opts
	}
	o.ForceNew = true
	o.Jar = u.jar
	o.Logger = socketiotest.Logger()
	if o.WriteTimeout == 0 {
		// A long-polling POST waits while the server's handlers for the
		// connection wait for the database; on a loaded machine under the
		// race detector that passes the default 10 s.
		o.WriteTimeout = time.Minute
	}
	if o.ReconnectionDelay == 0 {
		o.ReconnectionDelay, o.ReconnectionDelayMax = 100*time.Millisecond, 500*time.Millisecond
	}
	if authPayload != nil {
		o.AuthFunc = authPayload
	}
	s, err := sioclient.New(e.url, &o)
	if err != nil {
		e.t.Fatal(err)
	}
	c := &client{t: e.t, u: u, s: s, changed: make(chan struct{}), ids: map[int64]int{}}
	c.life = socketiotest.Watch(s)
	s.OnAny(func(ev *sioclient.Event) {
		c.mu.Lock()
		defer c.mu.Unlock()
		switch ev.Name {
		case "message":
			var m wireMsg
			if err := ev.Decode(0, &m); err != nil {
				e.t.Errorf("message: %v", err)
			}
			c.msgs = append(c.msgs, m)
			c.ids[m.ID]++
		case "session":
			var si sessionInfo
			_ = ev.Decode(0, &si)
			c.offset = max(c.offset, si.Offset)
			c.session = true
			fallthrough
		default:
			var raw json.RawMessage
			if ev.Len() > 0 {
				raw = append(json.RawMessage(nil), ev.Arg(0).Raw...)
			}
			c.events = append(c.events, recorded{ev.Name, raw})
		}
		close(c.changed)
		c.changed = make(chan struct{})
	})
	e.t.Cleanup(func() { _ = s.Manager().Close() })
	return c
}

// waitFor waits until cond, checked under the client's lock after every
// event, holds.
func (c *client) waitFor(what string, cond func() bool) {
	c.t.Helper()
	deadline := time.After(wait)
	for {
		c.mu.Lock()
		ok := cond()
		ch := c.changed
		c.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-ch:
		case <-deadline:
			c.t.Fatalf("%s: no %s within %v", c.u.name, what, wait)
		}
	}
}

// waitEvent waits for an event named name whose argument satisfies match,
// and returns it.
func (c *client) waitEvent(name string, match func(json.RawMessage) bool) json.RawMessage {
	c.t.Helper()
	var got json.RawMessage
	c.waitFor("event "+name, func() bool {
		for _, ev := range c.events {
			if ev.name == name && match(ev.arg) {
				got = ev.arg
				return true
			}
		}
		return false
	})
	return got
}

// waitMsg waits for the message with text.
func (c *client) waitMsg(text string) wireMsg {
	c.t.Helper()
	var got wireMsg
	c.waitFor("message "+fmt.Sprintf("%q", text), func() bool {
		for _, m := range c.msgs {
			if m.Text == text {
				got = m
				return true
			}
		}
		return false
	})
	return got
}

func (c *client) hasText(text string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, m := range c.msgs {
		if m.Text == text {
			return true
		}
	}
	return false
}

// ack emits event with arg and decodes the acknowledgement into out; it
// returns the {"error"} text, if any.
func (c *client) ack(event string, arg, out any) string {
	c.t.Helper()
	return c.ackWithin(wait, event, arg, out)
}

// ackWithin is ack with a deadline of its own, for large uploads.
func (c *client) ackWithin(d time.Duration, event string, arg, out any) string {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	res, err := c.s.EmitWithAck(ctx, event, arg)
	if err != nil {
		c.t.Fatalf("%s: %s: %v", c.u.name, event, err)
	}
	var e struct {
		Error string `json:"error"`
	}
	_ = res.Decode(0, &e)
	if e.Error != "" {
		return e.Error
	}
	if out != nil {
		if err := res.Decode(0, out); err != nil {
			c.t.Fatalf("%s: %s answer: %v", c.u.name, event, err)
		}
	}
	return ""
}

// send sends text to room and returns the acknowledged id.
func (c *client) send(room, text string) int64 {
	c.t.Helper()
	var r sentResult
	if e := c.ack("message", map[string]any{"room": room, "text": text}, &r); e != "" {
		c.t.Fatalf("%s: send %q: %s", c.u.name, text, e)
	}
	if r.ID <= 0 || r.Sent <= 0 {
		c.t.Fatalf("%s: ack %+v", c.u.name, r)
	}
	return r.ID
}

// queryEscape is url.QueryEscape, named for the tests that build URLs.
var queryEscape = url.QueryEscape
