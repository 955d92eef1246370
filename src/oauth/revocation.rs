//! Token revocation (RFC 7009) and introspection (RFC 7662).

use super::access::{self, Rejected};
use super::error::{ErrorCode, OAuthError};
use super::form::Form;
use super::token::{find_refresh_token, revoke_failed, revoke_family};
use super::tokens::stamp_digest;
use crate::startup::AppState;
use crate::store::{self, Client};
use serde_json::{Value, json};

/// Which kind a presented token is. Access tokens are JWTs (three dot-separated parts);
/// refresh tokens are opaque base64url, which has no dots. `token_type_hint` is not needed.
fn is_jwt(token: &str) -> bool {
    token.contains('.')
}

/// RFC 7009 §2.1: revokes a token the client holds. A refresh token takes its family and the
/// access tokens issued from it along; an access token goes on the blocklist until its `exp`.
/// Unknown, expired and other clients' tokens are left alone and answered 200 like the rest
/// (§2.2), so the endpoint tells nothing about tokens the caller does not own.
pub async fn revoke(state: &AppState, client: &Client, form: &Form) -> Result<(), OAuthError> {
    let token = form.require("token")?;
    if is_jwt(token) {
        let Ok(claims) = access::decode(state, token) else {
            return Ok(());
        };
        if claims.client_id == client.id {
            state
                .revocations
                .revoke(vec![(claims.jti, claims.exp)])
                .await
                .map_err(revoke_failed)?;
        }
        return Ok(());
    }
    if let Some(row) = find_refresh_token(state, token).await?
        && row.client_id == client.id
    {
        revoke_family(state, &row.family_id).await?;
    }
    Ok(())
}

/// RFC 7662 §2.2. Only confidential clients may ask; any of them may introspect access tokens,
/// refresh tokens only the client they were issued to. Anything not active is exactly
/// `{"active": false}`.
pub async fn introspect(
    state: &AppState,
    client: &Client,
    form: &Form,
) -> Result<Value, OAuthError> {
    if client.is_public {
        return Err(OAuthError::new(
            ErrorCode::InvalidClient,
            "introspection is for confidential clients",
        ));
    }
    let token = form.require("token")?;
    let inactive = json!({ "active": false });
    if is_jwt(token) {
        return match access::verify(state, token, false).await {
            Ok(v) => {
                let c = v.claims;
                Ok(json!({
                    "active": true,
                    "token_type": "access_token",
                    "client_id": c.client_id,
                    "sub": c.sub,
                    "scope": c.scope,
                    "exp": c.exp,
                    "iat": c.iat,
                    "iss": c.iss,
                    "aud": c.aud,
                    "jti": c.jti,
                }))
            }
            Err(Rejected::Invalid(_)) => Ok(inactive),
            Err(Rejected::Unavailable) => Err(unavailable()),
        };
    }
    let Some(row) = find_refresh_token(state, token).await? else {
        return Ok(inactive);
    };
    let now = chrono::Utc::now().timestamp();
    if row.client_id != client.id
        || row.used_at.is_some()
        || row.revoked_at.is_some()
        || now >= row.expires_at
    {
        return Ok(inactive);
    }
    let user_id = row.user_id.clone();
    let user = state
        .store
        .run(move |c| store::find_user_by_id(c, &user_id))
        .await?;
    match user {
        Some(u) if u.is_active && stamp_digest(&u.security_stamp) == row.stamp_digest => {
            Ok(json!({
                "active": true,
                "token_type": "refresh_token",
                "client_id": row.client_id,
                "sub": row.user_id,
                "scope": row.scope,
                "exp": row.expires_at,
                "iat": row.created_at,
                "iss": state.settings.server.issuer,
            }))
        }
        _ => Ok(inactive),
    }
}

fn unavailable() -> OAuthError {
    let mut e = OAuthError::new(
        ErrorCode::TemporarilyUnavailable,
        "the service is temporarily unavailable",
    );
    e.retry_after = Some(1);
    e
}
