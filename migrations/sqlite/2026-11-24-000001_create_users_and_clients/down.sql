DROP TABLE user_roles;
DROP TABLE roles;
DROP TABLE clients;
DROP TABLE users;
