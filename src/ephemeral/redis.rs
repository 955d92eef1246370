//! The Redis implementation: shared by every node; every key carries a TTL.

use super::memory::{DEFAULT_CAPACITY, Memory};
use super::{Counter, Limited, Unavailable, UserStatus};
use redis::aio::ConnectionManager;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

/// How long a user's status may be served from the cache. Every writer deletes the entry, so
/// this only bounds what a lost invalidation could cost.
const USER_CACHE_SECS: u64 = 60;
/// The blocklist's lifetime, renewed by every revocation; after it (or a flush, or an
/// eviction) the list is reloaded from the database.
const LOADED_MARKER_SECS: u64 = 86_400;
/// The member of the blocklist saying it was loaded from the database.
const LOADED: &str = "~loaded";
/// Redis is on the request path: a slow one must not hold requests for long.
const TIMEOUT: Duration = Duration::from_millis(500);

/// Takes one attempt back from a counter that exists and is above zero.
static RELEASE: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        r"
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
if n > 0 then redis.call('DECR', KEYS[1]) end
return 0
",
    )
});

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

/// After Redis failed to answer, calls skip it (and take their fallback at once) for this
/// long; then one call tries it again, and its result opens or closes the way (REL-04: an
/// outage must not make every request wait for Redis's timeout).
const BREAK_FOR_MS: i64 = 1000;

/// A circuit breaker in front of Redis.
#[derive(Default)]
struct Breaker {
    /// 0 while Redis answers; otherwise when the next call may try it (unix ms).
    open_until_ms: AtomicI64,
    /// One call is trying Redis after a break.
    probing: AtomicBool,
}

impl Breaker {
    fn allow(&self) -> bool {
        let until = self.open_until_ms.load(Ordering::Acquire);
        if until == 0 {
            return true;
        }
        if chrono::Utc::now().timestamp_millis() < until {
            return false;
        }
        self.probing
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }

    fn record<T>(&self, result: &redis::RedisResult<T>) {
        let down = result.as_ref().err().is_some_and(|e| {
            e.is_io_error()
                || e.is_timeout()
                || e.is_connection_dropped()
                || e.is_connection_refusal()
        });
        let until = if down {
            chrono::Utc::now().timestamp_millis() + BREAK_FOR_MS
        } else {
            0
        };
        self.open_until_ms.store(until, Ordering::Release);
        self.probing.store(false, Ordering::Release);
    }
}

/// The error a call meets while the breaker is open.
fn skipped() -> redis::RedisError {
    redis::RedisError::from((redis::ErrorKind::Io, "Redis skipped after a recent failure"))
}

#[derive(Clone)]
pub struct RedisState {
    conn: ConnectionManager,
    breaker: Arc<Breaker>,
    prefix: Arc<str>,
    /// Counters used while Redis cannot be reached.
    fallback: Arc<Memory>,
    /// Revocations Redis has not taken yet; while any wait, this node asks the database.
    pending: Arc<Mutex<Vec<(String, i64)>>>,
}

