-- Users deleted through the admin API, remembered for the revocation feed: a resource server
-- refuses their tokens until those would have expired. Rows older than a token's lifetime are
-- pruned by the housekeeping job.
CREATE TABLE deleted_users (
    user_id TEXT PRIMARY KEY NOT NULL,
    deleted_at BIGINT NOT NULL
);
CREATE INDEX deleted_users_deleted_at ON deleted_users (deleted_at);
-- The feed lists the users changed recently.
CREATE INDEX users_updated_at ON users (updated_at);
