package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestOpenChoosesByDSN(t *testing.T) {
	ctx := ctxT(t)
	// A postgresql:// URL that nothing answers: Open must try PostgreSQL
	// (and fail to connect) rather than create a SQLite file of that name.
	_, err := Open(ctx, "postgresql://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=2")
	if err == nil || !strings.Contains(err.Error(), "PostgreSQL") {
		t.Fatalf("Open(postgresql://...) = %v, want a PostgreSQL connection error", err)
	}
	s := newSQLiteDB(t).open(t)
	defer s.Close()
	if _, ok := s.(*sqlStore); !ok || s.(*sqlStore).d.name != "sqlite" {
		t.Fatalf("Open(path) = %T, want the SQLite store", s)
	}
	if _, err := Open(ctx, ":memory:"); err == nil {
		t.Fatal("Open(:memory:) succeeded; the store needs a file")
	}
}

func TestUsers(t *testing.T) {
	eachDB(t, func(t *testing.T, s Store) {
		ctx := ctxT(t)
		a := mustUser(t, s, "alice")
		b := mustUser(t, s, "bob")
		if a.ID == 0 || a.ID == b.ID || a.Name != "alice" || a.PasswordHash != "hash-of-alice" || a.Created.IsZero() {
			t.Fatalf("CreateUser = %+v, %+v", a, b)
		}
		if _, err := s.CreateUser(ctx, "alice", "other"); !errors.Is(err, ErrExists) {
			t.Fatalf("second alice: %v, want ErrExists", err)
		}
		got, err := s.UserByName(ctx, "alice")
		if err != nil || got != a {
			t.Fatalf("UserByName(alice) = %+v, %v; want %+v", got, err, a)
		}
		if _, err := s.UserByName(ctx, "carol"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("UserByName(carol): %v, want ErrNotFound", err)
		}
	})
}

