//! The revocation feed (CONTRACT "Revocation feed"): for resource servers that verify tokens
//! on their own, every revoked access token that has not expired, and every user whose
//! security stamp changed (or who was disabled or deleted) within the last `access_token_ttl`,
//! so that their older tokens can be refused within a poll. Entries stay `GRACE` seconds past
//! the end of the tokens they concern, for the verifiers' leeway and clock differences.

use crate::auth::secrets::stamp_digest;
use crate::store::{self, Store, StoreError};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// What the feed answers.
#[derive(Debug, Serialize)]
pub struct FeedBody {
    pub issued_at: i64,
    /// `[jti, exp]`
    pub jti: Vec<(String, i64)>,
    /// `[sub, sst or null (disabled), until]`
    pub users: Vec<(String, Option<String>, i64)>,
}

impl FeedBody {
    /// An entity tag over the lists (not `issued_at`): the same lists, the same tag.
    pub fn etag(&self) -> String {
        let mut hash = Sha256::new();
        for (jti, exp) in &self.jti {
            hash.update(format!("j{jti}:{exp}\n"));
        }
        for (sub, sst, until) in &self.users {
            hash.update(format!(
                "u{sub}:{}:{until}\n",
                sst.as_deref().unwrap_or("-")
            ));
        }
        let digest = hash.finalize();
        let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
        format!("\"{hex}\"")
    }
}

/// How long past a token's `exp` (or a change's horizon) the feed keeps an entry: a resource
/// server accepts a token up to its leeway after `exp`, and clocks differ.
pub const GRACE: i64 = 120;

#[derive(Clone)]
pub struct RevocationFeed {
    store: Store,
    /// How long an access token lives: older changes no longer matter.
    horizon: i64,
}

impl RevocationFeed {
    pub fn new(store: Store, access_token_ttl: u64) -> Self {
        Self {
            store,
            horizon: access_token_ttl as i64,
        }
    }

    pub async fn snapshot(&self) -> Result<FeedBody, StoreError> {
        let now = chrono::Utc::now();
        let window = self.horizon + GRACE;
        let since = (now - chrono::Duration::seconds(window)).naive_utc();
        let at = now.timestamp();
        self.store
            .run(move |c| {
                let mut jti = store::unexpired_revoked(c, at - GRACE)?;
                jti.sort_unstable();
                let mut users: Vec<(String, Option<String>, i64)> =
                    store::users_changed_since(c, since)?
                        .into_iter()
                        .map(|(id, active, stamp, changed)| {
                            let sst = active.then(|| stamp_digest(&stamp));
                            (id, sst, changed.and_utc().timestamp() + window)
                        })
                        .collect();
                // A deleted user is a disabled one for as long as their tokens could live.
                users.extend(
                    store::users_deleted_since(c, at - window)?
                        .into_iter()
                        .map(|(id, deleted_at)| (id, None, deleted_at + window)),
                );
                users.sort_unstable();
                Ok(FeedBody {
                    issued_at: at,
                    jti,
                    users,
                })
            })
            .await
    }
}
