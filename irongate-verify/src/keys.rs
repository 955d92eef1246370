//! The issuer's signing keys, fetched from its `jwks_uri` and kept parsed: for as long as the
//! answer's `Cache-Control: max-age` says (at least 60 s, at most 1 h); again at once when a
//! token names an unknown `kid`, at most once per 30 s (a flood of made-up kids costs one
//! fetch); the keys held stay in use when a fetch fails; none at all until a first fetch
//! succeeds (every token is then refused).

use aws_lc_rs::signature::{ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::{AlgorithmParameters, JwkSet};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

const MIN_AGE: Duration = Duration::from_secs(60);
const MAX_AGE: Duration = Duration::from_secs(3600);
/// When the answer says nothing about caching.
const DEFAULT_AGE: Duration = Duration::from_secs(300);
/// An unknown `kid` makes the keys be fetched again at most this often.
pub const UNKNOWN_KID_REFETCH: Duration = Duration::from_secs(30);

/// Keys by `kid`, parsed once.
struct Loaded {
    keys: HashMap<String, Arc<ParsedPublicKey>>,
    fresh_until: Instant,
}

/// Why no key was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyError {
    /// The issuer does not publish this `kid` (after looking again, when allowed).
    Unknown,
    /// No key was ever loaded: nothing can be verified yet.
    NeverLoaded(String),
}

pub struct KeyCache {
    jwks_uri: String,
    http: reqwest::Client,
    loaded: RwLock<Option<Arc<Loaded>>>,
    /// One fetch at a time.
    fetching: tokio::sync::Mutex<()>,
    /// When a fetch was last made for an unknown kid.
    last_unknown: std::sync::Mutex<Option<Instant>>,
    /// How many fetches were made (for tests and metrics).
    fetches: std::sync::atomic::AtomicU64,
    /// When a fetch last failed with no keys held: requests are refused at once for a while.
    failed_cold: std::sync::Mutex<Option<(Instant, String)>>,
}

/// After a failed first fetch, requests are refused without fetching for this long.
const COLD_RETRY: Duration = Duration::from_secs(2);

impl KeyCache {
    pub fn new(jwks_uri: String, http: reqwest::Client) -> Self {
        Self {
            jwks_uri,
            http,
            loaded: RwLock::new(None),
            fetching: tokio::sync::Mutex::new(()),
            last_unknown: std::sync::Mutex::new(None),
            fetches: Default::default(),
            failed_cold: std::sync::Mutex::new(None),
        }
    }

