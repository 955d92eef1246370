use super::Invalid;

/// A password that meets the policy: 8 to 128 characters (Unicode scalar values), any
/// characters, no composition rules, never truncated (NIST SP 800-63B §5.1.1.2).
pub struct Password(String);

impl Password {
    pub const MIN_CHARS: usize = 8;
    pub const MAX_CHARS: usize = 128;

    pub fn parse(raw: String) -> Result<Self, Invalid> {
        let count = raw.chars().count();
        if count < Self::MIN_CHARS {
            return Err(Invalid::new(format!(
                "password too short: at least {} characters are required",
                Self::MIN_CHARS
            )));
        }
        if count > Self::MAX_CHARS {
            return Err(Invalid::new(format!(
                "password too long: at most {} characters are allowed",
                Self::MAX_CHARS
            )));
        }
        Ok(Self(raw))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enforces_length_in_characters_not_bytes() {
        assert!(Password::parse("1234567".into()).is_err());
        assert!(Password::parse("12345678".into()).is_ok());
        // Eight multi-byte characters are eight characters.
        assert!(Password::parse("🔑".repeat(8)).is_ok());
        assert!(Password::parse("é".repeat(128)).is_ok());
        assert!(Password::parse("é".repeat(129)).is_err());
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let p = Password::parse("correct horse".into()).unwrap();
        assert!(!format!("{p:?}").contains("horse"));
    }
}
