//! Revoked access tokens: written to the database first (the source of truth), then to the
//! ephemeral blocklist that answers the per-request checks.

use crate::ephemeral::Ephemeral;
use crate::store::{self, RevokedJti, Store, StoreError};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Debug, thiserror::Error)]
pub enum RevokeError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Persisted, but the shared blocklist could not be updated nor invalidated: other nodes
    /// might still accept the token, so the caller must not report success.
    #[error("the revocation could not be published: {0}")]
    Unpublished(String),
}

#[derive(Clone)]
pub struct Revocations {
    store: Store,
    ephemeral: Ephemeral,
    reload: Arc<ReloadGuard>,
}

#[derive(Default)]
struct ReloadGuard {
    running: AtomicBool,
    last: Mutex<Option<Instant>>,
}

impl Revocations {
    pub fn new(store: Store, ephemeral: Ephemeral) -> Self {
        Self {
            store,
            ephemeral,
            reload: Arc::default(),
        }
    }

    /// Loads the unexpired revocations into the blocklist (at start).
    pub async fn warm_up(&self) -> Result<(), anyhow::Error> {
        let now = chrono::Utc::now().timestamp();
        let entries = self
            .store
            .run(move |c| store::unexpired_revoked(c, now))
            .await?;
        self.ephemeral.load_revoked(&entries).await?;
        Ok(())
    }

    /// Whether the token id was revoked. Asks the database whenever the blocklist cannot tell;
    /// an error here means the caller must reject the token (fail closed).
    pub async fn is_revoked(&self, jti: &str) -> Result<bool, StoreError> {
        if let Some(known) = self.ephemeral.is_revoked(jti).await {
            return Ok(known);
        }
        self.spawn_reload();
        let jti = jti.to_owned();
        self.store.run(move |c| store::is_revoked(c, &jti)).await
    }

    /// Revokes access tokens until they expire.
    pub async fn revoke(&self, entries: Vec<RevokedJti>) -> Result<(), RevokeError> {
        if entries.is_empty() {
            return Ok(());
        }
        let persisted = entries.clone();
        self.store
            .run(move |c| {
                for (jti, exp) in &persisted {
                    store::insert_revoked(c, jti, *exp)?;
                }
                Ok(())
            })
            .await?;
        self.publish(&entries).await
    }

    /// Puts revocations already recorded in the database on the blocklist.
    pub async fn publish(&self, entries: &[RevokedJti]) -> Result<(), RevokeError> {
        for (jti, exp) in entries {
            self.ephemeral
                .revoke_jti(jti, *exp)
                .await
                .map_err(|e| RevokeError::Unpublished(e.to_string()))?;
        }
        Ok(())
    }

    /// Refills a shared blocklist that lost its data (Redis restarted or flushed): one reload
    /// at a time, at most one a second (a later one waits its turn rather than being dropped).
    fn spawn_reload(&self) {
        if !self.ephemeral.is_shared() || self.reload.running.swap(true, Ordering::AcqRel) {
            return;
        }
        let wait = self
            .reload
            .last
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .map_or(Duration::ZERO, |t| {
                Duration::from_secs(1).saturating_sub(t.elapsed())
            });
        let this = self.clone();
        tokio::spawn(async move {
            tokio::time::sleep(wait).await;
            *this.reload.last.lock().unwrap_or_else(|e| e.into_inner()) = Some(Instant::now());
            match this.warm_up().await {
                Ok(()) => tracing::info!("revocation blocklist reloaded from the database"),
                Err(e) => tracing::warn!(error = %e, "reloading the revocation blocklist failed"),
            }
            this.reload.running.store(false, Ordering::Release);
        });
    }
}
