ALTER TABLE clients DROP COLUMN require_organization;
DROP TABLE membership_roles;
DROP TABLE memberships;
DROP TABLE organizations;
DROP TABLE role_graph_version;
DROP TABLE role_parents;
DROP TABLE role_permissions;
