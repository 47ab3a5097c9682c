package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

// PostgreSQL is reached through pgx's database/sql driver rather than
// pgxpool: the SQLite store is database/sql too, so both run one
// implementation of the queries (sql.go) and what the shared tests prove
// of one holds of the other. pgx's own API would save an allocation or
// two per query; the cost of a message is its commit, not that.

// Offsets on PostgreSQL. An identity column hands out IDs in the order
// transactions ask for them, not in the order they commit: T1 takes 7,
// T2 takes 8 and commits first, and a client reading "after 6" at that
// moment gets 8, remembers 8, and never sees 7. So every transaction that
// inserts messages first takes a transaction-scoped advisory lock, held
// until it ends: inserts of messages run one transaction at a time, each
// takes its IDs after the previous one committed (and became visible,
// which PostgreSQL does before it releases the locks), so IDs become
// visible in increasing order. The lock serialises message writes, all
// nodes of the chat included; the writer's batching (batch.go) shares each
// turn among all the messages waiting, so throughput still grows with
// the number of senders. The key includes the schema, so that chats (or
// tests) in separate schemas of one database do not wait on each other.
const (
	pgLockMessages = `SELECT pg_advisory_xact_lock(hashtext('switchboard-chat:messages'), hashtext(current_schema()))`
	pgLockMigrate  = `SELECT pg_advisory_xact_lock(hashtext('switchboard-chat:migrate'), hashtext(current_schema()))`
)

// OpenPostgres opens the PostgreSQL database at url (postgres://...; pgx's
// parameters apply, and any other query parameter, such as search_path,
// is set on each connection) and brings its schema up to date.
func OpenPostgres(ctx context.Context, url string) (Store, error) {
	db, err := sql.Open("pgx", url)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	db.SetMaxOpenConns(16)
	db.SetMaxIdleConns(16)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: connect to PostgreSQL: %w", err)
	}
	if err := migrate(ctx, db, migrations, "migrations/postgres", pgLockMigrate); err != nil {
		db.Close()
		return nil, err
	}
	d := dialect{name: "postgres", classify: pgClassify, lockMessages: pgLockMessages, pipeline: true}
	return newSQLStore(d, db, db), nil
}

func pgClassify(err error) error {
	var e *pgconn.PgError
	if !errors.As(err, &e) {
		return err
	}
	switch e.Code {
	case "23505": // unique_violation
		return fmt.Errorf("%w (%v)", ErrExists, err)
	case "23503": // foreign_key_violation
		return fmt.Errorf("%w (%v)", ErrNotFound, err)
	}
	return err
}

// insertPipeline stores reqs' messages on PostgreSQL in one round trip:
// the advisory lock and every insert are sent as one pgx batch, which the
// server runs as one implicit transaction, committed at the batch's end
// (the extended protocol's Sync) before the results are complete. Through
// database/sql the same would cost a round trip per statement, plus BEGIN
// and COMMIT. Results are set only once the commit is known to have
// happened (the batch closed without error).
func (s *sqlStore) insertPipeline(ctx context.Context, reqs []*addReq) error {
	conn, err := s.w.Conn(ctx)
	if err != nil {
		return s.err(err)
	}
	defer conn.Close()
	res := make([]addRes, len(reqs))
	err = conn.Raw(func(dc any) error {
		pc := dc.(*stdlib.Conn).Conn()
		var b pgx.Batch
		b.Queue(pgLockMessages)
		ms := make([]Message, len(reqs))
		for i, r := range reqs {
			ms[i] = r.m
			b.Queue(insertMessage, insertArgs(&ms[i])...)
		}
		br := pc.SendBatch(ctx, &b)
		if _, err := br.Exec(); err != nil {
			br.Close()
			return err
		}
		for i := range reqs {
			err := br.QueryRow().Scan(&ms[i].ID)
			switch {
			case errors.Is(err, pgx.ErrNoRows) && ms[i].ClientID != "":
				res[i] = addRes{dup: true}
			case err != nil:
				br.Close()
				return err
			default:
				res[i] = addRes{m: ms[i]}
			}
		}
		return br.Close()
	})
	if err != nil {
		return s.err(err)
	}
	for i, r := range reqs {
		r.res = res[i]
	}
	return nil
}
