//! A signed-in user changing their own password (SEC-60): the current password is checked as a
//! sign-in is (the same limits; a wrong one counts as a failed sign-in), the new one must meet
//! the policy for a password being set, and success changes the security stamp in the same
//! transaction that stores the new hash, so every other session and token of the user ends.

use super::end_all::EndAll;
use super::password::PasswordHasher;
use super::sign_in::{SignIn, SignInError};
use crate::domain::Password;
use crate::store::{StoreError, User};
use std::net::IpAddr;

#[derive(Debug, thiserror::Error)]
pub enum ChangeError {
    /// The current password is wrong (counted as a failed sign-in).
    #[error("the current password is incorrect")]
    WrongPassword,
    /// The new password does not meet the policy.
    #[error("{0}")]
    Weak(String),
    /// The sign-in limits refuse (as `SignInError::Limited`).
    #[error(transparent)]
    SignIn(SignInError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Password changes by their owner.
#[derive(Clone)]
pub struct PasswordChange {
    sign_in: SignIn,
    passwords: PasswordHasher,
    end_all: EndAll,
}

/// What a password change needs from the request.
pub struct ChangeRequest<'a> {
    pub ip: IpAddr,
    pub current: String,
    pub new: String,
    pub device_cookie: Option<&'a str>,
}

impl PasswordChange {
    pub fn new(sign_in: SignIn, passwords: PasswordHasher, end_all: EndAll) -> Self {
        Self {
            sign_in,
            passwords,
            end_all,
        }
    }

    /// Changes `user`'s password; the user as stored afterwards (with the new stamp).
    pub async fn change(
        &self,
        user: &User,
        request: ChangeRequest<'_>,
    ) -> Result<User, ChangeError> {
        // The current password first, under the sign-in limits (every attempt counts per IP):
        // the strength check below costs CPU, and only a caller who knows the password gets it.
        let signed_in = self
            .sign_in
            .sign_in(
                request.ip,
                &user.email,
                request.current,
                request.device_cookie,
            )
            .await
            .map_err(|e| match e {
                SignInError::Failed => ChangeError::WrongPassword,
                SignInError::Store(e) => ChangeError::Store(e),
                other => ChangeError::SignIn(other),
            })?;
        if signed_in.id != user.id {
            return Err(ChangeError::WrongPassword);
        }
        let context = [user.email.clone(), user.name.clone().unwrap_or_default()];
        let new = tokio::task::spawn_blocking(move || {
            Password::parse_new(request.new, &[context[0].as_str(), context[1].as_str()])
        })
        .await
        .map_err(|e| {
            ChangeError::Store(StoreError::Unexpected(anyhow::anyhow!(
                "checking the new password: {e}"
            )))
        })?
        .map_err(|e| ChangeError::Weak(e.to_string()))?;
        let hash = self.passwords.hash(new).await.map_err(|e| {
            ChangeError::Store(StoreError::Unexpected(anyhow::anyhow!(
                "hashing the new password: {e}"
            )))
        })?;
        let ended = self.end_all.set_password(&user.id, hash.clone()).await?;
        // The user as stored now, from what was written (no read that a later change could race).
        Ok(User {
            security_stamp: ended.stamp,
            password_hash: Some(hash),
            ..user.clone()
        })
    }
}
