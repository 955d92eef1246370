//! Authentication: password hashing, generated secrets, sign-in and its limits, access-token
//! claims and their verification, the revocation blocklist, the end of every session of a user,
//! and who is calling.

pub mod access;
pub mod account;
pub mod api_keys;
pub mod claims;
pub mod device;
pub mod end_all;
pub mod password;
pub mod principal;
pub mod rate_limit;
pub mod revocations;
pub mod secrets;
pub mod sign_in;

use crate::store::StoreError;

/// What can go wrong in this layer beyond a refused sign-in.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("password hashing failed: {0}")]
    Hashing(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl AuthError {
    fn unexpected(e: impl std::fmt::Display) -> Self {
        AuthError::Unexpected(anyhow::anyhow!("{e}"))
    }
}
