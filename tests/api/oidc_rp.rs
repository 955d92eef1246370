//! The relying-party test the issue asks for: "the openidconnect crate as the relying party".
//!
//! An independent OpenID Connect client library (`openidconnect` 4) discovers irongate at its
//! issuer, builds the authorization request (PKCE S256, `state`, `nonce`), redeems the code,
//! validates the ID token (signature against the published JWKS, `iss`, `aud`, `azp`, `exp`,
//! `nonce`, `at_hash`), reads userinfo, refreshes and logs out (RP-Initiated Logout with the
//! crate's `LogoutRequest`), each step through the crate. The scripted
//! browser only stands in for the user on the login and consent pages. A disagreement between
//! irongate and the crate's reading of the specifications fails here.

use crate::helpers::{Browser, PASSWORD, REDIRECT, TestApp, spawn_app};
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreProviderMetadata, CoreTokenResponse, CoreUserInfoClaims,
};
use openidconnect::{
    AccessTokenHash, AuthType, AuthorizationCode, ClientId, ClientSecret, CsrfToken,
    EndpointMaybeSet, EndpointNotSet, EndpointSet, IssuerUrl, LogoutRequest, Nonce,
    OAuth2TokenResponse, PkceCodeChallenge, PostLogoutRedirectUrl, ProviderMetadataWithLogout,
    RedirectUrl, Scope, TokenResponse,
};
use std::collections::HashMap;

/// The crate's client as discovery configures it: the authorization endpoint is set; the token
/// and userinfo endpoints are whatever the provider metadata advertised.
type RelyingParty = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// reqwest 0.12, as re-exported by the crate.
type HttpClient = openidconnect::reqwest::Client;

const EMAIL: &str = "alice@example.com";

/// The HTTP client the crate talks through. It must not follow redirects (the crate's SSRF
/// warning).
fn http_client() -> HttpClient {
    openidconnect::reqwest::ClientBuilder::new()
        .redirect(openidconnect::reqwest::redirect::Policy::none())
        .build()
        .expect("HTTP client")
}

/// Discovers irongate at its issuer (exactly `app.address`, no trailing slash) and builds the
/// crate's client for `client_id`: confidential when `secret` is given, public otherwise.
async fn discover(
    app: &TestApp,
    http: &HttpClient,
    client_id: &str,
    secret: Option<&str>,
) -> RelyingParty {
    let issuer = IssuerUrl::new(app.address.clone()).expect("issuer URL");
    let metadata = CoreProviderMetadata::discover_async(issuer, http)
        .await
        .expect("discovery (and JWKS) through the crate");
    assert_eq!(metadata.issuer().as_str(), app.address);
    RelyingParty::from_provider_metadata(
        metadata,
        ClientId::new(client_id.to_owned()),
        secret.map(|s| ClientSecret::new(s.to_owned())),
    )
    .set_redirect_uri(RedirectUrl::new(REDIRECT.to_owned()).expect("redirect URI"))
}

/// What one sign-in through the crate produced, already checked.
struct SignedIn {
    tokens: CoreTokenResponse,
    /// The `auth_time` of the ID token, in seconds since the epoch.
    auth_time: i64,
    /// The user's browser, signed in at irongate.
    browser: Browser,
}

