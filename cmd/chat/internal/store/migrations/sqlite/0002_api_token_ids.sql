-- API tokens get a numeric id, so that their owner can list and revoke
-- them (GET /api/tokens, DELETE /api/tokens/{id}) without the secret.
-- SQLite cannot add a primary key to a table, so the table is rebuilt;
-- the existing tokens keep working, numbered in the order they were made.
CREATE TABLE api_tokens_new (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	token_hash BLOB NOT NULL UNIQUE,
	user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	label      TEXT NOT NULL,
	created    INTEGER NOT NULL
);
INSERT INTO api_tokens_new(token_hash, user_id, label, created)
	SELECT token_hash, user_id, label, created FROM api_tokens ORDER BY created, token_hash;
DROP TABLE api_tokens;
ALTER TABLE api_tokens_new RENAME TO api_tokens;
CREATE INDEX api_tokens_user ON api_tokens(user_id);
