package store

import (
	"context"
	"database/sql"
	"errors"
	"sync"
	"time"
)

// dialect is what differs between SQLite and PostgreSQL. The queries
// themselves are shared: both take $N placeholders, ON CONFLICT and
// RETURNING, and the schemas keep times as Unix microseconds in a 64-bit
// integer, so one implementation serves both and both run the same tests.
type dialect struct {
	name string
	// classify maps a driver error to ErrExists (a unique key taken) or
	// ErrNotFound (a foreign key naming a row that does not exist), or
	// returns it unchanged.
	classify func(error) error
	// lockMessages, when set, runs first in every transaction that inserts
	// messages (PostgreSQL: see postgres.go).
	lockMessages string
	// pipeline: messages are inserted by insertPipeline (pgx) rather than
	// in a database/sql transaction.
	pipeline bool
}

// sqlStore implements Store on database/sql.
type sqlStore struct {
	d dialect
	r *sql.DB // reads
	w *sql.DB // writes; the same pool as r on PostgreSQL, one connection on SQLite
	b *batcher

	closed    chan struct{} // closed by Close: AddMessage stops taking messages
	closeOnce sync.Once
	closeErr  error
}

func newSQLStore(d dialect, r, w *sql.DB) *sqlStore {
	s := &sqlStore{d: d, r: r, w: w, closed: make(chan struct{})}
	s.b = newBatcher(s.addBatch)
	s.b.start(s.closed)
	return s
}

// micros is how the schema keeps a time: Unix microseconds, the precision
// PostgreSQL would keep anyway.
func micros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

// now is the store's clock, truncated to what the schema keeps so that a
// value returned by a write equals the value read back later.
func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

func nullStr(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }

func (s *sqlStore) err(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	return s.d.classify(err)
}

// Accounts.

func (s *sqlStore) CreateUser(ctx context.Context, name, passwordHash string) (User, error) {
	u := User{Name: name, PasswordHash: passwordHash, Created: now()}
	err := s.w.QueryRowContext(ctx,
		`INSERT INTO users(name, password_hash, created) VALUES ($1, $2, $3) RETURNING id`,
		name, passwordHash, micros(u.Created)).Scan(&u.ID)
	if err != nil {
		return User{}, s.err(err)
	}
	return u, nil
}

const userCols = `u.id, u.name, u.password_hash, u.created`

func scanUser(row *sql.Row) (User, error) {
	var u User
	var created int64
	if err := row.Scan(&u.ID, &u.Name, &u.PasswordHash, &created); err != nil {
		return User{}, err
	}
	u.Created = fromMicros(created)
	return u, nil
}

func (s *sqlStore) UserByName(ctx context.Context, name string) (User, error) {
	u, err := scanUser(s.r.QueryRowContext(ctx, `SELECT `+userCols+` FROM users u WHERE u.name = $1`, name))
	return u, s.err(err)
}

