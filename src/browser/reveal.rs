//! Showing a secret once across a redirect: the account page makes an API key on a POST, then
//! sends the browser to the page with a 303 (a reload never posts again), carrying the new key
//! in a short-lived cookie sealed with AES-256-GCM under a key derived from `keys_dir/cookie-secret`
//! (shared by nodes that share the keys directory), bound to the user, read once and cleared.

use super::sealed::Sealer;

/// How long a sealed secret may wait for the page it is shown on (seconds).
pub const REVEAL_SECS: i64 = 120;

/// Seals and opens secrets to be shown once.
#[derive(Clone)]
pub struct OnceReveal {
    sealer: Sealer,
}

impl OnceReveal {
    /// Keyed by `secret` (derived apart from its other uses).
    pub fn new(secret: &[u8]) -> Self {
        Self {
            sealer: Sealer::new(secret, b"irongate reveal once v1"),
        }
    }

    /// `secret` sealed for `user_id`, valid until `now + REVEAL_SECS`.
    pub fn seal(&self, user_id: &str, secret: &str, now: i64) -> String {
        self.sealer
            .seal(user_id, secret.as_bytes(), now + REVEAL_SECS)
    }

    /// The secret `value` seals for `user_id`, if it is genuine and not expired.
    pub fn open(&self, value: &str, user_id: &str, now: i64) -> Option<String> {
        let plain = self.sealer.open(value, user_id, now, 512)?;
        String::from_utf8(plain).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_only_for_its_user_in_time_and_untampered() {
        let r = OnceReveal::new(&[7u8; 32]);
        let sealed = r.seal("alice", "igk_secret", 1000);
        assert_eq!(
            r.open(&sealed, "alice", 1000).as_deref(),
            Some("igk_secret")
        );
        assert_eq!(r.open(&sealed, "bob", 1000), None);
        assert_eq!(r.open(&sealed, "alice", 1000 + REVEAL_SECS), None);
        let mut tampered = sealed.into_bytes();
        let last = tampered.len() - 2;
        tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
        assert_eq!(
            r.open(&String::from_utf8(tampered).unwrap(), "alice", 1000),
            None
        );
        assert_eq!(
            OnceReveal::new(&[8u8; 32]).open("garbage", "alice", 1000),
            None
        );
    }
}
