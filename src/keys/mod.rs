//! Signing keys: generated on first start, rotated by `irongate keys rotate`, published as JWKS
//! for as long as a token they signed can live, picked up by running servers by polling.

mod files;
pub mod provider;

use bytes::Bytes;
use files::KeyFile;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, TokenData, Validation};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

pub use files::thumbprint;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("configuration key `keys_dir`: cannot create or read {}: {}", .0.display(), .1)]
    Dir(PathBuf, #[source] std::io::Error),
    #[error("signing key {}: {}", .0.display(), .1)]
    BadKey(PathBuf, String),
    #[error("cannot generate a signing key: {0}")]
    Generate(String),
    #[error("cannot sign: {0}")]
    Sign(String),
}

/// Why a presented JWT was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("malformed token")]
    Malformed,
    #[error("algorithm not allowed")]
    Algorithm,
    #[error("no published key has this kid")]
    UnknownKey,
    #[error("invalid token: {0}")]
    Invalid(jsonwebtoken::errors::Error),
}

/// One loaded key, its parsed forms cached.
pub struct SigningKey {
    pub kid: String,
    pub created_ms: i64,
    file_name: String,
    encoding: EncodingKey,
    decoding: DecodingKey,
    jwk: serde_json::Value,
    /// The encoded JWS headers of the `typ`s irongate signs with, made once per key.
    headers: Vec<(&'static str, String)>,
}

/// The `typ`s of the tokens irongate signs: access tokens (RFC 9068) and ID tokens.
const SIGNED_TYPS: [&str; 2] = [irongate_verify::claims::ACCESS_TOKEN_TYP, "JWT"];

/// The first segment of a JWS signed by `kid` (RFC 7515 §7.1): the base64url of the JOSE header
/// `{"typ", "alg": "RS256", "kid"}`, serialized by jsonwebtoken as its `encode` does.
fn header_segment(kid: &str, typ: &str) -> Result<String, KeyError> {
    use base64::Engine;
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(kid.to_owned());
    header.typ = Some(typ.to_owned());
    let json = serde_json::to_vec(&header).map_err(|e| KeyError::Sign(e.to_string()))?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json))
}

impl SigningKey {
    fn header(&self, typ: &str) -> Result<std::borrow::Cow<'_, str>, KeyError> {
        match self.headers.iter().find(|(known, _)| *known == typ) {
            Some((_, segment)) => Ok(segment.as_str().into()),
            None => header_segment(&self.kid, typ).map(Into::into),
        }
    }
}

/// The keys published at one moment, newest (the signing key) first, and their JWKS.
struct KeySet {
    keys: Vec<Arc<SigningKey>>,
    jwks: Bytes,
}

/// A key as `irongate keys list` shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct KeyInfo {
    pub kid: String,
    pub active: bool,
    pub created_at: String,
}

pub struct KeyStore {
    dir: PathBuf,
    retention_ms: i64,
    current: RwLock<Arc<KeySet>>,
    last_forced_reload: Mutex<Option<Instant>>,
    /// Signs device cookies (`cookie-secret` in the directory).
    cookie_secret: Vec<u8>,
}

/// How long a retired key stays published: the longest token lifetime, plus a grace period for
/// clock skew between nodes (at most a minute).
fn retention_ms(max_token_lifetime: u64) -> i64 {
    let secs = max_token_lifetime + max_token_lifetime.min(60);
    i64::try_from(secs).unwrap_or(i64::MAX / 1000) * 1000
}

impl KeyStore {
    /// Opens the directory, generating the first key when there is none (blocking).
    pub fn open(dir: &Path, max_token_lifetime: u64) -> Result<Self, KeyError> {
        provider::install();
        files::ensure_dir(dir)?;
        let retention_ms = retention_ms(max_token_lifetime);
        let _lock = files::lock(dir)?;
        let existing = files::list(dir)?;
        let list = if existing.is_empty() {
            let kid = files::generate(dir, None)?;
            tracing::info!(%kid, dir = %dir.display(), "generated the first signing key");
            files::list(dir)?
        } else {
            files::prune(dir, &existing, now_ms(), retention_ms)
        };
        let set = load(dir, &list, &[])?;
        let cookie_secret = files::cookie_secret(dir)?;
        Ok(Self {
            dir: dir.to_owned(),
            cookie_secret,
            retention_ms,
            current: RwLock::new(Arc::new(set)),
            last_forced_reload: Mutex::new(None),
        })
    }

