//! Roles given to users: globally (`user_roles`) and inside an organization
//! (`membership_roles`).

use super::roles::{RoleRefusal, find_or_insert_role, locked, role_id};
use super::schema::{membership_roles, roles, user_roles};
use super::{DbConnection, StoreError};
use diesel::prelude::*;

/// Gives the user the global role `name`, creating the role on first use (`user create`).
pub fn assign_role(conn: &mut DbConnection, user_id: &str, name: &str) -> Result<(), StoreError> {
    let role_id = find_or_insert_role(conn, name)?;
    diesel::insert_into(user_roles::table)
        .values((
            user_roles::user_id.eq(user_id),
            user_roles::role_id.eq(role_id),
        ))
        .execute(conn)?;
    Ok(())
}

/// Gives the user an existing role (`add`) or takes it away, globally or inside `org_id`, where
/// they must be a member. Giving a role held already, or taking one not held, changes nothing;
/// an unknown role is refused.
pub fn change_user_role(
    conn: &mut DbConnection,
    user_id: &str,
    name: &str,
    org_id: Option<&str>,
    add: bool,
) -> Result<Result<(), RoleRefusal>, StoreError> {
    locked(conn, |c| {
        let Some(role) = role_id(c, name)? else {
            return Ok(Err(RoleRefusal::Unknown(name.to_owned())));
        };
        match (org_id, add) {
            (None, true) => {
                let held = user_roles::table
                    .filter(user_roles::user_id.eq(user_id))
                    .filter(user_roles::role_id.eq(&role))
                    .count()
                    .get_result::<i64>(c)?;
                if held == 0 {
                    diesel::insert_into(user_roles::table)
                        .values((
                            user_roles::user_id.eq(user_id),
                            user_roles::role_id.eq(&role),
                        ))
                        .execute(c)?;
                }
            }
            (None, false) => {
                diesel::delete(
                    user_roles::table
                        .filter(user_roles::user_id.eq(user_id))
                        .filter(user_roles::role_id.eq(&role)),
                )
                .execute(c)?;
            }
            (Some(org), _) if !super::organizations::is_member(c, org, user_id)? => {
                return Ok(Err(RoleRefusal::NotMember));
            }
            (Some(org), true) => give_membership_role(c, org, user_id, &role)?,
            (Some(org), false) => {
                diesel::delete(
                    membership_roles::table
                        .filter(membership_roles::org_id.eq(org))
                        .filter(membership_roles::user_id.eq(user_id))
                        .filter(membership_roles::role_id.eq(&role)),
                )
                .execute(c)?;
            }
        }
        Ok(Ok(()))
    })
}

/// Gives a member a role inside their organization (idempotent).
pub(super) fn give_membership_role(
    conn: &mut DbConnection,
    org_id: &str,
    user_id: &str,
    role_id: &str,
) -> Result<(), StoreError> {
    let held = membership_roles::table
        .filter(membership_roles::org_id.eq(org_id))
        .filter(membership_roles::user_id.eq(user_id))
        .filter(membership_roles::role_id.eq(role_id))
        .count()
        .get_result::<i64>(conn)?;
    if held == 0 {
        diesel::insert_into(membership_roles::table)
            .values((
                membership_roles::org_id.eq(org_id),
                membership_roles::user_id.eq(user_id),
                membership_roles::role_id.eq(role_id),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// The ids of roles named `names`, or the first unknown name.
pub(super) fn role_ids(
    conn: &mut DbConnection,
    names: &[String],
) -> Result<Result<Vec<String>, RoleRefusal>, StoreError> {
    let mut ids = Vec::with_capacity(names.len());
    for name in names {
        match role_id(conn, name)? {
            Some(id) => ids.push(id),
            None => return Ok(Err(RoleRefusal::Unknown(name.clone()))),
        }
    }
    Ok(Ok(ids))
}

/// The names of a member's roles inside an organization, sorted.
pub(super) fn membership_role_names(
    conn: &mut DbConnection,
    org_id: &str,
    user_id: &str,
) -> Result<Vec<String>, StoreError> {
    Ok(membership_roles::table
        .inner_join(roles::table)
        .filter(membership_roles::org_id.eq(org_id))
        .filter(membership_roles::user_id.eq(user_id))
        .select(roles::name)
        .order(roles::name.asc())
        .load(conn)?)
}

/// The names of the user's global roles, sorted.
pub fn find_user_roles(conn: &mut DbConnection, user_id: &str) -> Result<Vec<String>, StoreError> {
    Ok(user_roles::table
        .inner_join(roles::table)
        .filter(user_roles::user_id.eq(user_id))
        .select(roles::name)
        .order(roles::name.asc())
        .load(conn)?)
}

/// Replaces the user's roles, globally or inside `org_id` (where they must be a member, or, with
/// `join`, become one) with `names`, which must all exist; the roles held afterwards.
pub fn replace_user_roles(
    conn: &mut DbConnection,
    user_id: &str,
    names: &[String],
    org_id: Option<&str>,
    join: bool,
) -> Result<Result<Vec<String>, RoleRefusal>, StoreError> {
    let mut names = names.to_vec();
    names.sort_unstable();
    names.dedup();
    locked(conn, |c| {
        let ids = match role_ids(c, &names)? {
            Ok(ids) => ids,
            Err(refusal) => return Ok(Err(refusal)),
        };
        match org_id {
            None => {
                diesel::delete(user_roles::table.filter(user_roles::user_id.eq(user_id)))
                    .execute(c)?;
                for id in &ids {
                    diesel::insert_into(user_roles::table)
                        .values((user_roles::user_id.eq(user_id), user_roles::role_id.eq(id)))
                        .execute(c)?;
                }
                Ok(Ok(find_user_roles(c, user_id)?))
            }
            Some(org) => {
                if !super::organizations::is_member(c, org, user_id)? {
                    if !join {
                        return Ok(Err(RoleRefusal::NotMember));
                    }
                    super::organizations::insert_membership(c, org, user_id)?;
                }
                diesel::delete(
                    membership_roles::table
                        .filter(membership_roles::org_id.eq(org))
                        .filter(membership_roles::user_id.eq(user_id)),
                )
                .execute(c)?;
                for id in &ids {
                    give_membership_role(c, org, user_id, id)?;
                }
                Ok(Ok(membership_role_names(c, org, user_id)?))
            }
        }
    })
}
