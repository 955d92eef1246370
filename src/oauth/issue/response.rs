//! The token response (RFC 6749 §5.1) and the JSON it is sent as.

use serde::Serialize;

/// A successful token response (RFC 6749 §5.1). Sent as `to_json` writes it; the derived
/// `Serialize` is what the tests hold that against.
#[derive(Debug, Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: u64,
    pub scope: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    /// RFC 8693 §2.2.1, for an exchanged token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issued_token_type: Option<&'static str>,
}

impl TokenResponse {
    /// The response body: the JSON serde writes for this struct, byte for byte, written
    /// directly. Its tokens (JWTs and opaque tokens: base64url and dots) need no escaping, and
    /// checking that costs a fraction of serde_json's escaping, which looks up every byte of the
    /// 1–2 KB in a table and copies the runs between escapes; a string that does need it goes
    /// through serde_json.
    pub fn to_json(&self) -> String {
        let tokens = [
            Some(&self.access_token),
            self.refresh_token.as_ref(),
            self.id_token.as_ref(),
        ];
        let size: usize = tokens.iter().flatten().map(|t| t.len()).sum();
        let mut out = String::with_capacity(size + self.scope.len() + 160);
        out.push('{');
        json_member(&mut out, "access_token", &self.access_token);
        out.push(',');
        json_member(&mut out, "token_type", self.token_type);
        out.push_str(",\"expires_in\":");
        out.push_str(&self.expires_in.to_string());
        out.push(',');
        json_member(&mut out, "scope", &self.scope);
        let optional = [
            ("refresh_token", self.refresh_token.as_deref()),
            ("id_token", self.id_token.as_deref()),
            ("issued_token_type", self.issued_token_type),
        ];
        for (name, value) in optional {
            if let Some(value) = value {
                out.push(',');
                json_member(&mut out, name, value);
            }
        }
        out.push('}');
        out
    }
}

/// `"name":"value"` (`name` is a plain member name), escaping `value` as serde_json does when
/// it holds anything beyond printable ASCII other than `"` and `\`.
fn json_member(out: &mut String, name: &str, value: &str) {
    out.push('"');
    out.push_str(name);
    out.push_str("\":");
    // A fold rather than `all`: without an early exit the check compiles to vector code.
    let plain = value.bytes().fold(true, |plain, b| {
        plain & (b' '..=b'~').contains(&b) & (b != b'"') & (b != b'\\')
    });
    if plain {
        out.push('"');
        out.push_str(value);
        out.push('"');
    } else {
        // Serializing a string into a String cannot fail.
        out.push_str(&serde_json::to_string(value).unwrap_or_default());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::issue::ACCESS_TOKEN_TYPE;

    /// `to_json` writes what serde writes, with and without the optional members, and escapes
    /// what needs escaping.
    #[test]
    fn token_responses_are_the_json_serde_writes() {
        let full = TokenResponse {
            access_token: "eyJ0eXAiOiJhdCtqd3QifQ.eyJzdWIiOiJhIn0.c2ln-_".into(),
            token_type: "Bearer",
            expires_in: 900,
            scope: "openid email".into(),
            refresh_token: Some("Zm9v-YmFy_".into()),
            id_token: Some("a.b.c".into()),
            issued_token_type: Some(ACCESS_TOKEN_TYPE),
        };
        let bare = TokenResponse {
            access_token: "quote \" backslash \\ tab \t é \u{7f}".into(),
            scope: String::new(),
            refresh_token: None,
            id_token: None,
            issued_token_type: None,
            ..full
        };
        let odd = TokenResponse {
            access_token: "a.b.c".into(),
            scope: "read \"all\"".into(),
            id_token: Some("\u{1}".into()),
            token_type: "Bearer",
            expires_in: 0,
            refresh_token: None,
            issued_token_type: None,
        };
        for response in [&full, &bare, &odd] {
            assert_eq!(response.to_json(), serde_json::to_string(response).unwrap());
        }
    }
}