    /// The secret that signs device cookies, the same on every node sharing the directory.
    pub fn cookie_secret(&self) -> &[u8] {
        &self.cookie_secret
    }

    /// Makes a new signing key; older keys stay published until their tokens expire (blocking).
    pub fn rotate(dir: &Path, max_token_lifetime: u64) -> Result<String, KeyError> {
        files::ensure_dir(dir)?;
        let _lock = files::lock(dir)?;
        let existing = files::list(dir)?;
        let kid = files::generate(dir, existing.first())?;
        let list = files::list(dir)?;
        files::prune(dir, &list, now_ms(), retention_ms(max_token_lifetime));
        Ok(kid)
    }

    /// The keys in the directory, newest (active) first (blocking).
    pub fn list(dir: &Path) -> Result<Vec<KeyInfo>, KeyError> {
        files::ensure_dir(dir)?;
        let list = files::list(dir)?;
        list.iter()
            .enumerate()
            .map(|(i, file)| {
                let material = files::read(dir, file)?;
                let created =
                    chrono::DateTime::from_timestamp_millis(file.created_ms).unwrap_or_default();
                Ok(KeyInfo {
                    kid: material.kid,
                    active: i == 0,
                    created_at: created.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                })
            })
            .collect()
    }

    fn snapshot(&self) -> Arc<KeySet> {
        match self.current.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// The JWKS document (RFC 7517), serialised once per key change.
    pub fn jwks(&self) -> Bytes {
        self.snapshot().jwks.clone()
    }

    /// The kid of the key that signs now.
    pub fn active_kid(&self) -> String {
        self.snapshot().keys[0].kid.clone()
    }

    /// Signs `claims` as an RS256 JWT with the active key, `kid` and `typ` in the header.
    ///
    /// The same bytes as `jsonwebtoken::encode`, and signed through the same crypto provider,
    /// but assembled in one buffer with the header encoded once per key: `encode` serializes and
    /// encodes the constant header for every token, and joins the segments in two new strings.
    pub fn sign<T: Serialize>(&self, typ: &str, claims: &T) -> Result<String, KeyError> {
        use base64::Engine;
        let set = self.snapshot();
        let key = &set.keys[0];
        let header = key.header(typ)?;
        let claims = serde_json::to_vec(claims).map_err(|e| KeyError::Sign(e.to_string()))?;
        // header . claims . signature (256 bytes, 342 characters)
        let mut token = String::with_capacity(header.len() + claims.len().div_ceil(3) * 4 + 344);
        token.push_str(&header);
        token.push('.');
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode_string(&claims, &mut token);
        let signature =
            jsonwebtoken::crypto::sign(token.as_bytes(), &key.encoding, Algorithm::RS256)
                .map_err(|e| KeyError::Sign(e.to_string()))?;
        token.push('.');
        token.push_str(&signature);
        Ok(token)
    }

    /// Verifies an RS256 JWT against the published key its `kid` names; `validation` sets the
    /// claim checks. Any other algorithm, a missing or unknown kid, fails (RFC 8725 §3.1).
    pub fn verify<T: DeserializeOwned>(
        &self,
        token: &str,
        validation: &Validation,
    ) -> Result<TokenData<T>, VerifyError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| VerifyError::Malformed)?;
        if header.alg != Algorithm::RS256
            || !validation.algorithms.iter().all(|a| *a == Algorithm::RS256)
        {
            return Err(VerifyError::Algorithm);
        }
        let kid = header.kid.ok_or(VerifyError::UnknownKey)?;
        let key = match self.find(&kid) {
            Some(key) => key,
            // Another node may have rotated moments ago: look once more, at most once a second.
            None => self
                .reload_throttled()
                .then(|| self.find(&kid))
                .flatten()
                .ok_or(VerifyError::UnknownKey)?,
        };
        jsonwebtoken::decode(token, &key.decoding, validation).map_err(VerifyError::Invalid)
    }

    fn find(&self, kid: &str) -> Option<Arc<SigningKey>> {
        self.snapshot().keys.iter().find(|k| k.kid == kid).cloned()
    }

    fn reload_throttled(&self) -> bool {
        let Ok(mut last) = self.last_forced_reload.lock() else {
            return false;
        };
        if last.is_some_and(|t| t.elapsed() < Duration::from_secs(1)) {
            return false;
        }
        *last = Some(Instant::now());
        drop(last);
        self.reload().unwrap_or(false)
    }

    /// Re-reads the directory; swaps in the new key set when it changed (blocking).
    /// Returns whether anything changed.
    pub fn reload(&self) -> Result<bool, KeyError> {
        let current = self.snapshot();
        let listed = files::list(&self.dir)?;
        let (mut keep, expired) = files::split_expired(&listed, now_ms(), self.retention_ms);
        if !expired.is_empty() {
            // Prune on disk when no other process holds the lock; try again next poll otherwise.
            if let Ok(_lock) = files::lock(&self.dir) {
                let fresh = files::list(&self.dir)?;
                keep = files::prune(&self.dir, &fresh, now_ms(), self.retention_ms);
            }
        }
        let unchanged = keep.len() == current.keys.len()
            && keep
                .iter()
                .zip(&current.keys)
                .all(|(f, k)| f.file_name == k.file_name);
        if unchanged || keep.is_empty() {
            return Ok(false);
        }
        let set = load(&self.dir, &keep, &current.keys)?;
        let kids: Vec<&str> = set.keys.iter().map(|k| k.kid.as_str()).collect();
        tracing::info!(active = kids[0], published = ?kids, "signing keys changed");
        match self.current.write() {
            Ok(mut guard) => *guard = Arc::new(set),
            Err(poisoned) => *poisoned.into_inner() = Arc::new(set),
        }
        Ok(true)
    }
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Loads `list` (newest first), reusing keys already parsed in `previous`.
fn load(dir: &Path, list: &[KeyFile], previous: &[Arc<SigningKey>]) -> Result<KeySet, KeyError> {
    let mut keys = Vec::with_capacity(list.len());
    for file in list {
        if let Some(known) = previous.iter().find(|k| k.file_name == file.file_name) {
            keys.push(known.clone());
            continue;
        }
        let m = files::read(dir, file)?;
        provider::preload(&m.pkcs1_der)
            .map_err(|e| KeyError::BadKey(dir.join(&file.file_name), e.to_string()))?;
        let jwk = public_jwk(&m.kid, &m.n, &m.e);
        let headers = SIGNED_TYPS
            .iter()
            .map(|typ| Ok((*typ, header_segment(&m.kid, typ)?)))
            .collect::<Result<_, KeyError>>()?;
        keys.push(Arc::new(SigningKey {
            headers,
            decoding: DecodingKey::from_rsa_raw_components(&m.n, &m.e),
            encoding: EncodingKey::from_rsa_der(&m.pkcs1_der),
            kid: m.kid,
            created_ms: file.created_ms,
            file_name: file.file_name.clone(),
            jwk,
        }));
    }
    if keys.is_empty() {
        return Err(KeyError::BadKey(dir.to_owned(), "no signing key".into()));
    }
    let jwks = serde_json::to_vec(
        &serde_json::json!({ "keys": keys.iter().map(|k| &k.jwk).collect::<Vec<_>>() }),
    )
    .map_err(|e| KeyError::Sign(e.to_string()))?;
    Ok(KeySet {
        keys,
        jwks: Bytes::from(jwks),
    })
}