func (s *sqlStore) SetPasswordHash(ctx context.Context, userID int64, old, hash string) (bool, error) {
	res, err := s.w.ExecContext(ctx, `UPDATE users SET password_hash = $1 WHERE id = $2 AND password_hash = $3`, hash, userID, old)
	if err != nil {
		return false, s.err(err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, s.err(err)
	}
	if n == 0 {
		if err := s.r.QueryRowContext(ctx, `SELECT 1 FROM users WHERE id = $1`, userID).Scan(new(int)); err != nil {
			return false, s.err(err)
		}
	}
	return n > 0, nil
}

// Sessions and API tokens.

func (s *sqlStore) CreateSession(ctx context.Context, tokenHash []byte, userID int64, expires time.Time) error {
	// Expired sessions are deleted by DeleteExpiredSessions, which the
	// auth package runs on a timer, a bounded number at a time.
	_, err := s.w.ExecContext(ctx, `INSERT INTO sessions(token_hash, user_id, expires) VALUES ($1, $2, $3)`,
		tokenHash, userID, micros(expires))
	return s.err(err)
}

func (s *sqlStore) DeleteExpiredSessions(ctx context.Context, before time.Time, limit int) (int64, error) {
	if limit <= 0 {
		return 0, nil
	}
	// A subquery with LIMIT, since neither database takes DELETE ... LIMIT
	// as written here; the index sessions_expires finds the rows.
	res, err := s.w.ExecContext(ctx, `DELETE FROM sessions WHERE token_hash IN (
		SELECT token_hash FROM sessions WHERE expires <= $1 ORDER BY expires LIMIT $2)`, micros(before), limit)
	if err != nil {
		return 0, s.err(err)
	}
	n, err := res.RowsAffected()
	return n, s.err(err)
}

func (s *sqlStore) SessionUser(ctx context.Context, tokenHash []byte, at time.Time) (User, error) {
	u, err := scanUser(s.r.QueryRowContext(ctx, `SELECT `+userCols+` FROM sessions s JOIN users u ON u.id = s.user_id
		WHERE s.token_hash = $1 AND s.expires > $2`, tokenHash, micros(at)))
	return u, s.err(err)
}

func (s *sqlStore) DeleteSession(ctx context.Context, tokenHash []byte) error {
	_, err := s.w.ExecContext(ctx, `DELETE FROM sessions WHERE token_hash = $1`, tokenHash)
	return s.err(err)
}

func (s *sqlStore) CreateAPIToken(ctx context.Context, tokenHash []byte, userID int64, label string) (int64, error) {
	var id int64
	err := s.w.QueryRowContext(ctx, `INSERT INTO api_tokens(token_hash, user_id, label, created) VALUES ($1, $2, $3, $4) RETURNING id`,
		tokenHash, userID, label, micros(now())).Scan(&id)
	if err != nil {
		return 0, s.err(err)
	}
	return id, nil
}

func (s *sqlStore) APITokens(ctx context.Context, userID int64) ([]APIToken, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, label, created FROM api_tokens WHERE user_id = $1 ORDER BY id`, userID)
	if err != nil {
		return nil, s.err(err)
	}
	defer rows.Close()
	out := []APIToken{}
	for rows.Next() {
		var t APIToken
		var created int64
		if err := rows.Scan(&t.ID, &t.Label, &created); err != nil {
			return nil, s.err(err)
		}
		t.Created = fromMicros(created)
		out = append(out, t)
	}
	return out, s.err(rows.Err())
}

func (s *sqlStore) DeleteAPIToken(ctx context.Context, userID, id int64) ([]byte, error) {
	var h []byte
	err := s.w.QueryRowContext(ctx, `DELETE FROM api_tokens WHERE id = $1 AND user_id = $2 RETURNING token_hash`, id, userID).Scan(&h)
	if err != nil {
		return nil, s.err(err)
	}
	return h, nil
}

func (s *sqlStore) APITokenUser(ctx context.Context, tokenHash []byte) (User, error) {
	u, err := scanUser(s.r.QueryRowContext(ctx, `SELECT `+userCols+` FROM api_tokens t JOIN users u ON u.id = t.user_id
		WHERE t.token_hash = $1`, tokenHash))
	return u, s.err(err)
}

// Rooms and membership.

func (s *sqlStore) CreateRoom(ctx context.Context, name, createdBy string) (Room, error) {
	r := Room{Name: name, CreatedBy: createdBy, Created: now()}
	_, err := s.w.ExecContext(ctx, `INSERT INTO rooms(name, created_by, created) VALUES ($1, $2, $3)`,
		name, nullStr(createdBy), micros(r.Created))
	if err != nil {
		return Room{}, s.err(err)
	}
	return r, nil
}

func scanRoom(sc interface{ Scan(...any) error }) (Room, error) {
	var r Room
	var by sql.NullString
	var created int64
	if err := sc.Scan(&r.Name, &by, &created); err != nil {
		return Room{}, err
	}
	r.CreatedBy = by.String
	r.Created = fromMicros(created)
	return r, nil
}

func (s *sqlStore) Room(ctx context.Context, name string) (Room, error) {
	r, err := scanRoom(s.r.QueryRowContext(ctx, `SELECT name, created_by, created FROM rooms WHERE name = $1`, name))
	return r, s.err(err)
}

func (s *sqlStore) Rooms(ctx context.Context) ([]Room, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT name, created_by, created FROM rooms ORDER BY name`)
	if err != nil {
		return nil, s.err(err)
	}
	defer rows.Close()
	var out []Room
	for rows.Next() {
		r, err := scanRoom(rows)
		if err != nil {
			return nil, s.err(err)
		}
		out = append(out, r)
	}
	return out, s.err(rows.Err())
}

