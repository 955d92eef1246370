//! The authorization request (RFC 6749 §4.1.1, OpenID Connect Core §3.1.2.1, RFC 7636):
//! parsing, validation in the order RFC 6749 §4.1.2.1 demands (client and redirect URI first,
//! never redirecting when either is bad), and the authorization response (RFC 9207 `iss`,
//! `query` or `form_post`).

pub use super::redirect::{
    AuthzError, Response, ResponseMode, Target, append_params, redirect_uri_matches,
};
use crate::config::Settings;
use crate::domain::{GrantType, Scopes};
use crate::store::Client;

/// Longest accepted `state` and `nonce` (SEC-10: long values are echoed byte for byte).
const MAX_STATE: usize = 4096;
const MAX_NONCE: usize = 512;

/// The raw parameters of a request, in order; repeats are kept so they can be refused.
#[derive(Debug, Clone, Default)]
pub struct Params(Vec<(String, String)>);

impl Params {
    /// Parses a query string or form body; empty values count as absent (RFC 6749 §3.1).
    pub fn parse(raw: &[u8]) -> Self {
        Self(
            url::form_urlencoded::parse(raw)
                .filter(|(_, v)| !v.is_empty())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    /// The value of `key` when it occurs once; `Err` when it is repeated.
    pub fn single(&self, key: &str) -> Result<Option<&str>, Repeated> {
        let mut found = self.0.iter().filter(|(k, _)| k == key).map(|(_, v)| v);
        match (found.next(), found.next()) {
            (Some(_), Some(_)) => Err(Repeated(key.to_owned())),
            (v, _) => Ok(v.map(String::as_str)),
        }
    }

    /// The parameters, form-encoded (what the login and consent forms carry back).
    pub fn encode(&self) -> String {
        url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(self.0.iter())
            .finish()
    }

    /// The same request once the user has just signed in: `prompt=login` and `max_age` are
    /// satisfied by that sign-in and must not ask again.
    pub fn after_sign_in(&self) -> Self {
        let mut out = Vec::with_capacity(self.0.len());
        for (k, v) in &self.0 {
            match k.as_str() {
                "max_age" => {}
                "prompt" => {
                    let rest: Vec<&str> = v.split(' ').filter(|p| *p != "login").collect();
                    if !rest.iter().all(|p| p.is_empty()) {
                        out.push((k.clone(), rest.join(" ")));
                    }
                }
                _ => out.push((k.clone(), v.clone())),
            }
        }
        Self(out)
    }
}

impl Params {
    /// The same request with `key` set to `value` (replacing any value it had).
    pub fn with(&self, key: &str, value: &str) -> Self {
        let mut out: Vec<(String, String)> =
            self.0.iter().filter(|(k, _)| k != key).cloned().collect();
        out.push((key.to_owned(), value.to_owned()));
        Self(out)
    }
}

#[derive(Debug)]
pub struct Repeated(pub String);

/// The `prompt` values (OpenID Connect Core §3.1.2.1).
#[derive(Debug, Clone, Copy, Default)]
pub struct Prompt {
    pub none: bool,
    pub login: bool,
    pub consent: bool,
}

/// Why a request is refused.
#[derive(Debug)]
pub enum Refusal {
    /// The client or redirect URI cannot be trusted: show an error page, never redirect
    /// (RFC 6749 §4.1.2.1, SEC-01..SEC-07).
    Page(String),
    /// Anything else: sent to the validated redirect URI.
    Redirect(Response),
}

/// A validated authorization request.
#[derive(Debug, Clone)]
pub struct AuthorizationRequest {
    pub client: Client,
    pub target: Target,
    /// Whether the request named the redirect URI (the token request must then repeat it).
    pub redirect_uri_explicit: bool,
    pub scopes: Scopes,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub prompt: Prompt,
    pub max_age: Option<i64>,
    pub id_token_hint: Option<String>,
    pub login_hint: Option<String>,
    /// The organization the user acts in (an id or a slug), when the request names one.
    pub organization: Option<String>,
    /// The request as received, for the forms that carry it through sign-in and consent.
    pub params: Params,
}

/// Validates the client and redirect URI, which decide whether errors may be redirected.
pub fn validate_target(
    client: Option<Client>,
    params: &Params,
) -> Result<(Client, Target), String> {
    let repeated = |r: Repeated| format!("the parameter {} is repeated", r.0);
    let client_id = params.single("client_id").map_err(repeated)?;
    let requested = params.single("redirect_uri").map_err(repeated)?;
    if client_id.is_none() {
        return Err("The request has no client_id.".into());
    }
    let client = client.ok_or("The client is not registered here.")?;
    let redirect_uri = match requested {
        Some(uri) => {
            if !client
                .redirect_uris
                .iter()
                .any(|registered| redirect_uri_matches(registered, uri))
            {
                return Err("The redirect URI is not registered for this client.".into());
            }
            uri.to_owned()
        }
        // OpenID Connect Core §3.1.2.1: REQUIRED in OpenID requests.
        None if params
            .single("scope")
            .ok()
            .flatten()
            .is_some_and(|s| s.split(' ').any(|v| v == "openid")) =>
        {
            return Err("The request has no redirect_uri (required with scope openid).".into());
        }
        None => match client.redirect_uris.as_slice() {
            [only] => only.clone(),
            [] => return Err("This client has no registered redirect URI.".into()),
            _ => {
                return Err(
                    "The request has no redirect_uri, and this client has more than one.".into(),
                );
            }
        },
    };
    // The state and response mode are needed to send errors back; bad ones fall back to none
    // and `query` so that the error about them can still be delivered.
    let state = params
        .single("state")
        .ok()
        .flatten()
        .filter(|s| s.len() <= MAX_STATE)
        .map(str::to_owned);
    let mode = match params.single("response_mode") {
        Ok(Some("form_post")) => ResponseMode::FormPost,
        _ => ResponseMode::Query,
    };
    Ok((
        client,
        Target {
            redirect_uri,
            state,
            mode,
        },
    ))
}

/// Validates a whole request. `client` is the client `client_id` names, if it exists.
pub fn validate(
    settings: &Settings,
    client: Option<Client>,
    params: Params,
) -> Result<AuthorizationRequest, Refusal> {
    let (client, target) = validate_target(client, &params).map_err(Refusal::Page)?;
    let fail = |e: AuthzError| Refusal::Redirect(Response::error(&target, settings, &e));
    let one = |key: &str| single(&params, key).map_err(fail);
    refuse_unsupported(&params, &client).map_err(fail)?;
    let scopes = requested_scopes(settings, &client, one("scope")?).map_err(fail)?;
    let code_challenge = pkce_challenge(
        &client,
        one("code_challenge")?,
        one("code_challenge_method")?,
    )
    .map_err(fail)?;
    let nonce = nonce(one("nonce")?).map_err(fail)?;
    let prompt = prompt(one("prompt")?).map_err(fail)?;
    let max_age = match one("max_age")? {
        None => None,
        Some(raw) => Some(
            raw.parse::<u32>()
                .map(i64::from)
                .map_err(|_| fail(AuthzError::invalid_request("max_age must be whole seconds")))?,
        ),
    };
    let id_token_hint = one("id_token_hint")?.map(str::to_owned);
    let login_hint = one("login_hint")?
        .filter(|h| h.len() <= 320)
        .map(str::to_owned);
    let redirect_uri_explicit = one("redirect_uri")?.is_some();
    let organization = one("organization")?
        .filter(|o| o.len() <= 200)
        .map(str::to_owned);
    Ok(AuthorizationRequest {
        client,
        target,
        redirect_uri_explicit,
        scopes,
        nonce,
        code_challenge,
        prompt,
        max_age,
        id_token_hint,
        login_hint,
        organization,
        params,
    })
}

/// The value of a parameter sent at most once (RFC 6749 §3.1).
fn single<'a>(params: &'a Params, key: &str) -> Result<Option<&'a str>, AuthzError> {
    params
        .single(key)
        .map_err(|r| AuthzError::invalid_request(format!("the parameter {} is repeated", r.0)))
}

