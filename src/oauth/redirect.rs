//! Authorization responses (RFC 6749 §4.1.2, RFC 9207 `iss`, Form Post Response Mode) and the
//! redirect-URI comparison they depend on.

use crate::config::Settings;

/// `query` (the default for `code`) or `form_post` (OAuth 2.0 Form Post Response Mode).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseMode {
    Query,
    FormPost,
}

/// Where an authorization response goes: a validated redirect URI, the client's `state`.
#[derive(Debug, Clone)]
pub struct Target {
    pub redirect_uri: String,
    pub state: Option<String>,
    pub mode: ResponseMode,
}

/// An authorization response: the target and the parameters it receives (`iss` included).
#[derive(Debug, Clone)]
pub struct Response {
    pub target: Target,
    pub params: Vec<(&'static str, String)>,
}

impl Response {
    fn new(target: &Target, settings: &Settings, mut params: Vec<(&'static str, String)>) -> Self {
        if let Some(state) = &target.state {
            params.push(("state", state.clone()));
        }
        params.push(("iss", settings.server.issuer.clone()));
        Self {
            target: target.clone(),
            params,
        }
    }

    /// A successful response carrying `code`.
    pub fn code(target: &Target, settings: &Settings, code: String) -> Self {
        Self::new(target, settings, vec![("code", code)])
    }

    /// An error response (RFC 6749 §4.1.2.1).
    pub fn error(target: &Target, settings: &Settings, error: &AuthzError) -> Self {
        Self::new(
            target,
            settings,
            vec![
                ("error", error.code.to_owned()),
                ("error_description", description_charset(&error.description)),
            ],
        )
    }

    /// The URL for `query` mode: the registered URI byte for byte, the parameters appended to
    /// any query it already has.
    pub fn query_url(&self) -> String {
        append_params(
            &self.target.redirect_uri,
            self.params.iter().map(|(k, v)| (*k, v.as_str())),
        )
    }
}

/// `uri` byte for byte with `params` appended to any query it already has.
pub fn append_params<'a>(
    uri: &str,
    params: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> String {
    let encoded = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish();
    if encoded.is_empty() {
        return uri.to_owned();
    }
    let separator = match uri.find('?') {
        None => "?",
        Some(i) if i + 1 == uri.len() || uri.ends_with('&') => "",
        Some(_) => "&",
    };
    format!("{uri}{separator}{encoded}")
}

/// RFC 6749 §4.1.2.1: `error_description` uses %x20-21 / %x23-5B / %x5D-7E only; anything
/// else (it may echo a parameter name) becomes `?`.
fn description_charset(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\x20'..='\x21' | '\x23'..='\x5B' | '\x5D'..='\x7E' => c,
            _ => '?',
        })
        .collect()
}

/// An error sent back to the client (after its redirect URI is validated).
#[derive(Debug, Clone)]
pub struct AuthzError {
    pub code: &'static str,
    pub description: String,
}

impl AuthzError {
    pub fn new(code: &'static str, description: impl Into<String>) -> Self {
        Self {
            code,
            description: description.into(),
        }
    }

    pub fn invalid_request(description: impl Into<String>) -> Self {
        Self::new("invalid_request", description)
    }
}

/// Simple string comparison (RFC 9700 §4.1.3), except that a loopback `http://127.0.0.1` or
/// `http://[::1]` URI may name any port (RFC 8252 §7.3): nothing else may differ.
pub fn redirect_uri_matches(registered: &str, requested: &str) -> bool {
    if registered == requested {
        return true;
    }
    match (
        loopback_without_port(registered),
        loopback_without_port(requested),
    ) {
        (Some(a), Some(b)) => a == b,
        _ => false,
    }
}

/// `http://127.0.0.1:PORT/rest` → `http://127.0.0.1/rest` (and the same for `[::1]`); None for
/// anything that is not exactly such a URI.
fn loopback_without_port(uri: &str) -> Option<String> {
    for host in ["http://127.0.0.1", "http://[::1]"] {
        if let Some(rest) = uri.strip_prefix(host) {
            let rest = match rest.strip_prefix(':') {
                Some(after) => {
                    let digits = after.bytes().take_while(u8::is_ascii_digit).count();
                    if digits == 0 || digits > 5 {
                        return None;
                    }
                    &after[digits..]
                }
                None => rest,
            };
            if rest.starts_with('/') || rest.starts_with('?') || rest.is_empty() {
                return Some(format!("{host}{rest}"));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_redirects_may_differ_in_port_only_sec_03() {
        let registered = "http://127.0.0.1/cb";
        assert!(redirect_uri_matches(
            registered,
            "http://127.0.0.1:53121/cb"
        ));
        assert!(redirect_uri_matches(registered, "http://127.0.0.1/cb"));
        assert!(redirect_uri_matches(
            "http://[::1]:8080/cb",
            "http://[::1]:9/cb"
        ));
        for bad in [
            "http://127.0.0.1:53121/cb2",
            "http://127.0.0.1/cb?x=1",
            "http://127.0.0.2/cb",
            "http://localhost.evil.test/cb",
            "http://127.0.0.1:/cb",
            "http://127.0.0.1:123456/cb",
            "http://127.0.0.1.evil.test/cb",
            "http://127.0.0.1@evil.test/cb",
            "https://127.0.0.1:1/cb",
        ] {
            assert!(!redirect_uri_matches(registered, bad), "{bad}");
        }
        assert!(!redirect_uri_matches(
            "https://rp.test/cb",
            "https://rp.test:443/cb"
        ));
    }

    #[test]
    fn query_url_keeps_the_registered_uri_and_appends() {
        let target = |uri: &str| Target {
            redirect_uri: uri.into(),
            state: Some("s t".into()),
            mode: ResponseMode::Query,
        };
        let r = |uri: &str| Response {
            target: target(uri),
            params: vec![("code", "c".into())],
        };
        assert_eq!(
            r("HTTPS://RP.TEST/cb").query_url(),
            "HTTPS://RP.TEST/cb?code=c"
        );
        assert_eq!(
            r("https://rp.test/cb?x=1").query_url(),
            "https://rp.test/cb?x=1&code=c"
        );
    }
}
