//! Form-encoded request bodies (RFC 6749 §3.2, Appendix B): each parameter at most once
//! (RFC 6749 §3.1), empty values treated as absent.

use super::error::OAuthError;
use std::collections::HashMap;

/// The parameters of a form body.
#[derive(Debug, Default)]
pub struct Form(HashMap<String, String>);

impl Form {
    pub fn parse(body: &[u8]) -> Result<Self, OAuthError> {
        let mut map = HashMap::new();
        for (key, value) in url::form_urlencoded::parse(body) {
            if value.is_empty() {
                continue;
            }
            if map.insert(key.to_string(), value.into_owned()).is_some() {
                return Err(OAuthError::invalid_request(format!(
                    "parameter {key} is repeated"
                )));
            }
        }
        Ok(Self(map))
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    pub fn require(&self, key: &str) -> Result<&str, OAuthError> {
        self.get(key)
            .ok_or_else(|| OAuthError::invalid_request(format!("parameter {key} is missing")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_decodes_and_rejects_repeats() {
        let f =
            Form::parse(b"grant_type=password&username=a%40b.c&scope=openid+email&empty=").unwrap();
        assert_eq!(f.get("username"), Some("a@b.c"));
        assert_eq!(f.get("scope"), Some("openid email"));
        assert_eq!(f.get("empty"), None);
        assert!(f.require("password").is_err());
        assert!(Form::parse(b"scope=a&scope=b").is_err());
    }
}
