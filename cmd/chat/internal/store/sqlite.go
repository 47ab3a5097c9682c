package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"runtime"
	"strings"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// The SQLite settings, on every connection:
//   - journal_mode WAL: readers do not block the writer nor it them;
//   - synchronous FULL: in WAL mode, every commit syncs the log, so a
//     commit that returned survives a crash of the process and of the
//     machine (NORMAL would lose the last commits on power loss);
//   - busy_timeout: another process's writer (a second chat on the same
//     file, the sqlite3 shell) is waited for instead of failing at once;
//   - foreign_keys: on, so that a message to a missing room fails.
//
// Writes go through one connection: SQLite has one writer at a time
// anyway, and with one connection in the process they queue in Go instead
// of spinning on SQLITE_BUSY. Its transactions begin IMMEDIATE (take the
// write lock at BEGIN), so that a read-then-write transaction cannot fail
// half-way with a busy error.
const sqlitePragmas = "_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)"

// OpenSQLite opens (creating it when absent) the SQLite database in the
// file at path and brings its schema up to date.
func OpenSQLite(ctx context.Context, path string) (Store, error) {
	if path == "" || path == ":memory:" || strings.HasPrefix(path, "file:") || strings.Contains(path, "?") {
		// The writer and the readers are separate connections to one
		// file: an in-memory database would be a different one each.
		return nil, fmt.Errorf("store: SQLite wants a plain file path, not %q", path)
	}
	name := "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + sqlitePragmas
	w, err := sql.Open("sqlite", name+"&_txlock=immediate")
	if err != nil {
		return nil, err
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	if err := migrate(ctx, w, migrations, "migrations/sqlite", ""); err != nil {
		w.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	r, err := sql.Open("sqlite", name)
	if err != nil {
		w.Close()
		return nil, err
	}
	n := max(4, runtime.GOMAXPROCS(0))
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	r.SetConnMaxIdleTime(0)
	return newSQLStore(dialect{name: "sqlite", classify: sqliteClassify}, r, w), nil
}

func sqliteClassify(err error) error {
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return err
	}
	switch e.Code() {
	case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		return fmt.Errorf("%w (%v)", ErrExists, err)
	case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
		return fmt.Errorf("%w (%v)", ErrNotFound, err)
	}
	return err
}
