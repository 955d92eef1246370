//! Signing a user in with email and password, shared by the password grant and the login page:
//! rate limited per IP and username, one answer and one cost for unknown users, wrong passwords
//! and disabled accounts (no enumeration), stored hashes upgraded when parameters changed.

use super::AuthError;
use super::device::DeviceCookies;
use super::password::{PasswordHasher, Verified};
use super::rate_limit::Limiter;
use super::secrets::stamp_digest;
use crate::domain::{Email, Password};
use crate::store::{self, Store, StoreError, User};
use std::net::IpAddr;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    /// A limit is reached; try again after this long.
    #[error("too many sign-in attempts")]
    Limited(Duration),
    /// Unknown user, wrong password or disabled account: deliberately one case.
    #[error("invalid username or password")]
    Failed,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("password verification failed: {0}")]
    Internal(AuthError),
}

/// Signs users in: the one code path of the password grant and the login page.
#[derive(Clone)]
pub struct SignIn {
    store: Store,
    passwords: PasswordHasher,
    limiter: Limiter,
    devices: DeviceCookies,
}

impl SignIn {
    pub fn new(
        store: Store,
        passwords: PasswordHasher,
        limiter: Limiter,
        devices: DeviceCookies,
    ) -> Self {
        Self {
            store,
            passwords,
            limiter,
            devices,
        }
    }

    /// A device cookie value for a browser where `user` just signed in as `username`.
    pub fn device_cookie(&self, username: &str, user: &User) -> String {
        self.devices
            .issue(username, &stamp_digest(&user.security_stamp))
    }

    /// Checks `username` (an email) and `password`; the user on success. `device_cookie` is the
    /// device cookie the browser presented, if any (the password grant has none).
    pub async fn sign_in(
        &self,
        ip: IpAddr,
        username: &str,
        password: String,
        device_cookie: Option<&str>,
    ) -> Result<User, SignInError> {
        // No stored password is longer than the policy allows: refuse without hashing (SEC-62),
        // and before the attempt counts against the username (CONTRACT "Hardening"): such a
        // password can never be right, so it must not fill the user's limit either. Counted in
        // the stored (NFKC) form, so decomposed input is not refused for its length; the byte
        // bound first keeps the normalization itself cheap.
        if password.len() > Password::MAX_CHARS * 16
            || crate::domain::normalize_password(&password).chars().count() > Password::MAX_CHARS
        {
            return Err(SignInError::Failed);
        }
        // A device cookie's signature is checked without the database; only a good one costs
        // the user lookup (done before the limits then, and used after them too).
        let presented = device_cookie.and_then(|value| self.devices.verify(value, username));
        let mut found = None;
        let mut device = None;
        if let Some(presented) = presented {
            let user = self.find_user(username).await?;
            if user.as_ref().is_some_and(|u| {
                self.devices
                    .stamp_matches(&presented, &stamp_digest(&u.security_stamp))
            }) {
                device = Some(presented.id());
            }
            found = Some(user);
        }
        let attempt = self
            .limiter
            .begin(ip, username, device.as_deref())
            .await
            .map_err(SignInError::Limited)?;
        let user = match found {
            Some(user) => user,
            None => self.find_user(username).await?,
        };
        let stored = user.as_ref().and_then(|u| u.password_hash.clone());
        let verified = self
            .passwords
            .verify(password, stored)
            .await
            .map_err(SignInError::Internal)?;
        let (user, rehash) = match (user, verified) {
            (Some(user), Verified::Match { rehash }) if user.is_active => (user, rehash),
            _ => return Err(SignInError::Failed),
        };
        self.limiter.succeeded(attempt).await;
        if let Some(hash) = rehash {
            let id = user.id.clone();
            let verified = user.password_hash.clone().unwrap_or_default();
            self.store
                .run(move |c| store::update_password_hash(c, &id, &verified, &hash))
                .await?;
        }
        Ok(user)
    }

    async fn find_user(&self, username: &str) -> Result<Option<User>, SignInError> {
        let Ok(email) = Email::parse(username) else {
            return Ok(None);
        };
        let normalized = email.normalized();
        Ok(self
            .store
            .run(move |c| store::find_user_by_email(c, &normalized))
            .await?)
    }
}

/// A sign-in attempt's result, as the metrics name it.
pub fn outcome<T>(attempt: &Result<T, SignInError>) -> &'static str {
    match attempt {
        Ok(_) => "success",
        Err(SignInError::Limited(_)) => "limited",
        Err(SignInError::Failed) => "failure",
        Err(_) => "error",
    }
}
