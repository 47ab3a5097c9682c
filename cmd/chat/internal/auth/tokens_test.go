package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/switchboard-go/socketio/cmd/chat/internal/store"
)

// tokensOf lists b's tokens through GET /api/tokens: label by id.
func tokensOf(t *testing.T, b *browser) map[int64]string {
	t.Helper()
	r := b.do("GET", "/api/tokens", nil)
	want(t, r, 200, "")
	list, ok := r.body["tokens"].([]any)
	if !ok {
		t.Fatalf("GET /api/tokens: %v, want a list", r.body)
	}
	out := map[int64]string{}
	for _, x := range list {
		m := x.(map[string]any)
		if _, has := m["token"]; has || len(m) != 3 {
			t.Fatalf("a listed token has fields %v; want id, label, created only", m)
		}
		created, _ := m["created"].(float64)
		if created <= 0 {
			t.Fatalf("listed token %v: no creation time", m)
		}
		out[int64(m["id"].(float64))] = m["label"].(string)
	}
	return out
}

func TestTokenListAndRevoke(t *testing.T) {
	eachStore(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st, Options{})
		ctx := context.Background()
		anon := e.browser()
		anon.start()
		want(t, anon.do("GET", "/api/tokens", nil), 401, "log in")
		want(t, anon.do("DELETE", "/api/tokens/1", nil), 401, "log in")

		alice := e.signup("alice", "password1")
		bob := e.signup("bob", "password1")
		if got := tokensOf(t, alice); len(got) != 0 {
			t.Fatalf("tokens before any: %v", got)
		}
		mk := func(b *browser, label string) (int64, string) {
			r := b.do("POST", "/api/tokens", map[string]string{"label": label})
			want(t, r, 201, "")
			return int64(r.body["id"].(float64)), r.body["token"].(string)
		}
		id1, tok1 := mk(alice, "laptop")
		id2, tok2 := mk(alice, "bot")
		idb, tokb := mk(bob, "bob's")
		if got := tokensOf(t, alice); len(got) != 2 || got[id1] != "laptop" || got[id2] != "bot" {
			t.Fatalf("alice's tokens %v; want %d laptop, %d bot", got, id1, id2)
		}
		if got := tokensOf(t, bob); len(got) != 1 || got[idb] != "bob's" {
			t.Fatalf("bob's tokens %v", got)
		}
		works := func(tok string, w bool) {
			t.Helper()
			_, err := e.a.UserFromToken(ctx, tok)
			if w && err != nil || !w && !errors.Is(err, ErrUnauthenticated) {
				t.Fatalf("token works: %v, want %v", err, w)
			}
		}

		// Bob cannot revoke (nor tell apart from a missing one) alice's token.
		want(t, bob.do("DELETE", fmt.Sprintf("/api/tokens/%d", id1), nil), 404, "no such token")
		works(tok1, true)
		for _, bad := range []string{"0", "-1", "x", "99999999999999999999", fmt.Sprint(idb + id2 + 100)} {
			want(t, alice.do("DELETE", "/api/tokens/"+bad, nil), 404, "no such token")
		}
		// CSRF: no header, or a foreign origin, revoke nothing.
		alice.noCSRF = true
		want(t, alice.do("DELETE", fmt.Sprintf("/api/tokens/%d", id1), nil), 403, "cross-site")
		alice.noCSRF = false
		alice.origin = "https://evil.example"
		want(t, alice.do("DELETE", fmt.Sprintf("/api/tokens/%d", id1), nil), 403, "cross-site")
		alice.origin = "http://" + testHost
		works(tok1, true)
		// An API token is no session: it cannot list or revoke tokens.
		fake := e.browser()
		fake.start()
		fake.cookies[SessionCookie] = &http.Cookie{Name: SessionCookie, Value: tok1}
		want(t, fake.do("GET", "/api/tokens", nil), 401, "")
		want(t, fake.do("DELETE", fmt.Sprintf("/api/tokens/%d", id1), nil), 401, "")

		want(t, alice.do("DELETE", fmt.Sprintf("/api/tokens/%d", id1), nil), 200, "")
		works(tok1, false)
		works(tok2, true)
		works(tokb, true)
		if got := tokensOf(t, alice); len(got) != 1 || got[id2] != "bot" {
			t.Fatalf("alice's tokens after revoking %d: %v", id1, got)
		}
		want(t, alice.do("DELETE", fmt.Sprintf("/api/tokens/%d", id1), nil), 404, "no such token")
	})
}

