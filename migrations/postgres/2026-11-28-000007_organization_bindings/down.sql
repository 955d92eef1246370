ALTER TABLE authorization_codes DROP COLUMN org_id;
ALTER TABLE refresh_tokens DROP COLUMN org_id;
