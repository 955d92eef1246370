//! API keys presented as credentials (CONTRACT "API keys"): a key whose format or checksum is
//! wrong is refused before anything is looked up; a key that verifies acts with its scopes ∩ its
//! user's effective permissions now, inside its organization if it has one.

use super::access::Rejected;
use super::secrets;
use crate::domain::api_key::ApiKey;
use crate::store::{self, ApiKeyRow, LAST_USED_GRANULARITY, RoleGraphCache, Store, User, unix_now};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// A key that verified, with what it may do now.
#[derive(Debug, Clone)]
pub struct VerifiedKey {
    pub id: String,
    pub user: User,
    pub org_id: Option<String>,
    /// The key's scopes that its user still has, space-delimited.
    pub scope: String,
    pub roles: Vec<String>,
    pub org_roles: Vec<String>,
    /// The permissions the key carries: its scopes ∩ the user's effective permissions.
    pub permissions: Vec<String>,
    pub created_at: i64,
    pub expires_at: i64,
}

/// How many keys' last recorded use a node remembers (it only saves writes).
const TOUCHED_MAX: usize = 100_000;

/// Verifies presented API keys.
#[derive(Clone)]
pub struct ApiKeyVerifier {
    store: Store,
    roles: Arc<RoleGraphCache>,
    /// When this node last recorded each key's use: `last_used_at` is written at most once per
    /// `LAST_USED_GRANULARITY`, and not attempted in between.
    touched: Arc<Mutex<HashMap<String, i64>>>,
}

impl ApiKeyVerifier {
    pub fn new(store: Store, roles: Arc<RoleGraphCache>) -> Self {
        Self {
            store,
            roles,
            touched: Arc::default(),
        }
    }

    /// The key `presented` names, if it is live: not revoked, not expired (a rotated-away key
    /// only within its grace), its user active, its organization still the user's.
    pub async fn verify(&self, presented: &str) -> Result<VerifiedKey, Rejected> {
        // SEC: the checksum is checked first, so made-up keys cost no lookup.
        let key = ApiKey::parse(presented).ok_or(Rejected::Invalid("the API key is malformed"))?;
        let hash = secrets::hash_secret(key.as_str());
        let roles = self.roles.clone();
        let now = unix_now();
        let found = self
            .store
            .run(move |c| {
                let Some(row) = store::find_api_key_by_hash(c, &hash)? else {
                    return Ok(None);
                };
                if !row.accepts(&hash, now) {
                    return Ok(None);
                }
                let Some(user) = store::find_user_by_id(c, &row.user_id)? else {
                    return Ok(None);
                };
                if !user.is_active {
                    return Ok(None);
                }
                if let Some(org) = &row.org_id
                    && !store::is_member(c, org, &user.id)?
                {
                    return Ok(None);
                }
                let access = store::effective_access(c, &roles, &user.id, row.org_id.as_deref())?;
                Ok(Some((row, user, access)))
            })
            .await
            .map_err(|_| Rejected::Unavailable)?;
        let Some((row, user, access)) = found else {
            return Err(Rejected::Invalid(
                "the API key is unknown, expired or revoked",
            ));
        };
        self.touch(&row, now);
        let permissions: Vec<String> = row
            .scopes
            .split_whitespace()
            .filter(|s| access.permissions.contains(*s))
            .map(str::to_owned)
            .collect();
        Ok(VerifiedKey {
            scope: permissions.join(" "),
            permissions,
            id: row.id,
            user,
            org_id: row.org_id,
            roles: access.roles,
            org_roles: access.org_roles,
            created_at: row.created_at,
            expires_at: row.expires_at,
        })
    }

    /// Records a use off the request's path: one conditional update at most once per
    /// `LAST_USED_GRANULARITY` per key and node (none while the stored time is recent).
    fn touch(&self, row: &ApiKeyRow, now: i64) {
        if row
            .last_used_at
            .is_some_and(|t| now - t < LAST_USED_GRANULARITY)
        {
            return;
        }
        {
            let mut touched = self.touched.lock().unwrap_or_else(|e| e.into_inner());
            if touched
                .get(&row.id)
                .is_some_and(|t| now - t < LAST_USED_GRANULARITY)
            {
                return;
            }
            if touched.len() >= TOUCHED_MAX {
                touched.clear();
            }
            touched.insert(row.id.clone(), now);
        }
        let (store, id) = (self.store.clone(), row.id.clone());
        tokio::spawn(async move {
            if let Err(e) = store.run(move |c| store::touch_api_key(c, &id, now)).await {
                tracing::warn!(error = %e, "could not record an API key's use");
            }
        });
    }
}
