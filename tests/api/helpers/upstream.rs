//! An OpenID provider the tests control, standing in for Google where a real provider would
//! never misbehave: it signs ID tokens with the fixture keys and can send a wrong `iss`, `aud`
//! or `nonce`, an expired token, `alg: none`, a key it does not publish, a `jku` header, an
//! unverified email, any `hd`; its token endpoint can answer with a redirect, a 500, nonsense,
//! or not at all; its discovery can be down.

use super::fixtures::{ATTACKER_KEY, FIXTURE_KEY};
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::traits::PublicKeyParts;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How the token endpoint answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenMode {
    Normal,
    /// 302 to `/elsewhere` (which counts its visitors: none may come).
    Redirect,
    Status500,
    Malformed,
    /// Answers after 60 s.
    Hang,
}

/// Changes to the next ID tokens.
#[derive(Debug, Clone, Default)]
pub struct Tamper {
    pub iss: Option<String>,
    pub aud: Option<Value>,
    pub azp: Option<String>,
    pub nonce: Option<String>,
    /// Seconds added to `exp` (negative: expired).
    pub exp_offset: i64,
    pub alg_none: bool,
    pub jku: Option<String>,
    /// Drop the email claims from the ID token (they then come from userinfo).
    pub no_email_in_id_token: bool,
    /// Signed with the attacker key under the published key's id (a bad signature).
    pub forged: bool,
}

/// The provider's state, changed by tests between sign-ins.
pub struct Fake {
    pub client_id: String,
    pub client_secret: String,
    /// The kids published in the JWKS: "k1" (the fixture key), "k2" (the attacker key).
    pub published: Vec<&'static str>,
    pub signing_kid: &'static str,
    /// Who signs in: `sub`, `email`, `email_verified`, `name`, optional `hd`.
    pub user: Value,
    pub tamper: Tamper,
    pub token_mode: TokenMode,
    pub discovery_down: bool,
    /// Discovery answers after 60 s.
    pub discovery_hangs: bool,
    /// The JWKS answers 500.
    pub jwks_down: bool,
    /// Answer the authorization request with `error=access_denied`.
    pub deny: bool,
    /// Every authorization request's query.
    pub authorize_requests: Vec<HashMap<String, String>>,
    codes: HashMap<String, (Option<String>, String)>,
    pub token_requests: usize,
    pub elsewhere_hits: usize,
    pub jwks_fetches: usize,
}

pub struct FakeProvider {
    pub base: String,
    pub state: Arc<Mutex<Fake>>,
}

fn key_pem(kid: &str) -> &'static str {
    match kid {
        "k1" => FIXTURE_KEY,
        _ => ATTACKER_KEY,
    }
}

fn jwk(kid: &str) -> Value {
    let key = rsa::PrivateKey::from_pkcs1_pem(key_pem(kid)).unwrap();
    json!({
        "kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid,
        "n": URL_SAFE_NO_PAD.encode(key.n_bytes()),
        "e": URL_SAFE_NO_PAD.encode(key.e_bytes()),
    })
}

impl FakeProvider {
    /// Starts the provider on a random port; `client_id` / `client_secret` are what irongate
    /// must present.
    pub async fn start(client_id: &str, client_secret: &str) -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
        let state = Arc::new(Mutex::new(Fake {
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            published: vec!["k1"],
            signing_kid: "k1",
            user: json!({
                "sub": "g-1001",
                "email": "gina@gmail.com",
                "email_verified": true,
                "name": "Gina Upstream",
            }),
            tamper: Tamper::default(),
            token_mode: TokenMode::Normal,
            discovery_down: false,
            discovery_hangs: false,
            jwks_down: false,
            deny: false,
            authorize_requests: Vec::new(),
            codes: HashMap::new(),
            token_requests: 0,
            elsewhere_hits: 0,
            jwks_fetches: 0,
        }));
        let shared = web::Data::new((state.clone(), base.clone()));
        let server = HttpServer::new(move || {
            App::new()
                .app_data(shared.clone())
                .route(
                    "/.well-known/openid-configuration",
                    web::get().to(discovery),
                )
                .route("/jwks", web::get().to(jwks))
                .route("/authorize", web::get().to(authorize))
                .route("/token", web::post().to(token))
                .route("/userinfo", web::get().to(userinfo))
                .route("/elsewhere", web::to(elsewhere))
        })
        .workers(2)
        .listen(listener)
        .unwrap()
        .run();
        tokio::spawn(server);
        Self { base, state }
    }

    pub fn with<R>(&self, f: impl FnOnce(&mut Fake) -> R) -> R {
        f(&mut self.state.lock().unwrap())
    }
}

type Shared = web::Data<(Arc<Mutex<Fake>>, String)>;

