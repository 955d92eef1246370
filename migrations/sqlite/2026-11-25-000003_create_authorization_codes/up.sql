-- Authorization codes: only the SHA-256 of the code is stored; single use (`used_at`), bound to
-- client, redirect URI, PKCE challenge, nonce, scopes, user and auth_time. Times are unix
-- seconds. What a redemption issued (`family_id`, `access_jti`/`access_exp`) is recorded so a
-- replayed code revokes it.
CREATE TABLE authorization_codes (
    code_hash TEXT PRIMARY KEY NOT NULL,
    client_id TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    redirect_uri TEXT NOT NULL,
    redirect_uri_explicit BOOLEAN NOT NULL,
    scope TEXT NOT NULL,
    code_challenge TEXT,
    nonce TEXT,
    auth_time BIGINT NOT NULL,
    session_id TEXT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT,
    family_id TEXT,
    access_jti TEXT,
    access_exp BIGINT
);
CREATE INDEX authorization_codes_expires_at ON authorization_codes (expires_at);
