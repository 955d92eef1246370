//! argon2id password hashing with OWASP's parameters, on a fixed set of hashing threads (one per
//! core) that each reuse one preallocated block of argon2 memory: a burst of sign-ins neither
//! starves other requests nor leaves the process holding a 19 MiB buffer for every thread that
//! ever hashed (issue 14: 40 parallel sign-ins used to leave 269 MiB resident).

use super::AuthError;
use crate::domain::Password;
use argon2::password_hash::{Output, PasswordHash, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use rand::Rng;
use std::sync::{Arc, Mutex, mpsc};
use subtle::ConstantTimeEq;

/// OWASP Password Storage Cheat Sheet: argon2id, m=19456 KiB, t=2, p=1.
const M_COST: u32 = 19_456;
const T_COST: u32 = 2;
const P_COST: u32 = 1;
/// Bytes of hash output (argon2's default).
const OUTPUT_LEN: usize = 32;

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

/// The working memory of one argon2id computation with the current parameters (19 MiB),
/// allocated on first use and reused for every hash after. It is kept (freeing it would not
/// lower the resident size: glibc keeps freed blocks of this size in its arenas), so the
/// process holds at most one such block per hashing thread.
#[derive(Default)]
pub struct Memory(Vec<Block>);

impl Memory {
    fn blocks(&mut self) -> &mut [Block] {
        if self.0.is_empty() {
            self.0 = vec![Block::new(); M_COST as usize];
        }
        &mut self.0
    }
}

/// Hashes a password (blocking: call from a blocking context), with memory of its own.
pub fn hash_blocking(password: &Password) -> Result<String, AuthError> {
    hash_with(password, &mut Memory::default())
}

/// Hashes a password into `memory`: the PHC string argon2's own `hash_password` would give.
fn hash_with(password: &Password, memory: &mut Memory) -> Result<String, AuthError> {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt_b64 = SaltString::encode_b64(&salt).map_err(|e| AuthError::Hashing(e.to_string()))?;
    let mut out = [0u8; OUTPUT_LEN];
    argon2()
        .hash_password_into_with_memory(
            password.expose().as_bytes(),
            &salt,
            &mut out,
            memory.blocks(),
        )
        .map_err(|e| AuthError::Hashing(e.to_string()))?;
    let hash = Output::new(&out).map_err(|e| AuthError::Hashing(e.to_string()))?;
    Ok(format!(
        "$argon2id$v=19$m={M_COST},t={T_COST},p={P_COST}${}${hash}",
        salt_b64.as_str()
    ))
}

/// Verifies `password` against a stored PHC string; a malformed hash never matches.
pub fn verify_blocking(password: &str, stored: &str) -> Verified {
    verify_with(password, stored, &mut Memory::default())
}

/// Verifies into `memory` when the stored hash has the current parameters (always, but for
/// hashes made before a parameter change, which are checked by argon2 itself and upgraded).
fn verify_with(password: &str, stored: &str, memory: &mut Memory) -> Verified {
    let Ok(parsed) = PasswordHash::new(stored) else {
        return Verified::Mismatch;
    };
    // Stored hashes are of the NFKC form (see `Password`).
    let password = crate::domain::normalize_password(password);
    let current = is_current(&parsed);
    let matched = if current {
        matches_current(password.as_bytes(), &parsed, memory)
    } else {
        // The verifier takes algorithm and parameters from the stored hash itself.
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    };
    if !matched {
        return Verified::Mismatch;
    }
    let rehash = if current {
        None
    } else {
        Password::parse(password)
            .ok()
            .and_then(|p| hash_with(&p, memory).ok())
    };
    Verified::Match { rehash }
}

/// Recomputes a current-parameter hash in `memory` and compares in constant time.
fn matches_current(password: &[u8], parsed: &PasswordHash<'_>, memory: &mut Memory) -> bool {
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return false;
    };
    let mut salt_buf = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_buf) else {
        return false;
    };
    let mut out = vec![0u8; expected.len()];
    argon2()
        .hash_password_into_with_memory(password, salt, &mut out, memory.blocks())
        .is_ok()
        && bool::from(expected.as_bytes().ct_eq(&out))
}

