//! "Log out everywhere", written once for the endpoint, the command line and the admin API: a
//! new security stamp (every access token and browser session of the user stops working at
//! once), every refresh token revoked, every session row deleted, and the shared status cache
//! told, so that every node sees the change on its next request.

use crate::auth::secrets;
use crate::auth::secrets::stamp_digest;
use crate::ephemeral::{Ephemeral, UserStatus};
use crate::store::{self, Store, StoreError};
use diesel::Connection;

/// A change made in the same transaction.
type Change = Box<dyn FnOnce(&mut store::DbConnection) -> Result<(), StoreError> + Send>;

/// Ends every session of a user.
#[derive(Clone)]
pub struct EndAll {
    store: Store,
    ephemeral: Ephemeral,
}

/// The change is saved; `unshared` says why Redis could not be told, if it could not (nodes
/// then read the user from the database once their cached entry expires, within a minute).
#[derive(Debug)]
pub struct Ended {
    pub unshared: Option<String>,
    /// The user's new security stamp.
    pub stamp: String,
}

impl EndAll {
    pub fn new(store: Store, ephemeral: Ephemeral) -> Self {
        Self { store, ephemeral }
    }

    /// Ends every token and session of `user_id`; with `deactivate` the user is disabled too.
    pub async fn end_all(&self, user_id: &str, deactivate: bool) -> Result<Ended, StoreError> {
        self.end(user_id, deactivate, None).await
    }

    /// A password change: the new hash is stored in the same transaction that ends every token
    /// and session of the user.
    pub async fn set_password(&self, user_id: &str, hash: String) -> Result<Ended, StoreError> {
        self.end(user_id, false, Some(hash)).await
    }

    /// Runs `change` (linking an identity, say) in the transaction that ends every token and
    /// session of `user_id`: the change and the new security stamp are one.
    pub async fn end_with<F>(&self, user_id: &str, change: F) -> Result<Ended, StoreError>
    where
        F: FnOnce(&mut store::DbConnection) -> Result<(), StoreError> + Send + 'static,
    {
        self.end_inner(user_id, false, None, Some(Box::new(change)))
            .await
    }

    /// Disables the user, running `change` (a new name, say) in the same transaction.
    pub async fn disable_with<F>(&self, user_id: &str, change: F) -> Result<Ended, StoreError>
    where
        F: FnOnce(&mut store::DbConnection) -> Result<(), StoreError> + Send + 'static,
    {
        self.end_inner(user_id, true, None, Some(Box::new(change)))
            .await
    }

    async fn end(
        &self,
        user_id: &str,
        deactivate: bool,
        password_hash: Option<String>,
    ) -> Result<Ended, StoreError> {
        self.end_inner(user_id, deactivate, password_hash, None)
            .await
    }

    async fn end_inner(
        &self,
        user_id: &str,
        deactivate: bool,
        password_hash: Option<String>,
        change: Option<Change>,
    ) -> Result<Ended, StoreError> {
        let stamp = secrets::random_token(16);
        let written = stamp.clone();
        let status = UserStatus {
            active: !deactivate,
            stamp_digest: stamp_digest(&stamp),
        };
        let id = user_id.to_owned();
        self.store
            .run(move |c| {
                c.transaction(|c| {
                    if let Some(change) = change {
                        change(c)?;
                    }
                    store::end_all_sessions_setting(
                        c,
                        &id,
                        &stamp,
                        deactivate,
                        password_hash.as_deref(),
                    )
                })
            })
            .await?;
        let unshared = match self.ephemeral.store_user(user_id, &status).await {
            Ok(()) => None,
            Err(e) => {
                // Should Redis come back with the old entry, it expires within a minute.
                tracing::warn!(error = %e, "could not store the user's new status in Redis");
                Some(e.to_string())
            }
        };
        Ok(Ended {
            unshared,
            stamp: written,
        })
    }
}
