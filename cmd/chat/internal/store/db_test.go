package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// Every behaviour is tested on both databases, each test in a database of
// its own: a fresh SQLite file, or a fresh PostgreSQL schema (named in the
// connection's search_path and dropped at cleanup), so that tests and
// concurrent runs of them do not see each other's rows.

const defaultPostgres = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

func postgresURL() string {
	if u := os.Getenv("CHAT_TEST_POSTGRES"); u != "" {
		return u
	}
	return defaultPostgres
}

// testDB is one fresh database: dsn is what Open takes, so that a test can
// open it again (after a close, or in a child process).
type testDB struct {
	kind string
	dsn  string
}

var kinds = []struct {
	name string
	make func(testing.TB) testDB
}{
	{"sqlite", newSQLiteDB},
	{"postgres", newPostgresDB},
}

func newSQLiteDB(tb testing.TB) testDB {
	return testDB{kind: "sqlite", dsn: filepath.Join(tb.TempDir(), "chat.db")}
}

// newPostgresDB creates a schema of its own. PostgreSQL being unreachable
// fails the test: the store's tests are the proof that it works there.
func newPostgresDB(tb testing.TB) testDB {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	base := postgresURL()
	admin, err := sql.Open("pgx", base)
	if err != nil {
		tb.Fatalf("PostgreSQL at %s: %v", base, err)
	}
	tb.Cleanup(func() { admin.Close() })
	var b [8]byte
	rand.Read(b[:])
	schema := "chat_test_" + hex.EncodeToString(b[:])
	if _, err := admin.ExecContext(ctx, `CREATE SCHEMA `+schema); err != nil {
		tb.Fatalf("PostgreSQL at %s (set CHAT_TEST_POSTGRES to another URL): %v", base, err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, `DROP SCHEMA `+schema+` CASCADE`); err != nil {
			tb.Errorf("drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return testDB{kind: "postgres", dsn: u.String()}
}

func (d testDB) open(tb testing.TB) Store {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := Open(ctx, d.dsn)
	if err != nil {
		tb.Fatalf("open %s: %v", d.kind, err)
	}
	return s
}

// eachDB runs f on a fresh store of each kind.
func eachDB(t *testing.T, f func(t *testing.T, s Store)) {
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			t.Parallel()
			s := k.make(t).open(t)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("close: %v", err)
				}
			})
			f(t, s)
		})
	}
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func mustUser(t testing.TB, s Store, name string) User {
	t.Helper()
	u, err := s.CreateUser(ctxT(t), name, "hash-of-"+name)
	if err != nil {
		t.Fatalf("CreateUser(%s): %v", name, err)
	}
	return u
}

func mustJoin(t testing.TB, s Store, user, room string) {
	t.Helper()
	if err := s.JoinRoom(ctxT(t), user, room); err != nil {
		t.Fatalf("JoinRoom(%s, %s): %v", user, room, err)
	}
}

func mustAdd(t testing.TB, s Store, m Message) Message {
	t.Helper()
	got, dup, err := s.AddMessage(ctxT(t), m)
	if err != nil || dup {
		t.Fatalf("AddMessage(%+v) = dup %v, %v", m, dup, err)
	}
	return got
}
