-- Identities at federated providers (CONTRACT "Sign in with Google"), linked to a user by the
-- provider's (issuer, subject), never by email alone.
CREATE TABLE federated_identities (
    issuer TEXT NOT NULL,
    subject TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (issuer, subject)
);
CREATE INDEX federated_identities_user_id ON federated_identities (user_id);
