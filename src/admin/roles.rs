//! Roles, organizations and memberships: every name and permission checked before anything is
//! written, and the graph's rules (no cycle, no unknown parent) checked under the write lock.

use super::users::{no_user, validate_name, validate_role};
use super::{Admin, AdminError, UserRef};
use crate::domain::Email;
use crate::store::{
    self, Organization, OrganizationListing, RoleDef, RoleListing, RoleRefusal, StoreError, User,
};
use serde::Serialize;
use std::collections::BTreeSet;

/// A role that was deleted.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RoleRef {
    pub name: String,
}

/// A membership as `org add-member` shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MembershipRef {
    pub org_id: String,
    pub user_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<String>>,
}

/// A refusal where an unknown role was named in the input (`field`): invalid input, not a
/// missing resource.
pub(super) fn refused_in(field: &'static str) -> impl FnOnce(RoleRefusal) -> AdminError {
    move |refusal| match refusal {
        RoleRefusal::Unknown(name) => AdminError::invalid(field, format!("no role named {name}")),
        other => refused(other),
    }
}

pub(super) fn refused(refusal: RoleRefusal) -> AdminError {
    match refusal {
        RoleRefusal::Exists(name) => AdminError::Conflict(format!("role {name} already exists")),
        RoleRefusal::Unknown(name) => AdminError::NotFound(format!("no role named {name}")),
        RoleRefusal::Cycle(path) => AdminError::Conflict(format!(
            "role cycle: {} (a role cannot inherit from itself)",
            path.join(" inherits ")
        )),
        RoleRefusal::NotMember => {
            AdminError::invalid("org", "the user is not a member of this organization")
        }
    }
}

/// `lowercase letters, digits and -, 2 to 63 characters`.
fn validate_slug(slug: &str) -> Result<(), AdminError> {
    let ok = (2..=63).contains(&slug.len())
        && slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !ok {
        return Err(AdminError::invalid(
            "slug",
            format!("invalid slug {slug:?}: use 2 to 63 lowercase letters, digits and -"),
        ));
    }
    Ok(())
}

impl Admin {
    /// Each permission must be in the scope catalogue (or reserved); sorted, without repeats.
    fn permissions(&self, given: &[String]) -> Result<BTreeSet<String>, AdminError> {
        let catalogue = &self.settings.tokens.scopes;
        for p in given {
            if !catalogue.is_permission(p) {
                return Err(AdminError::invalid(
                    "permissions",
                    format!(
                        "unknown permission {p:?}: permissions are the API scopes of the `scopes` \
                         setting, and irongate:admin, irongate:read"
                    ),
                ));
            }
        }
        Ok(given.iter().cloned().collect())
    }

    /// Each name checked; sorted, without repeats.
    fn role_names(given: &[String]) -> Result<Vec<String>, AdminError> {
        for name in given {
            validate_role(name)?;
        }
        let mut names = given.to_vec();
        names.sort_unstable();
        names.dedup();
        Ok(names)
    }

    pub async fn create_role(
        &self,
        name: &str,
        permissions: &[String],
        inherits: &[String],
    ) -> Result<RoleDef, AdminError> {
        validate_role(name)?;
        let permissions = self.permissions(permissions)?;
        let inherits = Self::role_names(inherits)?;
        let name = name.to_owned();
        self.store
            .run(move |c| store::create_role(c, &name, &permissions, &inherits))
            .await?
            .map_err(refused_in("inherits"))
    }

    /// Replaces the sets that are given (`None` leaves one as it is).
    pub async fn update_role(
        &self,
        name: &str,
        permissions: Option<&[String]>,
        inherits: Option<&[String]>,
    ) -> Result<RoleDef, AdminError> {
        validate_role(name)?;
        let permissions = permissions.map(|p| self.permissions(p)).transpose()?;
        let inherits = inherits.map(Self::role_names).transpose()?;
        let owned = name.to_owned();
        self.store
            .run(move |c| store::update_role(c, &owned, permissions.as_ref(), inherits.as_deref()))
            .await?
            .map_err(|refusal| match refusal {
                // The role being changed is missing; any other unknown name is in `inherits`.
                RoleRefusal::Unknown(n) if n == name => refused(RoleRefusal::Unknown(n)),
                other => refused_in("inherits")(other),
            })
    }

