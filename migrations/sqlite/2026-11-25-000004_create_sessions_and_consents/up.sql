-- Browser sessions: the cookie holds a random value; only its SHA-256 is stored. A session
-- starts anonymous (user_id NULL, it only binds CSRF tokens) and a sign-in replaces it with a
-- new one. `sid` is the public identifier put in ID tokens. Times are unix seconds; a session
-- ends at `expires_at` (absolute), after the idle timeout since `last_seen_at`, or when the
-- user's security stamp (`stamp_digest`) no longer matches.
CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY NOT NULL,
    sid TEXT NOT NULL,
    user_id TEXT REFERENCES users (id) ON DELETE CASCADE,
    stamp_digest TEXT,
    auth_time BIGINT,
    csrf_secret TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_user_id ON sessions (user_id);
CREATE INDEX sessions_expires_at ON sessions (expires_at);

-- Consent a user gave a client: the union of the scopes approved so far (space-delimited).
CREATE TABLE consents (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    client_id TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    scope TEXT NOT NULL,
    granted_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, client_id)
);
