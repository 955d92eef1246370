//! Users: create, disable, log out everywhere.

use super::{Admin, AdminError};
use crate::auth::{password, secrets};
use crate::domain::{Email, Password};
use crate::store::{self, NewUser, StoreError};
use serde::Serialize;

/// The user a command created or changed.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UserRef {
    pub id: String,
    pub email: String,
}

/// A change saved for a user; `unshared` says why Redis could not be told, if it could not.
#[derive(Debug)]
pub struct Changed {
    pub user: UserRef,
    pub unshared: Option<String>,
}

/// The input of `irongate user create`.
#[derive(Debug, Default)]
pub struct NewUserInput {
    pub email: String,
    pub name: Option<String>,
    pub roles: Vec<String>,
    pub password: Option<String>,
    /// Whether the email is known to be the user's (`--email-verified`).
    pub email_verified: bool,
}

/// A user to create, every field checked.
#[derive(Debug)]
pub struct ValidNewUser {
    email: Email,
    name: Option<String>,
    roles: Vec<String>,
    password: Option<Password>,
    email_verified: bool,
}

impl NewUserInput {
    /// Checks every field without touching the database.
    pub fn validate(self) -> Result<ValidNewUser, AdminError> {
        let email = Email::parse(&self.email).map_err(|e| AdminError::invalid("email", e))?;
        let name = self.name.as_deref().map(validate_name).transpose()?;
        for role in &self.roles {
            validate_role(role)?;
        }
        let mut roles = self.roles;
        roles.sort_unstable();
        roles.dedup();
        let password = match self.password {
            Some(raw) => Some(
                Password::parse_new(raw, &[email.as_str(), name.as_deref().unwrap_or("")])
                    .map_err(|e| AdminError::invalid("password", e))?,
            ),
            None => None,
        };
        Ok(ValidNewUser {
            email,
            name,
            roles,
            password,
            email_verified: self.email_verified,
        })
    }
}

impl Admin {
    pub async fn create_user(&self, user: ValidNewUser) -> Result<UserRef, AdminError> {
        let password_hash = match user.password {
            Some(p) => Some(
                tokio::task::spawn_blocking(move || password::hash_blocking(&p))
                    .await
                    .map_err(|e| anyhow::anyhow!("hashing the password: {e}"))?
                    .map_err(|e| anyhow::anyhow!(e))?,
            ),
            None => None,
        };
        let new = NewUser {
            id: uuid::Uuid::new_v4().to_string(),
            email: user.email.as_str().to_owned(),
            email_normalized: user.email.normalized(),
            name: user.name,
            password_hash,
            email_verified: user.email_verified,
            security_stamp: secrets::random_token(16),
        };
        let (row, roles) = (new.clone(), user.roles);
        self.store
            .run(move |c| store::insert_user(c, &row, &roles))
            .await
            .map_err(|e| match e {
                StoreError::Conflict(_) => AdminError::Conflict(format!(
                    "a user with email {} already exists",
                    user.email.as_str()
                )),
                other => other.into(),
            })?;
        Ok(UserRef {
            id: new.id,
            email: new.email,
        })
    }

    /// Disables the user: no more sign-ins, and every token and session of theirs stops
    /// working at once.
    pub async fn disable_user(&self, email: &str) -> Result<Changed, AdminError> {
        self.end_sessions(email, true).await
    }

    /// "Log out everywhere": every token and session of the user stops working.
    pub async fn logout_all(&self, email: &str) -> Result<Changed, AdminError> {
        self.end_sessions(email, false).await
    }

    /// Sets a new password (SEC-60): in one transaction with a new security stamp, so every
    /// session, refresh token and access token of the user ends, and no sign-in with the old
    /// password can slip in between.
    pub async fn set_password(&self, email: &str, password: String) -> Result<Changed, AdminError> {
        let parsed = Email::parse(email).map_err(|e| AdminError::invalid("email", e))?;
        let normalized = parsed.normalized();
        let user = self
            .store
            .run(move |c| store::find_user_by_email(c, &normalized))
            .await?
            .ok_or_else(|| no_user(&parsed))?;
        let context = [user.email.as_str(), user.name.as_deref().unwrap_or("")];
        let password = Password::parse_new(password, &context)
            .map_err(|e| AdminError::invalid("password", e))?;
        let hash = tokio::task::spawn_blocking(move || password::hash_blocking(&password))
            .await
            .map_err(|e| anyhow::anyhow!("hashing the password: {e}"))?
            .map_err(|e| anyhow::anyhow!(e))?;
        let ended = self.end_all.set_password(&user.id, hash).await?;
        Ok(Changed {
            user: UserRef {
                id: user.id,
                email: user.email,
            },
            unshared: ended.unshared,
        })
    }

    /// Unlinks the user's identity at `issuer`; every session and token of theirs ends (one
    /// may have been opened through that identity).
    pub async fn unlink_identity(&self, email: &str, issuer: &str) -> Result<Changed, AdminError> {
        let parsed = Email::parse(email).map_err(|e| AdminError::invalid("email", e))?;
        let normalized = parsed.normalized();
        let user = self
            .store
            .run(move |c| store::find_user_by_email(c, &normalized))
            .await?
            .ok_or_else(|| no_user(&parsed))?;
        let (id, iss) = (user.id.clone(), issuer.to_owned());
        let removed = self
            .store
            .run(move |c| store::unlink_identity(c, &id, &iss))
            .await?;
        if removed == 0 {
            return Err(AdminError::NotFound(format!(
                "{} has no identity linked from {issuer}",
                user.email
            )));
        }
        let ended = self.end_all.end_all(&user.id, false).await?;
        Ok(Changed {
            user: UserRef {
                id: user.id,
                email: user.email,
            },
            unshared: ended.unshared,
        })
    }

    async fn end_sessions(&self, email: &str, deactivate: bool) -> Result<Changed, AdminError> {
        let email = Email::parse(email).map_err(|e| AdminError::invalid("email", e))?;
        let normalized = email.normalized();
        let user = self
            .store
            .run(move |c| store::find_user_by_email(c, &normalized))
            .await?
            .ok_or_else(|| no_user(&email))?;
        let ended = self.end_all.end_all(&user.id, deactivate).await?;
        Ok(Changed {
            user: UserRef {
                id: user.id,
                email: user.email,
            },
            unshared: ended.unshared,
        })
    }
}

/// The refusal for an email no user has.
pub fn no_user(email: &Email) -> AdminError {
    AdminError::NotFound(format!("no user with email {}", email.as_str()))
}

pub(super) fn validate_name(name: &str) -> Result<String, AdminError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 || name.chars().any(char::is_control) {
        return Err(AdminError::invalid(
            "name",
            "--name must be 1 to 200 characters without control characters",
        ));
    }
    Ok(name.to_owned())
}

pub(super) fn validate_role(role: &str) -> Result<(), AdminError> {
    let ok = !role.is_empty()
        && role.len() <= 64
        && role
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.:-".contains(&b))
        && role.as_bytes()[0].is_ascii_alphanumeric();
    if !ok {
        return Err(AdminError::invalid(
            "role",
            format!(
                "invalid role {role:?}: use letters, digits and _ . : - (at most 64, starting with a letter or digit)"
            ),
        ));
    }
    Ok(())
}