func TestSessions(t *testing.T) {
	eachDB(t, func(t *testing.T, s Store) {
		ctx := ctxT(t)
		a := mustUser(t, s, "alice")
		t0 := time.Now()
		tok := []byte("session-hash-1")
		if err := s.CreateSession(ctx, tok, a.ID, t0.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateSession(ctx, tok, a.ID, t0.Add(time.Hour)); !errors.Is(err, ErrExists) {
			t.Fatalf("same token twice: %v, want ErrExists", err)
		}
		if err := s.CreateSession(ctx, []byte("x"), a.ID+1000, t0.Add(time.Hour)); !errors.Is(err, ErrNotFound) {
			t.Fatalf("session of a missing user: %v, want ErrNotFound", err)
		}
		u, err := s.SessionUser(ctx, tok, t0)
		if err != nil || u != a {
			t.Fatalf("SessionUser = %+v, %v; want %+v", u, err, a)
		}
		if _, err := s.SessionUser(ctx, tok, t0.Add(time.Hour)); !errors.Is(err, ErrNotFound) {
			t.Fatalf("SessionUser at expiry: %v, want ErrNotFound", err)
		}
		if _, err := s.SessionUser(ctx, []byte("other"), t0); !errors.Is(err, ErrNotFound) {
			t.Fatalf("SessionUser(unknown): %v, want ErrNotFound", err)
		}
		if err := s.DeleteSession(ctx, tok); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SessionUser(ctx, tok, t0); !errors.Is(err, ErrNotFound) {
			t.Fatalf("SessionUser after delete: %v, want ErrNotFound", err)
		}
		if err := s.DeleteSession(ctx, tok); err != nil {
			t.Fatalf("deleting a deleted session: %v", err)
		}
	})
}

func TestAPITokens(t *testing.T) {
	eachDB(t, func(t *testing.T, s Store) {
		ctx := ctxT(t)
		a := mustUser(t, s, "alice")
		b := mustUser(t, s, "bob")
		ida, err := s.CreateAPIToken(ctx, []byte("ta"), a.ID, "bot")
		if err != nil {
			t.Fatal(err)
		}
		idb, err := s.CreateAPIToken(ctx, []byte("tb"), b.ID, "bot")
		if err != nil {
			t.Fatal(err)
		}
		if ida == idb || ida == 0 || idb == 0 {
			t.Fatalf("token ids %d, %d: want distinct and non-zero", ida, idb)
		}
		if _, err := s.CreateAPIToken(ctx, []byte("ta"), b.ID, "again"); !errors.Is(err, ErrExists) {
			t.Fatalf("same token twice: %v, want ErrExists", err)
		}
		for tok, want := range map[string]User{"ta": a, "tb": b} {
			u, err := s.APITokenUser(ctx, []byte(tok))
			if err != nil || u != want {
				t.Fatalf("APITokenUser(%s) = %+v, %v; want %+v", tok, u, err, want)
			}
		}
		if _, err := s.APITokenUser(ctx, []byte("nope")); !errors.Is(err, ErrNotFound) {
			t.Fatalf("APITokenUser(unknown): %v, want ErrNotFound", err)
		}
	})
}

func TestAPITokenListAndRevoke(t *testing.T) {
	eachDB(t, func(t *testing.T, s Store) {
		ctx := ctxT(t)
		a := mustUser(t, s, "alice")
		b := mustUser(t, s, "bob")
		if got, err := s.APITokens(ctx, a.ID); err != nil || got == nil || len(got) != 0 {
			t.Fatalf("APITokens of a user without tokens = %#v, %v; want an empty list", got, err)
		}
		before := time.Now().Add(-time.Second)
		id1, err := s.CreateAPIToken(ctx, []byte("a1"), a.ID, "one")
		if err != nil {
			t.Fatal(err)
		}
		id2, err := s.CreateAPIToken(ctx, []byte("a2"), a.ID, "two")
		if err != nil {
			t.Fatal(err)
		}
		idb, err := s.CreateAPIToken(ctx, []byte("b1"), b.ID, "bob's")
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.APITokens(ctx, a.ID)
		if err != nil || len(got) != 2 || got[0].ID != id1 || got[0].Label != "one" || got[1].ID != id2 || got[1].Label != "two" {
			t.Fatalf("APITokens(alice) = %+v, %v; want one (%d), two (%d)", got, err, id1, id2)
		}
		if got[0].Created.Before(before) || got[0].Created.After(time.Now().Add(time.Second)) {
			t.Fatalf("Created = %v, want about now", got[0].Created)
		}
		// Alice cannot revoke Bob's token, nor a token that does not exist.
		if _, err := s.DeleteAPIToken(ctx, a.ID, idb); !errors.Is(err, ErrNotFound) {
			t.Fatalf("alice revoking bob's token: %v, want ErrNotFound", err)
		}
		if _, err := s.APITokenUser(ctx, []byte("b1")); err != nil {
			t.Fatalf("bob's token after alice's attempt: %v", err)
		}
		if _, err := s.DeleteAPIToken(ctx, a.ID, id2+1000); !errors.Is(err, ErrNotFound) {
			t.Fatalf("revoking a missing token: %v, want ErrNotFound", err)
		}
		if h, err := s.DeleteAPIToken(ctx, a.ID, id1); err != nil || string(h) != "a1" {
			t.Fatalf("DeleteAPIToken = %q, %v; want the hash a1", h, err)
		}
		if _, err := s.APITokenUser(ctx, []byte("a1")); !errors.Is(err, ErrNotFound) {
			t.Fatalf("revoked token: %v, want ErrNotFound", err)
		}
		if _, err := s.DeleteAPIToken(ctx, a.ID, id1); !errors.Is(err, ErrNotFound) {
			t.Fatalf("revoking twice: %v, want ErrNotFound", err)
		}
		if got, err := s.APITokens(ctx, a.ID); err != nil || len(got) != 1 || got[0].ID != id2 {
			t.Fatalf("APITokens(alice) after revoking = %+v, %v; want two", got, err)
		}
		if u, err := s.APITokenUser(ctx, []byte("a2")); err != nil || u != a {
			t.Fatalf("the other token: %+v, %v", u, err)
		}
	})
}

func TestDeleteExpiredSessions(t *testing.T) {
	eachDB(t, func(t *testing.T, s Store) {
		ctx := ctxT(t)
		a := mustUser(t, s, "alice")
		t0 := time.Now().Add(-time.Hour) // in the past: CreateSession must keep them anyway
		for i := range 5 {
			if err := s.CreateSession(ctx, []byte(fmt.Sprintf("old-%d", i)), a.ID, t0.Add(time.Duration(i)*time.Minute)); err != nil {
				t.Fatal(err)
			}
		}
		live := []byte("live")
		if err := s.CreateSession(ctx, live, a.ID, time.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		// Up to t0+4m, limit 3: three of the five expired, oldest first.
		n, err := s.DeleteExpiredSessions(ctx, t0.Add(4*time.Minute), 3)
		if err != nil || n != 3 {
			t.Fatalf("DeleteExpiredSessions(limit 3) = %d, %v; want 3", n, err)
		}
		for i := range 5 {
			_, err := s.SessionUser(ctx, []byte(fmt.Sprintf("old-%d", i)), t0.Add(-time.Minute))
			if gone := errors.Is(err, ErrNotFound); gone != (i < 3) {
				t.Fatalf("session old-%d: gone %v (%v), want %v", i, gone, err, i < 3)
			}
		}
		// The cut-off counts: old-4 expires after t0+3m59s.
		if n, err := s.DeleteExpiredSessions(ctx, t0.Add(4*time.Minute-time.Second), 10); err != nil || n != 1 {
			t.Fatalf("DeleteExpiredSessions(t0+4m-1s) = %d, %v; want 1 (old-3)", n, err)
		}
		if n, err := s.DeleteExpiredSessions(ctx, time.Now(), 10); err != nil || n != 1 {
			t.Fatalf("DeleteExpiredSessions(now) = %d, %v; want 1 (old-4)", n, err)
		}
		if n, err := s.DeleteExpiredSessions(ctx, time.Now(), 10); err != nil || n != 0 {
			t.Fatalf("DeleteExpiredSessions again = %d, %v; want 0", n, err)
		}
		if u, err := s.SessionUser(ctx, live, time.Now()); err != nil || u != a {
			t.Fatalf("the live session: %+v, %v", u, err)
		}
	})
}

func TestSetPasswordHash(t *testing.T) {
	eachDB(t, func(t *testing.T, s Store) {
		ctx := ctxT(t)
		a := mustUser(t, s, "alice")
		b := mustUser(t, s, "bob")
		if ok, err := s.SetPasswordHash(ctx, a.ID, "stale", "new"); err != nil || ok {
			t.Fatalf("SetPasswordHash with a stale old hash = %v, %v; want false", ok, err)
		}
		if ok, err := s.SetPasswordHash(ctx, a.ID, a.PasswordHash, "new"); err != nil || !ok {
			t.Fatalf("SetPasswordHash = %v, %v; want true", ok, err)
		}
		if u, err := s.UserByName(ctx, "alice"); err != nil || u.PasswordHash != "new" {
			t.Fatalf("alice after SetPasswordHash: %+v, %v", u, err)
		}
		if u, err := s.UserByName(ctx, "bob"); err != nil || u.PasswordHash != b.PasswordHash {
			t.Fatalf("bob changed: %+v, %v", u, err)
		}
		if _, err := s.SetPasswordHash(ctx, b.ID+1000, "x", "y"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("SetPasswordHash(missing user): %v, want ErrNotFound", err)
		}
	})
}

func TestRooms(t *testing.T) {
	eachDB(t, func(t *testing.T, s Store) {
		ctx := ctxT(t)
		g, err := s.Room(ctx, "general")
		if err != nil || g.Name != "general" || g.CreatedBy != "" || g.Created.IsZero() {
			t.Fatalf("Room(general) = %+v, %v", g, err)
		}
		mustUser(t, s, "alice")
		r, err := s.CreateRoom(ctx, "random", "alice")
		if err != nil || r.Name != "random" || r.CreatedBy != "alice" {
			t.Fatalf("CreateRoom = %+v, %v", r, err)
		}
		if _, err := s.CreateRoom(ctx, "random", "alice"); !errors.Is(err, ErrExists) {
			t.Fatalf("second random: %v, want ErrExists", err)
		}
		if _, err := s.CreateRoom(ctx, "general", ""); !errors.Is(err, ErrExists) {
			t.Fatalf("second general: %v, want ErrExists", err)
		}
		if _, err := s.CreateRoom(ctx, "aardvarks", "alice"); err != nil {
			t.Fatal(err)
		}
		got, err := s.Room(ctx, "random")
		if err != nil || got != r {
			t.Fatalf("Room(random) = %+v, %v; want %+v", got, err, r)
		}
		if _, err := s.Room(ctx, "nope"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("Room(nope): %v, want ErrNotFound", err)
		}
		rooms, err := s.Rooms(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, r := range rooms {
			names = append(names, r.Name)
		}
		if want := []string{"aardvarks", "general", "random"}; !reflect.DeepEqual(names, want) {
			t.Fatalf("Rooms = %v, want %v", names, want)
		}
	})
}

func TestMembership(t *testing.T) {
	eachDB(t, func(t *testing.T, s Store) {
		ctx := ctxT(t)
		mustUser(t, s, "alice")
		if _, err := s.CreateRoom(ctx, "random", "alice"); err != nil {
			t.Fatal(err)
		}
		rooms := func() []string {
			t.Helper()
			rs, err := s.UserRooms(ctx, "alice")
			if err != nil {
				t.Fatal(err)
			}
			return rs
		}
		if r := rooms(); len(r) != 0 {
			t.Fatalf("rooms before joining: %v", r)
		}
		for range 2 {
			mustJoin(t, s, "alice", "random")
			mustJoin(t, s, "alice", "general")
		}
		if r := rooms(); !reflect.DeepEqual(r, []string{"general", "random"}) {
			t.Fatalf("rooms after joining twice: %v", r)
		}
		mustUser(t, s, "bob")
		mustJoin(t, s, "bob", "random")
		members := func(room string) []string {
			t.Helper()
			ms, err := s.RoomMembers(ctx, room)
			if err != nil {
				t.Fatal(err)
			}
			return ms
		}
		if m := members("random"); !reflect.DeepEqual(m, []string{"alice", "bob"}) {
			t.Fatalf("members of random: %v", m)
		}
		if m := members("general"); !reflect.DeepEqual(m, []string{"alice"}) {
			t.Fatalf("members of general: %v", m)
		}
		if err := s.LeaveRoom(ctx, "bob", "random"); err != nil {
			t.Fatal(err)
		}
		if m := members("random"); !reflect.DeepEqual(m, []string{"alice"}) {
			t.Fatalf("members of random after bob left: %v", m)
		}
		if m := members("nope"); len(m) != 0 {
			t.Fatalf("members of a missing room: %v", m)
		}
		if err := s.JoinRoom(ctx, "alice", "nope"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("joining a missing room: %v, want ErrNotFound", err)
		}
		if err := s.JoinRoom(ctx, "nobody", "general"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("a missing user joining: %v, want ErrNotFound", err)
		}
		for range 2 {
			if err := s.LeaveRoom(ctx, "alice", "random"); err != nil {
				t.Fatal(err)
			}
		}
		if r := rooms(); !reflect.DeepEqual(r, []string{"general"}) {
			t.Fatalf("rooms after leaving twice: %v", r)
		}
	})
}

func TestAddMessage(t *testing.T) {
	eachDB(t, func(t *testing.T, s Store) {
		ctx := ctxT(t)
		mustUser(t, s, "alice")
		mustUser(t, s, "bob")
		before := time.Now().Add(-time.Second)
		m1 := mustAdd(t, s, Message{Room: "general", From: "alice", Text: "hi", ClientID: "c1"})
		if m1.ID <= 0 || m1.Room != "general" || m1.From != "alice" || m1.Text != "hi" || m1.ClientID != "c1" ||
			m1.Sent.Before(before) || m1.Sent.After(time.Now().Add(time.Second)) {
			t.Fatalf("stored %+v", m1)
		}
		// A retry of the same message: the first one comes back, once.
		again, dup, err := s.AddMessage(ctx, Message{Room: "general", From: "alice", Text: "hi (retry)", ClientID: "c1"})
		if err != nil || !dup || !reflect.DeepEqual(again, m1) {
			t.Fatalf("retry = %+v, dup %v, %v; want %+v, dup", again, dup, err, m1)
		}
		// Another author may use the same client id.
		m2 := mustAdd(t, s, Message{Room: "general", From: "bob", Text: "yo", ClientID: "c1"})
		// Messages without a client id are never taken for retries.
		m3 := mustAdd(t, s, Message{Room: "general", From: "bob", Text: "a"})
		m4 := mustAdd(t, s, Message{Room: "general", From: "bob", Text: "a"})
		p := mustAdd(t, s, Message{To: "alice", From: "bob", Text: "psst", ClientID: "c2"})
		ids := []int64{m1.ID, m2.ID, m3.ID, m4.ID, p.ID}
		for i := 1; i < len(ids); i++ {
			if ids[i] <= ids[i-1] {
				t.Fatalf("IDs do not grow across rooms and private messages: %v", ids)
			}
		}
		h, err := s.RoomHistory(ctx, "general", 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		if want := []Message{m1, m2, m3, m4}; !reflect.DeepEqual(h, want) {
			t.Fatalf("history = %+v\nwant %+v", h, want)
		}

		for _, bad := range []Message{
			{From: "alice", Text: "to nobody"},
			{Room: "general", To: "bob", From: "alice", Text: "both"},
			{Room: "general", Text: "no author"},
		} {
			if _, _, err := s.AddMessage(ctx, bad); err == nil {
				t.Errorf("AddMessage(%+v) succeeded", bad)
			}
		}
		for _, missing := range []Message{
			{Room: "nope", From: "alice", Text: "x"},
			{To: "carol", From: "alice", Text: "x"},
			{Room: "general", From: "carol", Text: "x"},
			{Room: "general", From: "alice", Text: "x", File: &FileInfo{ID: 999}},
		} {
			if _, _, err := s.AddMessage(ctx, missing); !errors.Is(err, ErrNotFound) {
				t.Errorf("AddMessage(%+v): %v, want ErrNotFound", missing, err)
			}
		}
	})
}

// A batch in which one message fails stores the others: the failing one
// must not take its neighbours in the shared transaction down with it.
func TestAddMessageBatchWithFailure(t *testing.T) {
	eachDB(t, func(t *testing.T, s Store) {
		ctx := ctxT(t)
		mustUser(t, s, "alice")
		var wg sync.WaitGroup
		const n = 40
		errs := make([]error, n)
		for i := range n {
			wg.Go(func() {
				room := "general"
				if i%5 == 0 {
					room = "nope"
				}
				_, _, errs[i] = s.AddMessage(ctx, Message{Room: room, From: "alice", Text: fmt.Sprint(i)})
			})
		}
		wg.Wait()
		for i, err := range errs {
			if i%5 == 0 && !errors.Is(err, ErrNotFound) {
				t.Errorf("message %d to a missing room: %v", i, err)
			}
			if i%5 != 0 && err != nil {
				t.Errorf("message %d: %v", i, err)
			}
		}
		h, err := s.RoomHistory(ctx, "general", 0, 100)
		if err != nil || len(h) != n-n/5 {
			t.Fatalf("stored %d messages (%v), want %d", len(h), err, n-n/5)
		}
	})
}

func TestRoomHistoryPaging(t *testing.T) {
	eachDB(t, func(t *testing.T, s Store) {
		ctx := ctxT(t)
		mustUser(t, s, "alice")
		if _, err := s.CreateRoom(ctx, "other", "alice"); err != nil {
			t.Fatal(err)
		}
		var all []Message
		for i := range 25 {
			all = append(all, mustAdd(t, s, Message{Room: "general", From: "alice", Text: fmt.Sprint(i)}))
			mustAdd(t, s, Message{Room: "other", From: "alice", Text: "elsewhere"})
		}
		newest, err := s.RoomHistory(ctx, "general", 0, 10)
		if err != nil || !reflect.DeepEqual(newest, all[15:]) {
			t.Fatalf("newest page = %v, %v", texts(newest), err)
		}
		older, err := s.RoomHistory(ctx, "general", newest[0].ID, 10)
		if err != nil || !reflect.DeepEqual(older, all[5:15]) {
			t.Fatalf("older page = %v, %v", texts(older), err)
		}
		oldest, err := s.RoomHistory(ctx, "general", older[0].ID, 10)
		if err != nil || !reflect.DeepEqual(oldest, all[:5]) {
			t.Fatalf("oldest page = %v, %v", texts(oldest), err)
		}
		none, err := s.RoomHistory(ctx, "general", all[0].ID, 10)
		if err != nil || len(none) != 0 {
			t.Fatalf("before the first = %v, %v", texts(none), err)
		}
		for _, limit := range []int{0, -1} {
			if h, err := s.RoomHistory(ctx, "general", 0, limit); err != nil || len(h) != 0 {
				t.Fatalf("limit %d = %v, %v", limit, texts(h), err)
			}
		}
		empty, err := s.RoomHistory(ctx, "nope", 0, 10)
		if err != nil || len(empty) != 0 {
			t.Fatalf("missing room = %v, %v", texts(empty), err)
		}
	})
}

func texts(ms []Message) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Text)
	}
	return out
}

func TestPrivateHistory(t *testing.T) {
	eachDB(t, func(t *testing.T, s Store) {
		ctx := ctxT(t)
		for _, u := range []string{"alice", "bob", "carol"} {
			mustUser(t, s, u)
		}
		var ab []Message
		for i := range 6 {
			from, to := "alice", "bob"
			if i%2 == 1 {
				from, to = to, from
			}
			ab = append(ab, mustAdd(t, s, Message{From: from, To: to, Text: fmt.Sprint(i)}))
			mustAdd(t, s, Message{From: "alice", To: "carol", Text: "not bob"})
			mustAdd(t, s, Message{From: "bob", Room: "general", Text: "public"})
		}
		for _, pair := range [][2]string{{"alice", "bob"}, {"bob", "alice"}} {
			h, err := s.PrivateHistory(ctx, pair[0], pair[1], 0, 4)
			if err != nil || !reflect.DeepEqual(h, ab[2:]) {
				t.Fatalf("PrivateHistory(%v) = %v, %v", pair, texts(h), err)
			}
			h, err = s.PrivateHistory(ctx, pair[0], pair[1], ab[2].ID, 4)
			if err != nil || !reflect.DeepEqual(h, ab[:2]) {
				t.Fatalf("PrivateHistory(%v) older = %v, %v", pair, texts(h), err)
			}
		}
		if ab[0].To != "bob" || ab[0].Room != "" || ab[1].From != "bob" {
			t.Fatalf("private message fields: %+v", ab[:2])
		}
	})
}

func TestMessagesSince(t *testing.T) {
	eachDB(t, func(t *testing.T, s Store) {
		ctx := ctxT(t)
		for _, u := range []string{"alice", "bob", "carol"} {
			mustUser(t, s, u)
		}
		if _, err := s.CreateRoom(ctx, "secret", "bob"); err != nil {
			t.Fatal(err)
		}
		mustJoin(t, s, "alice", "general")
		mustJoin(t, s, "bob", "general")
		mustJoin(t, s, "bob", "secret")
		start := mustAdd(t, s, Message{Room: "general", From: "bob", Text: "before"})
		var want []Message
		want = append(want, mustAdd(t, s, Message{Room: "general", From: "bob", Text: "g1"}))
		mustAdd(t, s, Message{Room: "secret", From: "bob", Text: "hidden"})
		want = append(want, mustAdd(t, s, Message{To: "alice", From: "bob", Text: "to alice"}))
		mustAdd(t, s, Message{To: "carol", From: "bob", Text: "to carol"})
		want = append(want, mustAdd(t, s, Message{To: "carol", From: "alice", Text: "from alice"}))
		want = append(want, mustAdd(t, s, Message{Room: "general", From: "alice", Text: "own"}))
		got, err := s.MessagesSince(ctx, "alice", start.ID, 100)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("MessagesSince = %v, %v; want %v", texts(got), err, texts(want))
		}
		got, err = s.MessagesSince(ctx, "alice", start.ID, 2)
		if err != nil || !reflect.DeepEqual(got, want[:2]) {
			t.Fatalf("MessagesSince limit 2 = %v, %v", texts(got), err)
		}
		got, err = s.MessagesSince(ctx, "alice", want[1].ID, 100)
		if err != nil || !reflect.DeepEqual(got, want[2:]) {
			t.Fatalf("MessagesSince from the 2nd = %v, %v", texts(got), err)
		}
		// Leaving a room hides it from what one missed.
		if err := s.LeaveRoom(ctx, "alice", "general"); err != nil {
			t.Fatal(err)
		}
		got, err = s.MessagesSince(ctx, "alice", start.ID, 100)
		if err != nil || !reflect.DeepEqual(got, []Message{want[1], want[2]}) {
			t.Fatalf("MessagesSince after leaving = %v, %v", texts(got), err)
		}
	})
}

