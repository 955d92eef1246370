-- The browser session a refresh-token family began in (its ID tokens carry it as `sid`);
-- NULL for families from the password grant.
ALTER TABLE refresh_tokens ADD COLUMN session_id TEXT;
