package store

import (
	"database/sql"
	"io/fs"
	"net/url"
	"testing"
	"testing/fstest"
)

// A database made before migration 0002 keeps its API tokens: they get
// ids, work, and can be listed and revoked; new ones get other ids.
func TestAPITokenIDsMigration(t *testing.T) {
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			t.Parallel()
			ctx := ctxT(t)
			db := k.make(t)
			dir := "migrations/" + k.name
			first, err := fs.ReadFile(migrations, dir+"/0001_init.sql")
			if err != nil {
				t.Fatal(err)
			}
			var raw *sql.DB
			if k.name == "sqlite" {
				raw, err = sql.Open("sqlite", "file:"+(&url.URL{Path: db.dsn}).EscapedPath()+"?"+sqlitePragmas)
			} else {
				raw, err = sql.Open("pgx", db.dsn)
			}
			if err != nil {
				t.Fatal(err)
			}
			defer raw.Close()
			if err := migrate(ctx, raw, fstest.MapFS{"m/0001_init.sql": {Data: first}}, "m", ""); err != nil {
				t.Fatal(err)
			}
			var uid int64
			if err := raw.QueryRowContext(ctx, `INSERT INTO users(name, password_hash, created) VALUES ('alice', 'h', 1) RETURNING id`).Scan(&uid); err != nil {
				t.Fatal(err)
			}
			for _, h := range []string{"old1", "old2"} {
				if _, err := raw.ExecContext(ctx, `INSERT INTO api_tokens(token_hash, user_id, label, created) VALUES ($1, $2, $3, 2)`, []byte(h), uid, h); err != nil {
					t.Fatal(err)
				}
			}
			raw.Close()

			s := db.open(t) // applies 0002
			defer s.Close()
			for _, h := range []string{"old1", "old2"} {
				if u, err := s.APITokenUser(ctx, []byte(h)); err != nil || u.ID != uid {
					t.Fatalf("token %s after the migration: %+v, %v", h, u, err)
				}
			}
			ts, err := s.APITokens(ctx, uid)
			if err != nil || len(ts) != 2 || ts[0].ID == 0 || ts[0].ID == ts[1].ID {
				t.Fatalf("APITokens after the migration = %+v, %v", ts, err)
			}
			id, err := s.CreateAPIToken(ctx, []byte("new"), uid, "new")
			if err != nil || id == ts[0].ID || id == ts[1].ID {
				t.Fatalf("new token id %d, %v; old ones %+v", id, err, ts)
			}
			if _, err := s.DeleteAPIToken(ctx, uid, ts[0].ID); err != nil {
				t.Fatal(err)
			}
			if _, err := s.APITokenUser(ctx, []byte(ts[0].Label)); err == nil {
				t.Fatalf("revoked migrated token %s still works", ts[0].Label)
			}
		})
	}
}