async fn discovery(data: Shared) -> HttpResponse {
    let (state, base) = (&data.0, &data.1);
    let (down, hangs) = {
        let s = state.lock().unwrap();
        (s.discovery_down, s.discovery_hangs)
    };
    if hangs {
        tokio::time::sleep(Duration::from_secs(60)).await;
    }
    if down {
        return HttpResponse::ServiceUnavailable().body("down");
    }
    HttpResponse::Ok().json(json!({
        "issuer": base,
        "authorization_endpoint": format!("{base}/authorize"),
        "token_endpoint": format!("{base}/token"),
        "userinfo_endpoint": format!("{base}/userinfo"),
        "jwks_uri": format!("{base}/jwks"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
    }))
}

async fn jwks(data: Shared) -> HttpResponse {
    let mut s = data.0.lock().unwrap();
    s.jwks_fetches += 1;
    if s.jwks_down {
        return HttpResponse::InternalServerError().body("down");
    }
    let keys: Vec<Value> = s.published.iter().map(|k| jwk(k)).collect();
    HttpResponse::Ok().json(json!({ "keys": keys }))
}

async fn authorize(req: HttpRequest, data: Shared) -> HttpResponse {
    let query: HashMap<String, String> = url::form_urlencoded::parse(req.query_string().as_bytes())
        .into_owned()
        .collect();
    let mut s = data.0.lock().unwrap();
    s.authorize_requests.push(query.clone());
    let redirect = query.get("redirect_uri").cloned().unwrap_or_default();
    let state = query.get("state").cloned().unwrap_or_default();
    let mut url = url::Url::parse(&redirect).unwrap();
    if s.deny {
        url.query_pairs_mut()
            .append_pair("error", "access_denied")
            .append_pair("state", &state);
    } else {
        let code = format!("code-{}", s.authorize_requests.len());
        s.codes.insert(
            code.clone(),
            (
                query.get("nonce").cloned(),
                query.get("code_challenge").cloned().unwrap_or_default(),
            ),
        );
        url.query_pairs_mut()
            .append_pair("code", &code)
            .append_pair("state", &state);
    }
    HttpResponse::Found()
        .insert_header(("Location", url.to_string()))
        .finish()
}

async fn token(req: HttpRequest, body: web::Bytes, data: Shared) -> HttpResponse {
    let form: HashMap<String, String> = url::form_urlencoded::parse(&body).into_owned().collect();
    let mode = {
        let mut s = data.0.lock().unwrap();
        s.token_requests += 1;
        s.token_mode
    };
    match mode {
        TokenMode::Normal => {}
        TokenMode::Redirect => {
            return HttpResponse::Found()
                .insert_header(("Location", format!("{}/elsewhere", data.1)))
                .finish();
        }
        TokenMode::Status500 => return HttpResponse::InternalServerError().body("oops"),
        TokenMode::Malformed => {
            return HttpResponse::Ok()
                .content_type("application/json")
                .body("{\"access_token\": ");
        }
        TokenMode::Hang => {
            tokio::time::sleep(Duration::from_secs(60)).await;
            return HttpResponse::InternalServerError().finish();
        }
    }
    let s = data.0.lock().unwrap();
    // The client authenticates with HTTP Basic, as irongate does.
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD
            .encode(format!("{}:{}", s.client_id, s.client_secret))
    );
    let auth = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if auth != expected {
        return HttpResponse::Unauthorized().json(json!({"error": "invalid_client"}));
    }
    let code = form.get("code").cloned().unwrap_or_default();
    let Some((nonce, challenge)) = s.codes.get(&code).cloned() else {
        return HttpResponse::BadRequest().json(json!({"error": "invalid_grant"}));
    };
    // PKCE S256 (RFC 7636 §4.6).
    let verifier = form.get("code_verifier").cloned().unwrap_or_default();
    if URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())) != challenge {
        return HttpResponse::BadRequest()
            .json(json!({"error": "invalid_grant", "error_description": "PKCE"}));
    }
    let id_token = id_token(&s, &data.1, nonce);
    HttpResponse::Ok().json(json!({
        "access_token": "upstream-access-token",
        "token_type": "Bearer",
        "expires_in": 3600,
        "id_token": id_token,
    }))
}

fn id_token(s: &Fake, base: &str, nonce: Option<String>) -> String {
    let now = chrono::Utc::now().timestamp();
    let t = &s.tamper;
    let mut claims = json!({
        "iss": t.iss.clone().unwrap_or_else(|| base.to_owned()),
        "aud": t.aud.clone().unwrap_or_else(|| json!(s.client_id)),
        "iat": now,
        "exp": now + 300 + t.exp_offset,
    });
    if let Some(nonce) = t.nonce.clone().or(nonce) {
        claims["nonce"] = json!(nonce);
    }
    if let Some(azp) = &t.azp {
        claims["azp"] = json!(azp);
    }
    for (k, v) in s.user.as_object().unwrap() {
        if t.no_email_in_id_token && k.starts_with("email") {
            continue;
        }
        claims[k] = v.clone();
    }
    if t.alg_none {
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
        let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
        return format!("{header}.{payload}.");
    }
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some(s.signing_kid.to_owned());
    header.jku = t.jku.clone();
    let pem = if t.forged {
        ATTACKER_KEY
    } else {
        key_pem(s.signing_kid)
    };
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap();
    jsonwebtoken::encode(&header, &claims, &key).unwrap()
}

