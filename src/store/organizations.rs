//! Organizations (tenants) and their members.

use super::role_assignments::{give_membership_role, membership_role_names, role_ids};
use super::roles::RoleRefusal;
use super::schema::{memberships, organizations};
use super::{DbConnection, StoreError, unix_now};
use diesel::prelude::*;

/// An organization as the command line shows it.
#[derive(
    Debug, Clone, PartialEq, Eq, Queryable, Selectable, serde::Serialize, utoipa::ToSchema,
)]
#[diesel(table_name = organizations)]
pub struct Organization {
    pub id: String,
    pub slug: String,
    pub name: String,
}

/// An organization and how many members it has.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct OrganizationListing {
    pub id: String,
    pub slug: String,
    pub name: String,
    pub members: i64,
}

/// Creates an organization; `StoreError::Conflict` when the slug is taken.
pub fn insert_organization(conn: &mut DbConnection, org: &Organization) -> Result<(), StoreError> {
    diesel::insert_into(organizations::table)
        .values((
            organizations::id.eq(&org.id),
            organizations::slug.eq(&org.slug),
            organizations::name.eq(&org.name),
            organizations::created_at.eq(unix_now()),
        ))
        .execute(conn)?;
    Ok(())
}

/// The organization with this id, or else with this slug (an id always wins: a slug may look
/// like another organization's id).
pub fn find_organization(
    conn: &mut DbConnection,
    id_or_slug: &str,
) -> Result<Option<Organization>, StoreError> {
    let by_id = organizations::table
        .find(id_or_slug)
        .select(Organization::as_select())
        .get_result(conn)
        .optional()?;
    if by_id.is_some() {
        return Ok(by_id);
    }
    Ok(organizations::table
        .filter(organizations::slug.eq(id_or_slug))
        .select(Organization::as_select())
        .get_result(conn)
        .optional()?)
}

/// Every organization, by slug, with its member count.
pub fn list_organizations(conn: &mut DbConnection) -> Result<Vec<OrganizationListing>, StoreError> {
    let orgs: Vec<Organization> = organizations::table
        .select(Organization::as_select())
        .order(organizations::slug.asc())
        .load(conn)?;
    let counts: Vec<(String, i64)> = memberships::table
        .group_by(memberships::org_id)
        .select((memberships::org_id, diesel::dsl::count_star()))
        .load(conn)?;
    Ok(orgs
        .into_iter()
        .map(|o| OrganizationListing {
            members: counts
                .iter()
                .find(|(id, _)| *id == o.id)
                .map_or(0, |(_, n)| *n),
            id: o.id,
            slug: o.slug,
            name: o.name,
        })
        .collect())
}

pub fn is_member(conn: &mut DbConnection, org_id: &str, user_id: &str) -> Result<bool, StoreError> {
    Ok(memberships::table
        .filter(memberships::org_id.eq(org_id))
        .filter(memberships::user_id.eq(user_id))
        .count()
        .get_result::<i64>(conn)?
        > 0)
}

/// Makes the user a member (if they are not yet) with these roles added to theirs there; the
/// member's roles in the organization afterwards.
pub fn add_member(
    conn: &mut DbConnection,
    org_id: &str,
    user_id: &str,
    roles: &[String],
) -> Result<Result<Vec<String>, RoleRefusal>, StoreError> {
    super::roles::locked(conn, |c| {
        let ids = match role_ids(c, roles)? {
            Ok(ids) => ids,
            Err(refusal) => return Ok(Err(refusal)),
        };
        if !is_member(c, org_id, user_id)? {
            insert_membership(c, org_id, user_id)?;
        }
        for id in &ids {
            give_membership_role(c, org_id, user_id, id)?;
        }
        Ok(Ok(membership_role_names(c, org_id, user_id)?))
    })
}

/// Ends a membership and the roles it held; false when there was none.
pub fn remove_member(
    conn: &mut DbConnection,
    org_id: &str,
    user_id: &str,
) -> Result<bool, StoreError> {
    Ok(diesel::delete(
        memberships::table
            .filter(memberships::org_id.eq(org_id))
            .filter(memberships::user_id.eq(user_id)),
    )
    .execute(conn)?
        > 0)
}

/// The organizations the user is a member of, by slug.
pub fn user_organizations(
    conn: &mut DbConnection,
    user_id: &str,
) -> Result<Vec<Organization>, StoreError> {
    Ok(memberships::table
        .inner_join(organizations::table)
        .filter(memberships::user_id.eq(user_id))
        .select(Organization::as_select())
        .order(organizations::slug.asc())
        .load(conn)?)
}

/// Deletes the organization and, through the foreign keys, its memberships, their roles and
/// the API keys bound to it; false when there was no such organization.
pub fn delete_organization(conn: &mut DbConnection, id: &str) -> Result<bool, StoreError> {
    Ok(diesel::delete(organizations::table.find(id)).execute(conn)? > 0)
}

/// How many members the organization has.
pub fn member_count(conn: &mut DbConnection, org_id: &str) -> Result<i64, StoreError> {
    Ok(memberships::table
        .filter(memberships::org_id.eq(org_id))
        .count()
        .get_result(conn)?)
}

/// The user's memberships: each organization with the user's roles there.
pub fn user_memberships(
    conn: &mut DbConnection,
    user_id: &str,
) -> Result<Vec<(Organization, Vec<String>)>, StoreError> {
    let orgs = user_organizations(conn, user_id)?;
    let mut out = Vec::with_capacity(orgs.len());
    for org in orgs {
        let roles = membership_role_names(conn, &org.id, user_id)?;
        out.push((org, roles));
    }
    Ok(out)
}

/// Makes the user a member (with no roles there yet).
pub(super) fn insert_membership(
    conn: &mut DbConnection,
    org_id: &str,
    user_id: &str,
) -> Result<(), StoreError> {
    diesel::insert_into(memberships::table)
        .values((
            memberships::org_id.eq(org_id),
            memberships::user_id.eq(user_id),
            memberships::created_at.eq(unix_now()),
        ))
        .execute(conn)?;
    Ok(())
}
