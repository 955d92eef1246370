-- Roles' permissions (names from the scope catalogue, checked by the writer) and parents: a
-- role inherits its parents' permissions, transitively. Cycles are refused by the writer.
CREATE TABLE role_permissions (
    role_id TEXT NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    permission TEXT NOT NULL,
    PRIMARY KEY (role_id, permission)
);

CREATE TABLE role_parents (
    role_id TEXT NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    parent_id TEXT NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    PRIMARY KEY (role_id, parent_id)
);
CREATE INDEX role_parents_parent_id ON role_parents (parent_id);

-- One row: bumped in the transaction of every change to roles, their permissions or parents,
-- so that servers can keep the role graph in memory and reload it only when it changed.
CREATE TABLE role_graph_version (
    id INTEGER PRIMARY KEY NOT NULL,
    version BIGINT NOT NULL
);
INSERT INTO role_graph_version (id, version) VALUES (1, 0);

-- Organizations (tenants) and their members; a membership holds roles of its own.
CREATE TABLE organizations (
    id TEXT PRIMARY KEY NOT NULL,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE memberships (
    org_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (org_id, user_id)
);
CREATE INDEX memberships_user_id ON memberships (user_id);

CREATE TABLE membership_roles (
    org_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    role_id TEXT NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    PRIMARY KEY (org_id, user_id, role_id),
    FOREIGN KEY (org_id, user_id) REFERENCES memberships (org_id, user_id) ON DELETE CASCADE
);
CREATE INDEX membership_roles_role_id ON membership_roles (role_id);

-- Clients whose users must act inside an organization.
ALTER TABLE clients ADD COLUMN require_organization BOOLEAN NOT NULL DEFAULT 0;
