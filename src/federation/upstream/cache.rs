//! The upstream provider's discovery document and keys, as last fetched: refreshed when due
//! (a failed refresh keeps the last copy), failing fast after a slow failure with nothing
//! cached, and the keys fetched again for an unknown `kid` at most every few seconds.

use super::{
    Discovered, FAIL_FAST_FOR, KEY_REFETCH_EVERY, METADATA_TTL, RETRY_AFTER_FAILURE, SLOW_FAILURE,
    Upstream, UpstreamError, describe,
};
use openidconnect::JsonWebKeySet;
use openidconnect::core::CoreProviderMetadata;
use std::sync::Arc;
use std::time::Instant;

impl Upstream {
    fn cached(&self) -> Option<Arc<Discovered>> {
        self.cache.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn store(&self, d: Discovered) -> Arc<Discovered> {
        let d = Arc::new(d);
        *self.cache.write().unwrap_or_else(|e| e.into_inner()) = Some(d.clone());
        d
    }

    /// Discovery and keys: cached; fetched when due. A failed refresh keeps the stale copy (and
    /// tries again a minute later); with no copy at all the provider is unavailable.
    pub(super) async fn discovered(&self) -> Result<Arc<Discovered>, UpstreamError> {
        if let Some(d) = self.cached().filter(|d| Instant::now() < d.due) {
            return Ok(d);
        }
        self.fail_fast()?;
        let _one = self.fetching.lock().await;
        let stale = self.cached();
        if let Some(d) = stale.as_ref().filter(|d| Instant::now() < d.due) {
            return Ok(d.clone());
        }
        self.fail_fast()?;
        let began = Instant::now();
        match CoreProviderMetadata::discover_async(self.issuer.clone(), &self.http).await {
            Ok(metadata) => {
                let keys = metadata.jwks().clone();
                let now = Instant::now();
                Ok(self.store(Discovered {
                    metadata,
                    keys,
                    due: now + METADATA_TTL,
                    keys_fetched: now,
                }))
            }
            Err(e) => {
                let reason = describe(&e);
                match stale {
                    Some(d) => {
                        tracing::warn!(error = %reason, "could not refresh the upstream provider's metadata; using the last copy");
                        Ok(self.store(Discovered {
                            metadata: d.metadata.clone(),
                            keys: d.keys.clone(),
                            due: Instant::now() + RETRY_AFTER_FAILURE,
                            keys_fetched: d.keys_fetched,
                        }))
                    }
                    None => {
                        if began.elapsed() >= SLOW_FAILURE {
                            *self.failed_at.lock().unwrap_or_else(|e| e.into_inner()) =
                                Some(Instant::now());
                        }
                        Err(UpstreamError::Unavailable(format!("discovery: {reason}")))
                    }
                }
            }
        }
    }

    /// Unavailable at once while a recent discovery failure (with nothing cached) stands.
    fn fail_fast(&self) -> Result<(), UpstreamError> {
        let failed = *self.failed_at.lock().unwrap_or_else(|e| e.into_inner());
        match failed {
            Some(at) if at.elapsed() < FAIL_FAST_FOR && self.cached().is_none() => Err(
                UpstreamError::Unavailable("discovery failed moments ago".into()),
            ),
            _ => Ok(()),
        }
    }

    /// The keys fetched again, when the last fetch is old enough; None when it is not (or the
    /// fetch failed: the old keys stay).
    pub(super) async fn refetch_keys(&self, seen: &Arc<Discovered>) -> Option<Arc<Discovered>> {
        let _one = self.fetching.lock().await;
        let current = self.cached()?;
        if !Arc::ptr_eq(&current, seen) {
            // Someone else fetched meanwhile.
            return Some(current);
        }
        if current.keys_fetched.elapsed() < KEY_REFETCH_EVERY {
            return None;
        }
        match JsonWebKeySet::fetch_async(current.metadata.jwks_uri(), &self.http).await {
            Ok(keys) => Some(self.store(Discovered {
                metadata: current.metadata.clone(),
                keys,
                due: current.due,
                keys_fetched: Instant::now(),
            })),
            Err(e) => {
                tracing::warn!(error = %describe(&e), "could not fetch the upstream provider's keys");
                None
            }
        }
    }
}
