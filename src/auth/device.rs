//! OWASP "device cookies": a browser where a username signed in successfully gets a cookie that
//! proves it. Past the username's global ceiling of failures, strangers are refused, but a
//! browser holding such a cookie for that username still may try, against a counter of its own —
//! so nobody can lock a user out of a browser they already use.
//!
//! The cookie names no user: it is `issued-at ‖ nonce ‖ stamp-tag ‖ HMAC(secret, issued-at ‖
//! nonce ‖ stamp-tag ‖ username)`, base64url, checked against the username the form carries
//! (no database needed to refuse a forged one). The stamp tag, an HMAC of the nonce and the
//! user's security stamp, ties it to the stamp: a password change, "log out everywhere" or a
//! disable voids every device cookie of the user. The secret lives in the keys directory, so
//! every node sharing that directory accepts every node's cookies.

use aws_lc_rs::hmac;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::Rng;

/// How long a device cookie is good for (also its `Max-Age`).
pub const LIFETIME_SECS: i64 = 180 * 24 * 3600;

const NONCE: usize = 16;
const STAMP_TAG: usize = 16;
const TAG: usize = 32;
const SIGNED: usize = 8 + NONCE + STAMP_TAG;
const LEN: usize = SIGNED + TAG;

/// A cookie whose signature and age are good for the username; its stamp is checked next.
pub struct Presented {
    nonce: [u8; NONCE],
    stamp_tag: [u8; STAMP_TAG],
}

impl Presented {
    /// The device's id, for its counter.
    pub fn id(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.nonce)
    }
}

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

    /// A new cookie value for a browser where `username`, whose security stamp has the digest
    /// `stamp`, just signed in.
    pub fn issue(&self, username: &str, stamp: &str) -> String {
        self.issue_at(username, stamp, now())
    }

    fn issue_at(&self, username: &str, stamp: &str, issued: i64) -> String {
        let mut value = Vec::with_capacity(LEN);
        value.extend_from_slice(&issued.to_be_bytes());
        let mut nonce = [0u8; NONCE];
        rand::rng().fill_bytes(&mut nonce);
        value.extend_from_slice(&nonce);
        value.extend_from_slice(&self.stamp_tag(&nonce, stamp));
        let tag = hmac::sign(&self.key, &message(&value, username));
        value.extend_from_slice(tag.as_ref());
        URL_SAFE_NO_PAD.encode(value)
    }

    fn stamp_tag(&self, nonce: &[u8], stamp: &str) -> [u8; STAMP_TAG] {
        let mut m = b"stamp\0".to_vec();
        m.extend_from_slice(nonce);
        m.extend_from_slice(stamp.as_bytes());
        let full = hmac::sign(&self.key, &m);
        let mut tag = [0u8; STAMP_TAG];
        tag.copy_from_slice(&full.as_ref()[..STAMP_TAG]);
        tag
    }

    /// `value` when it is a live cookie issued for `username` (no database needed); then
    /// [`Self::stamp_matches`] says whether the user's stamp is still the one it was issued with.
    pub fn verify(&self, value: &str, username: &str) -> Option<Presented> {
        if value.len() > LEN.div_ceil(3) * 4 {
            return None;
        }
        let raw = URL_SAFE_NO_PAD.decode(value).ok()?;
        if raw.len() != LEN {
            return None;
        }
        let (signed, tag) = raw.split_at(SIGNED);
        hmac::verify(&self.key, &message(signed, username), tag).ok()?;
        let issued = i64::from_be_bytes(signed[..8].try_into().ok()?);
        let now = now();
        // A range test: no arithmetic on the presented number.
        if !(now - LIFETIME_SECS..=now + 60).contains(&issued) {
            return None;
        }
        Some(Presented {
            nonce: signed[8..8 + NONCE].try_into().ok()?,
            stamp_tag: signed[8 + NONCE..].try_into().ok()?,
        })
    }

    /// Whether the cookie was issued under the security stamp whose digest is `stamp`.
    pub fn stamp_matches(&self, presented: &Presented, stamp: &str) -> bool {
        use subtle::ConstantTimeEq;
        bool::from(
            self.stamp_tag(&presented.nonce, stamp)
                .ct_eq(&presented.stamp_tag),
        )
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
    fn a_cookie_is_good_only_for_its_username_stamp_and_lifetime() {
        let devices = DeviceCookies::new(&[7u8; 32]);
        let value = devices.issue("Alice@example.com", "stamp-1");
        assert!(!value.to_lowercase().contains("alice"));
        let first = devices.verify(&value, "alice@example.com ").unwrap();
        let again = devices.verify(&value, "alice@example.com").unwrap();
        assert_eq!(first.id(), again.id());
        assert!(devices.stamp_matches(&first, "stamp-1"));
        assert!(
            !devices.stamp_matches(&first, "stamp-2"),
            "a new stamp voids it"
        );
        assert!(devices.verify(&value, "bob@example.com").is_none());
        let other = DeviceCookies::new(&[8u8; 32]);
        assert!(other.verify(&value, "alice@example.com").is_none());
        let old = devices.issue_at("alice@example.com", "stamp-1", now() - LIFETIME_SECS - 1);
        assert!(devices.verify(&old, "alice@example.com").is_none());
        let mut tampered = value.into_bytes();
        tampered[3] = if tampered[3] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(tampered).unwrap();
        assert!(devices.verify(&tampered, "alice@example.com").is_none());
        assert!(devices.verify("", "alice@example.com").is_none());
        assert!(
            devices
                .verify(&"A".repeat(5000), "alice@example.com")
                .is_none()
        );
    }
}