func TestUnread(t *testing.T) {
	eachDB(t, func(t *testing.T, s Store) {
		ctx := ctxT(t)
		for _, u := range []string{"alice", "bob", "carol"} {
			mustUser(t, s, u)
		}
		unread := func(user string) map[string]int {
			t.Helper()
			u, err := s.Unread(ctx, user)
			if err != nil {
				t.Fatal(err)
			}
			return u
		}
		// What was said before alice joined is history, not unread.
		mustJoin(t, s, "bob", "general")
		mustAdd(t, s, Message{Room: "general", From: "bob", Text: "early"})
		mustJoin(t, s, "alice", "general")
		if u := unread("alice"); len(u) != 0 {
			t.Fatalf("unread right after joining: %v", u)
		}
		var g []Message
		for i := range 3 {
			g = append(g, mustAdd(t, s, Message{Room: "general", From: "bob", Text: fmt.Sprint(i)}))
		}
		mustAdd(t, s, Message{Room: "general", From: "alice", Text: "own"})
		p1 := mustAdd(t, s, Message{To: "alice", From: "bob", Text: "p1"})
		mustAdd(t, s, Message{To: "alice", From: "bob", Text: "p2"})
		mustAdd(t, s, Message{To: "alice", From: "carol", Text: "p3"})
		mustAdd(t, s, Message{To: "bob", From: "alice", Text: "own private"})
		if u, want := unread("alice"), map[string]int{"general": 3, "@bob": 2, "@carol": 1}; !reflect.DeepEqual(u, want) {
			t.Fatalf("Unread = %v, want %v", u, want)
		}
		if err := s.MarkRead(ctx, "alice", "general", g[1].ID); err != nil {
			t.Fatal(err)
		}
		if err := s.MarkRead(ctx, "alice", "@bob", p1.ID); err != nil {
			t.Fatal(err)
		}
		if u, want := unread("alice"), map[string]int{"general": 1, "@bob": 1, "@carol": 1}; !reflect.DeepEqual(u, want) {
			t.Fatalf("Unread after marking = %v, want %v", u, want)
		}
		// A late, older mark does not bring messages back.
		if err := s.MarkRead(ctx, "alice", "general", g[0].ID); err != nil {
			t.Fatal(err)
		}
		if err := s.MarkRead(ctx, "alice", "@carol", 1<<40); err != nil {
			t.Fatal(err)
		}
		if u, want := unread("alice"), map[string]int{"general": 1, "@bob": 1}; !reflect.DeepEqual(u, want) {
			t.Fatalf("Unread after an older mark = %v, want %v", u, want)
		}
		// Bob's own messages are not unread for him; alice's private one is.
		if u, want := unread("bob"), map[string]int{"general": 1, "@alice": 1}; !reflect.DeepEqual(u, want) {
			t.Fatalf("Unread(bob) = %v, want %v", u, want)
		}
	})
}