/// One authorization-code flow driven by the crate: the authorization URL it builds (PKCE S256,
/// `state`, `nonce`, scopes `openid email profile`) goes through the scripted browser (login,
/// consent), the code and `state` come back on the redirect, and the crate redeems the code with
/// the PKCE verifier. The ID token and userinfo are then validated through the crate as well.
async fn sign_in(app: &TestApp, rp: &RelyingParty, http: &HttpClient, user_id: &str) -> SignedIn {
    let (pkce_challenge, pkce_verifier) = PkceCodeChallenge::new_random_sha256();
    let (authorize_url, csrf_state, nonce) = rp
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("email".to_owned()))
        .add_scope(Scope::new("profile".to_owned()))
        .set_pkce_challenge(pkce_challenge)
        .url();
    assert!(
        authorize_url
            .as_str()
            .starts_with(&format!("{}/authorize?", app.address)),
        "{authorize_url}"
    );
    let request: HashMap<String, String> = authorize_url.query_pairs().into_owned().collect();
    assert_eq!(request["response_type"], "code");
    assert_eq!(request["code_challenge_method"], "S256");
    assert_eq!(request["scope"], "openid email profile");

    // The user's side: login page, consent page, redirect back to the relying party.
    let browser = Browser::new(app);
    let login = browser.get(authorize_url.as_str()).await;
    assert_eq!(login.status, 200, "{}", login.body);
    let after_login = browser.login(&login, EMAIL, PASSWORD).await;
    assert_eq!(after_login.status, 303, "{}", after_login.body);
    let consent = browser.follow(&after_login).await;
    let done = browser.consent(&consent, "allow").await;
    assert_eq!(done.status, 303, "{}", done.body);
    let location = done.location().expect("a redirect to the client");
    assert!(location.starts_with(&format!("{REDIRECT}?")), "{location}");
    let params = done.redirect_params();
    assert_eq!(params["state"], *csrf_state.secret(), "state comes back");
    assert_eq!(params["iss"], app.address, "RFC 9207 iss");
    let code = AuthorizationCode::new(params["code"].clone());

    let tokens = rp
        .exchange_code(code)
        .expect("the token endpoint is discovered")
        .set_pkce_verifier(pkce_verifier)
        .request_async(http)
        .await
        .expect("code exchange through the crate");

    // The ID token, validated by the crate: signature with the JWKS key, issuer, audience,
    // authorized party, expiry, algorithm (RS256 as advertised) and the nonce of this request.
    let id_token = tokens.id_token().expect("an ID token");
    let verifier = rp.id_token_verifier();
    let claims = id_token
        .claims(&verifier, &nonce)
        .expect("the crate accepts the ID token");
    assert_eq!(claims.subject().as_str(), user_id);
    assert_eq!(claims.issuer().as_str(), app.address);
    assert_eq!(
        claims.authorized_party().map(|azp| azp.as_str()),
        Some(rp.client_id().as_str())
    );
    assert_eq!(claims.email().map(|e| e.as_str()), Some(EMAIL));
    assert_eq!(
        claims
            .name()
            .and_then(|name| name.get(None))
            .map(|name| name.as_str()),
        Some("Test User")
    );
    let auth_time = claims.auth_time().expect("auth_time").timestamp();
    assert!(
        auth_time <= claims.issue_time().timestamp(),
        "auth_time after iat"
    );

    // at_hash binds the access token to this ID token (OpenID Connect Core §3.1.3.8).
    let expected_hash = claims.access_token_hash().expect("at_hash");
    let actual_hash = AccessTokenHash::from_token(
        tokens.access_token(),
        id_token.signing_alg().expect("a signed ID token"),
        id_token
            .signing_key(&verifier)
            .expect("the signing key is in the JWKS"),
    )
    .expect("at_hash computed by the crate");
    assert_eq!(*expected_hash, actual_hash);

    // Userinfo through the crate, with the access token just issued.
    let userinfo: CoreUserInfoClaims = rp
        .user_info(tokens.access_token().clone(), None)
        .expect("the userinfo endpoint is discovered")
        .request_async(http)
        .await
        .expect("userinfo through the crate");
    assert_eq!(userinfo.subject().as_str(), user_id);
    assert_eq!(userinfo.email().map(|e| e.as_str()), Some(EMAIL));

    SignedIn {
        tokens,
        auth_time,
        browser,
    }
}