async fn userinfo(data: Shared) -> HttpResponse {
    let s = data.0.lock().unwrap();
    HttpResponse::Ok().json(&s.user)
}

async fn elsewhere(data: Shared) -> HttpResponse {
    data.0.lock().unwrap().elsewhere_hits += 1;
    HttpResponse::Ok().json(json!({"access_token": "x", "token_type": "Bearer"}))
}

/// irongate's client at the fake provider.
pub const UPSTREAM_CLIENT_ID: &str = "irongate-at-upstream";
pub const UPSTREAM_CLIENT_SECRET: &str = "upstream-client-secret";

/// `google.*` settings naming `issuer`.
pub fn google_settings(issuer: &str) -> irongate::config::GoogleSettings {
    irongate::config::GoogleSettings {
        client_id: UPSTREAM_CLIENT_ID.into(),
        client_secret: UPSTREAM_CLIENT_SECRET.into(),
        issuer: issuer.into(),
        allowed_domains: Vec::new(),
    }
}

/// A fake provider, and irongate federating to it (changed by `customize`) with Alice
/// ([`super::PASSWORD`]) and a confidential client registered for [`super::REDIRECT`].
pub async fn spawn_federated_with(
    customize: impl FnOnce(&mut super::app::Settings),
) -> (FakeProvider, super::app::TestApp, super::fixtures::Client) {
    let provider = FakeProvider::start(UPSTREAM_CLIENT_ID, UPSTREAM_CLIENT_SECRET).await;
    let issuer = provider.base.clone();
    let app = super::app::spawn_app_with(super::app::TestEnv::new(), move |s| {
        s.google = Some(google_settings(&issuer));
        customize(s);
    })
    .await;
    app.create_user("alice@example.com", super::fixtures::PASSWORD);
    let client = app.create_client(&["--redirect-uri", super::fixtures::REDIRECT]);
    (provider, app, client)
}

pub async fn spawn_federated() -> (FakeProvider, super::app::TestApp, super::fixtures::Client) {
    spawn_federated_with(|_| {}).await
}

/// The `href` of the element with `id` in `body`, unescaped.
pub fn href_of(body: &str, id: &str) -> Option<String> {
    let at = body.find(&format!("id=\"{id}\""))?;
    let tag_start = body[..at].rfind('<')?;
    let tag = &body[tag_start..tag_start + body[tag_start..].find('>')?];
    let href = tag.split("href=\"").nth(1)?.split('"').next()?;
    Some(super::browser::unescape(href))
}

impl super::browser::Browser {
    /// Clicks `a#login-google` on `page` (a login page served at `/authorize` or `/login`):
    /// irongate's answer (normally the redirect to the provider).
    pub async fn click_google(&self, page: &super::browser::Page) -> super::browser::Page {
        let href = href_of(&page.body, "login-google").expect("a#login-google on the page");
        assert!(href.starts_with("login/google?"), "{href}");
        self.get(&format!("/{href}")).await
    }

    /// Through the provider (which answers at once) back to irongate's callback: the callback's
    /// answer.
    pub async fn through_provider(&self, start: &super::browser::Page) -> super::browser::Page {
        assert_eq!(start.status, 302, "{}", start.body);
        let at_provider = self.get(&start.location().unwrap()).await;
        assert_eq!(at_provider.status, 302, "{}", at_provider.body);
        self.get(&at_provider.location().unwrap()).await
    }

    /// An authorization request for `client` (with PKCE), signed in through the provider:
    /// the callback's answer.
    pub async fn google_sign_in(&self, client: &super::fixtures::Client) -> super::browser::Page {
        let page = self
            .authorize(&super::browser::code_request(client, &[]))
            .await;
        let start = self.click_google(&page).await;
        self.through_provider(&start).await
    }
}

impl super::app::TestApp {
    /// The user with `email`, read from the database.
    pub async fn user_by_email(&self, email: &str) -> Option<irongate::store::User> {
        let email = email.to_lowercase();
        self.state
            .store
            .run(move |c| irongate::store::find_user_by_email(c, &email))
            .await
            .unwrap()
    }

    /// The user the identity (`issuer`, `subject`) is linked to.
    pub async fn linked_user(&self, issuer: &str, subject: &str) -> Option<String> {
        let (issuer, subject) = (issuer.to_owned(), subject.to_owned());
        self.state
            .store
            .run(move |c| irongate::store::find_identity(c, &issuer, &subject))
            .await
            .unwrap()
    }
}

/// Whether `page` starts a signed-in session (sets the session cookie to a stored session's
/// value, which has no `.`).
pub fn starts_session(page: &super::browser::Page) -> bool {
    page.headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|c| {
            c.starts_with("irongate_session=")
                && !super::browser::Browser::cookie_value(c).contains('.')
                && !super::browser::Browser::cookie_value(c).is_empty()
        })
}