func TestFiles(t *testing.T) {
	eachDB(t, func(t *testing.T, s Store) {
		ctx := ctxT(t)
		for _, u := range []string{"alice", "bob", "carol", "dave"} {
			mustUser(t, s, u)
		}
		data := bytes.Repeat([]byte{0, 1, 2, 255}, 1<<16)
		f, err := s.SaveFile(ctx, "alice", "cat.png", "image/png", data)
		if err != nil || f.ID == 0 || f.Name != "cat.png" || f.Type != "image/png" || f.Size != int64(len(data)) {
			t.Fatalf("SaveFile = %+v, %v", f, err)
		}
		info, got, err := s.File(ctx, f.ID)
		if err != nil || info != f || !bytes.Equal(got, data) {
			t.Fatalf("File = %+v, %d bytes, %v", info, len(got), err)
		}
		if _, _, err := s.File(ctx, f.ID+100); !errors.Is(err, ErrNotFound) {
			t.Fatalf("File(missing): %v, want ErrNotFound", err)
		}
		empty, err := s.SaveFile(ctx, "alice", "empty.txt", "text/plain", nil)
		if err != nil || empty.Size != 0 {
			t.Fatalf("empty file: %+v, %v", empty, err)
		}
		if _, err := s.SaveFile(ctx, "nobody", "x", "text/plain", []byte("x")); !errors.Is(err, ErrNotFound) {
			t.Fatalf("file of a missing user: %v, want ErrNotFound", err)
		}

		visible := func(user string, id int64) bool {
			t.Helper()
			ok, err := s.FileVisible(ctx, user, id)
			if err != nil {
				t.Fatal(err)
			}
			return ok
		}
		if !visible("alice", f.ID) || visible("bob", f.ID) {
			t.Fatal("before it is sent, only the uploader sees a file")
		}
		// In a room: its members see it, others do not.
		mustJoin(t, s, "bob", "general")
		m := mustAdd(t, s, Message{Room: "general", From: "alice", Text: "look", File: &FileInfo{ID: f.ID}})
		if m.File == nil || *m.File != f {
			t.Fatalf("message's file = %+v, want %+v", m.File, f)
		}
		h, err := s.RoomHistory(ctx, "general", 0, 1)
		if err != nil || len(h) != 1 || h[0].File == nil || *h[0].File != f {
			t.Fatalf("history's file = %+v, %v", h, err)
		}
		if !visible("bob", f.ID) || visible("carol", f.ID) {
			t.Fatal("a file in general: bob (member) should see it, carol (not) should not")
		}
		// In private: the two of them only.
		g, err := s.SaveFile(ctx, "carol", "note.txt", "text/plain", []byte("for dave"))
		if err != nil {
			t.Fatal(err)
		}
		mustAdd(t, s, Message{To: "dave", From: "carol", Text: "", File: &g})
		if !visible("carol", g.ID) || !visible("dave", g.ID) || visible("alice", g.ID) || visible("bob", g.ID) {
			t.Fatal("a private file: visible to carol and dave only")
		}
		if visible("alice", 12345) {
			t.Fatal("a missing file is visible")
		}
	})
}

