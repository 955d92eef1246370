//! Refresh-token families (RFC 9700 §4.14.2): the first token of a family, finding a presented
//! token, and revoking a family with the access tokens issued from it.

use super::{FamilyStart, Issuer, revoke_failed};
use crate::auth::secrets::{self, stamp_digest};
use crate::oauth::error::OAuthError;
use crate::store::{self, RefreshToken};

impl Issuer {
    /// Stores the first refresh token of a new family; returns the token the client keeps and
    /// the family's id.
    pub async fn start_family(
        &self,
        start: FamilyStart<'_>,
    ) -> Result<(String, String), OAuthError> {
        let token = secrets::random_token(32);
        let now = chrono::Utc::now().timestamp();
        let row = RefreshToken {
            token_hash: secrets::hash_secret(&token),
            family_id: start.family_id.unwrap_or_else(secrets::random_uuid),
            client_id: start.client.id.clone(),
            user_id: start.user.id.clone(),
            scope: start.scopes.to_space_delimited(),
            stamp_digest: stamp_digest(&start.user.security_stamp),
            auth_time: start.auth_time,
            created_at: now,
            expires_at: now + self.settings.tokens.refresh_ttl as i64,
            used_at: None,
            revoked_at: None,
            access_jti: start.access.jti.clone(),
            access_exp: start.access.exp,
            session_id: start.session_id,
            org_id: start.org_id,
        };
        let family = row.family_id.clone();
        let stored = match start.code_hash {
            None => {
                self.store
                    .run(move |c| store::insert_refresh_token(c, &row).map(|()| true))
                    .await?
            }
            Some(code) => {
                self.store
                    .run(move |c| store::insert_code_family(c, &code, &row))
                    .await?
            }
        };
        if !stored {
            return Err(OAuthError::invalid_grant(
                "the authorization code was already used",
            ));
        }
        Ok((token, family))
    }

    /// The stored refresh token a presented one names, if any (absurdly long input is not
    /// hashed).
    pub async fn find_refresh_token(
        &self,
        presented: &str,
    ) -> Result<Option<RefreshToken>, OAuthError> {
        let Some(hash) = lookup_hash(presented) else {
            return Ok(None);
        };
        Ok(self
            .store
            .run(move |c| store::find_refresh_token(c, &hash))
            .await?)
    }

    /// A presented refresh token's standing and its user's, in one read (`Store::read`).
    pub async fn refresh_token_standing(
        &self,
        presented: &str,
    ) -> Result<Option<store::RefreshTokenStanding>, OAuthError> {
        let Some(hash) = lookup_hash(presented) else {
            return Ok(None);
        };
        Ok(self
            .store
            .read(move |c| store::refresh_token_standing(c, &hash))
            .await?)
    }

    /// Revokes a refresh-token family and the access tokens issued from it.
    pub async fn revoke_family(&self, family_id: &str) -> Result<(), OAuthError> {
        let family = family_id.to_owned();
        let now = chrono::Utc::now().timestamp();
        let jtis = self
            .store
            .write(move |c| store::revoke_family(c, &family, now))
            .await?;
        self.revocations.publish(&jtis).await.map_err(revoke_failed)
    }
}

/// The stored hash a presented refresh token is looked up by; None for absurdly long input,
/// which names no token and is not hashed.
fn lookup_hash(presented: &str) -> Option<String> {
    (presented.len() <= 512).then(|| secrets::hash_secret(presented))
}
