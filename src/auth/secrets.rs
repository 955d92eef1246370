//! Generated secrets (client secrets, and later refresh tokens, codes and API keys): 256-bit
//! random values, shown once, stored as SHA-256 and compared in constant time.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::Rng;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// A new random value of `bytes` bytes, base64url without padding (RFC 6749 Appendix A charset).
pub fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    URL_SAFE_NO_PAD.encode(buf)
}

/// A new random (version 4) UUID, from the thread's generator: `Uuid::new_v4` asks the kernel
/// for its bytes, a system call on every token.
pub fn random_uuid() -> String {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .to_string()
}

/// A new 256-bit secret.
pub fn new_secret() -> String {
    random_token(32)
}

/// The stored form of a generated secret: SHA-256, base64url. Not argon2: 256 random bits are not
/// guessable, and checking must stay fast for client_credentials.
pub fn hash_secret(secret: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(secret.as_bytes()))
}

/// Constant-time check of a presented secret against its stored hash (SEC-26).
pub fn verify_secret(presented: &str, stored_hash: &str) -> bool {
    let presented = hash_secret(presented);
    presented.as_bytes().ct_eq(stored_hash.as_bytes()).into()
}

/// The digest of a security stamp carried in tokens (the stamp itself never leaves the server).
pub fn stamp_digest(stamp: &str) -> String {
    URL_SAFE_NO_PAD.encode(&Sha256::digest(stamp.as_bytes())[..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_256_bit_and_unique() {
        let a = new_secret();
        assert_eq!(a.len(), 43);
        assert_ne!(a, new_secret());
        assert!(
            a.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
    }

    #[test]
    fn verifies_only_the_right_secret() {
        let s = new_secret();
        let h = hash_secret(&s);
        assert!(verify_secret(&s, &h));
        assert!(!verify_secret(&new_secret(), &h));
        assert!(!verify_secret("", &h));
        assert!(!h.contains(&s));
    }
}
