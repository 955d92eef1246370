//! What a user may do, as tokens carry it: effective roles and permissions, from the role graph
//! kept in memory and the roles given to the user.

use super::roles::{RoleGraph, graph_version};
use super::schema::{membership_roles, user_roles};
use super::{DbConnection, StoreError};
use diesel::prelude::*;
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

/// A user's effective roles and permissions, globally and inside one organization.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EffectiveAccess {
    /// Effective global roles (given ones and their ancestors), sorted.
    pub roles: Vec<String>,
    /// Effective roles inside the organization, sorted.
    pub org_roles: Vec<String>,
    /// The permissions of all of those roles.
    pub permissions: BTreeSet<String>,
}

/// The role graph kept in memory, reloaded only when its version in the database changed (any
/// node, or the command line, may have changed it).
#[derive(Default)]
pub struct RoleGraphCache {
    current: Mutex<Option<(i64, Arc<RoleGraph>)>>,
}

impl RoleGraphCache {
    /// The graph as of now: one small query while it is unchanged, a reload when it changed.
    /// (A write between the version's read and the reload only causes one more reload later.)
    pub fn graph(&self, conn: &mut DbConnection) -> Result<Arc<RoleGraph>, StoreError> {
        let version = graph_version(conn)?;
        let lock = |m: &Mutex<Option<(i64, Arc<RoleGraph>)>>| {
            m.lock().unwrap_or_else(|e| e.into_inner()).clone()
        };
        if let Some((cached, graph)) = lock(&self.current)
            && cached == version
        {
            return Ok(graph);
        }
        let graph = Arc::new(RoleGraph::load(conn)?);
        *self.current.lock().unwrap_or_else(|e| e.into_inner()) = Some((version, graph.clone()));
        Ok(graph)
    }
}

/// A user's effective access, globally and (with `org_id`) inside that organization: two
/// queries (the graph's version, the roles given to the user; three with an organization), the
/// ancestors walked in memory, whatever the depth of the hierarchy.
pub fn effective_access(
    conn: &mut DbConnection,
    cache: &RoleGraphCache,
    user_id: &str,
    org_id: Option<&str>,
) -> Result<EffectiveAccess, StoreError> {
    let graph = cache.graph(conn)?;
    let global: Vec<String> = on_backend!(conn, |c| user_roles::table
        .filter(user_roles::user_id.eq(user_id))
        .select(user_roles::role_id)
        .load(c))?;
    let in_org: Vec<String> = match org_id {
        Some(org) => on_backend!(conn, |c| membership_roles::table
            .filter(membership_roles::org_id.eq(org))
            .filter(membership_roles::user_id.eq(user_id))
            .select(membership_roles::role_id)
            .load(c))?,
        None => Vec::new(),
    };
    let global = graph.closure(global.iter().map(String::as_str));
    let in_org = graph.closure(in_org.iter().map(String::as_str));
    let mut permissions = graph.permissions_of(&global);
    permissions.extend(graph.permissions_of(&in_org));
    Ok(EffectiveAccess {
        roles: graph.names(&global),
        org_roles: graph.names(&in_org),
        permissions,
    })
}
