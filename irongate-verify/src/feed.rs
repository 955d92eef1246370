//! The revocation feed (`revocation_feed_endpoint`), polled with a client's credentials: a
//! token whose `jti` is listed is refused, and so is a user's token whose `sst` differs from
//! the one listed for the user (any, when the user is listed as disabled). When the last good
//! poll is older than the bound, every token is refused (fail closed).

use crate::claims::AccessClaims;
use crate::claims::unix_now;
use crate::error::Rejection;
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::{Arc, RwLock, Weak};
use std::time::{Duration, Instant};

/// The feed as irongate answers it.
#[derive(Debug, Deserialize)]
struct Answer {
    issued_at: i64,
    jti: Vec<(String, i64)>,
    users: Vec<(String, Option<String>, i64)>,
}

#[derive(Default)]
struct State {
    etag: Option<String>,
    jti: HashMap<String, i64>,
    /// A user's current `sst` digest (None: disabled), until when it matters.
    users: HashMap<String, (Option<String>, i64)>,
    /// When irongate made the answer held (its clock).
    issued_at: i64,
    last_good: Option<Instant>,
}

pub struct Feed {
    url: String,
    client_id: String,
    client_secret: String,
    http: reqwest::Client,
    bound: Duration,
    state: RwLock<State>,
}

impl Feed {
    /// Starts polling `url` every `every`; tokens are refused while the last good poll is older
    /// than `bound` (or before the first).
    pub fn start(
        url: String,
        credentials: (String, String),
        http: reqwest::Client,
        every: Duration,
        bound: Duration,
    ) -> Arc<Self> {
        let feed = Arc::new(Self {
            url,
            client_id: credentials.0,
            client_secret: credentials.1,
            http,
            bound,
            state: RwLock::default(),
        });
        let weak: Weak<Self> = Arc::downgrade(&feed);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                // The verifier is gone: stop.
                let Some(feed) = weak.upgrade() else { return };
                if let Err(e) = feed.poll().await {
                    tracing::warn!(error = %e, "polling the revocation feed failed");
                }
            }
        });
        feed
    }

    /// One poll now.
    pub async fn poll(&self) -> Result<(), String> {
        let etag = self.read().etag.clone();
        let mut request = self
            .http
            .get(&self.url)
            .basic_auth(&self.client_id, Some(&self.client_secret));
        if let Some(etag) = etag {
            request = request.header(reqwest::header::IF_NONE_MATCH, etag);
        }
        let resp = request.send().await.map_err(|e| e.to_string())?;
        if resp.status() == reqwest::StatusCode::NOT_MODIFIED {
            // Only an answer held can be "not modified".
            let mut state = self.write();
            if state.etag.is_none() {
                return Err("304 without a previous answer".into());
            }
            state.last_good = Some(Instant::now());
            return Ok(());
        }
        if !resp.status().is_success() {
            return Err(format!("GET {}: {}", self.url, resp.status()));
        }
        let etag = resp
            .headers()
            .get(reqwest::header::ETAG)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let answer: Answer = resp.json().await.map_err(|e| e.to_string())?;
        let mut state = self.write();
        state.etag = etag;
        state.jti = answer.jti.into_iter().collect();
        state.users = answer
            .users
            .into_iter()
            .map(|(sub, sst, until)| (sub, (sst, until)))
            .collect();
        state.issued_at = answer.issued_at;
        state.last_good = Some(Instant::now());
        Ok(())
    }

    /// Refuses `claims` when the feed lists its `jti` or a newer state of its user, or when the
    /// feed is stale.
    pub fn check(&self, claims: &AccessClaims) -> Result<(), Rejection> {
        let state = self.read();
        if state.last_good.is_none_or(|t| t.elapsed() > self.bound) {
            return Err(Rejection::Unavailable(
                "the revocation feed has not been read recently".into(),
            ));
        }
        let now = unix_now();
        // irongate lists an id until well past its `exp` (beyond any leeway): listed is revoked.
        if state.jti.contains_key(&claims.jti) {
            return Err(Rejection::invalid_token(
                "the access token has been revoked",
            ));
        }
        // A user's token carrying another stamp than the listed one is older than the change,
        // unless it was issued after the answer was made (a newer change the next poll shows).
        if let Some(sst) = &claims.sst
            && let Some((current, until)) = state.users.get(&claims.sub)
            && *until > now
            && claims.iat <= state.issued_at
            && current.as_ref() != Some(sst)
        {
            return Err(Rejection::invalid_token(
                "the user's sessions have ended since the token was issued",
            ));
        }
        Ok(())
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(|e| e.into_inner())
    }
}