// Many senders at once: every message is stored once, under its own ID,
// and comes back as stored; retries racing with their original store one.
func TestConcurrentAdd(t *testing.T) {
	eachDB(t, func(t *testing.T, s Store) {
		ctx := ctxT(t)
		const senders, each = 16, 25
		for i := range senders {
			mustUser(t, s, fmt.Sprintf("user%02d", i))
		}
		var mu sync.Mutex
		byID := map[int64]Message{}
		var wg sync.WaitGroup
		for i := range senders {
			wg.Go(func() {
				from := fmt.Sprintf("user%02d", i)
				for j := range each {
					m := Message{Room: "general", From: from, Text: fmt.Sprint(j), ClientID: fmt.Sprintf("c%d", j)}
					// Every other message is sent twice at once, like a
					// retry racing its original.
					n := 1 + j%2
					got := make(chan Message, n)
					for range n {
						wg.Go(func() {
							st, _, err := s.AddMessage(ctx, m)
							if err != nil {
								t.Error(err)
							}
							got <- st
						})
					}
					for range n {
						st := <-got
						mu.Lock()
						if old, ok := byID[st.ID]; ok && !reflect.DeepEqual(old, st) {
							t.Errorf("ID %d handed out twice: %+v and %+v", st.ID, old, st)
						}
						byID[st.ID] = st
						mu.Unlock()
					}
				}
			})
		}
		wg.Wait()
		if len(byID) != senders*each {
			t.Fatalf("%d distinct messages acknowledged, want %d", len(byID), senders*each)
		}
		h, err := s.RoomHistory(ctx, "general", 0, 10*senders*each)
		if err != nil {
			t.Fatal(err)
		}
		if len(h) != senders*each {
			t.Fatalf("%d messages stored, want %d", len(h), senders*each)
		}
		for i, m := range h {
			if !reflect.DeepEqual(byID[m.ID], m) {
				t.Fatalf("stored %+v, acknowledged %+v", m, byID[m.ID])
			}
			if i > 0 && m.ID <= h[i-1].ID {
				t.Fatal("history not in ID order")
			}
		}
	})
}

