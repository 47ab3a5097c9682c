// Package store keeps the chat's accounts, sessions, rooms, messages and
// files. Store is implemented twice, on SQLite (modernc.org/sqlite, the
// default: one file, no service) and on PostgreSQL (pgx), and both run the
// same tests against the real database.
//
// Every write that a client is told about has returned from the database
// first: the chat acknowledges a message only after AddMessage returned,
// and AddMessage returns only after its transaction committed durably
// (SQLite: WAL with synchronous=FULL; PostgreSQL: a synchronous commit),
// so nothing acknowledged is lost when the process dies.
//
// Both implementations share one body of SQL on database/sql (sql.go).
// AddMessage hands its message to one writer goroutine per Store, which
// stores every message waiting at that moment in one transaction
// (batch.go): concurrent senders share a commit. Message IDs become
// visible in increasing order, also with several processes on one
// database (postgres.go explains how), so a client that asks for the
// messages after the last ID it saw misses none.
//
// The schema is created and upgraded by numbered SQL files embedded in
// the binary (migrations/, migrate.go).
package store

import (
	"context"
	"errors"
	"strings"
	"time"
)

// Errors a Store returns; callers test them with errors.Is.
var (
	ErrNotFound = errors.New("store: not found")
	ErrExists   = errors.New("store: already exists")
)

// User is an account.
type User struct {
	ID           int64
	Name         string // unique, validated by the caller
	PasswordHash string // argon2id, PHC string form
	Created      time.Time
}

// APIToken describes an API token; the secret is never stored.
type APIToken struct {
	ID      int64
	Label   string
	Created time.Time
}

// Room is a chat room. The room "general" exists from the first migration.
type Room struct {
	Name      string
	CreatedBy string // user name; "" for general
	Created   time.Time
}

// FileInfo describes a stored file (an image or other attachment).
type FileInfo struct {
	ID   int64
	Name string // the name the sender gave, sanitised by the caller
	Type string // MIME type
	Size int64
}

// Message is one chat message, to a room or private between two users.
// ID is the message's offset: it grows with every message stored, across
// all rooms, so a client that saw offset N asks for what came after N.
type Message struct {
	ID       int64
	Room     string // the room; "" for a private message
	From     string // the author's user name
	To       string // the addressee of a private message; "" in a room
	Text     string
	File     *FileInfo // an attachment, or nil
	ClientID string    // the sender's id for the message, for idempotent retries
	Sent     time.Time
}

// Store is the chat's persistence. Every method is safe for concurrent use.
type Store interface {
	// Accounts.
	CreateUser(ctx context.Context, name, passwordHash string) (User, error) // ErrExists
	UserByName(ctx context.Context, name string) (User, error)               // ErrNotFound
	// SetPasswordHash replaces the user's password hash when it is still
	// old (a re-hash at login must not undo a concurrent password change);
	// it reports whether it did. ErrNotFound for a missing user.
	SetPasswordHash(ctx context.Context, userID int64, old, hash string) (bool, error)

	// Sessions and API tokens are looked up by a hash of the secret; the
	// secret itself is never stored.
	CreateSession(ctx context.Context, tokenHash []byte, userID int64, expires time.Time) error
	SessionUser(ctx context.Context, tokenHash []byte, now time.Time) (User, error) // ErrNotFound when absent or expired
	DeleteSession(ctx context.Context, tokenHash []byte) error
	// DeleteExpiredSessions deletes up to limit sessions that expired at
	// or before before, and returns how many it deleted (fewer than limit:
	// none is left).
	DeleteExpiredSessions(ctx context.Context, before time.Time, limit int) (int64, error)
	// CreateAPIToken stores a token and returns its id (what the owner
	// lists and revokes it by).
	CreateAPIToken(ctx context.Context, tokenHash []byte, userID int64, label string) (int64, error)
	APITokenUser(ctx context.Context, tokenHash []byte) (User, error) // ErrNotFound
	APITokens(ctx context.Context, userID int64) ([]APIToken, error)  // oldest first
	// DeleteAPIToken revokes the token id of user userID and returns its
	// hash; ErrNotFound when that user has no such token (another user's
	// token included).
	DeleteAPIToken(ctx context.Context, userID, id int64) (tokenHash []byte, err error)

	// Rooms and membership.
	CreateRoom(ctx context.Context, name, createdBy string) (Room, error) // ErrExists
	Room(ctx context.Context, name string) (Room, error)                  // ErrNotFound
	Rooms(ctx context.Context) ([]Room, error)                            // by name
	JoinRoom(ctx context.Context, user, room string) error                // idempotent; ErrNotFound for a missing room or user
	LeaveRoom(ctx context.Context, user, room string) error               // idempotent
	UserRooms(ctx context.Context, user string) ([]string, error)         // by name
	RoomMembers(ctx context.Context, room string) ([]string, error)       // the users who joined room, by name

	// Messages. AddMessage stores m (its ID and Sent are set by the store,
	// and its File, when set, is filled in from the file's ID) and returns
	// it, once committed; ErrNotFound when its room, author, addressee or
	// file does not exist; ErrClosed after Close. When the same author already stored a message with
	// the same non-empty ClientID, it stores nothing and returns that
	// message with dup true (a client's retry after a lost ack).
	AddMessage(ctx context.Context, m Message) (stored Message, dup bool, err error)
	// RoomHistory returns up to limit messages of room with ID < before
	// (before <= 0: the newest), oldest first.
	RoomHistory(ctx context.Context, room string, before int64, limit int) ([]Message, error)
	// PrivateHistory is RoomHistory for the private messages between a and b.
	PrivateHistory(ctx context.Context, a, b string, before int64, limit int) ([]Message, error)
	// MessagesSince returns up to limit messages with ID > after that user
	// can see (in the rooms it is a member of, and private messages from or
	// to it), oldest first: what a client missed while away.
	MessagesSince(ctx context.Context, user string, after int64, limit int) ([]Message, error)

	// Unread counts: MarkRead records that user has read room (or, for
	// private messages, the conversation with another user given as
	// "@name") up to message ID upTo; Unread counts newer messages per
	// room and per "@name" conversation, leaving out zero counts and the
	// user's own messages. A marker only moves forward, and joining a room
	// starts it at the room's newest message (the past is history, not
	// unread).
	MarkRead(ctx context.Context, user, room string, upTo int64) error
	Unread(ctx context.Context, user string) (map[string]int, error)

	// Files.
	SaveFile(ctx context.Context, owner string, name, mimeType string, data []byte) (FileInfo, error)
	File(ctx context.Context, id int64) (FileInfo, []byte, error) // ErrNotFound
	// FileVisible tells whether user may fetch the file: it is attached to
	// a message in a room the user is a member of, or to a private message
	// from or to the user, or the user uploaded it.
	FileVisible(ctx context.Context, user string, fileID int64) (bool, error)

	Close() error
}

// Open opens the store that dsn names: a postgres:// or postgresql:// URL
// is a PostgreSQL database (OpenPostgres), anything else the path of a
// SQLite file (OpenSQLite), created when absent. Either way the schema is
// brought up to date before Open returns.
func Open(ctx context.Context, dsn string) (Store, error) {
	if IsPostgres(dsn) {
		return OpenPostgres(ctx, dsn)
	}
	return OpenSQLite(ctx, dsn)
}

// IsPostgres reports whether Open takes dsn for a PostgreSQL URL (rather
// than a SQLite file).
func IsPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}