/// What irongate does not do: other response types and modes, request objects (never fetched,
/// OpenID Connect Core §6, SEC-15), dynamic registration; clients without the code grant.
fn refuse_unsupported(params: &Params, client: &Client) -> Result<(), AuthzError> {
    if single(params, "state")?.is_some_and(|s| s.len() > MAX_STATE) {
        return Err(AuthzError::invalid_request(format!(
            "state is longer than {MAX_STATE} characters"
        )));
    }
    for (key, code, what) in [
        ("request", "request_not_supported", "request objects are"),
        ("request_uri", "request_uri_not_supported", "request_uri is"),
        (
            "registration",
            "registration_not_supported",
            "the registration parameter is",
        ),
    ] {
        if single(params, key)?.is_some() {
            return Err(AuthzError::new(code, format!("{what} not supported")));
        }
    }
    if !matches!(
        single(params, "response_mode")?,
        None | Some("query" | "form_post")
    ) {
        return Err(AuthzError::invalid_request(
            "response_mode must be query or form_post",
        ));
    }
    match single(params, "response_type")? {
        Some("code") => {}
        None => return Err(AuthzError::invalid_request("response_type is missing")),
        Some(_) => {
            return Err(AuthzError::new(
                "unsupported_response_type",
                "only response_type=code is supported",
            ));
        }
    }
    if !client.grant_types.contains(&GrantType::AuthorizationCode) {
        return Err(AuthzError::new(
            "unauthorized_client",
            "this client may not use the authorization code flow",
        ));
    }
    Ok(())
}

