//! OWASP "device cookies": a browser where a username signed in successfully gets a cookie that
//! proves it. Past the username's global ceiling of failures, strangers are refused, but a
//! browser holding such a cookie for that username still may try, against a counter of its own —
//! so nobody can lock a user out of a browser they already use.
//!
//! The cookie names no user: it is `issued-at ‖ nonce ‖ HMAC(secret, issued-at ‖ nonce ‖
//! username)`, base64url, and is checked against the username the form carries. The secret lives
//! in the keys directory, so every node sharing that directory accepts every node's cookies.

use aws_lc_rs::hmac;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::Rng;

/// How long a device cookie is good for (also its `Max-Age`).
pub const LIFETIME_SECS: i64 = 180 * 24 * 3600;

const NONCE: usize = 16;
const TAG: usize = 32;
const LEN: usize = 8 + NONCE + TAG;

/// Issues and checks device cookies.
#[derive(Clone)]
pub struct DeviceCookies {
    key: hmac::Key,
}

impl DeviceCookies {
    /// Keyed by `secret` (derived apart from its other uses).
    pub fn new(secret: &[u8]) -> Self {
        let root = hmac::Key::new(hmac::HMAC_SHA256, secret);
        let derived = hmac::sign(&root, b"irongate device cookie v1");
        Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, derived.as_ref()),
        }
    }

    /// A new cookie value for a browser where `username` just signed in.
    pub fn issue(&self, username: &str) -> String {
        self.issue_at(username, now())
    }

    fn issue_at(&self, username: &str, issued: i64) -> String {
        let mut value = Vec::with_capacity(LEN);
        value.extend_from_slice(&issued.to_be_bytes());
        let mut nonce = [0u8; NONCE];
        rand::rng().fill_bytes(&mut nonce);
        value.extend_from_slice(&nonce);
        let tag = hmac::sign(&self.key, &message(&value, username));
        value.extend_from_slice(tag.as_ref());
        URL_SAFE_NO_PAD.encode(value)
    }

    /// The device's id (for its counter) when `value` is a live cookie issued for `username`.
    pub fn verify(&self, value: &str, username: &str) -> Option<String> {
        if value.len() > LEN.div_ceil(3) * 4 {
            return None;
        }
        let raw = URL_SAFE_NO_PAD.decode(value).ok()?;
        if raw.len() != LEN {
            return None;
        }
        let (signed, tag) = raw.split_at(8 + NONCE);
        hmac::verify(&self.key, &message(signed, username), tag).ok()?;
        let issued = i64::from_be_bytes(signed[..8].try_into().ok()?);
        let now = now();
        // A range test: no arithmetic on the presented number.
        if !(now - LIFETIME_SECS..=now + 60).contains(&issued) {
            return None;
        }
        Some(URL_SAFE_NO_PAD.encode(&signed[8..]))
    }
}

/// What the tag covers: the issue time and nonce, then the username as the limiter compares it.
fn message(signed: &[u8], username: &str) -> Vec<u8> {
    let mut m = signed.to_vec();
    m.extend_from_slice(super::rate_limit::normalize_username(username).as_bytes());
    m
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cookie_is_good_only_for_its_username_and_its_lifetime() {
        let devices = DeviceCookies::new(&[7u8; 32]);
        let value = devices.issue("Alice@example.com");
        assert!(!value.to_lowercase().contains("alice"));
        let id = devices.verify(&value, "alice@example.com ").unwrap();
        assert_eq!(devices.verify(&value, "alice@example.com"), Some(id));
        assert_eq!(devices.verify(&value, "bob@example.com"), None);
        let other = DeviceCookies::new(&[8u8; 32]);
        assert_eq!(other.verify(&value, "alice@example.com"), None);
        let old = devices.issue_at("alice@example.com", now() - LIFETIME_SECS - 1);
        assert_eq!(devices.verify(&old, "alice@example.com"), None);
        let mut tampered = value.into_bytes();
        tampered[3] = if tampered[3] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(tampered).unwrap();
        assert_eq!(devices.verify(&tampered, "alice@example.com"), None);
        assert_eq!(devices.verify("", "alice@example.com"), None);
        assert_eq!(devices.verify(&"A".repeat(5000), "alice@example.com"), None);
    }
}
