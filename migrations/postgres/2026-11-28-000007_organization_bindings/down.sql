ALTER TABLE refresh_tokens DROP COLUMN org_id;
