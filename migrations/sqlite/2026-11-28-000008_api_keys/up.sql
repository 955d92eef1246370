-- API keys (CONTRACT "API keys"): stored as SHA-256 only; found by that hash (the current one, or
-- the previous one while a rotation's grace lasts).
CREATE TABLE api_keys (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    org_id TEXT REFERENCES organizations (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    key_hash TEXT NOT NULL UNIQUE,
    display TEXT NOT NULL,
    scopes TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at BIGINT,
    previous_hash TEXT UNIQUE,
    previous_until BIGINT
);
CREATE INDEX api_keys_user_id ON api_keys (user_id);
