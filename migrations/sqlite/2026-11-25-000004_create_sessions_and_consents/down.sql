DROP TABLE consents;
DROP TABLE sessions;