// Offsets become visible in order: a reader polling "after the last ID I
// saw" while two stores on one database (two nodes of the chat) write at
// once never skips a message committed later with a smaller ID (the reason
// for PostgreSQL's advisory lock; within one process the writer goroutine
// alone would keep them in order).
func TestOffsetsVisibleInOrder(t *testing.T) {
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			t.Parallel()
			db := k.make(t)
			nodes := []Store{db.open(t), db.open(t)}
			for _, s := range nodes {
				defer s.Close()
			}
			s := nodes[0]
			ctx := ctxT(t)
			mustUser(t, s, "alice")
			mustJoin(t, s, "alice", "general")
			const writers, each = 8, 40
			var wg sync.WaitGroup
			for i := range writers {
				wg.Go(func() {
					for j := range each {
						m := Message{Room: "general", From: "alice", Text: fmt.Sprint(i, j)}
						if _, _, err := nodes[i%2].AddMessage(ctx, m); err != nil {
							t.Error(err)
							return
						}
					}
				})
			}
			done := make(chan struct{})
			go func() { wg.Wait(); close(done) }()
			var seen []int64
			var last int64
			for finished := false; ; {
				select {
				case <-done:
					finished = true
				default:
				}
				ms, err := s.MessagesSince(ctx, "alice", last, 1000)
				if err != nil {
					t.Fatal(err)
				}
				for _, m := range ms {
					seen = append(seen, m.ID)
					last = m.ID
				}
				if finished && len(ms) == 0 {
					break
				}
			}
			all, err := s.RoomHistory(ctx, "general", 0, writers*each+1)
			if err != nil {
				t.Fatal(err)
			}
			if len(all) != writers*each {
				t.Fatalf("%d messages stored, want %d", len(all), writers*each)
			}
			if len(seen) != len(all) {
				t.Fatalf("the poller saw %d messages of %d: it skipped some", len(seen), len(all))
			}
			for i := range all {
				if all[i].ID != seen[i] {
					t.Fatalf("poller saw %d where %d is stored", seen[i], all[i].ID)
				}
			}
		})
	}
}

