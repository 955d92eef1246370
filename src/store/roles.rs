//! Roles: their permissions and their parents (a directed graph without cycles). Their
//! assignment to users is in `role_assignments`, what they grant in `access`.
//!
//! Writers that change the graph take the database's write lock first (a table lock on
//! PostgreSQL, the write lock on SQLite), so two concurrent updates cannot each pass the cycle
//! check and together make a cycle.

use super::schema::{role_graph_version, role_parents, role_permissions, roles};
use super::{DbConnection, StoreError, now};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use std::collections::{BTreeSet, HashMap};

/// A role as the command line shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct RoleDef {
    pub name: String,
    pub permissions: Vec<String>,
    pub inherits: Vec<String>,
}

/// A role with the permissions it has through its ancestors too.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct RoleListing {
    pub name: String,
    pub permissions: Vec<String>,
    pub inherits: Vec<String>,
    pub effective_permissions: Vec<String>,
}

/// Why a change to roles was refused; nothing was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoleRefusal {
    /// A role of this name exists already.
    Exists(String),
    /// No role has this name.
    Unknown(String),
    /// The change would close this cycle (the first name is the role changed, and it ends it).
    Cycle(Vec<String>),
    /// The user is not a member of the organization.
    NotMember,
}

/// The whole role graph, loaded in three queries.
#[derive(Debug, Default)]
pub struct RoleGraph {
    name_of: HashMap<String, String>,
    id_of: HashMap<String, String>,
    parents: HashMap<String, Vec<String>>,
    permissions: HashMap<String, BTreeSet<String>>,
}

impl RoleGraph {
    pub fn load(conn: &mut DbConnection) -> Result<Self, StoreError> {
        let mut graph = RoleGraph::default();
        for (id, name) in roles::table
            .select((roles::id, roles::name))
            .load::<(String, String)>(conn)?
        {
            graph.id_of.insert(name.clone(), id.clone());
            graph.name_of.insert(id, name);
        }
        for (role, parent) in role_parents::table
            .select((role_parents::role_id, role_parents::parent_id))
            .load::<(String, String)>(conn)?
        {
            graph.parents.entry(role).or_default().push(parent);
        }
        for (role, permission) in role_permissions::table
            .select((role_permissions::role_id, role_permissions::permission))
            .load::<(String, String)>(conn)?
        {
            graph
                .permissions
                .entry(role)
                .or_default()
                .insert(permission);
        }
        Ok(graph)
    }

    /// The role ids `start` and every ancestor of theirs.
    pub fn closure<'a>(&self, start: impl IntoIterator<Item = &'a str>) -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut stack: Vec<String> = start.into_iter().map(str::to_owned).collect();
        while let Some(id) = stack.pop() {
            if seen.insert(id.clone()) {
                stack.extend(self.parents.get(&id).into_iter().flatten().cloned());
            }
        }
        seen
    }

    /// The names of `ids`, sorted.
    pub fn names(&self, ids: &BTreeSet<String>) -> Vec<String> {
        let mut names: Vec<String> = ids
            .iter()
            .filter_map(|id| self.name_of.get(id).cloned())
            .collect();
        names.sort();
        names
    }

    /// The union of the permissions of `ids`.
    pub fn permissions_of(&self, ids: &BTreeSet<String>) -> BTreeSet<String> {
        ids.iter()
            .filter_map(|id| self.permissions.get(id))
            .flatten()
            .cloned()
            .collect()
    }

    fn def(&self, id: &str) -> RoleDef {
        let mut inherits: Vec<String> = self
            .parents
            .get(id)
            .into_iter()
            .flatten()
            .filter_map(|p| self.name_of.get(p).cloned())
            .collect();
        inherits.sort();
        RoleDef {
            name: self.name_of.get(id).cloned().unwrap_or_default(),
            permissions: self
                .permissions
                .get(id)
                .map(|p| p.iter().cloned().collect())
                .unwrap_or_default(),
            inherits,
        }
    }

    /// The ids of `names`, or the first unknown one.
    fn ids(&self, names: &[String]) -> Result<Vec<String>, RoleRefusal> {
        names
            .iter()
            .map(|n| {
                self.id_of
                    .get(n)
                    .cloned()
                    .ok_or_else(|| RoleRefusal::Unknown(n.clone()))
            })
            .collect()
    }

    /// The path by which `role` would reach itself if its parents were `parents`, if any.
    fn cycle_through(&self, role: &str, parents: &[String]) -> Option<Vec<String>> {
        for parent in parents {
            // Depth-first from the new parent along existing parent edges, looking for `role`.
            let mut stack = vec![vec![parent.clone()]];
            let mut seen = BTreeSet::new();
            while let Some(path) = stack.pop() {
                let last = path.last().cloned().unwrap_or_default();
                if last == role {
                    let mut names = vec![self.name_of.get(role).cloned().unwrap_or_default()];
                    names.extend(path.iter().filter_map(|id| self.name_of.get(id).cloned()));
                    return Some(names);
                }
                if !seen.insert(last.clone()) {
                    continue;
                }
                for next in self.parents.get(&last).into_iter().flatten() {
                    let mut longer = path.clone();
                    longer.push(next.clone());
                    stack.push(longer);
                }
            }
        }
        None
    }
}

/// Runs `f` in a transaction that holds the write lock from its start (`write_transaction`),
/// with the role tables locked on PostgreSQL.
pub(super) fn locked<T>(
    conn: &mut DbConnection,
    f: impl FnOnce(&mut DbConnection) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    super::write_transaction(conn, |c| {
        if matches!(c, DbConnection::Pg(_)) {
            c.batch_execute("LOCK TABLE role_parents IN SHARE ROW EXCLUSIVE MODE")?;
        }
        f(c)
    })
}