/// The public JWK (RFC 7517 §4, RFC 7518 §6.3.1): public members only.
fn public_jwk(kid: &str, n: &[u8], e: &[u8]) -> serde_json::Value {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    serde_json::json!({
        "kty": "RSA",
        "use": "sig",
        "alg": "RS256",
        "kid": kid,
        "n": b64.encode(n),
        "e": b64.encode(e),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The token `sign` assembles is byte for byte the one `jsonwebtoken::encode` makes (RSA
    /// PKCS#1 v1.5 signatures are deterministic), for the cached `typ`s and any other.
    #[test]
    fn tokens_are_the_ones_jsonwebtoken_encodes() {
        provider::install();
        let dir = tempfile::tempdir().unwrap();
        let keys = KeyStore::open(dir.path(), 3600).unwrap();
        let claims = serde_json::json!({"sub": "alice", "note": "quote \" and é", "exp": 1});
        for typ in ["at+jwt", "JWT", "logout+jwt"] {
            let set = keys.snapshot();
            let key = &set.keys[0];
            let mut header = Header::new(Algorithm::RS256);
            header.kid = Some(key.kid.clone());
            header.typ = Some(typ.to_owned());
            let expected = jsonwebtoken::encode(&header, &claims, &key.encoding).unwrap();
            assert_eq!(keys.sign(typ, &claims).unwrap(), expected, "{typ}");
        }
    }
}
