//! Ephemeral state: the blocklist of revoked access-token ids, the cache of users' security
//! stamps, and rate-limit counters. In process when `redis_url` is unset (one node), in Redis
//! when it is set (shared by every node). The database stays the source of truth for
//! revocations: this layer answers "don't know" rather than guess, and callers then ask it.

mod memory;
mod redis;

use std::sync::Arc;
use std::time::Duration;

pub use memory::Memory;
pub use redis::RedisState;

/// What the security-stamp cache keeps about a user: whether they may use tokens, and the
/// digest of their current stamp.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserStatus {
    pub active: bool,
    pub stamp_digest: String,
}

/// A rate limit was reached; retry after this long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limited {
    pub retry_after: Duration,
}

/// One counter to check and bump: its key and its limit per window.
#[derive(Debug, Clone)]
pub struct Counter {
    pub key: String,
    pub limit: u32,
}

#[derive(Debug, thiserror::Error)]
#[error("ephemeral state unavailable: {0}")]
pub struct Unavailable(pub String);

/// The one interface, over its two implementations.
#[derive(Clone)]
pub enum Ephemeral {
    Memory(Arc<Memory>),
    Redis(RedisState),
}

impl Ephemeral {
    /// In Redis when a URL is given (connecting lazily: a Redis that is down at start is not
    /// fatal), in process otherwise. `counters` bounds the in-process rate-limit table (also
    /// the one Redis falls back to).
    pub fn new(
        redis_url: Option<&str>,
        prefix: &str,
        counters: usize,
    ) -> Result<Self, Unavailable> {
        match redis_url {
            Some(url) => Ok(Ephemeral::Redis(RedisState::new(url, prefix, counters)?)),
            None => Ok(Ephemeral::Memory(Arc::new(Memory::with_counter_capacity(
                memory::DEFAULT_CAPACITY,
                counters,
            )))),
        }
    }

    pub fn is_shared(&self) -> bool {
        matches!(self, Ephemeral::Redis(_))
    }

    /// Whether the state answers (Redis reachable; always true in process).
    pub async fn ping(&self) -> bool {
        self.is_revoked("irongate-health-probe").await.is_some()
    }

    /// Puts a revoked access token on the blocklist until `exp` (unix seconds).
    pub async fn revoke_jti(&self, jti: &str, exp: i64) -> Result<(), Unavailable> {
        match self {
            Ephemeral::Memory(m) => {
                m.revoke_jti(jti, exp);
                Ok(())
            }
            Ephemeral::Redis(r) => r.revoke_jti(jti, exp).await,
        }
    }

    /// Whether a token id is revoked: `None` when this layer cannot tell (Redis down or
    /// flushed, in-process list over its memory bound); the caller must then ask the database.
    pub async fn is_revoked(&self, jti: &str) -> Option<bool> {
        match self {
            Ephemeral::Memory(m) => m.is_revoked(jti),
            Ephemeral::Redis(r) => r.is_revoked(jti).await,
        }
    }

    /// Fills the blocklist from the database's unexpired revocations (at start, and after
    /// Redis lost its data).
    pub async fn load_revoked(&self, entries: &[(String, i64)]) -> Result<(), Unavailable> {
        match self {
            Ephemeral::Memory(m) => {
                m.load_revoked(entries);
                Ok(())
            }
            Ephemeral::Redis(r) => r.load_revoked(entries).await,
        }
    }

    /// The cached status of a user, if any. The in-process implementation caches nothing:
    /// the CLI changes users from another process, and a stale answer there would let a
    /// logged-out token live on; in Redis every writer (servers and CLI) stores the new status.
    pub async fn cached_user(&self, user_id: &str) -> Option<UserStatus> {
        match self {
            Ephemeral::Memory(_) => None,
            Ephemeral::Redis(r) => r.cached_user(user_id).await,
        }
    }

    pub async fn cache_user(&self, user_id: &str, status: &UserStatus) {
        if let Ephemeral::Redis(r) = self {
            r.cache_user(user_id, status).await;
        }
    }

    /// Replaces a user's cached status after their stamp or state changed (readers only fill
    /// an empty entry, so a read that raced the change cannot bring the old status back).
    pub async fn store_user(&self, user_id: &str, status: &UserStatus) -> Result<(), Unavailable> {
        match self {
            Ephemeral::Memory(_) => Ok(()),
            Ephemeral::Redis(r) => r.store_user(user_id, status).await,
        }
    }

    /// Atomically: when every counter is under its limit, counts one attempt on each and
    /// returns Ok; otherwise counts nothing and says how long until the fullest one resets.
    /// Windows are fixed and start at a key's first attempt. When Redis cannot be reached,
    /// counting falls back to this process's own counters: never to "unlimited".
    pub async fn hit(&self, counters: &[Counter], window: Duration) -> Result<(), Limited> {
        match self {
            Ephemeral::Memory(m) => m.hit(counters, window),
            Ephemeral::Redis(r) => r.hit(counters, window).await,
        }
    }

    /// True the first time `key` is claimed within `ttl`, false after (a value used once).
    pub async fn claim_once(&self, key: &str, ttl: Duration) -> bool {
        let counter = Counter {
            key: key.to_owned(),
            limit: 1,
        };
        self.hit(std::slice::from_ref(&counter), ttl).await.is_ok()
    }

    /// Clears a counter (a successful sign-in clears the username's failures).
    pub async fn reset(&self, key: &str) {
        match self {
            Ephemeral::Memory(m) => m.reset(key),
            Ephemeral::Redis(r) => r.reset(key).await,
        }
    }

    /// Takes back the one attempt `hit` counted on `key` (it turned out not to be a failure).
    pub async fn release(&self, key: &str) {
        match self {
            Ephemeral::Memory(m) => m.release(key),
            Ephemeral::Redis(r) => r.release(key).await,
        }
    }
}

/// Seconds rounded up, at least 1: the value of a `Retry-After` header.
pub fn retry_after_secs(d: Duration) -> u64 {
    d.as_millis().div_ceil(1000).max(1) as u64
}
