-- API tokens get a numeric id, so that their owner can list and revoke
-- them (GET /api/tokens, DELETE /api/tokens/{id}) without the secret.
-- The existing tokens are numbered by ADD COLUMN and keep working.
ALTER TABLE api_tokens ADD COLUMN id BIGSERIAL;
ALTER TABLE api_tokens ADD CONSTRAINT api_tokens_id_key UNIQUE (id);
CREATE INDEX api_tokens_user ON api_tokens(user_id);
