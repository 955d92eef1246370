//! What irongate's access tokens say (RFC 9068 §2.2), and how a presented token's kind is told
//! from its form.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

// The claims and the rules they are checked by are defined once, in the crate resource
// servers verify them with: the two cannot drift.
pub use irongate_verify::claims::{ACCESS_TOKEN_TYP, AccessClaims};

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
