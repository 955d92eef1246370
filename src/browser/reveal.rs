//! Showing a secret once across a redirect: the account page makes an API key on a POST, then
//! sends the browser to the page with a 303 (a reload never posts again), carrying the new key
//! in a short-lived cookie sealed with AES-256-GCM under a key derived from `keys_dir/cookie-secret`
//! (shared by nodes that share the keys directory), bound to the user, read once and cleared.

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::hmac;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::Rng;

/// How long a sealed secret may wait for the page it is shown on (seconds).
pub const REVEAL_SECS: i64 = 120;

/// Seals and opens secrets to be shown once.
#[derive(Clone)]
pub struct OnceReveal {
    key: std::sync::Arc<LessSafeKey>,
}

impl OnceReveal {
    /// Keyed by `secret` (derived apart from its other uses).
    pub fn new(secret: &[u8]) -> Self {
        let root = hmac::Key::new(hmac::HMAC_SHA256, secret);
        let derived = hmac::sign(&root, b"irongate reveal once v1");
        let unbound = UnboundKey::new(&AES_256_GCM, derived.as_ref())
            .unwrap_or_else(|_| unreachable!("a SHA-256 output is an AES-256 key"));
        Self {
            key: std::sync::Arc::new(LessSafeKey::new(unbound)),
        }
    }

    /// `secret` sealed for `user_id`, valid until `now + REVEAL_SECS`.
    pub fn seal(&self, user_id: &str, secret: &str, now: i64) -> String {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let mut data = (now + REVEAL_SECS).to_be_bytes().to_vec();
        data.extend_from_slice(secret.as_bytes());
        let sealed = self.key.seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(user_id.as_bytes()),
            &mut data,
        );
        if sealed.is_err() {
            return String::new();
        }
        let mut out = nonce.to_vec();
        out.extend_from_slice(&data);
        URL_SAFE_NO_PAD.encode(out)
    }

    /// The secret `value` seals for `user_id`, if it is genuine and not expired.
    pub fn open(&self, value: &str, user_id: &str, now: i64) -> Option<String> {
        if value.len() > 512 {
            return None;
        }
        let raw = URL_SAFE_NO_PAD.decode(value).ok()?;
        if raw.len() < NONCE_LEN + 8 {
            return None;
        }
        let (nonce, rest) = raw.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
        let mut data = rest.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(user_id.as_bytes()), &mut data)
            .ok()?;
        let (until, secret) = plain.split_at(8);
        let until = i64::from_be_bytes(until.try_into().ok()?);
        (now < until).then(|| String::from_utf8(secret.to_vec()).ok())?
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
