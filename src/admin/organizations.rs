//! Organizations by id, as the admin REST API manages them: read, delete, set a member's
//! roles (making them a member), end a membership.

use super::roles::MembershipRef;
use super::{Admin, AdminError};
use crate::store::{self, OrganizationListing};

impl Admin {
    /// The organization with this id (or slug), with its member count.
    pub async fn organization_listing(&self, id: &str) -> Result<OrganizationListing, AdminError> {
        let org = self.organization(id).await?;
        let key = org.id.clone();
        let members = self
            .store
            .run(move |c| store::member_count(c, &key))
            .await?;
        Ok(OrganizationListing {
            id: org.id,
            slug: org.slug,
            name: org.name,
            members,
        })
    }

    /// Deletes the organization with its memberships, their roles and the API keys bound to it.
    pub async fn delete_organization(&self, id: &str) -> Result<OrganizationListing, AdminError> {
        let org = self.organization_listing(id).await?;
        let key = org.id.clone();
        self.store
            .run(move |c| store::delete_organization(c, &key))
            .await?;
        Ok(org)
    }

    /// Makes the user a member (if not yet) whose roles there are exactly `roles`.
    pub async fn set_member(
        &self,
        org: &str,
        user_id: &str,
        roles: &[String],
    ) -> Result<MembershipRef, AdminError> {
        for role in roles {
            super::users::validate_role(role)?;
        }
        let org = self.organization(org).await?;
        let user = self.user(user_id).await?;
        let (org_id, uid, names) = (org.id.clone(), user.id.clone(), roles.to_vec());
        let held = self
            .store
            .run(move |c| store::replace_user_roles(c, &uid, &names, Some(&org_id), true))
            .await?
            .map_err(super::roles::refused_in("roles"))?;
        Ok(MembershipRef {
            org_id: org.id,
            user_id: user.id,
            roles: Some(held),
        })
    }

    /// Ends the user's membership (and their roles there).
    pub async fn end_membership(
        &self,
        org: &str,
        user_id: &str,
    ) -> Result<MembershipRef, AdminError> {
        let org = self.organization(org).await?;
        let user = self.user(user_id).await?;
        let (org_id, uid) = (org.id.clone(), user.id.clone());
        let removed = self
            .store
            .run(move |c| store::remove_member(c, &org_id, &uid))
            .await?;
        if !removed {
            return Err(AdminError::NotFound(format!(
                "user {} is not a member of organization {}",
                user.id, org.slug
            )));
        }
        Ok(MembershipRef {
            org_id: org.id,
            user_id: user.id,
            roles: None,
        })
    }

    /// The role named `name`, with its effective permissions.
    pub async fn role(&self, name: &str) -> Result<store::RoleListing, AdminError> {
        if super::users::validate_role(name).is_err() {
            return Err(AdminError::NotFound(format!("no role named {name:?}")));
        }
        self.list_roles()
            .await?
            .into_iter()
            .find(|r| r.name == name)
            .ok_or_else(|| AdminError::NotFound(format!("no role named {name}")))
    }
}
