//! Authorization server metadata (RFC 8414) and OpenID Provider metadata (OpenID Connect
//! Discovery 1.0 §3). Only what is implemented is advertised.

use crate::config::Settings;
use bytes::Bytes;
use serde_json::{Map, Value, json};

/// Endpoint paths, relative to the issuer. Clients find them through discovery.
pub mod paths {
    pub const OPENID_CONFIGURATION: &str = "/.well-known/openid-configuration";
    pub const OAUTH_METADATA: &str = "/.well-known/oauth-authorization-server";
    pub const JWKS: &str = "/.well-known/jwks.json";
    pub const AUTHORIZE: &str = "/authorize";
    pub const TOKEN: &str = "/token";
    /// The login and consent forms post here (pages, not protocol endpoints).
    pub const LOGIN: &str = "/login";
    /// "Sign in with Google": starts the sign-in at the upstream provider.
    pub const LOGIN_GOOGLE: &str = "/login/google";
    /// Where the upstream provider sends the browser back (register it there).
    pub const LOGIN_GOOGLE_CALLBACK: &str = "/login/google/callback";
    /// The signed-in user's password-change page.
    pub const ACCOUNT_PASSWORD: &str = "/account/password";
    pub const ACCOUNT_API_KEYS: &str = "/account/api-keys";
    pub const ACCOUNT_API_KEYS_REVOKE: &str = "/account/api-keys/revoke";
    pub const CONSENT: &str = "/consent";
    /// The organization chooser's form posts here.
    pub const ORGANIZATION: &str = "/organization";
    pub const END_SESSION: &str = "/logout";
    /// The stylesheet and the form_post script.
    pub const STYLESHEET: &str = "/assets/irongate.css";
    pub const FORM_POST_SCRIPT: &str = "/assets/form_post.js";
    pub const USERINFO: &str = "/userinfo";
    pub const REVOCATION: &str = "/revoke";
    pub const INTROSPECTION: &str = "/introspect";
    /// The revocation feed, for resource servers that verify tokens on their own.
    pub const REVOCATION_FEED: &str = "/revocations";
    /// "Log out everywhere" with the user's own access token (not a standard endpoint, so not
    /// in discovery; the README names it).
    pub const LOGOUT_ALL: &str = "/logout-all";
    pub const HEALTHZ: &str = "/healthz";
    pub const READYZ: &str = "/readyz";
}

/// The two metadata documents, serialised once at start.
#[derive(Clone)]
pub struct Metadata {
    pub openid_configuration: Bytes,
    pub oauth_authorization_server: Bytes,
}

impl Metadata {
    pub fn build(settings: &Settings) -> Self {
        let base = document(settings);
        let mut oidc = base.clone();
        oidc.insert("subject_types_supported".into(), json!(["public"]));
        oidc.insert(
            "id_token_signing_alg_values_supported".into(),
            json!(["RS256"]),
        );
        oidc.insert(
            "end_session_endpoint".into(),
            json!(settings.endpoint(paths::END_SESSION)),
        );
        oidc.insert("claims_parameter_supported".into(), json!(false));
        oidc.insert("request_parameter_supported".into(), json!(false));
        oidc.insert("request_uri_parameter_supported".into(), json!(false));
        oidc.insert(
            "userinfo_endpoint".into(),
            json!(settings.endpoint(paths::USERINFO)),
        );
        oidc.insert(
            "claims_supported".into(),
            json!([
                "sub",
                "iss",
                "aud",
                "exp",
                "iat",
                "auth_time",
                "azp",
                "at_hash",
                "email",
                "email_verified",
                "name",
                "roles",
                "permissions",
                "org_id",
                "org_roles"
            ]),
        );
        Self {
            openid_configuration: to_bytes(oidc),
            oauth_authorization_server: to_bytes(base),
        }
    }
}

fn document(settings: &Settings) -> Map<String, Value> {
    let mut doc = Map::new();
    // RFC 8414 §3.3 / Discovery §4.3: identical to the configured issuer, byte for byte.
    doc.insert("issuer".into(), json!(settings.server.issuer));
    doc.insert("jwks_uri".into(), json!(settings.endpoint(paths::JWKS)));
    doc.insert(
        "scopes_supported".into(),
        json!(settings.tokens.scopes.all()),
    );
    doc.insert(
        "authorization_endpoint".into(),
        json!(settings.endpoint(paths::AUTHORIZE)),
    );
    doc.insert(
        "token_endpoint".into(),
        json!(settings.endpoint(paths::TOKEN)),
    );
    // Only the code flow: no implicit or hybrid response types (RFC 9700 §2.1.2, SEC-09).
    doc.insert("response_types_supported".into(), json!(["code"]));
    doc.insert(
        "response_modes_supported".into(),
        json!(["query", "form_post"]),
    );
    doc.insert("code_challenge_methods_supported".into(), json!(["S256"]));
    doc.insert(
        "authorization_response_iss_parameter_supported".into(),
        json!(true),
    );
    doc.insert(
        "prompt_values_supported".into(),
        json!(["none", "login", "consent", "select_account"]),
    );
    // Every grant the token endpoint accepts (RFC 8414 §2), the password grant included: it
    // works only for clients registered for it (RFC 9700 §2.4 advises against it).
    doc.insert(
        "grant_types_supported".into(),
        json!([
            "authorization_code",
            "client_credentials",
            "password",
            "refresh_token",
            "urn:ietf:params:oauth:grant-type:token-exchange"
        ]),
    );
    doc.insert(
        "token_endpoint_auth_methods_supported".into(),
        json!(["client_secret_basic", "client_secret_post", "none"]),
    );
    doc.insert(
        "revocation_endpoint".into(),
        json!(settings.endpoint(paths::REVOCATION)),
    );
    doc.insert(
        "revocation_endpoint_auth_methods_supported".into(),
        json!(["client_secret_basic", "client_secret_post", "none"]),
    );
    doc.insert(
        "introspection_endpoint".into(),
        json!(settings.endpoint(paths::INTROSPECTION)),
    );
    doc.insert(
        "introspection_endpoint_auth_methods_supported".into(),
        json!(["client_secret_basic", "client_secret_post"]),
    );
    doc.insert(
        "revocation_feed_endpoint".into(),
        json!(settings.endpoint(paths::REVOCATION_FEED)),
    );
    doc
}

fn to_bytes(doc: Map<String, Value>) -> Bytes {
    Bytes::from(Value::Object(doc).to_string())
}
