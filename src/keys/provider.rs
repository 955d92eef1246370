//! jsonwebtoken's aws-lc-rs crypto provider, with RS256 signing keys parsed once and cached:
//! the stock provider re-parses (and re-validates) the private key on every signature.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use jsonwebtoken::crypto::{CryptoProvider, JwtSigner, aws_lc};
use jsonwebtoken::errors::{ErrorKind, Result};
use jsonwebtoken::signature::{self, Signer};
use jsonwebtoken::{Algorithm, EncodingKey};
use std::sync::{Arc, LazyLock, RwLock};

/// Parsed key pairs with their PKCS#1 DER. Only irongate's own few signing keys go in, so a
/// scan that compares bytes beats hashing the whole DER on every signature.
static PARSED: LazyLock<RwLock<Vec<Parsed>>> = LazyLock::new(Default::default);

/// A signing key's DER and its parsed form.
type Parsed = (Vec<u8>, Arc<RsaKeyPair>);
const MAX_CACHED: usize = 32;

static PROVIDER: LazyLock<CryptoProvider> = LazyLock::new(|| CryptoProvider {
    signer_factory: new_signer,
    verifier_factory: aws_lc::DEFAULT_PROVIDER.verifier_factory,
    key_utils: aws_lc::DEFAULT_PROVIDER.key_utils.clone(),
});

/// Installs the provider for this process (idempotent).
pub fn install() {
    let _ = PROVIDER.install_default();
}

/// Parses a PKCS#1 DER private key once, so the first signature does not pay for it.
pub fn preload(der: &[u8]) -> Result<()> {
    parsed(der).map(|_| ())
}

fn parsed(der: &[u8]) -> Result<Arc<RsaKeyPair>> {
    let known = PARSED.read().ok().and_then(|keys| {
        keys.iter()
            .find(|(known, _)| known.as_slice() == der)
            .map(|(_, pair)| pair.clone())
    });
    if let Some(pair) = known {
        return Ok(pair);
    }
    let pair = Arc::new(
        RsaKeyPair::from_der(der)
            .map_err(|_| ErrorKind::InvalidRsaKey("rejected by aws-lc".into()))?,
    );
    if let Ok(mut keys) = PARSED.write() {
        if keys.len() >= MAX_CACHED {
            keys.clear();
        }
        keys.push((der.to_vec(), pair.clone()));
    }
    Ok(pair)
}

fn new_signer(alg: &Algorithm, key: &EncodingKey) -> Result<Box<dyn JwtSigner>> {
    match alg {
        Algorithm::RS256 => Ok(Box::new(Rs256Signer(parsed(key.as_bytes())?))),
        other => (aws_lc::DEFAULT_PROVIDER.signer_factory)(other, key),
    }
}

struct Rs256Signer(Arc<RsaKeyPair>);

impl Signer<Vec<u8>> for Rs256Signer {
    fn try_sign(&self, msg: &[u8]) -> std::result::Result<Vec<u8>, signature::Error> {
        let mut out = vec![0; self.0.public_modulus_len()];
        let started = crate::metrics::enabled().then(std::time::Instant::now);
        self.0
            .sign(&RSA_PKCS1_SHA256, &SystemRandom::new(), msg, &mut out)
            .map_err(signature::Error::from_source)?;
        if let Some(started) = started {
            crate::metrics::signature(started.elapsed());
        }
        Ok(out)
    }
}

impl JwtSigner for Rs256Signer {
    fn algorithm(&self) -> Algorithm {
        Algorithm::RS256
    }
}