    /// How many times the JWKS was fetched.
    pub fn fetches(&self) -> u64 {
        self.fetches.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn current(&self) -> Option<Arc<Loaded>> {
        self.loaded
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The key `kid` names.
    pub async fn key(&self, kid: &str) -> Result<Arc<ParsedPublicKey>, KeyError> {
        let mut just_fetched = false;
        let mut loaded = match self.current() {
            Some(l) if Instant::now() < l.fresh_until => l,
            // Stale: while another request fetches, the keys held serve.
            Some(stale) if self.fetching.try_lock().is_err() => stale,
            stale => {
                just_fetched = true;
                self.refresh(stale.as_ref()).await?
            }
        };
        if let Some(key) = loaded.keys.get(kid) {
            return Ok(key.clone());
        }
        if just_fetched {
            return Err(KeyError::Unknown);
        }
        // An unknown kid: the issuer may have rotated. Look again, at most once per 30 s.
        let due = {
            let mut last = self.last_unknown.lock().unwrap_or_else(|e| e.into_inner());
            let due = last.is_none_or(|t| t.elapsed() >= UNKNOWN_KID_REFETCH);
            if due {
                *last = Some(Instant::now());
            }
            due
        };
        if due {
            loaded = self.refresh(Some(&loaded)).await?;
        }
        loaded.keys.get(kid).cloned().ok_or(KeyError::Unknown)
    }

    /// Fetches the keys unless another caller just did; on failure keeps `seen` (if any).
    async fn refresh(&self, seen: Option<&Arc<Loaded>>) -> Result<Arc<Loaded>, KeyError> {
        if seen.is_none()
            && let Some((at, why)) = self
                .failed_cold
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone()
            && at.elapsed() < COLD_RETRY
        {
            return Err(KeyError::NeverLoaded(why));
        }
        let _one = self.fetching.lock().await;
        if let Some(now) = self.current()
            && seen.is_none_or(|s| !Arc::ptr_eq(s, &now))
        {
            return Ok(now);
        }
        match self.fetch().await {
            Ok(loaded) => {
                let loaded = Arc::new(loaded);
                *self.loaded.write().unwrap_or_else(|e| e.into_inner()) = Some(loaded.clone());
                Ok(loaded)
            }
            Err(e) => match seen {
                Some(old) => {
                    tracing::warn!(error = %e, "fetching the issuer's keys failed; keeping the ones held");
                    // Try again in a minute, not on every request.
                    let kept = Arc::new(Loaded {
                        keys: old.keys.clone(),
                        fresh_until: Instant::now() + MIN_AGE,
                    });
                    *self.loaded.write().unwrap_or_else(|e| e.into_inner()) = Some(kept.clone());
                    Ok(kept)
                }
                None => {
                    *self.failed_cold.lock().unwrap_or_else(|e| e.into_inner()) =
                        Some((Instant::now(), e.clone()));
                    Err(KeyError::NeverLoaded(e))
                }
            },
        }
    }

    async fn fetch(&self) -> Result<Loaded, String> {
        self.fetches
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let resp = self
            .http
            .get(&self.jwks_uri)
            .send()
            .await
            .map_err(|e| format!("GET {}: {e}", self.jwks_uri))?;
        if !resp.status().is_success() {
            return Err(format!("GET {}: {}", self.jwks_uri, resp.status()));
        }
        let cache_control = resp
            .headers()
            .get(reqwest::header::CACHE_CONTROL)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        let age = if cache_control.contains("no-store") || cache_control.contains("no-cache") {
            MIN_AGE
        } else {
            max_age(&cache_control).unwrap_or(DEFAULT_AGE)
        }
        .clamp(MIN_AGE, MAX_AGE);
        let set: JwkSet = resp.json().await.map_err(|e| format!("the JWKS: {e}"))?;
        let mut keys = HashMap::new();
        for jwk in &set.keys {
            let (Some(kid), AlgorithmParameters::RSA(rsa)) = (&jwk.common.key_id, &jwk.algorithm)
            else {
                continue;
            };
            if let Some(key) = parsed_rsa(&rsa.n, &rsa.e) {
                keys.insert(kid.clone(), Arc::new(key));
            }
        }
        Ok(Loaded {
            keys,
            fresh_until: Instant::now() + age,
        })
    }
}

/// An RS256 verification key from a JWK's `n` and `e` (base64url), parsed once: its DER
/// `RSAPublicKey` (RFC 8017 A.1.1) handed to aws-lc, which keeps it ready for every signature.
fn parsed_rsa(n: &str, e: &str) -> Option<ParsedPublicKey> {
    let (n, e) = (
        URL_SAFE_NO_PAD.decode(n).ok()?,
        URL_SAFE_NO_PAD.decode(e).ok()?,
    );
    let mut body = der_integer(&n);
    body.extend(der_integer(&e));
    let der = der_tagged(0x30, &body);
    ParsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, der).ok()
}

/// A DER INTEGER of an unsigned big-endian number.
fn der_integer(bytes: &[u8]) -> Vec<u8> {
    let first = bytes
        .iter()
        .position(|b| *b != 0)
        .unwrap_or(bytes.len().saturating_sub(1));
    let digits = &bytes[first.min(bytes.len())..];
    let mut value = Vec::with_capacity(digits.len() + 1);
    if digits.first().is_none_or(|b| b & 0x80 != 0) {
        value.push(0);
    }
    value.extend_from_slice(digits);
    der_tagged(0x02, &value)
}

fn der_tagged(tag: u8, value: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = value.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len
            .to_be_bytes()
            .into_iter()
            .skip_while(|b| *b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(value);
    out
}

/// The `max-age` of a `Cache-Control` value.
fn max_age(value: &str) -> Option<Duration> {
    value.split(',').find_map(|part| {
        let (name, secs) = part.trim().split_once('=')?;
        name.eq_ignore_ascii_case("max-age")
            .then(|| secs.trim().parse().ok().map(Duration::from_secs))?
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_age_is_read_from_cache_control() {
        assert_eq!(
            max_age("public, max-age=300"),
            Some(Duration::from_secs(300))
        );
        assert_eq!(max_age("Max-Age=5"), Some(Duration::from_secs(5)));
        assert_eq!(max_age("no-store"), None);
        assert_eq!(max_age("max-age=soon"), None);
    }
}
