//! JWT access tokens (RFC 9068) and ID tokens (OpenID Connect Core §2), signed RS256.

use crate::auth::claims::{ACCESS_TOKEN_TYP, AccessClaims, Authorization};
use crate::auth::secrets::{random_uuid, stamp_digest};
use crate::config::Settings;
use crate::keys::{KeyError, KeyStore};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The claims of an ID token (OpenID Connect Core §2, §5.1).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IdClaims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub azp: String,
    pub exp: i64,
    pub iat: i64,
    pub auth_time: i64,
    pub at_hash: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    /// The session the sign-in belongs to (OpenID Connect Front/Back-Channel Logout `sid`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_verified: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The active organization, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_id: Option<String>,
    /// With the `roles` scope: the effective global roles.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<String>>,
    /// With the `roles` scope and an active organization: the effective roles there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_roles: Option<Vec<String>>,
}

/// Who a token is for.
pub struct Subject<'a> {
    pub sub: &'a str,
    pub security_stamp: Option<&'a str>,
    pub auth_time: Option<i64>,
}

/// An access token's id and issue time, chosen before it is signed (a code's redemption records
/// them before it issues anything).
#[derive(Debug, Clone)]
pub struct TokenId {
    pub jti: String,
    pub iat: i64,
}

impl TokenId {
    pub fn new() -> Self {
        Self {
            jti: random_uuid(),
            iat: chrono::Utc::now().timestamp(),
        }
    }
}

impl Default for TokenId {
    fn default() -> Self {
        Self::new()
    }
}

/// Signs a new access token; returns it with its claims.
pub fn issue_access_token(
    keys: &KeyStore,
    settings: &Settings,
    subject: &Subject<'_>,
    client_id: &str,
    scope: &str,
    id: TokenId,
    authz: Authorization,
) -> Result<(String, AccessClaims), KeyError> {
    let claims = access_claims(settings, subject, client_id, scope, id, authz);
    Ok((keys.sign(ACCESS_TOKEN_TYP, &claims)?, claims))
}

/// The claims of an access token living `access_token_ttl` (an exchanged token shortens it and
/// names its key before signing with `sign_access_token`).
pub fn access_claims(
    settings: &Settings,
    subject: &Subject<'_>,
    client_id: &str,
    scope: &str,
    id: TokenId,
    authz: Authorization,
) -> AccessClaims {
    AccessClaims {
        iss: settings.server.issuer.clone(),
        sub: subject.sub.to_owned(),
        aud: settings.tokens.audience.clone(),
        exp: id.iat + settings.tokens.access_ttl as i64,
        iat: id.iat,
        nbf: None,
        jti: id.jti,
        client_id: client_id.to_owned(),
        scope: scope.to_owned(),
        sst: subject.security_stamp.map(stamp_digest),
        auth_time: subject.auth_time,
        roles: authz.roles,
        permissions: authz.permissions,
        org_id: authz.org_id,
        org_roles: authz.org_roles,
        api_key_id: None,
    }
}

/// Signs access-token claims made by `access_claims` and adjusted.
pub fn sign_access_token(keys: &KeyStore, claims: &AccessClaims) -> Result<String, KeyError> {
    keys.sign(ACCESS_TOKEN_TYP, claims)
}

/// Signs an ID token for `claims`.
pub fn sign_id_token(keys: &KeyStore, claims: &IdClaims) -> Result<String, KeyError> {
    keys.sign("JWT", claims)
}

/// OpenID Connect Core §3.1.3.6: base64url of the left half of SHA-256 of the access token.
pub fn at_hash(access_token: &str) -> String {
    URL_SAFE_NO_PAD.encode(&Sha256::digest(access_token.as_bytes())[..16])
}

/// The claims irongate reads from an `id_token_hint`.
#[derive(Debug, Clone, Deserialize)]
pub struct HintClaims {
    pub sub: String,
    pub aud: String,
    /// The browser session the ID token was issued in (absent from password-grant ID tokens).
    #[serde(default)]
    pub sid: Option<String>,
}

/// Verifies an ID token irongate issued, passed back as `id_token_hint` (OpenID Connect Core
/// §3.1.2.1, RP-Initiated Logout §2): signature by a published key (a rotated-out one still in
/// JWKS counts), RS256, `typ` JWT (an access token is not an ID token), issuer. Expiry is not
/// checked: a hint is commonly an expired ID token.
pub fn verify_id_token_hint(
    keys: &KeyStore,
    settings: &Settings,
    token: &str,
) -> Option<HintClaims> {
    if token.len() > 8192 {
        return None;
    }
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.validate_exp = false;
    validation.validate_aud = false;
    validation.set_issuer(&[&settings.server.issuer]);
    validation.set_required_spec_claims(&["iss", "sub", "aud"]);
    let data = keys.verify::<HintClaims>(token, &validation).ok()?;
    (data.header.typ.as_deref() == Some("JWT")).then_some(data.claims)
}
