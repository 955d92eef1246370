//! API keys (CONTRACT "API keys"): made, listed, rotated and revoked for a user. The command
//! line, the self-service API and the account page call these; a key's scopes never exceed
//! what its user may do when it is made.

use super::users::{no_user, validate_name};
use super::{Admin, AdminError};
use crate::auth::secrets;
use crate::domain::Email;
use crate::domain::api_key::ApiKey;
use crate::store::{self, ApiKeyRow, unix_now};
use serde::Serialize;

/// The default lifetime of a key: 90 days (never more than `api_key_max_ttl`).
pub const DEFAULT_API_KEY_TTL: u64 = 90 * 86_400;
/// The longest grace a rotation may give the old key: 7 days.
pub const MAX_ROTATION_GRACE: u64 = 604_800;

/// What a new key is to be.
#[derive(Debug, Default, Clone)]
pub struct ApiKeyInput {
    pub name: String,
    pub scopes: Vec<String>,
    /// Seconds; the default when None.
    pub expires_in: Option<u64>,
    /// An organization's id or slug: the key then acts inside it.
    pub organization: Option<String>,
}

/// A key just made or rotated: the only time `key` is shown.
#[derive(Debug, Serialize)]
pub struct CreatedApiKey {
    pub id: String,
    pub name: String,
    pub key: String,
    pub display: String,
    pub scopes: Vec<String>,
    pub org_id: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
}

/// A key as lists show it: never the key itself.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ApiKeyListing {
    pub id: String,
    pub name: String,
    pub display: String,
    pub scopes: Vec<String>,
    pub org_id: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

/// A key that was revoked.
#[derive(Debug, Serialize)]
pub struct ApiKeyRef {
    pub id: String,
}

impl From<ApiKeyRow> for ApiKeyListing {
    fn from(r: ApiKeyRow) -> Self {
        Self {
            scopes: split(&r.scopes),
            id: r.id,
            name: r.name,
            display: r.display,
            org_id: r.org_id,
            created_at: r.created_at,
            expires_at: r.expires_at,
            last_used_at: r.last_used_at,
            revoked_at: r.revoked_at,
        }
    }
}

fn split(scopes: &str) -> Vec<String> {
    scopes.split_whitespace().map(str::to_owned).collect()
}

impl Admin {
    /// The user id of the user with this email (the command line names users by email).
    pub async fn user_id_by_email(&self, email: &str) -> Result<String, AdminError> {
        let parsed = Email::parse(email).map_err(|e| AdminError::invalid("email", e))?;
        let normalized = parsed.normalized();
        self.store
            .run(move |c| store::find_user_by_email(c, &normalized))
            .await?
            .map(|u| u.id)
            .ok_or_else(|| no_user(&parsed))
    }

    /// Makes a key for `user_id`. Every scope must be one of the user's effective permissions
    /// now (inside the organization, for a key bound to one), else the error names it.
    pub async fn create_api_key(
        &self,
        user_id: &str,
        input: ApiKeyInput,
    ) -> Result<CreatedApiKey, AdminError> {
        let name = validate_name(&input.name)?;
        let max = self.settings.tokens.api_key_max_ttl;
        let ttl = match input.expires_in {
            None => DEFAULT_API_KEY_TTL.min(max),
            Some(s) if (1..=max).contains(&s) => s,
            Some(s) => {
                return Err(AdminError::invalid(
                    "expires_in",
                    format!("expires_in must be between 1 and {max} seconds, got {s}"),
                ));
            }
        };
        let mut scopes = input.scopes.clone();
        scopes.sort();
        scopes.dedup();
        if let Some(bad) = scopes.iter().find(|s| s.is_empty() || s.len() > 200) {
            return Err(AdminError::invalid(
                "scopes",
                format!("invalid scope {bad:?}"),
            ));
        }
        let key = ApiKey::generate();
        let now = unix_now();
        let row = ApiKeyRow {
            id: uuid::Uuid::new_v4().to_string(),
            user_id: user_id.to_owned(),
            org_id: None,
            name,
            key_hash: secrets::hash_secret(key.as_str()),
            display: key.display(),
            scopes: scopes.join(" "),
            created_at: now,
            expires_at: now + ttl as i64,
            last_used_at: None,
            revoked_at: None,
            previous_hash: None,
            previous_until: None,
        };
        let organization = input.organization;
        let roles = self.roles.clone();
        let stored = self
            .store
            .run(move |c| {
                let mut row = row;
                if store::find_user_by_id(c, &row.user_id)?.is_none() {
                    return Ok(Err(AdminError::NotFound("no such user".into())));
                }
                if let Some(org) = organization {
                    match store::find_organization(c, &org)? {
                        Some(o) if store::is_member(c, &o.id, &row.user_id)? => {
                            row.org_id = Some(o.id)
                        }
                        _ => {
                            return Ok(Err(AdminError::invalid(
                                "organization",
                                format!("the user is not a member of an organization {org:?}"),
                            )));
                        }
                    }
                }
                let access =
                    store::effective_access(c, &roles, &row.user_id, row.org_id.as_deref())?;
                if let Some(missing) = split(&row.scopes)
                    .into_iter()
                    .find(|s| !access.permissions.contains(s))
                {
                    return Ok(Err(AdminError::invalid(
                        "scopes",
                        format!("the user does not have the permission {missing}"),
                    )));
                }
                store::insert_api_key(c, &row)?;
                Ok(Ok(row))
            })
            .await??;
        Ok(created(stored, key))
    }

