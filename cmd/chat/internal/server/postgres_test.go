package server

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql's "pgx", for the schema

	"github.com/switchboard-go/socketio/cmd/chat/internal/store"
	"github.com/switchboard-go/socketio/socketiotest"
)

// openPostgres opens the store on a fresh schema of the PostgreSQL at
// CHAT_TEST_POSTGRES (default the local test database), dropped at the
// end. PostgreSQL being unreachable fails the test.
func openPostgres(t *testing.T) store.Store {
	t.Helper()
	return openPostgresURL(t, postgresSchema(t))
}

// postgresSchema makes a fresh schema, dropped at the end of the test,
// and returns the URL of a store on it: several stores opened on it (the
// nodes of a cluster) share one database as separate processes would.
func postgresSchema(t *testing.T) string {
	t.Helper()
	base := os.Getenv("CHAT_TEST_POSTGRES")
	if base == "" {
		base = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = admin.Close() })
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := "chat_server_test_" + hex.EncodeToString(b)
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("PostgreSQL at %s (CHAT_TEST_POSTGRES names another): %v", base, err)
	}
	// Registered before the store's Close (cleanups run last first): the
	// schema goes once nothing uses it.
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("dropping %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// openPostgresURL opens the store at dsn, closed at the end of the test.
func openPostgresURL(t *testing.T, dsn string) store.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// TestPostgres runs the chat's events on PostgreSQL, each test on a
// schema of its own: the handlers' test over long-polling upgraded to
// WebSocket, and a catch-up by offset.
func TestPostgres(t *testing.T) {
	t.Run("chat", func(t *testing.T) {
		testChat(t, newEnv(t, openPostgres(t), Config{HistoryPage: 5}), socketiotest.Upgrade)
	})
	t.Run("catch-up", func(t *testing.T) {
		testOffsetCatchUp(t, newEnv(t, openPostgres(t), Config{}))
	})
}
