//! Users by id, as the admin REST API manages them: list (by email, in pages), read, rename,
//! enable and disable, delete, log out everywhere, their roles, memberships and API keys.

use super::listing::{Listing, PageRequest};
use super::users::validate_name;
use super::{Admin, AdminError, ApiKeyListing, Changed, UserRef};
use crate::domain::Email;
use crate::store::{self, User};
use serde::Serialize;
use utoipa::ToSchema;

/// A user as the admin API shows them (never a password hash or security stamp).
#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    pub id: String,
    pub email: String,
    pub name: Option<String>,
    pub email_verified: bool,
    pub active: bool,
    /// Whether the user has a password (without one, they sign in only through federation).
    pub has_password: bool,
    /// Unix time.
    pub created_at: i64,
}

impl From<User> for UserView {
    fn from(u: User) -> Self {
        Self {
            id: u.id,
            email: u.email,
            name: u.name,
            email_verified: u.email_verified,
            active: u.is_active,
            has_password: u.password_hash.is_some(),
            created_at: u.created_at.and_utc().timestamp(),
        }
    }
}

/// A user's roles after a change: globally, or inside `org_id`.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserRoles {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub org_id: Option<String>,
    pub roles: Vec<String>,
}

/// A membership: the organization and the user's roles there.
#[derive(Debug, Serialize, ToSchema)]
pub struct MembershipView {
    pub org_id: String,
    pub slug: String,
    pub name: String,
    pub roles: Vec<String>,
}

/// The unknown-id refusal.
fn no_such_user(id: &str) -> AdminError {
    AdminError::NotFound(format!("no user with id {id}"))
}

impl Admin {
    /// The user with `id`.
    pub async fn user(&self, id: &str) -> Result<User, AdminError> {
        if id.chars().any(char::is_control) {
            return Err(no_such_user(id));
        }
        let key = id.to_owned();
        self.store
            .run(move |c| store::find_user_by_id(c, &key))
            .await?
            .ok_or_else(|| no_such_user(id))
    }

    /// Users in pages, in id order; `email` keeps only the user who has it.
    pub async fn list_users(
        &self,
        email: Option<&str>,
        page: &PageRequest,
    ) -> Result<Listing<UserView>, AdminError> {
        let email = email
            .map(|e| Email::parse(e).map_err(|e| AdminError::invalid("email", e)))
            .transpose()?
            .map(|e| e.normalized());
        let (after, fetch) = (page.after.clone(), page.fetch());
        let rows = self
            .store
            .run(move |c| store::list_users(c, email.as_deref(), &after, fetch))
            .await?;
        let views = rows.into_iter().map(UserView::from).collect();
        Ok(page.page(views, |u: &UserView| &u.id))
    }

    /// Renames (`name`, an empty one clears it) and enables or disables (`active`) the user;
    /// disabling ends every session and token of theirs, enabling starts them afresh.
    pub async fn update_user(
        &self,
        id: &str,
        name: Option<&str>,
        active: Option<bool>,
    ) -> Result<UserView, AdminError> {
        let name = match name {
            Some("") => Some(None),
            Some(n) => Some(Some(validate_name(n)?)),
            None => None,
        };
        let user = self.user(id).await?;
        let renamed = name.is_some();
        let key = user.id.clone();
        // The new name and a change of state are one transaction: both stand, or neither.
        let rename = move |c: &mut store::DbConnection| match name {
            Some(name) => store::set_user_name(c, &key, name.as_deref()).map(|_| ()),
            None => Ok(()),
        };
        match active {
            Some(false) if user.is_active => {
                self.end_all.disable_with(&user.id, rename).await?;
            }
            Some(true) if !user.is_active => {
                let key = user.id.clone();
                self.end_all
                    .end_with(&user.id, move |c| {
                        store::enable_user(c, &key)?;
                        rename(c)
                    })
                    .await?;
            }
            _ if renamed => self.store.run(rename).await?,
            _ => {}
        }
        Ok(self.user(id).await?.into())
    }

    /// Deletes the user and everything of theirs; their tokens stop working at once.
    pub async fn delete_user(&self, id: &str) -> Result<UserRef, AdminError> {
        let user = self.user(id).await?;
        // Disabled first, so that every node's cache says so before the row goes.
        self.end_all.end_all(&user.id, true).await?;
        let key = user.id.clone();
        self.store.run(move |c| store::delete_user(c, &key)).await?;
        Ok(UserRef {
            id: user.id,
            email: user.email,
        })
    }

    /// `user disable` / `user logout-all` by id.
    pub async fn end_user_sessions(
        &self,
        id: &str,
        deactivate: bool,
    ) -> Result<Changed, AdminError> {
        let user = self.user(id).await?;
        let ended = self.end_all.end_all(&user.id, deactivate).await?;
        Ok(Changed {
            user: UserRef {
                id: user.id,
                email: user.email,
            },
            unshared: ended.unshared,
        })
    }

    /// Replaces the user's global roles, or their roles inside `org` (id or slug; they must be
    /// a member), with `roles`, which must exist.
    pub async fn set_user_roles(
        &self,
        id: &str,
        roles: &[String],
        org: Option<&str>,
    ) -> Result<UserRoles, AdminError> {
        for role in roles {
            super::users::validate_role(role)?;
        }
        let user = self.user(id).await?;
        let org_id = match org {
            Some(org) => Some(self.organization(org).await?.id),
            None => None,
        };
        let (user_id, names, org_key) = (user.id.clone(), roles.to_vec(), org_id.clone());
        let held = self
            .store
            .run(move |c| store::replace_user_roles(c, &user_id, &names, org_key.as_deref(), false))
            .await?
            .map_err(super::roles::refused_in("roles"))?;
        Ok(UserRoles {
            id: user.id,
            org_id,
            roles: held,
        })
    }

    /// The organizations the user is a member of, with their roles there.
    pub async fn memberships(&self, id: &str) -> Result<Vec<MembershipView>, AdminError> {
        let user = self.user(id).await?;
        let rows = self
            .store
            .run(move |c| store::user_memberships(c, &user.id))
            .await?;
        Ok(rows
            .into_iter()
            .map(|(org, roles)| MembershipView {
                org_id: org.id,
                slug: org.slug,
                name: org.name,
                roles,
            })
            .collect())
    }

    /// The user's API keys (404 for an unknown user).
    pub async fn user_api_keys(&self, id: &str) -> Result<Vec<ApiKeyListing>, AdminError> {
        let user = self.user(id).await?;
        self.list_api_keys(&user.id).await
    }

    /// Revokes one of the user's API keys (another user's key is "not found").
    pub async fn revoke_user_api_key(&self, id: &str, key_id: &str) -> Result<(), AdminError> {
        let user = self.user(id).await?;
        self.revoke_api_key(key_id, Some(&user.id)).await?;
        Ok(())
    }
}
