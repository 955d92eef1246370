//! The keys directory: one PKCS#1 PEM file per key, named `<created-ms>-<kid>.pem`, written 0600.
//! The newest key signs. An exclusive lock on `.lock` serialises generation, rotation and
//! pruning across processes, so nodes starting at once on an empty directory agree (REL-09).

use super::KeyError;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rsa::pkcs1::{DecodeRsaPrivateKey, EncodeRsaPrivateKey, LineEnding};
use rsa::pkcs8::DecodePrivateKey;
use rsa::traits::PublicKeyParts;
use sha2::{Digest, Sha256};
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::Path;

pub const KEY_BITS: usize = 2048;

/// A key file's name, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyFile {
    pub file_name: String,
    pub created_ms: i64,
}

/// A key read from disk.
pub struct KeyMaterial {
    pub kid: String,
    pub pkcs1_der: Vec<u8>,
    pub n: Vec<u8>,
    pub e: Vec<u8>,
}

/// Creates the directory (0700) when missing and checks that it can be read.
pub fn ensure_dir(dir: &Path) -> Result<(), KeyError> {
    let dir_err = |e: std::io::Error| KeyError::Dir(dir.to_owned(), e);
    if !dir.exists() {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(dir_err)?;
    }
    fs::read_dir(dir).map_err(dir_err)?;
    Ok(())
}

/// Takes the directory's exclusive lock; released when the returned file is dropped.
pub fn lock(dir: &Path) -> Result<File, KeyError> {
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .open(dir.join(".lock"))
        .map_err(|e| KeyError::Dir(dir.to_owned(), e))?;
    file.lock().map_err(|e| KeyError::Dir(dir.to_owned(), e))?;
    Ok(file)
}

/// The key files in the directory, newest first.
pub fn list(dir: &Path) -> Result<Vec<KeyFile>, KeyError> {
    let mut files: Vec<KeyFile> = fs::read_dir(dir)
        .map_err(|e| KeyError::Dir(dir.to_owned(), e))?
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter_map(|name| parse_name(&name))
        .collect();
    files.sort_by(|a, b| {
        b.created_ms
            .cmp(&a.created_ms)
            .then(b.file_name.cmp(&a.file_name))
    });
    Ok(files)
}

fn parse_name(name: &str) -> Option<KeyFile> {
    let stem = name.strip_suffix(".pem")?;
    let (ms, kid) = stem.split_once('-')?;
    if kid.is_empty() || !ms.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(KeyFile {
        file_name: name.to_owned(),
        created_ms: ms.parse().ok()?,
    })
}