/// A confidential client authenticating with client_secret_basic (the crate's default).
#[tokio::test]
async fn openidconnect_rp_confidential_client_signs_in() {
    let app = spawn_app().await;
    let user_id = app.create_user(EMAIL, PASSWORD);
    let client = app.create_client(&["--redirect-uri", REDIRECT]);
    assert!(
        !client.secret.is_empty(),
        "a confidential client has a secret"
    );
    let http = http_client();
    let rp = discover(&app, &http, &client.id, Some(&client.secret)).await;
    assert!(matches!(rp.auth_type(), AuthType::BasicAuth));

    let SignedIn {
        tokens, auth_time, ..
    } = sign_in(&app, &rp, &http, &user_id).await;

    // Refresh through the crate: a new access token and a rotated refresh token.
    let refresh_token = tokens.refresh_token().expect("a refresh token");
    let refreshed = rp
        .exchange_refresh_token(refresh_token)
        .expect("the token endpoint is discovered")
        .request_async(&http)
        .await
        .expect("refresh through the crate");
    assert_ne!(
        refreshed.access_token().secret(),
        tokens.access_token().secret(),
        "a new access token"
    );
    let rotated = refreshed.refresh_token().expect("a rotated refresh token");
    assert_ne!(rotated.secret(), refresh_token.secret());

    // A refreshed ID token, if any, is valid for the crate, for the same user and the original
    // authentication, without a nonce (OpenID Connect Core §12.2).
    if let Some(id_token) = refreshed.id_token() {
        let claims = id_token
            .claims(
                &rp.id_token_verifier(),
                |nonce: Option<&Nonce>| match nonce {
                    None => Ok(()),
                    Some(_) => Err("a refreshed ID token carries no nonce".to_owned()),
                },
            )
            .expect("the crate accepts the refreshed ID token");
        assert_eq!(claims.subject().as_str(), user_id);
        assert_eq!(
            claims.auth_time().map(|t| t.timestamp()),
            Some(auth_time),
            "auth_time is the original authentication"
        );
    }

    // The new access token works at userinfo.
    let userinfo: CoreUserInfoClaims = rp
        .user_info(refreshed.access_token().clone(), None)
        .expect("the userinfo endpoint is discovered")
        .request_async(&http)
        .await
        .expect("userinfo with the refreshed access token");
    assert_eq!(userinfo.subject().as_str(), user_id);
}

/// A public client: no secret, `client_id` in the request body, PKCE as its only proof.
#[tokio::test]
async fn openidconnect_rp_public_client_signs_in() {
    let app = spawn_app().await;
    let user_id = app.create_user(EMAIL, PASSWORD);
    let client = app.create_client(&["--public", "--redirect-uri", REDIRECT]);
    assert!(client.secret.is_empty(), "a public client has no secret");
    let http = http_client();
    let rp = discover(&app, &http, &client.id, None)
        .await
        .set_auth_type(AuthType::RequestBody);
    assert!(matches!(rp.auth_type(), AuthType::RequestBody));

    sign_in(&app, &rp, &http, &user_id).await;
}

/// RP-Initiated Logout through the crate: the end-session endpoint comes from discovery, the
/// crate builds the logout URL (ID token hint, registered post-logout URI, state), irongate ends
/// the session and sends the browser back at once with `state`; a silent sign-in then fails.
#[tokio::test]
async fn openidconnect_rp_logs_the_user_out() {
    const AFTER_LOGOUT: &str = "https://rp.test/logged-out";
    let app = spawn_app().await;
    let user_id = app.create_user(EMAIL, PASSWORD);
    let client = app.create_client(&[
        "--redirect-uri",
        REDIRECT,
        "--post-logout-redirect-uri",
        AFTER_LOGOUT,
    ]);
    let http = http_client();
    let rp = discover(&app, &http, &client.id, Some(&client.secret)).await;
    let SignedIn {
        tokens, browser, ..
    } = sign_in(&app, &rp, &http, &user_id).await;

    let metadata = ProviderMetadataWithLogout::discover_async(
        IssuerUrl::new(app.address.clone()).expect("issuer URL"),
        &http,
    )
    .await
    .expect("discovery with the logout metadata");
    let end_session = metadata
        .additional_metadata()
        .end_session_endpoint
        .clone()
        .expect("end_session_endpoint is advertised");
    let logout_url = LogoutRequest::from(end_session)
        .set_id_token_hint(tokens.id_token().expect("an ID token"))
        .set_post_logout_redirect_uri(
            PostLogoutRedirectUrl::new(AFTER_LOGOUT.to_owned()).expect("URL"),
        )
        .set_state(CsrfToken::new("bye-1".to_owned()))
        .http_get_url();
    let page = browser.get(logout_url.as_str()).await;
    assert_eq!(page.status, 303, "{}", page.body);
    assert_eq!(
        page.location().as_deref(),
        Some(format!("{AFTER_LOGOUT}?state=bye-1").as_str())
    );

    // The session is over: a silent authorization request needs a sign-in.
    let (silent, _, _) = rp
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .set_pkce_challenge(PkceCodeChallenge::new_random_sha256().0)
        .add_prompt(openidconnect::core::CoreAuthPrompt::None)
        .url();
    let page = browser.get(silent.as_str()).await;
    assert_eq!(page.redirect_params()["error"], "login_required");
}

