//! The API key format (CONTRACT "API keys"): `igk_`, 30 random characters of `[0-9A-Za-z]`, and
//! the CRC32 (IEEE, as zlib computes it) of those 30 characters in base62 (`0-9A-Za-z`, most
//! significant digit first, left-padded with `0` to 6 characters). Secret scanners find keys
//! with `\bigk_[0-9A-Za-z]{36}\b` and check the checksum offline; irongate refuses a key whose
//! checksum fails before it looks anything up.

use rand::RngExt;

/// What every key starts with.
pub const PREFIX: &str = "igk_";
const RANDOM_LEN: usize = 30;
const CHECKSUM_LEN: usize = 6;
/// The length of a whole key.
pub const KEY_LEN: usize = PREFIX.len() + RANDOM_LEN + CHECKSUM_LEN;
const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// A key whose format and checksum are right (it may still name no key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    /// A new random key: 30 characters drawn uniformly from the 62 (about 178 bits).
    pub fn generate() -> Self {
        let mut rng = rand::rng();
        let random: String = (0..RANDOM_LEN)
            .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
            .collect();
        let checksum = checksum(&random);
        Self(format!("{PREFIX}{random}{checksum}"))
    }

    /// The presented text as a key, when its format and checksum are right. Costs no lookup:
    /// anything else is refused here.
    pub fn parse(presented: &str) -> Option<Self> {
        let body = presented.strip_prefix(PREFIX)?;
        if body.len() != RANDOM_LEN + CHECKSUM_LEN
            || !body.bytes().all(|b| b.is_ascii_alphanumeric())
        {
            return None;
        }
        let (random, check) = body.split_at(RANDOM_LEN);
        (checksum(random) == check).then(|| Self(presented.to_owned()))
    }

    /// Whether the text looks like an API key at all (the prefix): such a credential is judged
    /// as a key, never as another kind of token.
    pub fn looks_like(presented: &str) -> bool {
        presented.starts_with(PREFIX)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// What lists show instead of the key: the prefix, the first four random characters and
    /// the last four of the key, enough to recognise it and useless to an attacker.
    pub fn display(&self) -> String {
        let k = &self.0;
        format!("{}…{}", &k[..PREFIX.len() + 4], &k[k.len() - 4..])
    }
}

/// The 6-character base62 CRC32 of `random`.
fn checksum(random: &str) -> String {
    let crc = crc32fast::hash(random.as_bytes());
    format!("{:0>width$}", base62::encode(crc), width = CHECKSUM_LEN)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches_scanner_regex(key: &str) -> bool {
        // `\bigk_[0-9A-Za-z]{36}\b`, spelled out.
        key.len() == KEY_LEN
            && key.starts_with("igk_")
            && key[4..].bytes().all(|b| b.is_ascii_alphanumeric())
    }

    /// API keys: every generated key matches the scanners' regex and its own checksum.
    #[test]
    fn generated_keys_match_the_regex_and_their_checksum() {
        for _ in 0..2_000 {
            let key = ApiKey::generate();
            assert!(matches_scanner_regex(key.as_str()), "{}", key.as_str());
            assert_eq!(ApiKey::parse(key.as_str()), Some(key.clone()));
        }
    }

    /// The checksum is zlib's CRC32 in base62, left-padded: known values.
    #[test]
    fn checksum_is_zlib_crc32_in_padded_base62() {
        // zlib.crc32(b"123456789") == 0xCBF43926, the standard check value.
        let c = checksum("123456789");
        assert_eq!(c.len(), 6);
        assert_eq!(base62::decode(&c).unwrap(), 0xCBF4_3926);
        // A CRC small enough to need padding.
        let small = checksum("");
        assert_eq!(small, "000000", "CRC32 of nothing is 0");
    }

    /// One character changed anywhere, a wrong prefix, a wrong length or a foreign character:
    /// refused by the format alone.
    #[test]
    fn a_changed_key_is_refused_by_its_checksum() {
        let key = ApiKey::generate();
        let s = key.as_str();
        for i in PREFIX.len()..s.len() {
            let mut bytes = s.as_bytes().to_vec();
            bytes[i] = if bytes[i] == b'a' { b'b' } else { b'a' };
            let changed = String::from_utf8(bytes).unwrap();
            assert_eq!(ApiKey::parse(&changed), None, "position {i}");
        }
        assert_eq!(ApiKey::parse(&s.replacen("igk_", "igx_", 1)), None);
        assert_eq!(ApiKey::parse(&s[..s.len() - 1]), None);
        assert_eq!(ApiKey::parse(&format!("{s}0")), None);
        assert_eq!(ApiKey::parse(&s.replacen(&s[10..11], "-", 1)), None);
        assert_eq!(ApiKey::parse(""), None);
        assert_eq!(ApiKey::parse("igk_é"), None);
    }

    #[test]
    fn display_hides_the_secret() {
        let key = ApiKey::generate();
        let d = key.display();
        assert!(d.starts_with(&key.as_str()[..8]));
        assert!(d.ends_with(&key.as_str()[KEY_LEN - 4..]));
        assert!(d.chars().count() < 20);
    }
}
