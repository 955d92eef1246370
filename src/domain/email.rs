use super::Invalid;

/// An email address, valid per the WHATWG HTML "valid e-mail address" grammar
/// (what browsers accept in `<input type=email>`), at most 254 octets (RFC 5321 §4.5.3.1.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let value = raw.trim();
        let invalid = || Invalid::new(format!("invalid email address {value:?}"));
        if value.is_empty() || value.len() > 254 {
            return Err(invalid());
        }
        let (local, domain) = value.rsplit_once('@').ok_or_else(invalid)?;
        if local.is_empty() || local.len() > 64 || !local.chars().all(is_local_char) {
            return Err(invalid());
        }
        if !domain.split('.').all(is_domain_label) {
            return Err(invalid());
        }
        Ok(Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The form used for uniqueness and look-ups: an address exists once in any letter case.
    pub fn normalized(&self) -> String {
        self.0.to_lowercase()
    }
}

fn is_local_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || ".!#$%&'*+/=?^_`{|}~-".contains(c)
}

fn is_domain_label(label: &str) -> bool {
    let bytes = label.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 63
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'-')
        && bytes[0] != b'-'
        && bytes[bytes.len() - 1] != b'-'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_addresses() {
        for ok in [
            "alice@example.com",
            "a.b+c@sub.example.org",
            "admin@localhost",
        ] {
            assert!(Email::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn rejects_malformed_addresses() {
        for bad in [
            "",
            "alice",
            "@example.com",
            "alice@",
            "alice@-example.com",
            "al ice@example.com",
            "alice@exa mple.com",
            "alice@example..com",
            "<script>@x.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn normalizes_case() {
        let email = Email::parse("Alice@Example.COM").unwrap();
        assert_eq!(email.normalized(), "alice@example.com");
        assert_eq!(email.as_str(), "Alice@Example.COM");
    }
}
