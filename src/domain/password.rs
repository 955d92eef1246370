use super::Invalid;

use unicode_normalization::UnicodeNormalization;

/// A password that meets the policy: 8 to 128 characters (Unicode scalar values), any
/// characters, no composition rules, never truncated (NIST SP 800-63B §5.1.1.2), in Unicode
/// normalization form NFKC so that the same text typed on another keyboard or system (composed
/// or decomposed accents, full-width letters) is the same password (SP 800-63B §5.1.1.2, SEC-58).
pub struct Password(String);

/// The form passwords are hashed and checked in (see `Password`).
pub fn normalize(raw: &str) -> String {
    raw.nfkc().collect()
}

impl Password {
    pub const MIN_CHARS: usize = 8;
    pub const MAX_CHARS: usize = 128;

    pub fn parse(raw: String) -> Result<Self, Invalid> {
        let raw = normalize(&raw);
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

    /// A password being set (not checked at sign-in): the length policy, and not one of the
    /// common or breached passwords zxcvbn knows (its 30 000-entry lists), nor guessable from
    /// patterns or from `context` (the email, the name) within a million guesses
    /// (ASVS5 6.2.4, 6.2.12; SEC-59). No composition rules (SEC-58).
    pub fn parse_new(raw: String, context: &[&str]) -> Result<Self, Invalid> {
        let password = Self::parse(raw)?;
        let estimate = zxcvbn::zxcvbn(&password.0, context);
        if u8::from(estimate.score()) < 2 {
            return Err(Invalid::new(
                "password too common or too easy to guess: choose a longer or less predictable one \
                 (a few random words work well)",
            ));
        }
        Ok(password)
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

    /// SEC-58, SEC-59: common and guessable passwords are refused when set; long, Unicode and
    /// lowercase-only passphrases are fine; nothing is truncated.
    #[test]
    fn refuses_common_passwords_sec_59() {
        for common in [
            "password1",
            "123456789",
            "qwertyuiop",
            "iloveyou1",
            "Password123",
        ] {
            assert!(Password::parse_new(common.into(), &[]).is_err(), "{common}");
        }
        assert!(Password::parse_new("alice@example.com".into(), &["alice@example.com"]).is_err());
        for fine in [
            "correct horse battery staple",
            "q8Zr1vXw0PkL3mNbTy7s",
            "lowercase only but long passphrase",
            "пароль-из-кириллицы-и-эмодзи-🔑",
        ] {
            assert!(Password::parse_new(fine.into(), &[]).is_ok(), "{fine}");
        }
        let long: String = "my grandmother's 1987 recipe for plum dumplings needs 14 plums, \
                            a pinch of cinnamon and patience"
            .into();
        assert_eq!(
            Password::parse_new(long.clone(), &[]).unwrap().expose(),
            long
        );
    }

    /// SEC-58: composed and decomposed accents, and full-width letters, are one password.
    #[test]
    fn normalizes_to_nfkc() {
        let composed = Password::parse("caf\u{e9} au lait".into()).unwrap();
        let decomposed = Password::parse("cafe\u{301} au lait".into()).unwrap();
        assert_eq!(composed.expose(), decomposed.expose());
        let full_width = Password::parse("\u{ff50}\u{ff41}\u{ff53}\u{ff53}word1".into()).unwrap();
        assert_eq!(full_width.expose(), "password1");
        // Case is kept: `Password` and `password` stay different.
        assert_ne!(normalize("Password"), normalize("password"));
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let p = Password::parse("correct horse".into()).unwrap();
        assert!(!format!("{p:?}").contains("horse"));
    }
}