// JoinRoom also starts the user's read marker of the room at the room's
// newest message (when the user has none yet), so that joining a room does
// not show its whole past as unread: what came before the join is history.
func (s *sqlStore) JoinRoom(ctx context.Context, user, room string) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return s.err(err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	res, err := tx.ExecContext(ctx, `INSERT INTO members(room, user_name) VALUES ($1, $2) ON CONFLICT DO NOTHING`, room, user)
	if err != nil {
		return s.err(err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return nil // already a member
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO reads(user_name, key, up_to)
		SELECT $1, $2, COALESCE(MAX(id), 0) FROM messages WHERE room = $2
		ON CONFLICT DO NOTHING`, user, room); err != nil {
		return s.err(err)
	}
	return s.err(tx.Commit())
}

func (s *sqlStore) LeaveRoom(ctx context.Context, user, room string) error {
	_, err := s.w.ExecContext(ctx, `DELETE FROM members WHERE room = $1 AND user_name = $2`, room, user)
	return s.err(err)
}

func (s *sqlStore) UserRooms(ctx context.Context, user string) ([]string, error) {
	return s.names(ctx, `SELECT room FROM members WHERE user_name = $1 ORDER BY room`, user)
}

func (s *sqlStore) RoomMembers(ctx context.Context, room string) ([]string, error) {
	return s.names(ctx, `SELECT user_name FROM members WHERE room = $1 ORDER BY user_name`, room)
}

// names runs a query of one text column and returns its values.
func (s *sqlStore) names(ctx context.Context, query string, arg string) ([]string, error) {
	rows, err := s.r.QueryContext(ctx, query, arg)
	if err != nil {
		return nil, s.err(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, s.err(err)
		}
		out = append(out, n)
	}
	return out, s.err(rows.Err())
}

// Messages.

// pairKey names a private conversation: the two user names in order, so
// that a->b and b->a share one index range.
func pairKey(a, b string) string {
	if b < a {
		a, b = b, a
	}
	return a + " " + b // a space: no user name has one (valid.Username)
}

const msgCols = `m.id, m.room, m.from_user, m.to_user, m.text, m.client_id, m.sent, f.id, f.name, f.type, f.size`
const msgFrom = ` FROM messages m LEFT JOIN files f ON f.id = m.file_id `

func scanMessage(sc interface{ Scan(...any) error }) (Message, error) {
	var m Message
	var room, to, cid, fname, ftype sql.NullString
	var fid, fsize sql.NullInt64
	var sent int64
	if err := sc.Scan(&m.ID, &room, &m.From, &to, &m.Text, &cid, &sent, &fid, &fname, &ftype, &fsize); err != nil {
		return Message{}, err
	}
	m.Room, m.To, m.ClientID = room.String, to.String, cid.String
	m.Sent = fromMicros(sent)
	if fid.Valid {
		m.File = &FileInfo{ID: fid.Int64, Name: fname.String, Type: ftype.String, Size: fsize.Int64}
	}
	return m, nil
}

func (s *sqlStore) messages(ctx context.Context, limit int, q string, args ...any) ([]Message, error) {
	if limit <= 0 {
		// SQLite reads LIMIT -1 as "no limit", PostgreSQL refuses it:
		// answer the same on both.
		return []Message{}, nil
	}
	rows, err := s.r.QueryContext(ctx, `SELECT `+msgCols+msgFrom+q, args...)
	if err != nil {
		return nil, s.err(err)
	}
	defer rows.Close()
	out := []Message{}
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, s.err(err)
		}
		out = append(out, m)
	}
	return out, s.err(rows.Err())
}

// errBadMessage is AddMessage's answer to a message that is neither to a
// room nor to a user, or both: a caller's bug, not the store's.
var errBadMessage = errors.New("store: a message goes to a room or to a user, exactly one")

func (s *sqlStore) AddMessage(ctx context.Context, m Message) (Message, bool, error) {
	if (m.Room == "") == (m.To == "") || m.From == "" {
		return Message{}, false, errBadMessage
	}
	if m.File != nil {
		// The stored message names the file as stored, whatever the
		// caller filled in besides its ID. Files never change, so this
		// is read before the writer's transaction, keeping that short;
		// the foreign key still guards the insert.
		f := FileInfo{ID: m.File.ID}
		err := s.r.QueryRowContext(ctx, `SELECT name, type, size FROM files WHERE id = $1`, f.ID).Scan(&f.Name, &f.Type, &f.Size)
		if err != nil {
			return Message{}, false, s.err(err)
		}
		m.File = &f
	}
	return s.b.add(ctx, s.closed, m)
}

// insertMessage stores one message, unless its author already used its
// client id (the unique index): then it returns no row. It relies on
// being the only writer of messages while its transaction lasts (SQLite's
// one write connection, PostgreSQL's advisory lock), so that the message
// it collides with is committed, or earlier in the same transaction, and
// can be read once the transaction has committed.
const insertMessage = `INSERT INTO messages(room, from_user, to_user, pair, text, file_id, client_id, sent)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
	ON CONFLICT (from_user, client_id) WHERE client_id IS NOT NULL DO NOTHING
	RETURNING id`

// insertArgs sets m's time and returns insertMessage's arguments for it.
func insertArgs(m *Message) []any {
	m.Sent = now()
	var pair sql.NullString
	if m.To != "" {
		pair = nullStr(pairKey(m.From, m.To))
	}
	var fileID sql.NullInt64
	if m.File != nil {
		fileID = sql.NullInt64{Int64: m.File.ID, Valid: true}
	}
	return []any{nullStr(m.Room), m.From, nullStr(m.To), pair, m.Text, fileID, nullStr(m.ClientID), micros(m.Sent)}
}

// addBatch stores the messages of one batch in one transaction, so that
// they share one commit (one fsync on SQLite, one WAL flush on
// PostgreSQL). When any of them fails (a room that does not exist, say),
// the transaction is rolled back and each is stored in a transaction of its
// own instead, so that one bad message fails alone. Retries (dup) get
// the message they repeat, read once the batch has committed.
func (s *sqlStore) addBatch(ctx context.Context, reqs []*addReq) {
	insert := s.insertTx
	if s.d.pipeline {
		insert = s.insertPipeline
	}
	if err := insert(ctx, reqs); err != nil {
		if len(reqs) == 1 {
			reqs[0].res = addRes{err: err}
		} else {
			for _, r := range reqs {
				if err := insert(ctx, []*addReq{r}); err != nil {
					r.res = addRes{err: err}
				}
			}
		}
	}
	for _, r := range reqs {
		if r.res.err == nil && r.res.dup {
			old, err := scanMessage(s.r.QueryRowContext(ctx, `SELECT `+msgCols+msgFrom+
				`WHERE m.from_user = $1 AND m.client_id = $2`, r.m.From, r.m.ClientID))
			r.res = addRes{m: old, dup: true, err: s.err(err)}
		}
	}
}

// insertTx stores reqs' messages in one database/sql transaction (SQLite:
// every statement is a call into the library, no round trip).
func (s *sqlStore) insertTx(ctx context.Context, reqs []*addReq) error {
	res := make([]addRes, len(reqs))
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		for i, r := range reqs {
			m := r.m
			err := tx.QueryRowContext(ctx, insertMessage, insertArgs(&m)...).Scan(&m.ID)
			switch {
			case errors.Is(err, sql.ErrNoRows) && m.ClientID != "":
				res[i] = addRes{dup: true}
			case err != nil:
				return s.err(err)
			default:
				res[i] = addRes{m: m}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for i, r := range reqs {
		r.res = res[i]
	}
	return nil
}

// inTx runs f in a write transaction that takes the dialect's message lock
// first, and commits it.
func (s *sqlStore) inTx(ctx context.Context, f func(*sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return s.err(err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	if s.d.lockMessages != "" {
		if _, err := tx.ExecContext(ctx, s.d.lockMessages); err != nil {
			return s.err(err)
		}
	}
	if err := f(tx); err != nil {
		return err
	}
	return s.err(tx.Commit())
}

// page turns "newest limit messages before before, newest first" into the
// oldest-first order callers want.
func page(ms []Message) []Message {
	for i, j := 0, len(ms)-1; i < j; i, j = i+1, j-1 {
		ms[i], ms[j] = ms[j], ms[i]
	}
	return ms
}

func before(b int64) int64 {
	if b <= 0 {
		return 1<<63 - 1
	}
	return b
}

func (s *sqlStore) RoomHistory(ctx context.Context, room string, bef int64, limit int) ([]Message, error) {
	ms, err := s.messages(ctx, limit, `WHERE m.room = $1 AND m.id < $2 ORDER BY m.id DESC LIMIT $3`, room, before(bef), limit)
	return page(ms), err
}

func (s *sqlStore) PrivateHistory(ctx context.Context, a, b string, bef int64, limit int) ([]Message, error) {
	ms, err := s.messages(ctx, limit, `WHERE m.pair = $1 AND m.id < $2 ORDER BY m.id DESC LIMIT $3`, pairKey(a, b), before(bef), limit)
	return page(ms), err
}

func (s *sqlStore) MessagesSince(ctx context.Context, user string, after int64, limit int) ([]Message, error) {
	return s.messages(ctx, limit, `WHERE m.id > $1 AND (
			m.room IN (SELECT room FROM members WHERE user_name = $2)
			OR (m.room IS NULL AND (m.from_user = $2 OR m.to_user = $2)))
		ORDER BY m.id LIMIT $3`, after, user, limit)
}

// MarkRead only moves a marker forward: a client that reports an older
// position late (two tabs, a retry) does not bring back read messages.
func (s *sqlStore) MarkRead(ctx context.Context, user, room string, upTo int64) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO reads(user_name, key, up_to) VALUES ($1, $2, $3)
		ON CONFLICT (user_name, key) DO UPDATE SET up_to =
			CASE WHEN excluded.up_to > reads.up_to THEN excluded.up_to ELSE reads.up_to END`,
		user, room, upTo)
	return s.err(err)
}

func (s *sqlStore) Unread(ctx context.Context, user string) (map[string]int, error) {
	// Joins rather than a subquery per message, so that each count is
	// one range of an index: (room, id) above the marker, (to_user, id).
	rows, err := s.r.QueryContext(ctx, `
		SELECT mb.room, COUNT(*) FROM members mb
		LEFT JOIN reads r ON r.user_name = mb.user_name AND r.key = mb.room
		JOIN messages m ON m.room = mb.room AND m.id > COALESCE(r.up_to, 0) AND m.from_user <> mb.user_name
		WHERE mb.user_name = $1
		GROUP BY mb.room
		UNION ALL
		SELECT '@' || m.from_user, COUNT(*) FROM messages m
		LEFT JOIN reads r ON r.user_name = $1 AND r.key = '@' || m.from_user
		WHERE m.to_user = $1 AND m.from_user <> $1 AND m.id > COALESCE(r.up_to, 0)
		GROUP BY m.from_user`, user)
	if err != nil {
		return nil, s.err(err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var k string
		var n int
		if err := rows.Scan(&k, &n); err != nil {
			return nil, s.err(err)
		}
		if n > 0 {
			out[k] = n
		}
	}
	return out, s.err(rows.Err())
}

// Files.

func (s *sqlStore) SaveFile(ctx context.Context, owner, name, mimeType string, data []byte) (FileInfo, error) {
	if data == nil {
		data = []byte{} // NOT NULL: an empty file is still a file
	}
	f := FileInfo{Name: name, Type: mimeType, Size: int64(len(data))}
	err := s.w.QueryRowContext(ctx, `INSERT INTO files(owner, name, type, size, data, created)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`, owner, name, mimeType, f.Size, data, micros(now())).Scan(&f.ID)
	if err != nil {
		return FileInfo{}, s.err(err)
	}
	return f, nil
}

func (s *sqlStore) File(ctx context.Context, id int64) (FileInfo, []byte, error) {
	f := FileInfo{ID: id}
	var data []byte
	err := s.r.QueryRowContext(ctx, `SELECT name, type, size, data FROM files WHERE id = $1`, id).
		Scan(&f.Name, &f.Type, &f.Size, &data)
	if err != nil {
		return FileInfo{}, nil, s.err(err)
	}
	return f, data, nil
}

// FileVisible: the uploader sees its file; anyone else only once it is
// attached to a message they can read.
func (s *sqlStore) FileVisible(ctx context.Context, user string, fileID int64) (bool, error) {
	var ok bool
	err := s.r.QueryRowContext(ctx, `SELECT
		EXISTS (SELECT 1 FROM files WHERE id = $1 AND owner = $2)
		OR EXISTS (SELECT 1 FROM messages m WHERE m.file_id = $1 AND (
			(m.room IS NOT NULL AND EXISTS (SELECT 1 FROM members mb WHERE mb.room = m.room AND mb.user_name = $2))
			OR (m.room IS NULL AND (m.from_user = $2 OR m.to_user = $2))))`, fileID, user).Scan(&ok)
	return ok, s.err(err)
}

// Close stops the message writer (a sender still waiting gets ErrClosed)
// and closes the databases.
func (s *sqlStore) Close() error {
	s.closeOnce.Do(func() {
		close(s.closed)
		s.b.wait()
		s.closeErr = s.w.Close()
		if s.r != s.w {
			s.closeErr = errors.Join(s.closeErr, s.r.Close())
		}
	})
	return s.closeErr
}

// ErrClosed is returned by a Store's methods after Close.
var ErrClosed = errors.New("store: closed")
