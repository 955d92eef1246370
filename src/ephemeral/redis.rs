//! The Redis implementation: shared by every node; every key carries a TTL.

use super::memory::{DEFAULT_CAPACITY, Memory};
use super::{Counter, Limited, Unavailable, UserStatus};
use redis::aio::ConnectionManager;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

/// How long a user's status may be served from the cache. Every writer deletes the entry, so
/// this only bounds what a lost invalidation could cost.
const USER_CACHE_SECS: u64 = 60;
/// The blocklist marker's lifetime: after it (or a flush) the list is reloaded from the database.
const LOADED_MARKER_SECS: u64 = 86_400;
/// Redis is on the request path: a slow one must not hold requests for long.
const TIMEOUT: Duration = Duration::from_millis(500);

/// Checks every counter and bumps them all only when none is full; returns the milliseconds
/// to wait (0 when the attempt was counted).
static HIT: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        r"
local window = tonumber(ARGV[1])
local wait = 0
for i, key in ipairs(KEYS) do
  local n = tonumber(redis.call('GET', key) or '0')
  if n >= tonumber(ARGV[i + 1]) then
    local ttl = redis.call('PTTL', key)
    if ttl < 0 then
      redis.call('PEXPIRE', key, window)
      ttl = window
    end
    if ttl > wait then wait = ttl end
  end
end
if wait > 0 then return wait end
for _, key in ipairs(KEYS) do
  redis.call('INCR', key)
  redis.call('PEXPIRE', key, window, 'NX')
end
return 0
",
    )
});

#[derive(Clone)]
pub struct RedisState {
    conn: ConnectionManager,
    prefix: Arc<str>,
    /// Counters used while Redis cannot be reached.
    fallback: Arc<Memory>,
}

