//! Values a browser carries for irongate but must neither read nor change: sealed with
//! AES-256-GCM under a key derived from `keys_dir/cookie-secret` (shared by nodes that share the
//! keys directory) and a label naming their use, bound to a context (the user, the browser's
//! session) as associated data, with an expiry inside the seal.

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::hmac;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::Rng;

/// Seals and opens values for one use.
#[derive(Clone)]
pub struct Sealer {
    key: std::sync::Arc<LessSafeKey>,
}

impl Sealer {
    /// Keyed by `secret`, derived apart for each `label`.
    pub fn new(secret: &[u8], label: &[u8]) -> Self {
        let root = hmac::Key::new(hmac::HMAC_SHA256, secret);
        let derived = hmac::sign(&root, label);
        let unbound = UnboundKey::new(&AES_256_GCM, derived.as_ref())
            .unwrap_or_else(|_| unreachable!("a SHA-256 output is an AES-256 key"));
        Self {
            key: std::sync::Arc::new(LessSafeKey::new(unbound)),
        }
    }

    /// `plain` sealed for `context`, good until the unix time `until`.
    pub fn seal(&self, context: &str, plain: &[u8], until: i64) -> String {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let mut data = until.to_be_bytes().to_vec();
        data.extend_from_slice(plain);
        let sealed = self.key.seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(context.as_bytes()),
            &mut data,
        );
        if sealed.is_err() {
            return String::new();
        }
        let mut out = nonce.to_vec();
        out.extend_from_slice(&data);
        URL_SAFE_NO_PAD.encode(out)
    }

    /// What `value` seals for `context`, if it is genuine, not longer than `max_len` characters
    /// and not expired at `now`.
    pub fn open(&self, value: &str, context: &str, now: i64, max_len: usize) -> Option<Vec<u8>> {
        if value.len() > max_len {
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
            .open_in_place(nonce, Aad::from(context.as_bytes()), &mut data)
            .ok()?;
        let (until, value) = plain.split_at(8);
        let until = i64::from_be_bytes(until.try_into().ok()?);
        (now < until).then(|| value.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_only_in_its_context_in_time_and_untampered() {
        let s = Sealer::new(&[7u8; 32], b"test");
        let sealed = s.seal("alice", b"secret", 1000);
        assert_eq!(
            s.open(&sealed, "alice", 999, 512).as_deref(),
            Some(&b"secret"[..])
        );
        assert_eq!(s.open(&sealed, "bob", 999, 512), None);
        assert_eq!(s.open(&sealed, "alice", 1000, 512), None);
        assert_eq!(s.open(&sealed, "alice", 999, 10), None);
        assert_eq!(
            Sealer::new(&[7u8; 32], b"other").open(&sealed, "alice", 999, 512),
            None
        );
        let mut tampered = sealed.into_bytes();
        let last = tampered.len() - 2;
        tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
        assert_eq!(
            s.open(&String::from_utf8(tampered).unwrap(), "alice", 999, 512),
            None
        );
        assert_eq!(s.open("garbage", "alice", 999, 512), None);
    }
}