// A login re-hashes a password stored with other parameters, once, and
// only after the password was right.
func TestLoginRehash(t *testing.T) {
	eachStore(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st, Options{}) // new hashes use cheap
		ctx := context.Background()
		older := []Params{
			{Memory: 32, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, // less memory
			{Memory: 64, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}, // more passes
			{Memory: 64, Time: 1, Threads: 1, SaltLen: 8, KeyLen: 16},  // shorter salt and key
		}
		for i, p := range older {
			name := fmt.Sprintf("user%d", i)
			h, err := hashWith(p, "password1")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := st.CreateUser(ctx, name, h); err != nil {
				t.Fatal(err)
			}
			stored := func() string {
				u, err := st.UserByName(ctx, name)
				if err != nil {
					t.Fatal(err)
				}
				return u.PasswordHash
			}
			b := e.browser()
			b.start()
			want(t, b.do("POST", "/api/login", cred(name, "wrong-password")), 401, "")
			if stored() != h {
				t.Fatalf("%s: a failed login changed the hash", name)
			}
			want(t, b.do("POST", "/api/login", cred(name, "password1")), 200, "")
			nh := stored()
			if got, _, _, err := ParseHash(nh); err != nil || got != cheap {
				t.Fatalf("%s: hash after login has %+v (%v), want %+v", name, got, err, cheap)
			}
			if ok, err := VerifyPassword(nh, "password1"); !ok || err != nil {
				t.Fatalf("%s: the new hash does not verify the password: %v", name, err)
			}
			// Current parameters: the next login keeps the hash.
			want(t, b.do("POST", "/api/login", cred(name, "password1")), 200, "")
			if stored() != nh {
				t.Fatalf("%s: a hash with the current parameters was replaced", name)
			}
		}
	})
}

// Expired sessions are deleted by the timed sweep, a bounded number per run.
func TestSessionSweep(t *testing.T) {
	eachStore(t, func(t *testing.T, st store.Store) {
		swept := make(chan int64, 100)
		e := newEnv(t, st, Options{SessionTTL: time.Hour, SweepEvery: time.Millisecond, afterSweep: func(n int64, err error) {
			if err != nil {
				t.Errorf("sweep: %v", err)
			}
			select {
			case swept <- n:
			default:
			}
		}, sweepLimit: 2})
		ctx := context.Background()
		t0 := e.clock.Now()
		var toks [][]byte
		for i := range 5 {
			u, err := st.CreateUser(ctx, fmt.Sprintf("u%d", i), "h")
			if err != nil {
				t.Fatal(err)
			}
			tok := []byte(fmt.Sprintf("session-%d", i))
			if err := st.CreateSession(ctx, tok, u.ID, t0.Add(time.Duration(i+1)*time.Minute)); err != nil {
				t.Fatal(err)
			}
			toks = append(toks, tok)
		}
		alive := func(i int) bool {
			// Asked at t0, when every session is still valid: ErrNotFound
			// means the row is gone.
			_, err := st.SessionUser(ctx, toks[i], t0)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				t.Fatal(err)
			}
			return err == nil
		}
		// Sweeps until now deleted nothing: nothing had expired.
		for i := range toks {
			if !alive(i) {
				t.Fatalf("session %d deleted before it expired", i)
			}
		}
		e.clock.Add(4 * time.Minute) // sessions 0-3 expired, 4 not
		var total int64
		for total < 4 {
			select {
			case n := <-swept:
				if n > 2 {
					t.Fatalf("a sweep deleted %d sessions, limit 2", n)
				}
				total += n
			case <-time.After(10 * time.Second):
				t.Fatalf("sweeps deleted %d sessions in 10s, want 4", total)
			}
		}
		for i := range toks {
			if alive(i) != (i == 4) {
				t.Fatalf("session %d alive %v, want %v", i, alive(i), i == 4)
			}
		}
		e.a.Close()
		e.a.Close() // idempotent
	})
}
