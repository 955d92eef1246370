use super::{Invalid, RedirectUri, ScopeCatalogue, Scopes};
use std::fmt;

/// The grants a client may be registered for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum GrantType {
    AuthorizationCode,
    RefreshToken,
    Password,
    ClientCredentials,
    /// RFC 8693 token exchange (an API key for an access token).
    TokenExchange,
}

impl GrantType {
    pub const ALL: [GrantType; 5] = [
        GrantType::AuthorizationCode,
        GrantType::RefreshToken,
        GrantType::Password,
        GrantType::ClientCredentials,
        GrantType::TokenExchange,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            GrantType::AuthorizationCode => "authorization_code",
            GrantType::RefreshToken => "refresh_token",
            GrantType::Password => "password",
            GrantType::ClientCredentials => "client_credentials",
            GrantType::TokenExchange => "urn:ietf:params:oauth:grant-type:token-exchange",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        Self::ALL
            .into_iter()
            .find(|g| g.as_str() == raw)
            .ok_or_else(|| {
                Invalid::new(format!(
                    "unknown grant type {raw:?}: use authorization_code, refresh_token, password, client_credentials or urn:ietf:params:oauth:grant-type:token-exchange"
                ))
            })
    }
}

impl fmt::Display for GrantType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A validated client registration, before it gets an id and a secret.
#[derive(Debug, Clone)]
pub struct ClientSpec {
    pub name: String,
    pub redirect_uris: Vec<RedirectUri>,
    pub post_logout_redirect_uris: Vec<RedirectUri>,
    pub public: bool,
    pub grant_types: Vec<GrantType>,
    pub scopes: Scopes,
    pub skip_consent: bool,
}

/// A registration refused, and the member (or flag) at fault: `name`, `redirect_uris`,
/// `post_logout_redirect_uris`, `grant_types` or `scopes`.
#[derive(Debug)]
pub struct Refused {
    pub field: &'static str,
    pub error: Invalid,
}

fn at(field: &'static str) -> impl FnOnce(Invalid) -> Refused {
    move |error| Refused { field, error }
}

impl ClientSpec {
    /// Validates a registration with the CONTRACT's defaults: without grant types a client gets
    /// `authorization_code` and `refresh_token`; without scopes, the four OIDC scopes.
    #[allow(clippy::too_many_arguments)]
    pub fn parse(
        name: &str,
        redirect_uris: &[String],
        post_logout_redirect_uris: &[String],
        public: bool,
        grant_types: &[String],
        scopes: &[String],
        skip_consent: bool,
        catalogue: &ScopeCatalogue,
    ) -> Result<Self, Refused> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 200 || name.chars().any(char::is_control) {
            return Err(at("name")(Invalid::new(
                "client name must be 1 to 200 characters without control characters",
            )));
        }
        let grant_types = parse_grants(grant_types, public).map_err(at("grant_types"))?;
        let scopes = if scopes.is_empty() {
            Scopes::from_names(super::DEFAULT_CLIENT_SCOPES.iter().copied(), catalogue)
        } else {
            Scopes::from_names(scopes.iter().map(String::as_str), catalogue)
        }
        .map_err(at("scopes"))?;
        let redirect_uris = parse_uris(redirect_uris).map_err(at("redirect_uris"))?;
        if grant_types.contains(&GrantType::AuthorizationCode) && redirect_uris.is_empty() {
            return Err(at("redirect_uris")(Invalid::new(
                "a client with the authorization_code grant needs at least one --redirect-uri",
            )));
        }
        Ok(Self {
            name: name.to_owned(),
            redirect_uris,
            post_logout_redirect_uris: parse_uris(post_logout_redirect_uris)
                .map_err(at("post_logout_redirect_uris"))?,
            public,
            grant_types,
            scopes,
            skip_consent,
        })
    }
}

fn parse_grants(raw: &[String], public: bool) -> Result<Vec<GrantType>, Invalid> {
    let mut grants: Vec<GrantType> = if raw.is_empty() {
        vec![GrantType::AuthorizationCode, GrantType::RefreshToken]
    } else {
        raw.iter()
            .map(|g| GrantType::parse(g))
            .collect::<Result<_, _>>()?
    };
    grants.sort();
    grants.dedup();
    for forbidden in [
        GrantType::ClientCredentials,
        GrantType::Password,
        GrantType::TokenExchange,
    ] {
        if public && grants.contains(&forbidden) {
            return Err(Invalid::new(format!(
                "a public client cannot have the {forbidden} grant: it has no secret to authenticate with"
            )));
        }
    }
    if grants == [GrantType::RefreshToken] {
        return Err(Invalid::new(
            "the refresh_token grant needs authorization_code or password beside it",
        ));
    }
    Ok(grants)
}

fn parse_uris(raw: &[String]) -> Result<Vec<RedirectUri>, Invalid> {
    let mut out: Vec<RedirectUri> = Vec::with_capacity(raw.len());
    for uri in raw {
        let uri = RedirectUri::parse(uri)?;
        if !out.contains(&uri) {
            out.push(uri);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(
        public: bool,
        grants: &[&str],
        scopes: &[&str],
        uris: &[&str],
    ) -> Result<ClientSpec, Invalid> {
        let catalogue = ScopeCatalogue::new(["admin".to_string()]).unwrap();
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        ClientSpec::parse(
            "app",
            &s(uris),
            &[],
            public,
            &s(grants),
            &s(scopes),
            false,
            &catalogue,
        )
        .map_err(|e| e.error)
    }

    #[test]
    fn defaults_to_code_and_refresh_with_oidc_scopes() {
        let c = spec(false, &[], &[], &["https://rp.test/cb"]).unwrap();
        assert_eq!(
            c.grant_types,
            [GrantType::AuthorizationCode, GrantType::RefreshToken]
        );
        assert_eq!(
            c.scopes.to_space_delimited(),
            "email offline_access openid profile"
        );
    }

    #[test]
    fn public_clients_cannot_use_secret_grants() {
        assert!(spec(true, &["client_credentials"], &[], &[]).is_err());
        assert!(spec(true, &["password"], &[], &[]).is_err());
        assert!(spec(true, &[], &[], &["https://rp.test/cb"]).is_ok());
    }

    #[test]
    fn rejects_unknown_grants_and_scopes_and_missing_redirects() {
        assert!(spec(false, &["implicit"], &[], &[]).is_err());
        assert!(spec(false, &["client_credentials"], &["nope"], &[]).is_err());
        assert!(spec(false, &["client_credentials"], &["admin"], &[]).is_ok());
        assert!(spec(false, &[], &[], &[]).is_err());
        assert!(spec(false, &["refresh_token"], &[], &[]).is_err());
    }
}
