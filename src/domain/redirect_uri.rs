use super::Invalid;
use url::{Host, Url};

/// Schemes that execute or embed content instead of navigating to a client
/// (RFC 9700 §2.6; Keycloak CVE-2020-10776, CVE-2026-9086).
const DANGEROUS_SCHEMES: &[&str] = &[
    "javascript",
    "data",
    "vbscript",
    "file",
    "about",
    "blob",
    "filesystem",
    "view-source",
];

/// A redirect URI as registered by a client. The original string is kept byte for byte:
/// authorization requests are compared to it by simple string comparison (RFC 9700 §4.1.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedirectUri(String);

impl RedirectUri {
    /// Validates a URI for registration: absolute, no fragment (RFC 6749 §3.1.2), no userinfo,
    /// no dangerous scheme; `http` only for loopback hosts (RFC 8252 §7.3, RFC 9700 §2.6);
    /// private-use schemes must be reverse-domain names (RFC 8252 §7.1).
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let invalid = |why: &str| Invalid::new(format!("invalid redirect URI {raw:?}: {why}"));
        if raw.is_empty() || raw.len() > 2000 {
            return Err(invalid("must be 1 to 2000 characters"));
        }
        if raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid("must not contain spaces or control characters"));
        }
        if raw.contains('#') {
            return Err(invalid("must not contain a fragment"));
        }
        let url = Url::parse(raw).map_err(|_| invalid("must be an absolute URI"))?;
        let scheme = url.scheme();
        if DANGEROUS_SCHEMES.contains(&scheme) {
            return Err(invalid("this scheme is not allowed"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(invalid("must not contain userinfo"));
        }
        match scheme {
            "https" if url.host().is_some() => Ok(Self(raw.to_owned())),
            "https" => Err(invalid("must have a host")),
            "http" if is_loopback(&url) => Ok(Self(raw.to_owned())),
            "http" => Err(invalid(
                "plain http is only allowed for loopback hosts (127.0.0.1, [::1], localhost)",
            )),
            _ if scheme.contains('.') => Ok(Self(raw.to_owned())),
            _ => Err(invalid(
                "custom schemes must be reverse-domain names such as com.example.app",
            )),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_https_loopback_and_private_use_schemes() {
        for ok in [
            "https://rp.test/cb",
            "https://rp.test/cb?x=1",
            "http://127.0.0.1/cb",
            "http://127.0.0.1:8000/cb",
            "http://[::1]:9000/cb",
            "http://localhost:3000/callback",
            "com.example.app:/oauth2redirect",
        ] {
            assert!(RedirectUri::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn rejects_dangerous_and_malformed_uris_sec_05() {
        for bad in [
            "javascript:alert(1)",
            "JaVaScRiPt:alert(1)",
            "data:text/html,x",
            "vbscript:x",
            "http://rp.test/cb",
            "https://rp.test/cb#f",
            "https://rp.test/cb#",
            "/cb",
            "rp.test/cb",
            "https://user@rp.test/cb",
            "https://a@b@evil.test/cb",
            "https://rp.test/c b",
            "myapp:/cb",
            "",
        ] {
            assert!(RedirectUri::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn keeps_the_string_exactly() {
        let uri = RedirectUri::parse("HTTPS://RP.TEST/cb").unwrap();
        assert_eq!(uri.as_str(), "HTTPS://RP.TEST/cb");
    }
}
