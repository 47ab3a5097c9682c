-- The chat's first schema on PostgreSQL. Times are Unix microseconds (the
-- same column type as on SQLite, so that one set of queries serves both).
CREATE TABLE users (
	id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	name          TEXT NOT NULL UNIQUE,
	password_hash TEXT NOT NULL,
	created       BIGINT NOT NULL
);

CREATE TABLE sessions (
	token_hash BYTEA PRIMARY KEY,
	user_id    BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	expires    BIGINT NOT NULL
);
CREATE INDEX sessions_expires ON sessions(expires);

CREATE TABLE api_tokens (
	token_hash BYTEA PRIMARY KEY,
	user_id    BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	label      TEXT NOT NULL,
	created    BIGINT NOT NULL
);

CREATE TABLE rooms (
	name       TEXT PRIMARY KEY,
	created_by TEXT REFERENCES users(name),
	created    BIGINT NOT NULL
);
INSERT INTO rooms(name, created_by, created) VALUES ('general', NULL, (extract(epoch FROM clock_timestamp()) * 1000000)::BIGINT);

CREATE TABLE members (
	room      TEXT NOT NULL REFERENCES rooms(name),
	user_name TEXT NOT NULL REFERENCES users(name),
	PRIMARY KEY (room, user_name)
);
CREATE INDEX members_user ON members(user_name, room);

CREATE TABLE files (
	id      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	owner   TEXT NOT NULL REFERENCES users(name),
	name    TEXT NOT NULL,
	type    TEXT NOT NULL,
	size    BIGINT NOT NULL,
	data    BYTEA NOT NULL,
	created BIGINT NOT NULL
);

-- An identity column never hands out an ID twice. That IDs also become
-- visible in order (a reader never sees N+1 before N) is the insert's job:
-- see the advisory lock in postgres.go.
CREATE TABLE messages (
	id        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	room      TEXT REFERENCES rooms(name),
	from_user TEXT NOT NULL REFERENCES users(name),
	to_user   TEXT REFERENCES users(name),
	pair      TEXT, -- private messages: the two names sorted, for PrivateHistory
	text      TEXT NOT NULL,
	file_id   BIGINT REFERENCES files(id),
	client_id TEXT,
	sent      BIGINT NOT NULL,
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
	up_to     BIGINT NOT NULL,
	PRIMARY KEY (user_name, key)
);