    /// A user's effective permissions (global): what their keys may be given.
    pub async fn user_permissions(&self, user_id: &str) -> Result<Vec<String>, AdminError> {
        let (user, roles) = (user_id.to_owned(), self.roles.clone());
        let access = self
            .store
            .run(move |c| store::effective_access(c, &roles, &user, None))
            .await?;
        Ok(access.permissions.into_iter().collect())
    }

    /// Whether the key `id` still works (not revoked, not expired).
    pub async fn api_key_live(&self, id: &str) -> Result<bool, AdminError> {
        let key = id.to_owned();
        let now = chrono::Utc::now().timestamp();
        let row = self
            .store
            .run(move |c| store::find_api_key(c, &key))
            .await?;
        Ok(row.is_some_and(|r| r.revoked_at.is_none() && r.expires_at > now))
    }

    /// A user's keys, newest first.
    pub async fn list_api_keys(&self, user_id: &str) -> Result<Vec<ApiKeyListing>, AdminError> {
        let user = user_id.to_owned();
        let rows = self
            .store
            .run(move |c| store::list_api_keys(c, &user))
            .await?;
        Ok(rows.into_iter().map(ApiKeyListing::from).collect())
    }

    /// Replaces a key: the new one is returned; the old one keeps working for `grace` seconds
    /// (0 to 7 days; 0 by default) and never after. `owner`, when given, must own the key
    /// (another user's key is "not found").
    pub async fn rotate_api_key(
        &self,
        id: &str,
        grace: Option<u64>,
        owner: Option<&str>,
    ) -> Result<CreatedApiKey, AdminError> {
        let grace = grace.unwrap_or(0);
        if grace > MAX_ROTATION_GRACE {
            return Err(AdminError::invalid(
                "grace",
                format!("grace must be between 0 and {MAX_ROTATION_GRACE} seconds, got {grace}"),
            ));
        }
        let row = self.owned_key(id, owner).await?;
        let key = ApiKey::generate();
        let now = unix_now();
        let (id, hash, display) = (
            row.id.clone(),
            secrets::hash_secret(key.as_str()),
            key.display(),
        );
        let rotated = self
            .store
            .run(move |c| {
                let done = store::rotate_api_key(c, &id, &hash, &display, now, now + grace as i64)?;
                Ok(if done {
                    store::find_api_key(c, &id)?
                } else {
                    None
                })
            })
            .await?;
        match rotated {
            Some(row) => Ok(created(row, key)),
            None => Err(AdminError::Conflict(
                "the key is revoked or expired (or was rotated meanwhile): make a new one".into(),
            )),
        }
    }

    /// Revokes a key at once. `owner`, when given, must own it.
    pub async fn revoke_api_key(
        &self,
        id: &str,
        owner: Option<&str>,
    ) -> Result<ApiKeyRef, AdminError> {
        let row = self.owned_key(id, owner).await?;
        let key_id = row.id.clone();
        self.store
            .run(move |c| store::revoke_api_key(c, &key_id, unix_now()))
            .await?;
        Ok(ApiKeyRef { id: row.id })
    }

    async fn owned_key(&self, id: &str, owner: Option<&str>) -> Result<ApiKeyRow, AdminError> {
        let not_found = || AdminError::NotFound(format!("no API key with id {id}"));
        if id.is_empty() || id.len() > 64 {
            return Err(not_found());
        }
        let key_id = id.to_owned();
        let row = self
            .store
            .run(move |c| store::find_api_key(c, &key_id))
            .await?
            .ok_or_else(not_found)?;
        match owner {
            Some(user) if user != row.user_id => Err(not_found()),
            _ => Ok(row),
        }
    }
}

fn created(row: ApiKeyRow, key: ApiKey) -> CreatedApiKey {
    CreatedApiKey {
        scopes: split(&row.scopes),
        id: row.id,
        name: row.name,
        key: key.as_str().to_owned(),
        display: row.display,
        org_id: row.org_id,
        created_at: row.created_at,
        expires_at: row.expires_at,
    }
}
