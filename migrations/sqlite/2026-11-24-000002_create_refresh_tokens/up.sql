-- Refresh tokens: only the SHA-256 of the token is stored. Every rotation adds a row to the
-- family; `used_at` marks a rotated token (presenting it again revokes the family).
-- Times are unix seconds, like the JWT claims they sit beside. `access_jti`/`access_exp`
-- name the access token issued with this refresh token, so revoking the family revokes it too.
CREATE TABLE refresh_tokens (
    token_hash TEXT PRIMARY KEY NOT NULL,
    family_id TEXT NOT NULL,
    client_id TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    scope TEXT NOT NULL,
    stamp_digest TEXT NOT NULL,
    auth_time BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT,
    revoked_at BIGINT,
    access_jti TEXT NOT NULL,
    access_exp BIGINT NOT NULL
);
CREATE INDEX refresh_tokens_family_id ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user_id ON refresh_tokens (user_id);
CREATE INDEX refresh_tokens_expires_at ON refresh_tokens (expires_at);

-- Revoked access tokens, until they would have expired anyway: the source of truth behind the
-- in-process or Redis blocklist, so a restart or a Redis flush never brings one back.
CREATE TABLE revoked_tokens (
    jti TEXT PRIMARY KEY NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX revoked_tokens_expires_at ON revoked_tokens (expires_at);