impl RedisState {
    /// Connects lazily: a Redis that is down at start only degrades the node until it is back.
    pub fn new(url: &str, prefix: &str, counters: usize) -> Result<Self, Unavailable> {
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
            breaker: Arc::default(),
            prefix: prefix.into(),
            fallback: Arc::new(Memory::with_counter_capacity(DEFAULT_CAPACITY, counters)),
            pending: Arc::default(),
        })
    }

    /// Runs one exchange with Redis through the breaker.
    async fn call<T, F, Fut>(&self, exchange: F) -> redis::RedisResult<T>
    where
        F: FnOnce(ConnectionManager) -> Fut,
        Fut: std::future::Future<Output = redis::RedisResult<T>>,
    {
        if !self.breaker.allow() {
            return Err(skipped());
        }
        let result = exchange(self.conn.clone()).await;
        self.breaker.record(&result);
        result
    }

    fn key(&self, kind: &str, id: &str) -> String {
        format!("{}{kind}:{id}", self.prefix)
    }

    /// The blocklist: one sorted set of revoked ids scored by their `exp`, plus the member
    /// `LOADED` (scored +inf) saying the set holds every revocation. One key, so a flush or an
    /// eviction loses all of it at once, and a lost set reads as "don't know", never "not
    /// revoked".
    fn blocklist(&self) -> String {
        format!("{}revoked", self.prefix)
    }

    pub async fn revoke_jti(&self, jti: &str, exp: i64) -> Result<(), Unavailable> {
        let published = self.publish(&[(jti.to_owned(), exp)]).await;
        if let Err(e) = &published {
            // Keep it and retry; until then this node asks the database.
            tracing::warn!(error = %e, "publishing a revoked token id to Redis failed; will retry");
            self.queue_retry(jti.to_owned(), exp);
        }
        published
    }

    async fn publish(&self, entries: &[(String, i64)]) -> Result<(), Unavailable> {
        self.write_blocklist(entries, false).await
    }

    /// Adds entries to the blocklist in one transaction, drops expired ones and renews its TTL;
    /// `complete` also marks it as holding every revocation (after a reload from the database).
    async fn write_blocklist(
        &self,
        entries: &[(String, i64)],
        complete: bool,
    ) -> Result<(), Unavailable> {
        let now = chrono::Utc::now().timestamp();
        let key = self.blocklist();
        let mut pipe = redis::pipe();
        pipe.atomic();
        for (jti, exp) in entries {
            pipe.zadd(&key, jti, *exp).ignore();
        }
        if complete {
            pipe.zadd(&key, LOADED, "+inf").ignore();
        }
        pipe.cmd("ZREMRANGEBYSCORE")
            .arg(&key)
            .arg("-inf")
            .arg(now)
            .ignore()
            .expire(&key, LOADED_MARKER_SECS as i64)
            .ignore();
        self.call(|mut conn| async move { pipe.query_async::<()>(&mut conn).await })
            .await
            .map_err(|e| Unavailable(e.to_string()))
    }

    fn queue_retry(&self, jti: String, exp: i64) {
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        pending.push((jti, exp));
        if pending.len() > 1 {
            return; // a retry task is already running
        }
        drop(pending);
        let this = self.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(500)).await;
                let batch = this
                    .pending
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .clone();
                if this.publish(&batch).await.is_ok() {
                    let mut pending = this.pending.lock().unwrap_or_else(|e| e.into_inner());
                    pending.drain(..batch.len());
                    if pending.is_empty() {
                        tracing::info!("pending revocations published to Redis");
                        return;
                    }
                }
            }
        });
    }

    pub async fn is_revoked(&self, jti: &str) -> Option<bool> {
        if !self
            .pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_empty()
        {
            return None;
        }
        let mut cmd = redis::cmd("ZMSCORE");
        cmd.arg(self.blocklist()).arg(LOADED).arg(jti);
        let scores: redis::RedisResult<Vec<Option<f64>>> = self
            .call(|mut conn| async move { cmd.query_async(&mut conn).await })
            .await;
        match scores.as_deref() {
            Ok([Some(_), exp]) => {
                let now = chrono::Utc::now().timestamp() as f64;
                Some(exp.is_some_and(|exp| exp > now))
            }
            Ok(_) => None,
            Err(e) => {
                redis_down(e, "checking revocation in the database");
                None
            }
        }
    }

    pub async fn load_revoked(&self, entries: &[(String, i64)]) -> Result<(), Unavailable> {
        self.write_blocklist(entries, true).await
    }

    pub async fn cached_user(&self, user_id: &str) -> Option<UserStatus> {
        let mut cmd = redis::cmd("GET");
        cmd.arg(self.key("user", user_id));
        let value: Option<String> = self
            .call(|mut conn| async move { cmd.query_async(&mut conn).await })
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

    /// Caches what a reader found in the database, unless an entry exists: a reader that read
    /// before a writer's change must not overwrite the status the writer stored.
    pub async fn cache_user(&self, user_id: &str, status: &UserStatus) {
        let cmd = user_status_cmd(&self.key("user", user_id), status, true);
        let set: redis::RedisResult<()> = self
            .call(|mut conn| async move { cmd.query_async(&mut conn).await })
            .await;
        if let Err(e) = set {
            tracing::debug!(error = %e, "caching a user's status in Redis failed");
        }
    }

    /// Stores a user's new status after a writer changed it (log out everywhere, disable).
    pub async fn store_user(&self, user_id: &str, status: &UserStatus) -> Result<(), Unavailable> {
        let cmd = user_status_cmd(&self.key("user", user_id), status, false);
        self.call(|mut conn| async move { cmd.query_async::<()>(&mut conn).await })
            .await
            .map_err(|e| Unavailable(e.to_string()))
    }

    pub async fn hit(&self, counters: &[Counter], window: Duration) -> Result<(), Limited> {
        let keys: Vec<(String, u32)> = counters
            .iter()
            .map(|c| (self.key("limit", &c.key), c.limit))
            .collect();
        let window_ms = window.as_millis().max(1) as u64;
        let counted = self
            .call(|mut conn| async move {
                let mut invocation = HIT.prepare_invoke();
                invocation.arg(window_ms);
                for (key, limit) in &keys {
                    invocation.key(key).arg(*limit);
                }
                invocation.invoke_async::<u64>(&mut conn).await
            })
            .await;
        match counted {
            Ok(0) => Ok(()),
            Ok(ms) => Err(Limited {
                retry_after: Duration::from_millis(ms),
            }),
            Err(e) => {
                redis_down(&e, "rate limits fall back to this node's counters");
                self.fallback.hit(counters, window)
            }
        }
    }

    pub async fn release(&self, key: &str) {
        self.fallback.release(key);
        let key = self.key("limit", key);
        let released: redis::RedisResult<u64> = self
            .call(|mut conn| async move { RELEASE.key(key).invoke_async(&mut conn).await })
            .await;
        if let Err(e) = released {
            redis_down(&e, "a rate-limit count was not released");
        }
    }

    pub async fn reset(&self, key: &str) {
        self.fallback.reset(key);
        let mut cmd = redis::cmd("DEL");
        cmd.arg(self.key("limit", key));
        let del: redis::RedisResult<()> = self
            .call(|mut conn| async move { cmd.query_async(&mut conn).await })
            .await;
        if let Err(e) = del {
            redis_down(&e, "a rate-limit counter was not cleared");
        }
    }
}

