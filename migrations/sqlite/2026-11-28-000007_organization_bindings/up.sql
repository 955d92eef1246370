-- The organization a refresh-token family acts in; NULL when none is active.
ALTER TABLE refresh_tokens ADD COLUMN org_id TEXT;
