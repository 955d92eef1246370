DROP INDEX users_updated_at;
DROP TABLE deleted_users;