    pub async fn delete_role(&self, name: &str) -> Result<RoleRef, AdminError> {
        validate_role(name)?;
        let owned = name.to_owned();
        let deleted = self
            .store
            .run(move |c| store::delete_role(c, &owned))
            .await?;
        if !deleted {
            return Err(refused(RoleRefusal::Unknown(name.to_owned())));
        }
        Ok(RoleRef {
            name: name.to_owned(),
        })
    }

    pub async fn list_roles(&self) -> Result<Vec<RoleListing>, AdminError> {
        Ok(self.store.run(store::list_roles).await?)
    }

    pub(super) async fn user_by_email(&self, email: &str) -> Result<User, AdminError> {
        let parsed = Email::parse(email).map_err(|e| AdminError::invalid("email", e))?;
        let normalized = parsed.normalized();
        self.store
            .run(move |c| store::find_user_by_email(c, &normalized))
            .await?
            .ok_or_else(|| no_user(&parsed))
    }

    /// The organization an id or slug names.
    pub(super) async fn organization(&self, id_or_slug: &str) -> Result<Organization, AdminError> {
        if id_or_slug.is_empty() || id_or_slug.chars().any(char::is_control) {
            return Err(AdminError::NotFound(format!(
                "no organization {id_or_slug:?}"
            )));
        }
        let key = id_or_slug.to_owned();
        self.store
            .run(move |c| store::find_organization(c, &key))
            .await?
            .ok_or_else(|| AdminError::NotFound(format!("no organization {id_or_slug}")))
    }

    /// `user add-role` / `user remove-role`: globally, or inside `org` (id or slug).
    pub async fn change_user_role(
        &self,
        email: &str,
        role: &str,
        org: Option<&str>,
        add: bool,
    ) -> Result<UserRef, AdminError> {
        validate_role(role)?;
        let user = self.user_by_email(email).await?;
        let org_id = match org {
            Some(org) => Some(self.organization(org).await?.id),
            None => None,
        };
        let (user_id, role) = (user.id.clone(), role.to_owned());
        self.store
            .run(move |c| store::change_user_role(c, &user_id, &role, org_id.as_deref(), add))
            .await?
            .map_err(refused_in("role"))?;
        Ok(UserRef {
            id: user.id,
            email: user.email,
        })
    }

    pub async fn create_organization(
        &self,
        slug: &str,
        name: &str,
    ) -> Result<Organization, AdminError> {
        validate_slug(slug)?;
        let name = validate_name(name)?;
        let org = Organization {
            id: uuid::Uuid::new_v4().to_string(),
            slug: slug.to_owned(),
            name,
        };
        let row = org.clone();
        self.store
            .run(move |c| store::insert_organization(c, &row))
            .await
            .map_err(|e| match e {
                StoreError::Conflict(_) => {
                    AdminError::Conflict(format!("an organization with slug {slug} already exists"))
                }
                other => other.into(),
            })?;
        Ok(org)
    }

    pub async fn add_member(
        &self,
        org: &str,
        email: &str,
        roles: &[String],
    ) -> Result<MembershipRef, AdminError> {
        let roles = Self::role_names(roles)?;
        let org = self.organization(org).await?;
        let user = self.user_by_email(email).await?;
        let (org_id, user_id) = (org.id.clone(), user.id.clone());
        let held = self
            .store
            .run(move |c| store::add_member(c, &org_id, &user_id, &roles))
            .await?
            .map_err(refused_in("role"))?;
        Ok(MembershipRef {
            org_id: org.id,
            user_id: user.id,
            roles: Some(held),
        })
    }

    pub async fn remove_member(&self, org: &str, email: &str) -> Result<MembershipRef, AdminError> {
        let org = self.organization(org).await?;
        let user = self.user_by_email(email).await?;
        let (org_id, user_id) = (org.id.clone(), user.id.clone());
        let removed = self
            .store
            .run(move |c| store::remove_member(c, &org_id, &user_id))
            .await?;
        if !removed {
            return Err(refused(RoleRefusal::NotMember));
        }
        Ok(MembershipRef {
            org_id: org.id,
            user_id: user.id,
            roles: None,
        })
    }

    pub async fn list_organizations(&self) -> Result<Vec<OrganizationListing>, AdminError> {
        Ok(self.store.run(store::list_organizations).await?)
    }
}