/// Marks the role graph changed (in the writer's transaction): servers reload it.
fn bump_graph_version(conn: &mut DbConnection) -> Result<(), StoreError> {
    diesel::update(role_graph_version::table.find(1))
        .set(role_graph_version::version.eq(role_graph_version::version + 1))
        .execute(conn)?;
    Ok(())
}

/// The role graph's version: it changes with every change to roles, permissions or parents.
pub fn graph_version(conn: &mut DbConnection) -> Result<i64, StoreError> {
    Ok(on_backend!(conn, |c| role_graph_version::table
        .find(1)
        .select(role_graph_version::version)
        .get_result(c)
        .optional())?
    .unwrap_or(0))
}

pub(super) fn insert_role_row(
    conn: &mut DbConnection,
    id: &str,
    name: &str,
) -> Result<(), StoreError> {
    bump_graph_version(conn)?;
    diesel::insert_into(roles::table)
        .values((
            roles::id.eq(id),
            roles::name.eq(name),
            roles::created_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(())
}

fn set_permissions(
    conn: &mut DbConnection,
    id: &str,
    permissions: &BTreeSet<String>,
) -> Result<(), StoreError> {
    diesel::delete(role_permissions::table.filter(role_permissions::role_id.eq(id)))
        .execute(conn)?;
    for p in permissions {
        diesel::insert_into(role_permissions::table)
            .values((
                role_permissions::role_id.eq(id),
                role_permissions::permission.eq(p),
            ))
            .execute(conn)?;
    }
    Ok(())
}

fn set_parents(conn: &mut DbConnection, id: &str, parents: &[String]) -> Result<(), StoreError> {
    diesel::delete(role_parents::table.filter(role_parents::role_id.eq(id))).execute(conn)?;
    for p in parents.iter().collect::<BTreeSet<_>>() {
        diesel::insert_into(role_parents::table)
            .values((role_parents::role_id.eq(id), role_parents::parent_id.eq(p)))
            .execute(conn)?;
    }
    Ok(())
}

/// Creates a role with its permissions (already checked against the catalogue) and parents.
pub fn create_role(
    conn: &mut DbConnection,
    name: &str,
    permissions: &BTreeSet<String>,
    inherits: &[String],
) -> Result<Result<RoleDef, RoleRefusal>, StoreError> {
    locked(conn, |c| {
        let graph = RoleGraph::load(c)?;
        if graph.id_of.contains_key(name) {
            return Ok(Err(RoleRefusal::Exists(name.to_owned())));
        }
        let parents = match graph.ids(inherits) {
            Ok(ids) => ids,
            Err(refusal) => return Ok(Err(refusal)),
        };
        let id = uuid::Uuid::new_v4().to_string();
        insert_role_row(c, &id, name)?;
        set_permissions(c, &id, permissions)?;
        set_parents(c, &id, &parents)?;
        Ok(Ok(RoleGraph::load(c)?.def(&id)))
    })
}

/// Replaces a role's permissions and/or parents (None leaves that set as it is).
pub fn update_role(
    conn: &mut DbConnection,
    name: &str,
    permissions: Option<&BTreeSet<String>>,
    inherits: Option<&[String]>,
) -> Result<Result<RoleDef, RoleRefusal>, StoreError> {
    locked(conn, |c| {
        let graph = RoleGraph::load(c)?;
        let Some(id) = graph.id_of.get(name).cloned() else {
            return Ok(Err(RoleRefusal::Unknown(name.to_owned())));
        };
        if let Some(inherits) = inherits {
            let parents = match graph.ids(inherits) {
                Ok(ids) => ids,
                Err(refusal) => return Ok(Err(refusal)),
            };
            if let Some(cycle) = graph.cycle_through(&id, &parents) {
                return Ok(Err(RoleRefusal::Cycle(cycle)));
            }
            set_parents(c, &id, &parents)?;
        }
        if let Some(permissions) = permissions {
            set_permissions(c, &id, permissions)?;
        }
        bump_graph_version(c)?;
        Ok(Ok(RoleGraph::load(c)?.def(&id)))
    })
}

/// Deletes a role; the database removes it from every user, membership and child role in the
/// same statement (foreign keys `ON DELETE CASCADE`). False when there was none.
pub fn delete_role(conn: &mut DbConnection, name: &str) -> Result<bool, StoreError> {
    locked(conn, |c| {
        let deleted = diesel::delete(roles::table.filter(roles::name.eq(name))).execute(c)? > 0;
        if deleted {
            bump_graph_version(c)?;
        }
        Ok(deleted)
    })
}

/// Every role, by name, with its effective permissions.
pub fn list_roles(conn: &mut DbConnection) -> Result<Vec<RoleListing>, StoreError> {
    let graph = RoleGraph::load(conn)?;
    let mut list: Vec<RoleListing> = graph
        .name_of
        .keys()
        .map(|id| {
            let def = graph.def(id);
            let effective = graph.permissions_of(&graph.closure([id.as_str()]));
            RoleListing {
                name: def.name,
                permissions: def.permissions,
                inherits: def.inherits,
                effective_permissions: effective.into_iter().collect(),
            }
        })
        .collect();
    list.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(list)
}

pub(super) fn find_or_insert_role(
    conn: &mut DbConnection,
    name: &str,
) -> Result<String, StoreError> {
    if let Some(id) = role_id(conn, name)? {
        return Ok(id);
    }
    let id = uuid::Uuid::new_v4().to_string();
    insert_role_row(conn, &id, name)?;
    Ok(id)
}

pub(super) fn role_id(conn: &mut DbConnection, name: &str) -> Result<Option<String>, StoreError> {
    Ok(roles::table
        .filter(roles::name.eq(name))
        .select(roles::id)
        .get_result::<String>(conn)
        .optional()?)
}