fn is_current(hash: &PasswordHash<'_>) -> bool {
    hash.algorithm == Algorithm::Argon2id.ident()
        && hash.version == Some(Version::V0x13.into())
        && Params::try_from(hash)
            .map(|p| p.m_cost() == M_COST && p.t_cost() == T_COST && p.p_cost() == P_COST)
            .unwrap_or(false)
}

/// One hashing job, run on a hashing thread with that thread's memory.
type Job = Box<dyn FnOnce(&mut Memory) + Send>;

/// Runs hashing on a fixed set of threads, each with its own reused memory; jobs queue in
/// order when all are busy.
#[derive(Clone)]
pub struct PasswordHasher {
    jobs: mpsc::Sender<Job>,
    /// Verified against when a user has no password, so that the answer takes as long.
    dummy_hash: Arc<str>,
}

impl PasswordHasher {
    /// `threads` hashing threads (one per core is the useful most); they end when the last
    /// clone of the hasher is dropped.
    pub fn new(threads: usize) -> Result<Self, AuthError> {
        let dummy = Password::parse("irongate-timing-equaliser".to_owned())
            .map_err(|e| AuthError::Hashing(e.to_string()))?;
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for i in 0..threads.max(1) {
            let queue = queue.clone();
            std::thread::Builder::new()
                .name(format!("argon2-{i}"))
                .spawn(move || {
                    let mut memory = Memory::default();
                    loop {
                        let job = queue.lock().unwrap_or_else(|e| e.into_inner()).recv();
                        let Ok(job) = job else { break };
                        // A panicking job costs its caller an error, not the thread.
                        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                            job(&mut memory)
                        }));
                    }
                })
                .map_err(AuthError::unexpected)?;
        }
        Ok(Self {
            jobs,
            dummy_hash: hash_blocking(&dummy)?.into(),
        })
    }

    /// Runs `f` on a hashing thread.
    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Memory) -> T + Send + 'static,
    ) -> Result<T, AuthError> {
        let (done, answer) = tokio::sync::oneshot::channel();
        self.jobs
            .send(Box::new(move |memory| {
                let _ = done.send(f(memory));
            }))
            .map_err(AuthError::unexpected)?;
        answer.await.map_err(AuthError::unexpected)
    }

    pub async fn hash(&self, password: Password) -> Result<String, AuthError> {
        self.run(move |memory| hash_with(&password, memory)).await?
    }

    /// Verifies against `stored`, or against a dummy hash when there is none, in the same time.
    pub async fn verify(
        &self,
        password: String,
        stored: Option<String>,
    ) -> Result<Verified, AuthError> {
        let dummy = self.dummy_hash.clone();
        self.run(move |memory| match stored {
            Some(hash) => verify_with(&password, &hash, memory),
            None => {
                verify_with(&password, &dummy, memory);
                Verified::Mismatch
            }
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::password_hash::PasswordHasher as _;

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

    /// A hash made here verifies with argon2's own verifier, and the other way round.
    #[test]
    fn hashes_are_argon2s_own_phc_strings() {
        let hash = hash_blocking(&pw("correct horse battery")).unwrap();
        let parsed = PasswordHash::new(&hash).unwrap();
        assert!(
            Argon2::default()
                .verify_password(b"correct horse battery", &parsed)
                .is_ok()
        );
        let salt = SaltString::encode_b64(b"0123456789abcdef").unwrap();
        let theirs = argon2()
            .hash_password(b"correct horse battery", &salt)
            .unwrap()
            .to_string();
        let mut memory = Memory::default();
        assert_eq!(
            verify_with("correct horse battery", &theirs, &mut memory),
            Verified::Match { rehash: None }
        );
        assert_eq!(
            verify_with("correct horse batterY", &theirs, &mut memory),
            Verified::Mismatch
        );
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
