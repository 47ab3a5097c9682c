-- The chat's first schema on SQLite. Times are Unix microseconds (the
-- same column type on PostgreSQL, so that one set of queries serves both).
CREATE TABLE users (
	id            INTEGER PRIMARY KEY,
	name          TEXT NOT NULL UNIQUE,
	password_hash TEXT NOT NULL,
	created       INTEGER NOT NULL
);

CREATE TABLE sessions (
	token_hash BLOB PRIMARY KEY,
	user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	expires    INTEGER NOT NULL
);
CREATE INDEX sessions_expires ON sessions(expires);

CREATE TABLE api_tokens (
	token_hash BLOB PRIMARY KEY,
	user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	label      TEXT NOT NULL,
	created    INTEGER NOT NULL
);

CREATE TABLE rooms (
	name       TEXT PRIMARY KEY,
	created_by TEXT REFERENCES users(name),
	created    INTEGER NOT NULL
);
INSERT INTO rooms(name, created_by, created) VALUES ('general', NULL, CAST(unixepoch('subsec') * 1000000 AS INTEGER));

CREATE TABLE members (
	room      TEXT NOT NULL REFERENCES rooms(name),
	user_name TEXT NOT NULL REFERENCES users(name),
	PRIMARY KEY (room, user_name)
);
CREATE INDEX members_user ON members(user_name, room);

CREATE TABLE files (
	id      INTEGER PRIMARY KEY,
	owner   TEXT NOT NULL REFERENCES users(name),
	name    TEXT NOT NULL,
	type    TEXT NOT NULL,
	size    INTEGER NOT NULL,
	data    BLOB NOT NULL,
	created INTEGER NOT NULL
);

-- AUTOINCREMENT: an ID is never handed out twice, even after the newest
-- message was deleted, so offsets only grow.
CREATE TABLE messages (
	id        INTEGER PRIMARY KEY AUTOINCREMENT,
	room      TEXT REFERENCES rooms(name),
	from_user TEXT NOT NULL REFERENCES users(name),
	to_user   TEXT REFERENCES users(name),
	pair      TEXT, -- private messages: the two names sorted, for PrivateHistory
	text      TEXT NOT NULL,
	file_id   INTEGER REFERENCES files(id),
	client_id TEXT,
	sent      INTEGER NOT NULL,
	CHECK ((room IS NULL) <> (to_user IS NULL))
);
CREATE INDEX messages_room ON messages(room, id) WHERE room IS NOT NULL;
CREATE INDEX messages_pair ON messages(pair, id) WHERE pair IS NOT NULL;
CREATE INDEX messages_to ON messages(to_user, id) WHERE to_user IS NOT NULL;
CREATE INDEX messages_from ON messages(from_user, id);
CREATE INDEX messages_file ON messages(file_id) WHERE file_id IS NOT NULL;
CREATE UNIQUE INDEX messages_client_id ON messages(from_user, client_id) WHERE client_id IS NOT NULL;

-- Read markers: key is a room name or "@name" for a private conversation.
CREATE TABLE reads (
	user_name TEXT NOT NULL REFERENCES users(name),
	key       TEXT NOT NULL,
	up_to     INTEGER NOT NULL,
	PRIMARY KEY (user_name, key)
);
