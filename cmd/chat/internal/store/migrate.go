package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

// The migrations are numbered SQL files, one directory per database,
// embedded in the binary: a fresh database gets them all, an older one the
// ones it lacks. schema_version lists those applied. Each runs in its own
// transaction with its version row, so a crash leaves a migration either
// applied and recorded or neither.
//
//go:embed migrations
var migrations embed.FS

type migration struct {
	version int
	name    string
	sql     string
}

func loadMigrations(fsys fs.FS, dir string) ([]migration, error) {
	ents, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, e := range ents {
		n := e.Name()
		num, _, ok := strings.Cut(n, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || !strings.HasSuffix(n, ".sql") {
			return nil, fmt.Errorf("store: migration %s/%s: name is not NNNN_name.sql", dir, n)
		}
		b, err := fs.ReadFile(fsys, path.Join(dir, n))
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: n, sql: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i := range ms {
		if ms[i].version != i+1 {
			return nil, fmt.Errorf("store: migrations %s: %s should be number %d", dir, ms[i].name, i+1)
		}
	}
	return ms, nil
}

// migrate brings db's schema up to date with the migrations in dir of
// fsys (the embedded migrations/sqlite or migrations/postgres). lock, when set, runs first in each
// migration's transaction so that two processes starting at once on one
// database migrate one after the other (SQLite's write transactions,
// begun IMMEDIATE, already do).
func migrate(ctx context.Context, db *sql.DB, fsys fs.FS, dir, lock string) error {
	ms, err := loadMigrations(fsys, dir)
	if err != nil {
		return err
	}
	for _, m := range append([]migration{{name: "schema_version"}}, ms...) {
		if err := applyMigration(ctx, db, m, lock); err != nil {
			return fmt.Errorf("store: migration %s/%s: %w", dir, m.name, err)
		}
	}
	return nil
}

func applyMigration(ctx context.Context, db *sql.DB, m migration, lock string) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	if lock != "" {
		if _, err := tx.ExecContext(ctx, lock); err != nil {
			return err
		}
	}
	if m.version == 0 {
		// The table the others are recorded in, created under the same
		// lock (two processes creating it at once can collide on
		// PostgreSQL even with IF NOT EXISTS).
		if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (
			version INTEGER PRIMARY KEY,
			name    TEXT NOT NULL
		)`); err != nil {
			return err
		}
		return tx.Commit()
	}
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_version WHERE version = $1`, m.version).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_version(version, name) VALUES ($1, $2)`, m.version, m.name); err != nil {
		return err
	}
	return tx.Commit()
}
