-- The organization a refresh-token family or an authorization code acts in; NULL when none is
-- active.
ALTER TABLE refresh_tokens ADD COLUMN org_id TEXT;
ALTER TABLE authorization_codes ADD COLUMN org_id TEXT;