/// Generates a new RSA key newer than `newest` and writes it atomically; returns its kid.
pub fn generate(dir: &Path, newest: Option<&KeyFile>) -> Result<String, KeyError> {
    let key = rsa::PrivateKey::new(&mut rand::rng(), KEY_BITS)
        .map_err(|e| KeyError::Generate(e.to_string()))?;
    let pem = key
        .to_pkcs1_pem(LineEnding::LF)
        .map_err(|e| KeyError::Generate(e.to_string()))?;
    let kid = thumbprint(&key.n_bytes(), &key.e_bytes());
    let now = chrono::Utc::now().timestamp_millis();
    let created_ms = newest.map_or(now, |n| now.max(n.created_ms + 1));
    let name = format!("{created_ms:013}-{kid}.pem");
    let tmp = dir.join(format!(".{name}.tmp"));
    let write = || -> std::io::Result<()> {
        let mut f = OpenOptions::new()
            .create_new(true)
            .write(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(pem.as_bytes())?;
        f.sync_all()?;
        fs::rename(&tmp, dir.join(&name))?;
        File::open(dir)?.sync_all()
    };
    write().map_err(|e| {
        let _ = fs::remove_file(&tmp);
        KeyError::Dir(dir.to_owned(), e)
    })?;
    Ok(kid)
}

/// The file holding the secret that signs device cookies (shared by the nodes sharing this
/// directory, like the signing keys).
const COOKIE_SECRET: &str = "cookie-secret";

/// Reads the cookie-signing secret, creating it (32 random bytes, 0600, written atomically) the
/// first time; call with the directory's lock held.
pub fn cookie_secret(dir: &Path) -> Result<Vec<u8>, KeyError> {
    let path = dir.join(COOKIE_SECRET);
    let dir_err = |e: std::io::Error| KeyError::Dir(dir.to_owned(), e);
    match fs::read(&path) {
        Ok(secret) if secret.len() >= 32 => return Ok(secret),
        Ok(_) => {
            return Err(KeyError::BadKey(
                path,
                "shorter than 32 bytes; delete it to have a new one made".into(),
            ));
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(dir_err(e)),
    }
    let mut secret = vec![0u8; 32];
    rand::Rng::fill_bytes(&mut rand::rng(), &mut secret);
    let tmp = dir.join(format!(".{COOKIE_SECRET}.tmp"));
    let write = || -> std::io::Result<()> {
        let _ = fs::remove_file(&tmp);
        let mut f = OpenOptions::new()
            .create_new(true)
            .write(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(&secret)?;
        f.sync_all()?;
        fs::rename(&tmp, &path)?;
        File::open(dir)?.sync_all()
    };
    write().map_err(|e| {
        let _ = fs::remove_file(&tmp);
        dir_err(e)
    })?;
    Ok(secret)
}

/// Reads and checks one key file (PKCS#1 or PKCS#8 PEM, RSA of at least 2048 bits).
pub fn read(dir: &Path, file: &KeyFile) -> Result<KeyMaterial, KeyError> {
    let path = dir.join(&file.file_name);
    let bad = |why: String| KeyError::BadKey(path.clone(), why);
    let pem = fs::read_to_string(&path).map_err(|e| bad(e.to_string()))?;
    let key = rsa::PrivateKey::from_pkcs1_pem(&pem)
        .or_else(|_| rsa::PrivateKey::from_pkcs8_pem(&pem))
        .map_err(|_| bad("not an RSA private key in PEM".into()))?;
    if key.n().bit_width() < KEY_BITS as u32 {
        return Err(bad(format!("RSA keys must have at least {KEY_BITS} bits")));
    }
    let der = key.to_pkcs1_der().map_err(|e| bad(e.to_string()))?;
    let (n, e) = (key.n_bytes().to_vec(), key.e_bytes().to_vec());
    Ok(KeyMaterial {
        kid: thumbprint(&n, &e),
        pkcs1_der: der.as_bytes().to_vec(),
        n,
        e,
    })
}

/// Deletes the files of keys that no token still alive can have been signed with.
pub fn prune(dir: &Path, files: &[KeyFile], now_ms: i64, retention_ms: i64) -> Vec<KeyFile> {
    let (keep, expired) = split_expired(files, now_ms, retention_ms);
    for file in expired {
        if let Err(e) = fs::remove_file(dir.join(&file.file_name)) {
            tracing::warn!(file = %file.file_name, error = %e, "could not remove an expired signing key");
        }
    }
    keep
}

/// Splits newest-first `files` into those still published and those expired: a key expires
/// `retention_ms` after its successor started signing. The newest key never expires.
pub fn split_expired(
    files: &[KeyFile],
    now_ms: i64,
    retention_ms: i64,
) -> (Vec<KeyFile>, Vec<KeyFile>) {
    let mut keep = Vec::new();
    let mut expired = Vec::new();
    for (i, file) in files.iter().enumerate() {
        match i.checked_sub(1).map(|j| &files[j]) {
            Some(successor) if now_ms > successor.created_ms + retention_ms => {
                expired.push(file.clone())
            }
            _ => keep.push(file.clone()),
        }
    }
    (keep, expired)
}

/// RFC 7638 JWK thumbprint (SHA-256) of an RSA public key, base64url.
pub fn thumbprint(n: &[u8], e: &[u8]) -> String {
    let canonical = format!(
        r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#,
        URL_SAFE_NO_PAD.encode(e),
        URL_SAFE_NO_PAD.encode(n)
    );
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(ms: i64) -> KeyFile {
        KeyFile {
            file_name: format!("{ms:013}-k.pem"),
            created_ms: ms,
        }
    }

    #[test]
    fn parses_only_key_file_names() {
        assert_eq!(
            parse_name("0000000001000-abc_-x.pem"),
            Some(KeyFile {
                file_name: "0000000001000-abc_-x.pem".into(),
                created_ms: 1000
            })
        );
        for other in [
            ".lock",
            "x.pem",
            "-abc.pem",
            "12-.pem",
            ".0001-a.pem.tmp",
            "12-abc.txt",
        ] {
            assert_eq!(parse_name(other), None, "{other}");
        }
    }

    #[test]
    fn a_key_expires_retention_after_its_successor_started() {
        let files = [f(5000), f(3000), f(1000)];
        let (keep, gone) = split_expired(&files, 4600, 1500);
        assert_eq!(keep, [f(5000), f(3000)]);
        assert_eq!(gone, [f(1000)]);
        let (keep, _) = split_expired(&files, 100_000, 1500);
        assert_eq!(keep, [f(5000)], "the newest key is always kept");
    }
}
