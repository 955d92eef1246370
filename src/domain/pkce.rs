//! PKCE (RFC 7636) with the S256 method, the only one irongate accepts.

use base64::Engine;
use sha2::Digest;

/// RFC 7636 §4.1 and §4.6: a 43–128 character verifier of unreserved characters whose
/// base64url SHA-256 equals the challenge (compared in constant time).
pub fn s256_matches(verifier: &str, challenge: &str) -> bool {
    let well_formed = (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'));
    if !well_formed {
        return false;
    }
    let computed = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(sha2::Sha256::digest(verifier.as_bytes()));
    subtle::ConstantTimeEq::ct_eq(computed.as_bytes(), challenge.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::s256_matches;

    #[test]
    fn pkce_s256_per_rfc_7636_appendix_b() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(s256_matches(verifier, challenge));
        assert!(!s256_matches(
            verifier,
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cN"
        ));
        assert!(!s256_matches("short", challenge));
        assert!(!s256_matches(&format!("{verifier} "), challenge));
    }
}