/// Logs that Redis could not be used, once every 10 s with the number of failures held back: a
/// Redis that is down must not write a line per request.
fn redis_down(error: &redis::RedisError, consequence: &str) {
    static DOWN: crate::telemetry::Throttle =
        crate::telemetry::Throttle::new(Duration::from_secs(10));
    if let Some(suppressed) = DOWN.admit() {
        tracing::warn!(%error, suppressed, "Redis unavailable; {consequence}");
    }
}

fn user_status_cmd(key: &str, status: &UserStatus, only_if_absent: bool) -> redis::Cmd {
    let value = format!(
        "{}:{}",
        if status.active { 1 } else { 0 },
        status.stamp_digest
    );
    let mut cmd = redis::cmd("SET");
    cmd.arg(key).arg(value).arg("EX").arg(USER_CACHE_SECS);
    if only_if_absent {
        cmd.arg("NX");
    }
    cmd
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_breaker_opens_on_a_failure_and_lets_one_probe_through_after_the_break() {
        let b = Breaker::default();
        assert!(b.allow() && b.allow(), "closed: everyone passes");
        let refused: redis::RedisResult<()> = Err(redis::RedisError::from(std::io::Error::from(
            std::io::ErrorKind::ConnectionRefused,
        )));
        b.record(&refused);
        assert!(!b.allow(), "open: calls skip Redis");
        // The break is over: one probe, and only one, goes through.
        b.open_until_ms.store(1, Ordering::Release);
        assert!(b.allow());
        assert!(!b.allow());
        b.record(&Ok(()));
        assert!(b.allow() && b.allow(), "closed again");
        // A reply error (a script's, say) is not an outage.
        let reply: redis::RedisResult<()> = Err(redis::RedisError::from((
            redis::ErrorKind::Client,
            "bad script",
        )));
        b.record(&reply);
        assert!(b.allow());
    }
}
