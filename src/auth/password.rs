//! argon2id password hashing with OWASP's parameters, on a bounded pool of blocking threads so
//! that a burst of sign-ins cannot starve other requests.

use super::AuthError;
use crate::domain::Password;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::Rng;
use std::sync::Arc;
use tokio::sync::Semaphore;

/// OWASP Password Storage Cheat Sheet: argon2id, m=19456 KiB, t=2, p=1.
const M_COST: u32 = 19_456;
const T_COST: u32 = 2;
const P_COST: u32 = 1;

#[allow(
    clippy::expect_used,
    reason = "a start-up invariant: the parameters are constants within argon2's limits"
)]
fn argon2() -> Argon2<'static> {
    let params = Params::new(M_COST, T_COST, P_COST, None).expect("valid argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// The outcome of checking a password.
#[derive(Debug, PartialEq, Eq)]
pub enum Verified {
    /// The password matches; `rehash` holds a new hash when the stored one is outdated.
    Match {
        rehash: Option<String>,
    },
    Mismatch,
}

/// Hashes a password (blocking: call from a blocking context).
pub fn hash_blocking(password: &Password) -> Result<String, AuthError> {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|e| AuthError::Hashing(e.to_string()))?;
    let hash = argon2()
        .hash_password(password.expose().as_bytes(), &salt)
        .map_err(|e| AuthError::Hashing(e.to_string()))?;
    Ok(hash.to_string())
}

/// Verifies `password` against a stored PHC string; a malformed hash never matches.
pub fn verify_blocking(password: &str, stored: &str) -> Verified {
    let Ok(parsed) = PasswordHash::new(stored) else {
        return Verified::Mismatch;
    };
    // Stored hashes are of the NFKC form (see `Password`).
    let password = crate::domain::normalize_password(password);
    // The verifier takes algorithm and parameters from the stored hash itself.
    if Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_err()
    {
        return Verified::Mismatch;
    }
    let rehash = if is_current(&parsed) {
        None
    } else {
        Password::parse(password)
            .ok()
            .and_then(|p| hash_blocking(&p).ok())
    };
    Verified::Match { rehash }
}

fn is_current(hash: &PasswordHash<'_>) -> bool {
    hash.algorithm == Algorithm::Argon2id.ident()
        && hash.version == Some(Version::V0x13.into())
        && Params::try_from(hash)
            .map(|p| p.m_cost() == M_COST && p.t_cost() == T_COST && p.p_cost() == P_COST)
            .unwrap_or(false)
}

/// Runs hashing on tokio's blocking pool, at most `permits` at a time.
#[derive(Clone)]
pub struct PasswordHasher {
    permits: Arc<Semaphore>,
    /// Verified against when a user has no password, so that the answer takes as long.
    dummy_hash: Arc<str>,
}

impl PasswordHasher {
    pub fn new(max_concurrent: usize) -> Result<Self, AuthError> {
        let dummy = Password::parse("irongate-timing-equaliser".to_owned())
            .map_err(|e| AuthError::Hashing(e.to_string()))?;
        Ok(Self {
            permits: Arc::new(Semaphore::new(max_concurrent.max(1))),
            dummy_hash: hash_blocking(&dummy)?.into(),
        })
    }

    pub async fn hash(&self, password: Password) -> Result<String, AuthError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(AuthError::unexpected)?;
        tokio::task::spawn_blocking(move || hash_blocking(&password))
            .await
            .map_err(AuthError::unexpected)?
    }

    /// Verifies against `stored`, or against a dummy hash when there is none, in the same time.
    pub async fn verify(
        &self,
        password: String,
        stored: Option<String>,
    ) -> Result<Verified, AuthError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(AuthError::unexpected)?;
        let dummy = self.dummy_hash.clone();
        tokio::task::spawn_blocking(move || match stored {
            Some(hash) => verify_blocking(&password, &hash),
            None => {
                verify_blocking(&password, &dummy);
                Verified::Mismatch
            }
        })
        .await
        .map_err(AuthError::unexpected)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pw(s: &str) -> Password {
        Password::parse(s.to_owned()).unwrap()
    }

    #[test]
    fn hashes_with_owasp_argon2id_parameters() {
        let hash = hash_blocking(&pw("correct horse battery")).unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert_eq!(
            verify_blocking("correct horse battery", &hash),
            Verified::Match { rehash: None }
        );
        assert_eq!(
            verify_blocking("correct horse batterY", &hash),
            Verified::Mismatch
        );
    }

    #[test]
    fn outdated_hashes_verify_and_are_upgraded() {
        let weak = Argon2::new(
            Algorithm::Argon2i,
            Version::V0x13,
            Params::new(8, 1, 1, None).unwrap(),
        );
        let salt = SaltString::encode_b64(b"0123456789abcdef").unwrap();
        let old = weak
            .hash_password(b"long enough pass", &salt)
            .unwrap()
            .to_string();
        match verify_blocking("long enough pass", &old) {
            Verified::Match { rehash: Some(new) } => {
                assert!(new.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
                assert_eq!(
                    verify_blocking("long enough pass", &new),
                    Verified::Match { rehash: None }
                );
            }
            other => panic!("expected an upgrade, got {other:?}"),
        }
    }

    #[test]
    fn malformed_hashes_never_match() {
        assert_eq!(
            verify_blocking("whatever1", "not-a-phc-string"),
            Verified::Mismatch
        );
        assert_eq!(verify_blocking("whatever1", ""), Verified::Mismatch);
    }

    #[test]
    fn long_passwords_are_not_truncated() {
        let long = "x".repeat(100);
        let hash = hash_blocking(&pw(&long)).unwrap();
        assert_eq!(verify_blocking(&"x".repeat(99), &hash), Verified::Mismatch);
        assert_eq!(
            verify_blocking(&format!("{long}y"), &hash),
            Verified::Mismatch
        );
    }
}