// The schema survives a reopen, migrations are not applied twice, and IDs
// keep growing.
func TestReopen(t *testing.T) {
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			t.Parallel()
			db := k.make(t)
			s := db.open(t)
			mustUser(t, s, "alice")
			m := mustAdd(t, s, Message{Room: "general", From: "alice", Text: "one"})
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if _, _, err := s.AddMessage(context.Background(), Message{Room: "general", From: "alice", Text: "late"}); !errors.Is(err, ErrClosed) {
				t.Fatalf("AddMessage after Close: %v, want ErrClosed", err)
			}
			s = db.open(t)
			defer s.Close()
			h, err := s.RoomHistory(ctxT(t), "general", 0, 10)
			if err != nil || !reflect.DeepEqual(h, []Message{m}) {
				t.Fatalf("after reopening: %+v, %v", h, err)
			}
			m2 := mustAdd(t, s, Message{Room: "general", From: "alice", Text: "two"})
			if m2.ID <= m.ID {
				t.Fatalf("ID after reopening %d <= %d", m2.ID, m.ID)
			}
			// One row per migration: reopening applied none twice.
			ms, err := loadMigrations(migrations, "migrations/"+s.(*sqlStore).d.name)
			if err != nil {
				t.Fatal(err)
			}
			var n int
			if err := s.(*sqlStore).r.QueryRow(`SELECT COUNT(*) FROM schema_version`).Scan(&n); err != nil || n != len(ms) {
				t.Fatalf("schema_version rows = %d, %v; want %d", n, err, len(ms))
			}
		})
	}
}

// A caller that gives up before its message reaches the writer gets its
// context's error.
func TestAddMessageCanceled(t *testing.T) {
	eachDB(t, func(t *testing.T, s Store) {
		mustUser(t, s, "alice")
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, _, err := s.AddMessage(ctx, Message{Room: "general", From: "alice", Text: "x"}); !errors.Is(err, context.Canceled) {
			t.Fatalf("AddMessage with a canceled context: %v", err)
		}
	})
}
