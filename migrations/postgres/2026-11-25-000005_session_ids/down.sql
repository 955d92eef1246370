DROP INDEX sessions_sid;
ALTER TABLE refresh_tokens DROP COLUMN session_id;
