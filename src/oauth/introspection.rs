//! Token introspection (RFC 7662).

use super::error::{ErrorCode, OAuthError};
use super::form::Form;
use super::issue::Issuer;
use crate::auth::access::{AccessVerifier, Rejected};
use crate::auth::api_keys::ApiKeyVerifier;
use crate::auth::claims::TokenKind;
use crate::auth::secrets::stamp_digest;
use crate::domain::api_key::ApiKey;
use crate::store::Client;
use serde::Serialize;
use serde_json::{Value, json};

/// An introspection answer (RFC 7662 §2.2).
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum Answer {
    /// `{"active": false}`.
    Inactive(Inactive),
    /// An active refresh token: fixed members, written without building a JSON tree first.
    Refresh(RefreshAnswer),
    /// An active access token or API key, with the authorization claims it carries.
    Members(Value),
}

/// Whatever is not active: exactly `{"active": false}` (RFC 7662 §2.2).
#[derive(Debug)]
pub struct Inactive;

impl Serialize for Inactive {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(1))?;
        map.serialize_entry("active", &false)?;
        map.end()
    }
}

/// The members of an active refresh token's answer (no `token_type`: it is not a bearer token).
#[derive(Debug, Serialize)]
pub struct RefreshAnswer {
    active: bool,
    token_use: &'static str,
    client_id: String,
    sub: String,
    scope: String,
    exp: i64,
    iat: i64,
    iss: String,
}

/// The introspection endpoint's service.
#[derive(Clone)]
pub struct Introspection {
    access: AccessVerifier,
    issuer: Issuer,
    keys: ApiKeyVerifier,
}

impl Introspection {
    pub fn new(access: AccessVerifier, issuer: Issuer, keys: ApiKeyVerifier) -> Self {
        Self {
            access,
            issuer,
            keys,
        }
    }

    /// RFC 7662 §2.2. Only confidential clients may ask; any of them may introspect access
    /// tokens, refresh tokens only the client they were issued to. Anything not active is
    /// exactly `{"active": false}`. `token_type` is the RFC 6749 §7.1 type (`Bearer`), and
    /// `token_use` says which kind of token it is.
    pub async fn introspect(&self, client: &Client, form: &Form) -> Result<Answer, OAuthError> {
        if client.is_public {
            return Err(OAuthError::new(
                ErrorCode::InvalidClient,
                "introspection is for confidential clients",
            ));
        }
        let token = form.require("token")?;
        if ApiKey::looks_like(token) {
            return self.api_key(token).await;
        }
        match TokenKind::of(token) {
            TokenKind::Jwt => self.access_token(token).await,
            TokenKind::Refresh => self.refresh_token(client, token).await,
            TokenKind::Unknown => Ok(inactive()),
        }
    }

    async fn access_token(&self, token: &str) -> Result<Answer, OAuthError> {
        match self.access.verify(token, false).await {
            Ok(v) => {
                let c = v.claims;
                let mut answer = json!({
                    "active": true,
                    "token_type": "Bearer",
                    "token_use": "access_token",
                    "client_id": c.client_id,
                    "sub": c.sub,
                    "scope": c.scope,
                    "exp": c.exp,
                    "iat": c.iat,
                    "iss": c.iss,
                    "aud": c.aud,
                    "jti": c.jti,
                });
                if let Some(key) = c.api_key_id {
                    // RFC 8693: the token was exchanged for this API key.
                    answer["api_key_id"] = json!(key);
                }
                // The authorization claims, as the token carries them.
                add_authorization(&mut answer, c.roles, c.permissions, c.org_roles, c.org_id);
                Ok(Answer::Members(answer))
            }
            Err(Rejected::Invalid(_)) => Ok(inactive()),
            Err(Rejected::Unavailable) => Err(OAuthError::unavailable()),
        }
    }

    /// An API key: any confidential client may ask (as for access tokens); a key that is
    /// malformed, unknown, expired, revoked, or whose user or organization is gone is inactive.
    async fn api_key(&self, token: &str) -> Result<Answer, OAuthError> {
        match self.keys.verify(token).await {
            Ok(k) => {
                let mut answer = json!({
                    "active": true,
                    "token_type": "Bearer",
                    "token_use": "api_key",
                    "api_key_id": k.id,
                    "sub": k.user.id,
                    "scope": k.scope,
                    "exp": k.expires_at,
                    "iat": k.created_at,
                    "iss": self.issuer.settings().server.issuer,
                });
                add_authorization(&mut answer, k.roles, k.permissions, k.org_roles, k.org_id);
                Ok(Answer::Members(answer))
            }
            Err(Rejected::Invalid(_)) => Ok(inactive()),
            Err(Rejected::Unavailable) => Err(OAuthError::unavailable()),
        }
    }

    async fn refresh_token(&self, client: &Client, token: &str) -> Result<Answer, OAuthError> {
        let Some(row) = self.issuer.refresh_token_standing(token).await? else {
            return Ok(inactive());
        };
        let now = chrono::Utc::now().timestamp();
        if row.client_id != client.id
            || row.used_at.is_some()
            || row.revoked_at.is_some()
            || now >= row.expires_at
        {
            return Ok(inactive());
        }
        match row.user {
            Some((true, stamp)) if stamp_digest(&stamp) == row.stamp_digest => {
                Ok(Answer::Refresh(RefreshAnswer {
                    active: true,
                    token_use: "refresh_token",
                    client_id: row.client_id,
                    sub: row.user_id,
                    scope: row.scope,
                    exp: row.expires_at,
                    iat: row.created_at,
                    iss: self.issuer.settings().server.issuer.clone(),
                }))
            }
            _ => Ok(inactive()),
        }
    }
}

/// Adds the authorization claims to an answer, each omitted when empty.
fn add_authorization(
    answer: &mut Value,
    roles: Vec<String>,
    permissions: Vec<String>,
    org_roles: Vec<String>,
    org_id: Option<String>,
) {
    let Value::Object(map) = answer else {
        return;
    };
    for (key, list) in [
        ("roles", roles),
        ("permissions", permissions),
        ("org_roles", org_roles),
    ] {
        if !list.is_empty() {
            map.insert(key.into(), json!(list));
        }
    }
    if let Some(org) = org_id {
        map.insert("org_id".into(), json!(org));
    }
}

fn inactive() -> Answer {
    Answer::Inactive(Inactive)
}
