-- The browser session a refresh-token family began in (its ID tokens carry it as `sid`);
-- NULL for families from the password grant.
ALTER TABLE refresh_tokens ADD COLUMN session_id TEXT;
-- Sessions looked up by their public id (a logout hint naming another session).
CREATE INDEX sessions_sid ON sessions (sid);
