//! JWT access tokens (RFC 9068) and ID tokens (OpenID Connect Core §2), signed RS256.

use crate::auth::secrets::stamp_digest;
use crate::config::Settings;
use crate::keys::{KeyError, KeyStore};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// RFC 9068 §2.1 media type of JWT access tokens, in the `typ` header.
pub const ACCESS_TOKEN_TYP: &str = "at+jwt";

/// The claims of an access token (RFC 9068 §2.2).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessClaims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub exp: i64,
    pub iat: i64,
    pub jti: String,
    pub client_id: String,
    pub scope: String,
    /// A digest of the user's security stamp: the token dies when the stamp changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sst: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_time: Option<i64>,
}

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
}

/// Who a token is for.
pub struct Subject<'a> {
    pub sub: &'a str,
    pub security_stamp: Option<&'a str>,
    pub auth_time: Option<i64>,
}

/// Signs a new access token; returns it with its claims.
pub fn issue_access_token(
    keys: &KeyStore,
    settings: &Settings,
    subject: &Subject<'_>,
    client_id: &str,
    scope: &str,
) -> Result<(String, AccessClaims), KeyError> {
    let now = chrono::Utc::now().timestamp();
    let claims = AccessClaims {
        iss: settings.server.issuer.clone(),
        sub: subject.sub.to_owned(),
        aud: settings.tokens.audience.clone(),
        exp: now + settings.tokens.access_ttl as i64,
        iat: now,
        jti: uuid::Uuid::new_v4().to_string(),
        client_id: client_id.to_owned(),
        scope: scope.to_owned(),
        sst: subject.security_stamp.map(stamp_digest),
        auth_time: subject.auth_time,
    };
    Ok((keys.sign(ACCESS_TOKEN_TYP, &claims)?, claims))
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

/// What kind of token a presented string is, by its form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// A JWS compact serialization whose header parses (irongate's access and ID tokens).
    Jwt,
    /// An opaque refresh token: 256 random bits, base64url without padding (43 characters).
    Refresh,
    /// Neither: no token irongate issued.
    Unknown,
}

impl TokenKind {
    pub fn of(token: &str) -> Self {
        let base64url = |s: &str| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        };
        if token.len() == 43 && base64url(token) {
            return TokenKind::Refresh;
        }
        // A JWS compact serialization: three base64url parts, the first a JSON object (RFC 7515
        // §7.1). The signature and claims are checked by whoever verifies it.
        let mut parts = token.splitn(4, '.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return TokenKind::Unknown;
        };
        let json_object = URL_SAFE_NO_PAD
            .decode(header)
            .is_ok_and(|h| h.first() == Some(&b'{') && h.last() == Some(&b'}'));
        if token.len() <= 16 * 1024 && json_object && base64url(payload) && base64url(signature) {
            TokenKind::Jwt
        } else {
            TokenKind::Unknown
        }
    }
}

#[cfg(test)]
mod kind_tests {
    use super::TokenKind;

    #[test]
    fn tokens_are_told_apart_by_their_form() {
        let refresh = crate::auth::secrets::random_token(32);
        assert_eq!(TokenKind::of(&refresh), TokenKind::Refresh);
        let jwt = "eyJhbGciOiJSUzI1NiIsInR5cCI6ImF0K2p3dCJ9.eyJzdWIiOiJ4In0.c2ln";
        assert_eq!(TokenKind::of(jwt), TokenKind::Jwt);
        assert_eq!(TokenKind::of("a.b.c"), TokenKind::Unknown);
        assert_eq!(TokenKind::of("igk_notakeyyet"), TokenKind::Unknown);
        assert_eq!(TokenKind::of(""), TokenKind::Unknown);
    }
}
