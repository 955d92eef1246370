//! What irongate's access tokens say (RFC 9068 §2.2) and the rules they are checked by: defined
//! once here, used by irongate to issue and check them and by resource servers to verify them.

use serde::{Deserialize, Serialize};

/// RFC 9068 §2.1 media type of JWT access tokens, in the `typ` header (also accepted with the
/// `application/` prefix).
pub const ACCESS_TOKEN_TYP: &str = "at+jwt";

/// The claims of an access token (RFC 9068 §2.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub exp: i64,
    pub iat: i64,
    /// Not before (irongate sets none; honoured when present).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
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

/// Whether a JOSE `typ` names an access token (RFC 9068 §4, RFC 8725 §3.11): `at+jwt` or
/// `application/at+jwt`, in any letter case. An ID token (`JWT`, or none) is not one.
pub fn is_access_token_typ(typ: Option<&str>) -> bool {
    let typ = typ.unwrap_or("");
    let bare = match typ.get(..12) {
        Some(prefix) if prefix.eq_ignore_ascii_case("application/") => &typ[12..],
        _ => typ,
    };
    bare.eq_ignore_ascii_case(ACCESS_TOKEN_TYP)
}

/// The claim checks every access token passes: RS256 only, `exp`, `iat`, `iss`, `aud` and
/// `sub` present, `nbf` honoured, the issuer exact, the audience `audience`; `leeway` seconds
/// for `exp` and `nbf`.
pub fn validation(issuer: &str, audience: &str, leeway: u64) -> jsonwebtoken::Validation {
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    v.leeway = leeway;
    v.validate_nbf = true;
    v.set_issuer(&[issuer]);
    v.set_audience(&[audience]);
    v.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
    v
}

/// The current unix time in seconds (0 before 1970).
pub(crate) fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// What [`check`] holds a token's claims to (the same rules as [`validation`]).
#[derive(Debug, Clone)]
pub struct Rules {
    pub issuer: String,
    pub audience: String,
    pub leeway: u64,
}

/// Why [`check`] refused the claims.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    Expired,
    NotYetValid,
    Issuer,
    Audience,
}

/// The claim checks of [`validation`], on claims already parsed (their signature verified by
/// the caller): `exp` and `nbf` with the leeway, the issuer exact, the audience. `exp`, `iat`,
/// `iss`, `aud` and `sub` are present by the type.
pub fn check(claims: &AccessClaims, rules: &Rules, now: i64) -> Result<(), Refused> {
    let leeway = rules.leeway as i64;
    if claims.exp < now - leeway {
        return Err(Refused::Expired);
    }
    if claims.nbf.is_some_and(|nbf| nbf > now + leeway) {
        return Err(Refused::NotYetValid);
    }
    if claims.iss != rules.issuer {
        return Err(Refused::Issuer);
    }
    if claims.aud != rules.audience {
        return Err(Refused::Audience);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `check` and `validation` are the same rules: over a matrix of claims, both accept or
    /// both refuse.
    #[test]
    fn check_agrees_with_validation() {
        let now = jsonwebtoken::get_current_timestamp() as i64;
        let rules = Rules {
            issuer: "https://id.test".into(),
            audience: "https://api.test".into(),
            leeway: 30,
        };
        let mut v = validation(&rules.issuer, &rules.audience, rules.leeway);
        v.algorithms = vec![jsonwebtoken::Algorithm::HS256];
        let key = jsonwebtoken::EncodingKey::from_secret(b"k");
        let dkey = jsonwebtoken::DecodingKey::from_secret(b"k");
        let base = AccessClaims {
            iss: rules.issuer.clone(),
            sub: "u".into(),
            aud: rules.audience.clone(),
            exp: now + 60,
            iat: now,
            nbf: None,
            jti: "j".into(),
            client_id: "c".into(),
            scope: "openid".into(),
            sst: None,
            auth_time: None,
            roles: vec![],
            permissions: vec![],
            org_id: None,
            org_roles: vec![],
            api_key_id: None,
        };
        let cases = [
            base.clone(),
            AccessClaims {
                exp: now - 10,
                ..base.clone()
            },
            AccessClaims {
                exp: now - 100,
                ..base.clone()
            },
            AccessClaims {
                nbf: Some(now + 10),
                ..base.clone()
            },
            AccessClaims {
                nbf: Some(now + 100),
                ..base.clone()
            },
            AccessClaims {
                iss: "https://evil.test".into(),
                ..base.clone()
            },
            AccessClaims {
                aud: "another".into(),
                ..base.clone()
            },
        ];
        for claims in cases {
            let header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
            let token = jsonwebtoken::encode(&header, &claims, &key).unwrap();
            let by_validation = jsonwebtoken::decode::<AccessClaims>(&token, &dkey, &v).is_ok();
            assert_eq!(
                check(&claims, &rules, now).is_ok(),
                by_validation,
                "{claims:?}"
            );
        }
    }

    #[test]
    fn only_access_token_types_are_access_tokens() {
        for ok in [
            "at+jwt",
            "AT+JWT",
            "application/at+jwt",
            "Application/At+Jwt",
        ] {
            assert!(is_access_token_typ(Some(ok)), "{ok}");
        }
        for no in [
            None,
            Some("JWT"),
            Some("jwt"),
            Some(""),
            Some("application/jwt"),
            Some("at+jwt2"),
        ] {
            assert!(!is_access_token_typ(no), "{no:?}");
        }
    }
}
