use super::Invalid;
use std::collections::BTreeSet;

/// The OpenID Connect scopes, which always exist beside the configured catalogue (`roles`:
/// the user's roles in ID tokens and userinfo).
pub const OIDC_SCOPES: &[&str] = &[
    "openid",
    "profile",
    "email",
    "offline_access",
    "roles",
    "api_keys",
];

/// The scopes a client gets when `client create` names none.
pub const DEFAULT_CLIENT_SCOPES: &[&str] = &["openid", "profile", "email", "offline_access"];

/// Permissions that always exist beside the catalogue: the admin API's.
pub const RESERVED_PERMISSIONS: &[&str] = &["irongate:admin", "irongate:read"];

/// Every scope this deployment knows: the OIDC scopes plus the configured API catalogue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopeCatalogue {
    api: Vec<String>,
}

impl ScopeCatalogue {
    /// Builds the catalogue from configured names, validating each as an RFC 6749 §3.3 scope-token.
    pub fn new<I: IntoIterator<Item = String>>(api: I) -> Result<Self, Invalid> {
        let mut seen = BTreeSet::new();
        let mut out = Vec::new();
        for name in api {
            if !is_scope_token(&name) {
                return Err(Invalid::new(format!(
                    "invalid scope name {name:?}: use printable ASCII without spaces, quotes or backslashes"
                )));
            }
            if !OIDC_SCOPES.contains(&name.as_str())
                && !RESERVED_PERMISSIONS.contains(&name.as_str())
                && seen.insert(name.clone())
            {
                out.push(name);
            }
        }
        Ok(Self { api: out })
    }

    /// Whether `scope` exists: an OIDC scope, an API scope, or a reserved permission (valid,
    /// but not advertised in discovery).
    pub fn contains(&self, scope: &str) -> bool {
        OIDC_SCOPES.contains(&scope)
            || RESERVED_PERMISSIONS.contains(&scope)
            || self.api.iter().any(|s| s == scope)
    }

    /// All scopes, OIDC first, in a stable order (for discovery's `scopes_supported`).
    pub fn all(&self) -> Vec<String> {
        OIDC_SCOPES
            .iter()
            .map(|s| s.to_string())
            .chain(self.api.iter().cloned())
            .collect()
    }

    /// Whether `name` is a permission: an API scope of the catalogue or a reserved one (the
    /// OIDC scopes are not permissions).
    pub fn is_permission(&self, name: &str) -> bool {
        RESERVED_PERMISSIONS.contains(&name) || self.api.iter().any(|s| s == name)
    }

    pub fn api(&self) -> &[String] {
        &self.api
    }
}

/// A set of scopes, kept sorted and without duplicates.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scopes(BTreeSet<String>);

impl Scopes {
    /// Parses a space-delimited scope parameter (RFC 6749 §3.3), every name known to `catalogue`.
    pub fn parse(raw: &str, catalogue: &ScopeCatalogue) -> Result<Self, Invalid> {
        Self::from_names(raw.split(' ').filter(|s| !s.is_empty()), catalogue)
    }

    pub fn from_names<'a, I: IntoIterator<Item = &'a str>>(
        names: I,
        catalogue: &ScopeCatalogue,
    ) -> Result<Self, Invalid> {
        let mut set = BTreeSet::new();
        for name in names {
            if !catalogue.contains(name) {
                return Err(Invalid::new(format!("unknown scope {name:?}")));
            }
            set.insert(name.to_owned());
        }
        Ok(Self(set))
    }

    /// Scopes granted earlier and stored with a grant: taken as they are, even if the
    /// catalogue has changed since.
    pub fn granted(raw: &str) -> Self {
        Self(
            raw.split(' ')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
        )
    }

    pub fn contains(&self, scope: &str) -> bool {
        self.0.contains(scope)
    }

    /// Scopes known to `catalogue` among `names`; unknown ones are left out.
    pub fn known<'a>(names: impl IntoIterator<Item = &'a str>, catalogue: &ScopeCatalogue) -> Self {
        Self(
            names
                .into_iter()
                .filter(|s| catalogue.contains(s))
                .map(str::to_owned)
                .collect(),
        )
    }

    /// Keeps only the scopes `keep` accepts.
    pub fn retain(mut self, keep: impl Fn(&str) -> bool) -> Self {
        self.0.retain(|s| keep(s));
        self
    }

    pub fn is_subset(&self, other: &Scopes) -> bool {
        self.0.is_subset(&other.0)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }

    /// The space-delimited form used in tokens and responses.
    pub fn to_space_delimited(&self) -> String {
        self.iter().collect::<Vec<_>>().join(" ")
    }
}

/// RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
fn is_scope_token(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 128
        && s.bytes()
            .all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalogue() -> ScopeCatalogue {
        ScopeCatalogue::new(["users:read".to_string(), "admin".to_string()]).unwrap()
    }

    #[test]
    fn knows_oidc_and_catalogue_scopes() {
        let c = catalogue();
        assert!(c.contains("openid") && c.contains("offline_access") && c.contains("admin"));
        assert!(!c.contains("posts:write"));
        assert_eq!(
            c.all()[..4],
            ["openid", "profile", "email", "offline_access"]
        );
    }

    #[test]
    fn parses_and_dedups() {
        let s = Scopes::parse("openid admin openid", &catalogue()).unwrap();
        assert_eq!(s.to_space_delimited(), "admin openid");
        assert!(Scopes::parse("openid nope", &catalogue()).is_err());
    }

    #[test]
    fn rejects_invalid_catalogue_names() {
        assert!(ScopeCatalogue::new(["has space".to_string()]).is_err());
        assert!(ScopeCatalogue::new(["quo\"te".to_string()]).is_err());
    }
}