/// Every requested scope must exist and be allowed to the client.
fn requested_scopes(
    settings: &Settings,
    client: &Client,
    raw: Option<&str>,
) -> Result<Scopes, AuthzError> {
    let invalid = |why: &str| AuthzError::new("invalid_scope", why);
    let scopes = Scopes::parse(
        raw.ok_or_else(|| invalid("scope is missing"))?,
        &settings.tokens.scopes,
    )
    .map_err(|_| invalid("a requested scope does not exist"))?;
    if scopes.is_empty() {
        return Err(invalid("scope is empty"));
    }
    if !scopes
        .iter()
        .all(|s| client.allowed_scopes.iter().any(|a| a == s))
    {
        return Err(invalid("a requested scope is not allowed for this client"));
    }
    Ok(scopes)
}

/// RFC 7636 with `S256` only; required for public clients (RFC 9700 §2.1.1, SEC-16).
fn pkce_challenge(
    client: &Client,
    challenge: Option<&str>,
    method: Option<&str>,
) -> Result<Option<String>, AuthzError> {
    match (challenge, method) {
        (None, None) if client.is_public => Err(AuthzError::invalid_request(
            "public clients must use PKCE (code_challenge with code_challenge_method=S256)",
        )),
        (None, None) => Ok(None),
        (Some(challenge), Some("S256")) => {
            // The base64url encoding of a SHA-256 digest: 43 characters (RFC 7636 §4.2).
            let well_formed = challenge.len() == 43
                && challenge
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            if well_formed {
                Ok(Some(challenge.to_owned()))
            } else {
                Err(AuthzError::invalid_request(
                    "code_challenge must be the base64url SHA-256 of the verifier (43 characters)",
                ))
            }
        }
        (None, Some(_)) => Err(AuthzError::invalid_request(
            "code_challenge_method without code_challenge",
        )),
        // A missing method means `plain` (RFC 7636 §4.3), which is refused like any other.
        (Some(_), _) => Err(AuthzError::invalid_request(
            "code_challenge_method must be S256",
        )),
    }
}

/// Bounded, and without control characters (PostgreSQL refuses NUL in text).
fn nonce(raw: Option<&str>) -> Result<Option<String>, AuthzError> {
    match raw {
        Some(n) if n.len() > MAX_NONCE => Err(AuthzError::invalid_request(format!(
            "nonce is longer than {MAX_NONCE} characters"
        ))),
        Some(n) if n.chars().any(char::is_control) => Err(AuthzError::invalid_request(
            "nonce must not contain control characters",
        )),
        other => Ok(other.map(str::to_owned)),
    }
}

/// OpenID Connect Core §3.1.2.1 `prompt`: `none` alone, or any of the others.
fn prompt(raw: Option<&str>) -> Result<Prompt, AuthzError> {
    let mut prompt = Prompt::default();
    let values: Vec<&str> = raw
        .unwrap_or("")
        .split(' ')
        .filter(|v| !v.is_empty())
        .collect();
    for value in &values {
        match *value {
            "none" => prompt.none = true,
            "login" => prompt.login = true,
            "consent" => prompt.consent = true,
            // One account per session: there is nothing to select.
            "select_account" => {}
            _ => {
                return Err(AuthzError::invalid_request(
                    "prompt must be none, login, consent or select_account",
                ));
            }
        }
    }
    if prompt.none && values.len() > 1 {
        return Err(AuthzError::invalid_request(
            "prompt=none cannot be combined with other values",
        ));
    }
    Ok(prompt)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn after_sign_in_drops_login_and_max_age() {
        let p = Params::parse(b"a=1&prompt=login+consent&max_age=0&b=2");
        assert_eq!(p.after_sign_in().encode(), "a=1&prompt=consent&b=2");
        let p = Params::parse(b"prompt=login");
        assert_eq!(p.after_sign_in().encode(), "");
    }
}
