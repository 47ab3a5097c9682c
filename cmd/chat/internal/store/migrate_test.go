package store

import (
	"database/sql"
	"strings"
	"testing"
	"testing/fstest"
)

func TestMigrations(t *testing.T) {
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			t.Parallel()
			d := k.make(t)
			driver, lock := "sqlite", ""
			if k.name == "postgres" {
				driver, lock = "pgx", pgLockMigrate
			}
			db, err := sql.Open(driver, d.dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			ctx := ctxT(t)
			versions := func() string {
				t.Helper()
				rows, err := db.QueryContext(ctx, `SELECT name FROM schema_version ORDER BY version`)
				if err != nil {
					t.Fatal(err)
				}
				defer rows.Close()
				var names []string
				for rows.Next() {
					var n string
					if err := rows.Scan(&n); err != nil {
						t.Fatal(err)
					}
					names = append(names, n)
				}
				return strings.Join(names, " ")
			}
			fsys := fstest.MapFS{
				"m/0001_a.sql": {Data: []byte("CREATE TABLE a (x INTEGER); INSERT INTO a VALUES (1);")},
			}
			if err := migrate(ctx, db, fsys, "m", lock); err != nil {
				t.Fatal(err)
			}
			// A later version: only the new migration runs (0001 again
			// would fail: table a exists).
			fsys["m/0002_b.sql"] = &fstest.MapFile{Data: []byte("CREATE TABLE b (y INTEGER); INSERT INTO a VALUES (2);")}
			for range 2 {
				if err := migrate(ctx, db, fsys, "m", lock); err != nil {
					t.Fatal(err)
				}
			}
			if v := versions(); v != "0001_a.sql 0002_b.sql" {
				t.Fatalf("schema_version = %q", v)
			}
			var n int
			if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM a`).Scan(&n); err != nil || n != 2 {
				t.Fatalf("rows in a = %d, %v: a migration ran twice or not at all", n, err)
			}
			// A failing migration leaves nothing of itself behind.
			fsys["m/0003_bad.sql"] = &fstest.MapFile{Data: []byte("CREATE TABLE c (z INTEGER); INSERT INTO nowhere VALUES (1);")}
			if err := migrate(ctx, db, fsys, "m", lock); err == nil || !strings.Contains(err.Error(), "0003_bad.sql") {
				t.Fatalf("bad migration: %v", err)
			}
			if v := versions(); v != "0001_a.sql 0002_b.sql" {
				t.Fatalf("schema_version after a failed migration = %q", v)
			}
			if _, err := db.ExecContext(ctx, `CREATE TABLE c (z INTEGER)`); err != nil {
				t.Fatalf("the failed migration's table is left behind: %v", err)
			}
		})
	}
}

func TestMigrationNames(t *testing.T) {
	for name, fsys := range map[string]fstest.MapFS{
		"unnumbered": {"m/0001_a.sql": {}, "m/b.sql": {}},
		"gap":        {"m/0001_a.sql": {}, "m/0003_c.sql": {}},
		"not sql":    {"m/0001_a.txt": {}},
		"twice":      {"m/0001_a.sql": {}, "m/0001_b.sql": {}},
	} {
		if _, err := loadMigrations(fsys, "m"); err == nil {
			t.Errorf("%s: loaded", name)
		}
	}
	// The shipped ones load, numbered from 1 without gaps.
	for _, dir := range []string{"migrations/sqlite", "migrations/postgres"} {
		ms, err := loadMigrations(migrations, dir)
		if err != nil || len(ms) == 0 {
			t.Errorf("%s: %d, %v", dir, len(ms), err)
		}
	}
}
