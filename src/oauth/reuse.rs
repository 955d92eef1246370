//! Notices clients that send the same PKCE `code_challenge` or `nonce` in many authorization
//! requests (RFC 9700 §2.1.1: authorization servers SHOULD detect constant values; a constant
//! challenge or nonce protects nothing). It only logs: a reloaded authorization request
//! legitimately repeats its values, and refusing would break such users.
//!
//! Per node and in process (a constant value reaches every node soon enough), bounded in
//! memory (a full map forgets values seen once, so a flood of fresh values does not hide a
//! repeated one), and kept apart from the sign-in rate limits so that it can never crowd them
//! out.

use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long values are remembered.
const WINDOW: Duration = Duration::from_secs(600);
/// How many distinct values are remembered at most (then the memory starts over).
const CAPACITY: usize = 50_000;
/// Uses of one value within `WINDOW` that earn the first warning; later warnings come at
/// powers of two, so a misbehaving client cannot flood the log.
const FIRST_WARNING: u32 = 3;

/// What a repeated value was.
#[derive(Debug, Clone, Copy)]
pub enum Repeated {
    CodeChallenge,
    Nonce,
}

impl Repeated {
    fn name(self) -> &'static str {
        match self {
            Repeated::CodeChallenge => "code_challenge",
            Repeated::Nonce => "nonce",
        }
    }
}

#[derive(Default)]
pub struct ReuseWatch {
    seen: Mutex<Seen>,
}

struct Seen {
    counts: HashMap<[u8; 32], u32>,
    since: Instant,
}

impl Default for Seen {
    fn default() -> Self {
        Self {
            counts: HashMap::new(),
            since: Instant::now(),
        }
    }
}

impl ReuseWatch {
    /// Counts one authorization request of `client_id` carrying `value`; logs a warning when
    /// the same value keeps coming back.
    pub fn observe(&self, client_id: &str, what: Repeated, value: &str) {
        let uses = self.count(client_id, what, value);
        if uses >= FIRST_WARNING && (uses == FIRST_WARNING || uses.is_power_of_two()) {
            tracing::warn!(
                client_id,
                parameter = what.name(),
                uses,
                "the same {} came in {uses} authorization requests of this client within \
                 {} minutes: a constant value protects nothing (RFC 9700 §2.1.1)",
                what.name(),
                WINDOW.as_secs() / 60,
            );
        }
    }

    /// Uses of this value so far, this one included.
    fn count(&self, client_id: &str, what: Repeated, value: &str) -> u32 {
        let mut hasher = Sha256::new();
        for part in [client_id, what.name(), value] {
            hasher.update((part.len() as u64).to_be_bytes());
            hasher.update(part.as_bytes());
        }
        let key: [u8; 32] = hasher.finalize().into();
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        if seen.since.elapsed() >= WINDOW {
            *seen = Seen::default();
        }
        if seen.counts.len() >= CAPACITY && !seen.counts.contains_key(&key) {
            // Full: forget the values seen once (a flood of fresh values cannot wipe out the
            // count of a repeated one), or everything if nothing repeats.
            seen.counts.retain(|_, uses| *uses > 1);
            if seen.counts.len() >= CAPACITY / 2 {
                seen.counts.clear();
            }
        }
        let uses = seen.counts.entry(key).or_insert(0);
        *uses = uses.saturating_add(1);
        *uses
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_per_client_parameter_and_value() {
        let watch = ReuseWatch::default();
        assert_eq!(watch.count("a", Repeated::Nonce, "n"), 1);
        assert_eq!(watch.count("a", Repeated::Nonce, "n"), 2);
        assert_eq!(watch.count("b", Repeated::Nonce, "n"), 1);
        assert_eq!(watch.count("a", Repeated::CodeChallenge, "n"), 1);
        // Length-prefixed parts: moving a boundary makes another key.
        assert_eq!(watch.count("an", Repeated::Nonce, ""), 1);
    }

    #[test]
    fn memory_is_bounded_and_a_flood_keeps_repeated_values() {
        let watch = ReuseWatch::default();
        watch.count("victim", Repeated::CodeChallenge, "constant");
        watch.count("victim", Repeated::CodeChallenge, "constant");
        for i in 0..CAPACITY + 10 {
            watch.count("flooder", Repeated::Nonce, &i.to_string());
        }
        assert!(watch.seen.lock().unwrap().counts.len() <= CAPACITY);
        assert_eq!(
            watch.count("victim", Repeated::CodeChallenge, "constant"),
            3
        );
    }
}
