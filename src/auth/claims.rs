//! What irongate's access tokens say (RFC 9068 §2.2), and how a presented token's kind is told
//! from its form.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

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
    /// The user's effective global roles, sorted (omitted when none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<String>,
    /// The user's effective permissions that are also in `scope`, sorted (omitted when none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub permissions: Vec<String>,
    /// The active organization, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_id: Option<String>,
    /// The user's effective roles inside the active organization, sorted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub org_roles: Vec<String>,
    /// The API key this token was exchanged for (RFC 8693), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key_id: Option<String>,
}

/// What a user may do, as a token carries it: computed at issuance from the database.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Authorization {
    pub roles: Vec<String>,
    /// Already narrowed to the token's granted scope.
    pub permissions: Vec<String>,
    pub org_id: Option<String>,
    pub org_roles: Vec<String>,
}

/// What kind of token a presented string is, by its form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// A JWS compact serialization: a base64url JSON header, then a dot (irongate's access and
    /// ID tokens).
    Jwt,
    /// An opaque refresh token: 256 random bits, base64url without padding (43 characters).
    Refresh,
    /// Neither: no token irongate issued.
    Unknown,
}

impl TokenKind {
    pub fn of(token: &str) -> Self {
        if token.len() == 43
            && token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return TokenKind::Refresh;
        }
        // A JWS compact serialization starts with a base64url JSON object and a dot (RFC 7515
        // §7.1); its other parts are for whoever verifies it to check. Only the header is read,
        // so telling the kind costs next to nothing beside the verification.
        let Some((header, _)) = token.split_once('.') else {
            return TokenKind::Unknown;
        };
        let mut decoded = [0u8; 256];
        match URL_SAFE_NO_PAD.decode_slice(header, &mut decoded) {
            Ok(n) if n >= 2 && decoded[0] == b'{' && decoded[n - 1] == b'}' => TokenKind::Jwt,
            _ => TokenKind::Unknown,
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
