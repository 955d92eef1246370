//! Roles and their assignment to users.

use super::schema::{roles, user_roles};
use super::{DbConnection, StoreError, now};
use diesel::prelude::*;

/// Gives the user the global role `name`, creating the role on first use.
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

fn find_or_insert_role(conn: &mut DbConnection, name: &str) -> Result<String, StoreError> {
    let existing = roles::table
        .filter(roles::name.eq(name))
        .select(roles::id)
        .first::<String>(conn)
        .optional()?;
    if let Some(id) = existing {
        return Ok(id);
    }
    let id = uuid::Uuid::new_v4().to_string();
    diesel::insert_into(roles::table)
        .values((
            roles::id.eq(&id),
            roles::name.eq(name),
            roles::created_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(id)
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
