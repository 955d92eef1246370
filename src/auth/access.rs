//! Verifying irongate's own access tokens where irongate consumes them (userinfo,
//! introspection, log out everywhere): signature by a published key, RS256 only, `typ`
//! `at+jwt`, issuer, audience, expiry without leeway, revocation, and the user's state.

use super::claims::AccessClaims;
use super::revocations::Revocations;
use crate::auth::secrets::stamp_digest;
use crate::config::Settings;
use crate::ephemeral::{Ephemeral, UserStatus};
use crate::keys::KeyStore;
use crate::store::{self, Store, StoreError, User};
use jsonwebtoken::Validation;
use std::sync::Arc;

/// Why a bearer token was refused.
#[derive(Debug, thiserror::Error)]
pub enum Rejected {
    /// Not a valid, current access token (RFC 6750 `invalid_token`).
    #[error("{0}")]
    Invalid(&'static str),
    /// The check could not be made (database down): fail closed, answer 503.
    #[error("unavailable")]
    Unavailable,
}

impl From<StoreError> for Rejected {
    fn from(e: StoreError) -> Self {
        e.log("checking an access token failed");
        Rejected::Unavailable
    }
}

/// A verified access token, with the user it belongs to when the caller asked for the record.
pub struct Verified {
    pub claims: AccessClaims,
    pub user: Option<User>,
}

impl Verified {
    /// A token issued to a client for itself (client_credentials) rather than to a user.
    pub fn is_client_token(&self) -> bool {
        self.claims.sst.is_none()
    }

    pub fn has_scope(&self, scope: &str) -> bool {
        self.claims.scope.split(' ').any(|s| s == scope)
    }
}

/// The claim checks for access tokens, built once at start.
pub fn validation(settings: &Settings) -> Validation {
    // Irongate's own clock: no leeway.
    irongate_verify::claims::validation(&settings.server.issuer, &settings.tokens.audience, 0)
}

/// Verifies irongate's own access tokens.
#[derive(Clone)]
pub struct AccessVerifier {
    keys: Arc<KeyStore>,
    validation: Arc<Validation>,
    revocations: Revocations,
    ephemeral: Ephemeral,
    store: Store,
}

impl AccessVerifier {
    pub fn new(
        keys: Arc<KeyStore>,
        settings: &Settings,
        revocations: Revocations,
        ephemeral: Ephemeral,
        store: Store,
    ) -> Self {
        Self {
            keys,
            validation: Arc::new(validation(settings)),
            revocations,
            ephemeral,
            store,
        }
    }

    /// The signature, header and claim checks, with no storage lookups.
    pub fn decode(&self, token: &str) -> Result<AccessClaims, Rejected> {
        let data = self
            .keys
            .verify::<AccessClaims>(token, &self.validation)
            .map_err(|_| Rejected::Invalid("the access token is invalid"))?;
        // RFC 9068 §4 / RFC 8725 §3.11: only explicitly typed access tokens (an ID token is
        // not one).
        if !irongate_verify::claims::is_access_token_typ(data.header.typ.as_deref()) {
            return Err(Rejected::Invalid("the token is not an access token"));
        }
        // Irongate's own clock: a token is dead at `exp`, not a leeway later.
        if data.claims.exp <= chrono::Utc::now().timestamp() {
            return Err(Rejected::Invalid("the access token has expired"));
        }
        Ok(data.claims)
    }

    /// Every check, including revocation and the user's current state. With `load_user` the
    /// user's record is read from the database (never the cache) and returned.
    pub async fn verify(&self, token: &str, load_user: bool) -> Result<Verified, Rejected> {
        let claims = self.decode(token)?;
        if self.revocations.is_revoked(&claims.jti).await? {
            return Err(Rejected::Invalid("the access token has been revoked"));
        }
        let Some(sst) = claims.sst.clone() else {
            // A client's own token: its subject is the client.
            if claims.sub != claims.client_id {
                return Err(Rejected::Invalid("the access token is invalid"));
            }
            return Ok(Verified { claims, user: None });
        };
        let (status, user) = match (load_user, self.ephemeral.cached_user(&claims.sub).await) {
            (false, Some(status)) => (status, None),
            _ => {
                let user = self.load_user(&claims.sub).await?;
                let status = UserStatus {
                    active: user.is_active,
                    stamp_digest: stamp_digest(&user.security_stamp),
                };
                self.ephemeral.cache_user(&user.id, &status).await;
                (status, Some(user))
            }
        };
        if !status.active {
            return Err(Rejected::Invalid("the user is disabled"));
        }
        if status.stamp_digest != sst {
            return Err(Rejected::Invalid("the session has ended"));
        }
        Ok(Verified { claims, user })
    }

    /// The user a verified token names, read from the database (never a cache) and checked
    /// again: still active, same security stamp.
    pub async fn current_user(&self, claims: &AccessClaims) -> Result<User, Rejected> {
        let user = self.load_user(&claims.sub).await?;
        if !user.is_active {
            return Err(Rejected::Invalid("the user is disabled"));
        }
        if claims.sst.as_deref() != Some(stamp_digest(&user.security_stamp).as_str()) {
            return Err(Rejected::Invalid("the session has ended"));
        }
        Ok(user)
    }

    async fn load_user(&self, id: &str) -> Result<User, Rejected> {
        let id = id.to_owned();
        self.store
            .run(move |c| store::find_user_by_id(c, &id))
            .await?
            .ok_or(Rejected::Invalid("the access token is invalid"))
    }
}