/// The claims irongate adds to ID tokens for roles and organizations, as an RP declares them to
/// the crate.
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize)]
struct RoleClaims {
    #[serde(default)]
    roles: Option<Vec<String>>,
    #[serde(default)]
    org_id: Option<String>,
    #[serde(default)]
    org_roles: Option<Vec<String>>,
}

impl openidconnect::AdditionalClaims for RoleClaims {}

type RoleIdToken = openidconnect::IdToken<
    RoleClaims,
    openidconnect::core::CoreGenderClaim,
    openidconnect::core::CoreJweContentEncryptionAlgorithm,
    openidconnect::core::CoreJwsSigningAlgorithm,
>;

/// CONTRACT "Roles, permissions and organizations": with the `roles` scope and
/// `organization=acme`, the crate as RP validates an ID token carrying `org_id`, `roles` and
/// `org_roles` (read through its additional-claims type), and finds `roles` in discovery.
#[tokio::test]
async fn openidconnect_rp_receives_org_id_and_roles() {
    let app = spawn_app().await;
    app.create_user(EMAIL, PASSWORD);
    let ok = |args: &[&str]| app.env.cli(args, None).json();
    ok(&["role", "create", "viewer", "--permission", "posts:read"]);
    ok(&[
        "role",
        "create",
        "editor",
        "--permission",
        "posts:write",
        "--inherits",
        "viewer",
    ]);
    let acme = ok(&["org", "create", "--slug", "acme", "--name", "Acme"]);
    ok(&["user", "add-role", "--email", EMAIL, "--role", "viewer"]);
    ok(&[
        "org",
        "add-member",
        "--org",
        "acme",
        "--email",
        EMAIL,
        "--role",
        "editor",
    ]);
    let client = app.create_client(&[
        "--redirect-uri",
        REDIRECT,
        "--scope",
        "openid",
        "--scope",
        "roles",
    ]);
    let http = http_client();
    let issuer = IssuerUrl::new(app.address.clone()).unwrap();
    let metadata = CoreProviderMetadata::discover_async(issuer, &http)
        .await
        .unwrap();
    assert!(
        metadata
            .scopes_supported()
            .is_some_and(|s| s.iter().any(|s| s.as_str() == "roles")),
        "discovery advertises the roles scope"
    );
    let rp = discover(&app, &http, &client.id, Some(&client.secret)).await;
    let (pkce_challenge, pkce_verifier) = PkceCodeChallenge::new_random_sha256();
    let (authorize_url, _, nonce) = rp
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("roles".to_owned()))
        .add_extra_param("organization", "acme")
        .set_pkce_challenge(pkce_challenge)
        .url();
    let browser = Browser::new(&app);
    let login = browser.get(authorize_url.as_str()).await;
    let after_login = browser.login(&login, EMAIL, PASSWORD).await;
    let consent = browser.follow(&after_login).await;
    let done = browser.consent(&consent, "allow").await;
    let code = AuthorizationCode::new(done.redirect_params()["code"].clone());
    let tokens = rp
        .exchange_code(code)
        .unwrap()
        .set_pkce_verifier(pkce_verifier)
        .request_async(&http)
        .await
        .expect("code exchange through the crate");
    let raw = tokens.id_token().expect("an ID token").to_string();
    let id_token: RoleIdToken = raw.parse().expect("the crate parses the ID token");
    let claims = id_token
        .claims(&rp.id_token_verifier(), &nonce)
        .expect("the crate accepts the ID token");
    let extra = claims.additional_claims();
    assert_eq!(extra.org_id.as_deref(), acme["id"].as_str());
    assert_eq!(extra.roles.as_deref(), Some(&["viewer".to_owned()][..]));
    assert_eq!(
        extra.org_roles.as_deref(),
        Some(&["editor".to_owned(), "viewer".to_owned()][..])
    );
}