impl RedisState {
    /// Connects lazily: a Redis that is down at start only degrades the node until it is back.
    pub fn new(url: &str, prefix: &str) -> Result<Self, Unavailable> {
        let client = redis::Client::open(url).map_err(|e| Unavailable(e.to_string()))?;
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(TIMEOUT))
            .set_response_timeout(Some(TIMEOUT))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(200));
        let conn = ConnectionManager::new_lazy_with_config(client, config)
            .map_err(|e| Unavailable(e.to_string()))?;
        Ok(Self {
            conn,
            prefix: prefix.into(),
            fallback: Arc::new(Memory::new(DEFAULT_CAPACITY)),
        })
    }

    fn key(&self, kind: &str, id: &str) -> String {
        format!("{}{kind}:{id}", self.prefix)
    }

    fn loaded_marker(&self) -> String {
        format!("{}revoked-loaded", self.prefix)
    }

    pub async fn revoke_jti(&self, jti: &str, exp: i64) -> Result<(), Unavailable> {
        let mut conn = self.conn.clone();
        let set: redis::RedisResult<()> = redis::cmd("SET")
            .arg(self.key("revoked", jti))
            .arg(1)
            .arg("EXAT")
            .arg(exp)
            .query_async(&mut conn)
            .await;
        if let Err(e) = set {
            // Make every node ask the database until the list is reloaded; if even that
            // fails, the caller must not claim success.
            tracing::warn!(error = %e, "adding a revoked token id to Redis failed");
            let del: redis::RedisResult<()> = redis::cmd("DEL")
                .arg(self.loaded_marker())
                .query_async(&mut conn)
                .await;
            del.map_err(|e| Unavailable(e.to_string()))?;
        }
        Ok(())
    }

    pub async fn is_revoked(&self, jti: &str) -> Option<bool> {
        let mut conn = self.conn.clone();
        let answer: redis::RedisResult<(bool, bool)> = redis::pipe()
            .exists(self.loaded_marker())
            .exists(self.key("revoked", jti))
            .query_async(&mut conn)
            .await;
        match answer {
            Ok((true, revoked)) => Some(revoked),
            Ok((false, _)) => None,
            Err(e) => {
                tracing::warn!(error = %e, "Redis unavailable; checking revocation in the database");
                None
            }
        }
    }

    pub async fn load_revoked(&self, entries: &[(String, i64)]) -> Result<(), Unavailable> {
        let mut conn = self.conn.clone();
        let now = chrono::Utc::now().timestamp();
        for chunk in entries.chunks(1000) {
            let mut pipe = redis::pipe();
            for (jti, exp) in chunk.iter().filter(|(_, exp)| *exp > now) {
                pipe.cmd("SET")
                    .arg(self.key("revoked", jti))
                    .arg(1)
                    .arg("EXAT")
                    .arg(*exp)
                    .ignore();
            }
            pipe.query_async::<()>(&mut conn)
                .await
                .map_err(|e| Unavailable(e.to_string()))?;
        }
        redis::cmd("SET")
            .arg(self.loaded_marker())
            .arg(1)
            .arg("EX")
            .arg(LOADED_MARKER_SECS)
            .query_async::<()>(&mut conn)
            .await
            .map_err(|e| Unavailable(e.to_string()))
    }

    pub async fn cached_user(&self, user_id: &str) -> Option<UserStatus> {
        let mut conn = self.conn.clone();
        let value: Option<String> = redis::cmd("GET")
            .arg(self.key("user", user_id))
            .query_async(&mut conn)
            .await
            .ok()?;
        let (active, digest) = value?
            .split_once(':')
            .map(|(a, d)| (a == "1", d.to_owned()))?;
        Some(UserStatus {
            active,
            stamp_digest: digest,
        })
    }

    pub async fn cache_user(&self, user_id: &str, status: &UserStatus) {
        let mut conn = self.conn.clone();
        let value = format!(
            "{}:{}",
            if status.active { 1 } else { 0 },
            status.stamp_digest
        );
        let set: redis::RedisResult<()> = redis::cmd("SET")
            .arg(self.key("user", user_id))
            .arg(value)
            .arg("EX")
            .arg(USER_CACHE_SECS)
            .query_async(&mut conn)
            .await;
        if let Err(e) = set {
            tracing::debug!(error = %e, "caching a user's status in Redis failed");
        }
    }

    pub async fn forget_user(&self, user_id: &str) -> Result<(), Unavailable> {
        let mut conn = self.conn.clone();
        redis::cmd("DEL")
            .arg(self.key("user", user_id))
            .query_async::<()>(&mut conn)
            .await
            .map_err(|e| Unavailable(e.to_string()))
    }

    pub async fn hit(&self, counters: &[Counter], window: Duration) -> Result<(), Limited> {
        let mut conn = self.conn.clone();
        let mut invocation = HIT.prepare_invoke();
        invocation.arg(window.as_millis().max(1) as u64);
        for c in counters {
            invocation.key(self.key("limit", &c.key)).arg(c.limit);
        }
        match invocation.invoke_async::<u64>(&mut conn).await {
            Ok(0) => Ok(()),
            Ok(ms) => Err(Limited {
                retry_after: Duration::from_millis(ms),
            }),
            Err(e) => {
                tracing::warn!(error = %e, "Redis unavailable; rate limits fall back to this node's counters");
                self.fallback.hit(counters, window)
            }
        }
    }

    pub async fn reset(&self, key: &str) {
        self.fallback.reset(key);
        let mut conn = self.conn.clone();
        let del: redis::RedisResult<()> = redis::cmd("DEL")
            .arg(self.key("limit", key))
            .query_async(&mut conn)
            .await;
        if let Err(e) = del {
            tracing::warn!(error = %e, "clearing a rate-limit counter in Redis failed");
        }
    }
}

/// Deletes a user's cached status from the CLI (a separate, synchronous process).
pub fn forget_user_blocking(url: &str, prefix: &str, user_id: &str) -> Result<(), Unavailable> {
    let client = redis::Client::open(url).map_err(|e| Unavailable(e.to_string()))?;
    let mut conn = client
        .get_connection_with_timeout(Duration::from_secs(2))
        .map_err(|e| Unavailable(e.to_string()))?;
    redis::cmd("DEL")
        .arg(format!("{prefix}user:{user_id}"))
        .query::<()>(&mut conn)
        .map_err(|e| Unavailable(e.to_string()))
}
