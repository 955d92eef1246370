//! Sessions, `prompt`, `max_age`, consent memory and RP-initiated logout (checklist section F,
//! and SEC-50/51/53 of section G).

use crate::helpers::{
    Browser, Client, PASSWORD, Page, REDIRECT, TestApp, TestEnv, code_request, spawn_app_with,
};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

const LOGOUT_TARGET: &str = "https://rp.test/logged-out";

fn claims_of(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

async fn setup_with(customize: impl FnOnce(&mut irongate::config::Settings)) -> (TestApp, Client) {
    let app = spawn_app_with(TestEnv::new(), customize).await;
    app.create_user("alice@example.com", PASSWORD);
    app.create_user("bob@example.com", PASSWORD);
    let c = app.create_client(&[
        "--redirect-uri",
        REDIRECT,
        "--post-logout-redirect-uri",
        LOGOUT_TARGET,
    ]);
    (app, c)
}

async fn setup() -> (TestApp, Client) {
    setup_with(|_| {}).await
}

/// Signs in and exchanges the code: the token response.
async fn tokens(app: &TestApp, c: &Client, browser: &Browser, extra: &[(&str, &str)]) -> Value {
    let page = browser
        .sign_in_and_approve(&code_request(c, extra), "alice@example.com")
        .await;
    code_tokens(app, c, &page).await
}

async fn code_tokens(app: &TestApp, c: &Client, page: &Page) -> Value {
    let code = page.redirect_params()["code"].clone();
    let (status, body) = app.exchange_code(c, &code).await;
    assert_eq!(status, 200, "{body}");
    body
}

fn id_claims(body: &Value) -> Value {
    claims_of(body["id_token"].as_str().unwrap())
}

fn error_of(page: &Page) -> String {
    assert!(
        !page.has("<form"),
        "a page was shown instead of a silent answer"
    );
    page.redirect_params()
        .get("error")
        .cloned()
        .unwrap_or_default()
}

/// SEC-43: `prompt=none` without a session answers `login_required` silently, with state and iss.
#[tokio::test]
async fn sec_43_prompt_none_without_session_is_login_required() {
    let (app, c) = setup().await;
    let page = Browser::new(&app)
        .authorize(&code_request(&c, &[("prompt", "none")]))
        .await;
    assert_eq!(page.status, 302);
    let params = page.redirect_params();
    assert_eq!(params["error"], "login_required");
    assert_eq!(params["state"], "af0ifjsldkj");
    assert_eq!(params["iss"], app.address);
}

/// SEC-44: with a session, `prompt=none` (with or without the previous ID token as hint) is
/// silent and consistent; a hint for someone else, or a forged one, gives no code.
#[tokio::test]
async fn sec_44_prompt_none_with_session_and_id_token_hint() {
    let (app, c) = setup().await;
    let browser = Browser::new(&app);
    let first = id_claims(&tokens(&app, &c, &browser, &[]).await);
    let hint = tokens(&app, &c, &browser, &[("prompt", "none")]).await["id_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let silent = id_claims(
        &tokens(
            &app,
            &c,
            &browser,
            &[("prompt", "none"), ("id_token_hint", &hint)],
        )
        .await,
    );
    assert_eq!(silent["sub"], first["sub"]);
    assert_eq!(silent["auth_time"], first["auth_time"]);
    assert_eq!(silent["sid"], first["sid"]);

    // Bob's ID token as the hint while Alice is signed in.
    let bob_browser = Browser::new(&app);
    let bob_page = bob_browser
        .sign_in_and_approve(&code_request(&c, &[]), "bob@example.com")
        .await;
    let bob_hint = code_tokens(&app, &c, &bob_page).await["id_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let page = browser
        .authorize(&code_request(
            &c,
            &[("prompt", "none"), ("id_token_hint", &bob_hint)],
        ))
        .await;
    assert_eq!(error_of(&page), "login_required");

    // Tampered hints: alg none, a flipped signature, a foreign key, garbage.
    for bad in forged_hints(&hint) {
        let page = browser
            .authorize(&code_request(
                &c,
                &[("prompt", "none"), ("id_token_hint", &bad)],
            ))
            .await;
        assert_eq!(error_of(&page), "invalid_request");
    }
}

/// Forgeries of a real ID token: `alg: none`, a flipped signature character, the same claims
/// signed by a foreign key under the real `kid`, and garbage.
fn forged_hints(hint: &str) -> [String; 4] {
    let parts: Vec<&str> = hint.split('.').collect();
    let none_header = URL_SAFE_NO_PAD.encode(json!({"alg": "none", "typ": "JWT"}).to_string());
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(
        include_str!("../fixtures/attacker-key.pem").as_bytes(),
    )
    .unwrap();
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = jsonwebtoken::decode_header(hint).unwrap().kid;
    header.typ = Some("JWT".into());
    let foreign = jsonwebtoken::encode(&header, &claims_of(hint), &key).unwrap();
    [
        format!("{none_header}.{}.", parts[1]),
        tamper_signature(hint),
        foreign,
        "x.y.z".into(),
    ]
}

/// The token with one signature character changed (in the middle: every bit there counts).
fn tamper_signature(token: &str) -> String {
    let (head, sig) = token.rsplit_once('.').unwrap();
    let mut sig = sig.as_bytes().to_vec();
    sig[10] = if sig[10] == b'A' { b'B' } else { b'A' };
    format!("{head}.{}", String::from_utf8(sig).unwrap())
}

/// SEC-45: `prompt=login` and `max_age` force a new sign-in; signing in as someone else never
/// reuses the old session.
#[tokio::test]
async fn sec_45_prompt_login_and_max_age_force_reauthentication() {
    let (app, c) = setup().await;
    let browser = Browser::new(&app);
    let first = id_claims(&tokens(&app, &c, &browser, &[]).await);
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;

    // max_age=10000: still silent.
    let page = browser
        .authorize(&code_request(&c, &[("max_age", "10000")]))
        .await;
    assert_eq!(page.status, 302);
    // max_age=1 after two seconds: the login form, then a newer auth_time.
    let page = browser
        .authorize(&code_request(&c, &[("max_age", "1")]))
        .await;
    assert!(page.has("<form id=\"login\""));
    let page = browser
        .sign_in_and_approve(&code_request(&c, &[("max_age", "1")]), "alice@example.com")
        .await;
    let second = id_claims(&code_tokens(&app, &c, &page).await);
    assert!(second["auth_time"].as_i64() > first["auth_time"].as_i64());
    // max_age with prompt=none and a stale session: login_required.
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let page = browser
        .authorize(&code_request(&c, &[("max_age", "1"), ("prompt", "none")]))
        .await;
    assert_eq!(error_of(&page), "login_required");

    // prompt=login for the same user: the form again, a newer auth_time, a new session.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let page = browser
        .authorize(&code_request(&c, &[("prompt", "login")]))
        .await;
    assert!(page.has("<form id=\"login\""));
    let again = browser.login(&page, "alice@example.com", PASSWORD).await;
    let alice_cookie = Browser::session_cookie(&again).expect("a new session cookie");
    let page = browser.follow(&again).await;
    let page = if page.has("<form id=\"consent\"") {
        browser.consent(&page, "allow").await
    } else {
        page
    };
    let third = id_claims(&code_tokens(&app, &c, &page).await);
    assert!(third["auth_time"].as_i64() > second["auth_time"].as_i64());
    assert_ne!(third["sid"], second["sid"]);

    // prompt=login: the form again; Bob signs in on Alice's browser.
    let page = browser
        .authorize(&code_request(&c, &[("prompt", "login")]))
        .await;
    assert!(page.has("<form id=\"login\""));
    let after = browser.login(&page, "bob@example.com", PASSWORD).await;
    assert_eq!(after.status, 303);
    let new_cookie = Browser::session_cookie(&after).expect("a new session cookie");
    let page = browser.follow(&after).await;
    let page = browser.consent(&page, "allow").await;
    let bob = id_claims(&code_tokens(&app, &c, &page).await);
    assert_ne!(bob["sub"], first["sub"]);
    assert_ne!(bob["sid"], second["sid"]);
    assert_ne!(
        new_cookie.split(';').next(),
        alice_cookie.split(';').next(),
        "Bob's session is not Alice's"
    );
}

/// SEC-45: `max_age=0` is `prompt=login` (OpenID Connect Core §3.1.2.1), even within the
/// second of the last sign-in; signing in satisfies it.
#[tokio::test]
async fn sec_45_max_age_zero_always_asks_to_sign_in() {
    let (app, c) = setup().await;
    let browser = Browser::new(&app);
    tokens(&app, &c, &browser, &[]).await;
    let page = browser
        .authorize(&code_request(&c, &[("max_age", "0")]))
        .await;
    assert!(page.has("<form id=\"login\""), "{}", page.body);
    let page = browser
        .authorize(&code_request(&c, &[("max_age", "0"), ("prompt", "none")]))
        .await;
    assert_eq!(error_of(&page), "login_required");
    let page = browser
        .sign_in_and_approve(&code_request(&c, &[("max_age", "0")]), "alice@example.com")
        .await;
    let claims = id_claims(&code_tokens(&app, &c, &page).await);
    assert!(claims["auth_time"].is_i64());
}

/// SEC-46: the nonce is optional for the code flow and echoed exactly when sent.
#[tokio::test]
async fn sec_46_nonce_optional_and_echoed() {
    let (app, c) = setup().await;
    let browser = Browser::new(&app);
    let without = id_claims(&tokens(&app, &c, &browser, &[("nonce", "")]).await);
    assert!(without.get("nonce").is_none());
    let long = "n".repeat(64);
    let with = id_claims(&tokens(&app, &c, &browser, &[("nonce", &long)]).await);
    assert_eq!(with["nonce"], long.as_str());
}

/// SEC-46: a client sending the same `code_challenge` and `nonce` in request after request is
/// flagged in the log (RFC 9700 §2.1.1: SHOULD detect constant values); fresh values are not.
#[tokio::test]
async fn sec_46_constant_challenge_and_nonce_are_flagged_in_logs() {
    crate::helpers::warnings_logged();
    let (app, c) = setup().await;
    let browser = Browser::new(&app);
    tokens(&app, &c, &browser, &[("nonce", "constant-nonce")]).await;
    // Three uses in all: the first warning (the next ones come at 4, 8, 16, …).
    for _ in 0..2 {
        let page = browser
            .authorize(&code_request(&c, &[("nonce", "constant-nonce")]))
            .await;
        assert!(page.redirect_params().contains_key("code"));
    }
    let fresh = app.create_client(&["--redirect-uri", REDIRECT]);
    let browser = Browser::new(&app);
    tokens(&app, &fresh, &browser, &[]).await;
    for i in 0..4 {
        let (nonce, challenge) = (format!("nonce-{i}"), format!("{:0>43}", i));
        let page = browser
            .authorize(&code_request(
                &fresh,
                &[("nonce", &nonce), ("code_challenge", &challenge)],
            ))
            .await;
        assert!(page.redirect_params().contains_key("code"));
    }
    let logs = crate::helpers::warnings_logged();
    let of = |client: &str, parameter: &str| {
        logs.lines()
            .filter(|l| l.contains(client) && l.contains(&format!("parameter=\"{parameter}\"")))
            .count()
    };
    assert_eq!(of(&c.id, "code_challenge"), 1, "{logs}");
    assert_eq!(of(&c.id, "nonce"), 1, "{logs}");
    assert_eq!(of(&fresh.id, "code_challenge") + of(&fresh.id, "nonce"), 0);
}

/// SEC-50: signing in issues a new session id; the pre-login one no longer works.
#[tokio::test]
async fn sec_50_new_session_id_at_sign_in() {
    let (app, c) = setup().await;
    let browser = Browser::new(&app);
    let page = browser.authorize(&code_request(&c, &[])).await;
    let before = Browser::session_cookie(&page).unwrap();
    let after = browser.login(&page, "alice@example.com", PASSWORD).await;
    let now = Browser::session_cookie(&after).unwrap();
    let value = |c: &str| c.split(';').next().unwrap().to_owned();
    assert_ne!(value(&before), value(&now));
    // An attacker who planted (or kept) the pre-login cookie gets nothing.
    let attacker = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let resp = attacker
        .get(app.url("/authorize"))
        .query(&code_request(&c, &[("prompt", "none")]))
        .header("Cookie", value(&before))
        .send()
        .await
        .unwrap();
    let page = Browser::read(resp).await;
    assert_eq!(error_of(&page), "login_required");
    // The new cookie works.
    let resp = attacker
        .get(app.url("/authorize"))
        .query(&code_request(
            &c,
            &[("prompt", "none"), ("scope", "openid")],
        ))
        .header("Cookie", value(&now))
        .send()
        .await
        .unwrap();
    let page = Browser::read(resp).await;
    assert_eq!(error_of(&page), "consent_required");
}

/// SEC-51: idle and absolute session timeouts end the session.
#[tokio::test]
async fn sec_51_idle_and_absolute_timeouts() {
    // Timeouts of a few seconds leave a slow CI machine room to finish the sign-in itself.
    let (app, c) = setup_with(|s| s.session_idle_timeout = 2).await;
    let browser = Browser::new(&app);
    tokens(&app, &c, &browser, &[]).await;
    tokio::time::sleep(std::time::Duration::from_millis(3100)).await;
    let page = browser
        .authorize(&code_request(&c, &[("prompt", "none")]))
        .await;
    assert_eq!(error_of(&page), "login_required");

    let (app, c) = setup_with(|s| s.session_lifetime = 3).await;
    let browser = Browser::new(&app);
    tokens(&app, &c, &browser, &[]).await;
    // Kept busy, it still ends at its absolute lifetime.
    for _ in 0..4 {
        tokio::time::sleep(std::time::Duration::from_millis(800)).await;
        browser
            .authorize(&code_request(&c, &[("prompt", "none")]))
            .await;
    }
    let page = browser
        .authorize(&code_request(&c, &[("prompt", "none")]))
        .await;
    assert_eq!(error_of(&page), "login_required");
}

/// "Log out everywhere" and disabling the user end browser sessions too.
#[tokio::test]
async fn logout_all_and_disable_end_browser_sessions() {
    let (app, c) = setup().await;
    let browser = Browser::new(&app);
    tokens(&app, &c, &browser, &[]).await;
    app.env
        .cli(
            &["user", "logout-all", "--email", "alice@example.com"],
            None,
        )
        .json();
    let page = browser
        .authorize(&code_request(&c, &[("prompt", "none")]))
        .await;
    assert_eq!(error_of(&page), "login_required");

    tokens(&app, &c, &browser, &[]).await;
    app.env
        .cli(&["user", "disable", "--email", "alice@example.com"], None)
        .json();
    let page = browser
        .authorize(&code_request(&c, &[("prompt", "none")]))
        .await;
    assert_eq!(error_of(&page), "login_required");
}

/// SEC-53: consent is explicit and remembered per user, client and scope set; more scopes ask
/// again; `prompt=consent` always asks; deny is `access_denied` with state and iss; a consent
/// form is good only for the request it was rendered for.
#[tokio::test]
async fn sec_53_consent_memory_prompt_consent_and_deny() {
    let (app, c) = setup().await;
    let browser = Browser::new(&app);
    tokens(&app, &c, &browser, &[("scope", "openid")]).await;
    // Remembered for the same scopes.
    let page = browser
        .authorize(&code_request(&c, &[("scope", "openid")]))
        .await;
    assert_eq!(page.status, 302);
    // Asked again when they grow, listing each.
    let page = browser
        .authorize(&code_request(&c, &[("scope", "openid email")]))
        .await;
    assert!(page.has("data-scope=\"email\""), "{}", page.body);
    let with_prompt_none = browser
        .authorize(&code_request(
            &c,
            &[("scope", "openid email"), ("prompt", "none")],
        ))
        .await;
    assert_eq!(error_of(&with_prompt_none), "consent_required");
    // Deny.
    let denied = browser.consent(&page, "deny").await;
    assert_eq!(denied.status, 303);
    let params = denied.redirect_params();
    assert_eq!(params["error"], "access_denied");
    assert_eq!(params["state"], "af0ifjsldkj");
    assert_eq!(params["iss"], app.address);
    assert!(!params.contains_key("code"));
    // A form rendered for request A, posted with request B's parameters.
    let page_a = browser
        .authorize(&code_request(&c, &[("scope", "openid email")]))
        .await;
    let other = code_request(&c, &[("scope", "openid email profile"), ("state", "B")]);
    let request_b = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(&other)
        .finish();
    let forged = browser
        .post(
            "/consent",
            &[
                ("csrf_token", &page_a.hidden("csrf_token")),
                ("request", &request_b),
                ("decision", "allow"),
            ],
        )
        .await;
    assert_eq!(forged.status, 403);
    assert!(forged.location().is_none());
    // prompt=consent asks even when remembered, and even for --skip-consent clients.
    let page = browser
        .authorize(&code_request(
            &c,
            &[("scope", "openid"), ("prompt", "consent")],
        ))
        .await;
    assert!(page.has("<form id=\"consent\""));
    let first_party = app.create_client(&["--redirect-uri", REDIRECT, "--skip-consent"]);
    let page = browser.authorize(&code_request(&first_party, &[])).await;
    assert_eq!(page.status, 302, "skip-consent asks nothing");
    let page = browser
        .authorize(&code_request(&first_party, &[("prompt", "consent")]))
        .await;
    assert!(page.has("<form id=\"consent\""));
}

/// SEC-47, SEC-48, SEC-12: RP-initiated logout. A valid hint with a registered URI ends the
/// session and goes back at once with `state`; anything unregistered or forged never redirects;
/// without a hint a confirmation page asks; afterwards the old cookie is worthless.
#[tokio::test]
async fn sec_47_sec_48_rp_initiated_logout() {
    let (app, c) = setup().await;
    let browser = Browser::new(&app);
    let body = tokens(&app, &c, &browser, &[]).await;
    let hint = body["id_token"].as_str().unwrap().to_owned();

    // Unregistered or altered post-logout URIs, with a valid hint: logged out, no redirect.
    for bad in [
        "https://evil.test/",
        "https://rp.test/logged-out?foo=bar",
        "https://rp.test/logged-out/",
        "//evil.test",
        "/\\evil.test",
        "/%09/evil.test",
        "\\/evil.test",
        "https:evil.test",
    ] {
        let browser = Browser::new(&app);
        let own = tokens(&app, &c, &browser, &[]).await;
        let page = browser
            .get(&format!(
                "/logout?{}",
                url::form_urlencoded::Serializer::new(String::new())
                    .extend_pairs([
                        ("id_token_hint", own["id_token"].as_str().unwrap()),
                        ("post_logout_redirect_uri", bad),
                        ("state", "s1"),
                    ])
                    .finish()
            ))
            .await;
        assert!(page.location().is_none(), "{bad}");
        assert!(page.has("id=\"logged-out\""), "{bad}: {}", page.body);
    }
    // Forged hints (alg none, a flipped signature, a foreign key, garbage): an error page, no
    // redirect.
    for bad in forged_hints(&hint) {
        let page = browser
            .get(&format!(
                "/logout?id_token_hint={bad}&post_logout_redirect_uri={LOGOUT_TARGET}"
            ))
            .await;
        assert_eq!(page.status, 400);
        assert!(page.location().is_none());
    }
    // A valid hint from another session of the same user (an old ID token, leaked in a URL):
    // RP-Initiated Logout §2 says ask, so a confirmation page, nothing ended yet.
    let other = Browser::new(&app);
    let old = tokens(&app, &c, &other, &[]).await;
    let page = browser
        .get(&format!(
            "/logout?id_token_hint={}&post_logout_redirect_uri={LOGOUT_TARGET}",
            old["id_token"].as_str().unwrap()
        ))
        .await;
    assert!(page.has("<form id=\"logout\""), "{}", page.body);
    assert!(page.location().is_none());
    // No parameters, or `state` only: a confirmation page, nothing ended yet.
    for query in ["", "?state=only"] {
        let page = browser.get(&format!("/logout{query}")).await;
        assert!(page.has("<form id=\"logout\""), "{query}: {}", page.body);
        assert!(page.location().is_none());
    }
    let still = browser
        .authorize(&code_request(&c, &[("prompt", "none")]))
        .await;
    assert!(still.redirect_params().contains_key("code"));
    // A confirmation POST without or with a wrong CSRF token: 403, the session lives.
    for token in ["", "AAAA"] {
        let refused = browser
            .post("/logout", &[("csrf_token", token), ("request", "")])
            .await;
        if token.is_empty() {
            // An empty token is no token: the RP-initiated form of the request, continued as
            // a GET, which asks.
            assert_eq!(refused.status, 303);
            let page = browser.get(&refused.location().unwrap()).await;
            assert!(page.has("<form id=\"logout\""));
        } else {
            assert_eq!(refused.status, 403);
        }
    }
    let still = browser
        .authorize(&code_request(&c, &[("prompt", "none")]))
        .await;
    assert!(still.redirect_params().contains_key("code"));

    // Valid hint and registered URI: ended at once, 303 with state, cookie cleared.
    let page = browser
        .get(&format!(
            "/logout?id_token_hint={hint}&post_logout_redirect_uri={LOGOUT_TARGET}&state=s1"
        ))
        .await;
    assert_eq!(page.status, 303);
    assert_eq!(
        page.location().unwrap(),
        format!("{LOGOUT_TARGET}?state=s1")
    );
    let cleared = Browser::session_cookie(&page).unwrap();
    assert!(
        cleared.contains("Max-Age=0") || cleared.contains("expires="),
        "{cleared}"
    );
    // SEC-48: prompt=none now needs a login.
    let page = browser
        .authorize(&code_request(&c, &[("prompt", "none")]))
        .await;
    assert_eq!(error_of(&page), "login_required");
}

/// SEC-48: replaying the session cookie after logout gives nothing; the confirmation path works.
#[tokio::test]
async fn sec_48_logout_confirmation_ends_the_session_for_good() {
    let (app, c) = setup().await;
    let browser = Browser::new(&app);
    let page = browser.authorize(&code_request(&c, &[])).await;
    let after = browser.login(&page, "alice@example.com", PASSWORD).await;
    let cookie = Browser::session_cookie(&after).unwrap();
    let cookie = cookie.split(';').next().unwrap().to_owned();
    browser.follow(&after).await;

    let confirm = browser
        .get(&format!(
            "/logout?client_id={}&post_logout_redirect_uri={LOGOUT_TARGET}&state=abc",
            c.id
        ))
        .await;
    assert!(confirm.has("<form id=\"logout\""));
    let done = browser
        .post(
            "/logout",
            &[
                ("csrf_token", &confirm.hidden("csrf_token")),
                ("request", &confirm.hidden("request")),
            ],
        )
        .await;
    assert_eq!(done.status, 303);
    assert_eq!(
        done.location().unwrap(),
        format!("{LOGOUT_TARGET}?state=abc")
    );

    let replay = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(app.url("/authorize"))
        .query(&code_request(&c, &[("prompt", "none")]))
        .header("Cookie", cookie)
        .send()
        .await
        .unwrap();
    let page = Browser::read(replay).await;
    assert_eq!(error_of(&page), "login_required");
    // Bob signs in on the same browser: his own session and tokens.
    let page = browser
        .sign_in_and_approve(&code_request(&c, &[]), "bob@example.com")
        .await;
    let claims = id_claims(&code_tokens(&app, &c, &page).await);
    let bob = app
        .state
        .store
        .run(|conn| irongate::store::find_user_by_email(conn, "bob@example.com"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(claims["sub"], bob.id.as_str());
}

/// SEC-47: an ID token from a refresh carries the `sid` of the sign-in its family began in
/// (and no `nonce`, OpenID Connect Core §12.2), so it is a valid hint for that session: ended at
/// once, back to the registered URI with `state`.
#[tokio::test]
async fn sec_47_refreshed_id_token_is_a_valid_logout_hint() {
    let (app, c) = setup().await;
    let browser = Browser::new(&app);
    let body = tokens(&app, &c, &browser, &[]).await;
    let (status, refreshed) = app
        .refresh(&c, body["refresh_token"].as_str().unwrap(), None)
        .await;
    assert_eq!(status, 200, "{refreshed}");
    let hint = refreshed["id_token"].as_str().unwrap();
    let (original, renewed) = (id_claims(&body), claims_of(hint));
    assert_eq!(renewed["sid"], original["sid"]);
    assert_eq!(renewed["auth_time"], original["auth_time"]);
    assert!(renewed.get("nonce").is_none());
    let page = browser
        .get(&format!(
            "/logout?id_token_hint={hint}&post_logout_redirect_uri={LOGOUT_TARGET}&state=s2"
        ))
        .await;
    assert_eq!(page.status, 303, "{}", page.body);
    assert_eq!(
        page.location().unwrap(),
        format!("{LOGOUT_TARGET}?state=s2")
    );
}

/// SEC-47: a hint from an earlier, ended session of the same user (replaced by a new sign-in)
/// still ends the current one at once; only another *live* session's hint asks first.
#[tokio::test]
async fn sec_47_hint_from_an_ended_session_of_the_user_ends_at_once() {
    let (app, c) = setup().await;
    let browser = Browser::new(&app);
    let old = tokens(&app, &c, &browser, &[]).await;
    let page = browser
        .sign_in_and_approve(
            &code_request(&c, &[("prompt", "login")]),
            "alice@example.com",
        )
        .await;
    let new = code_tokens(&app, &c, &page).await;
    assert_ne!(id_claims(&old)["sid"], id_claims(&new)["sid"]);
    let page = browser
        .get(&format!(
            "/logout?id_token_hint={}&post_logout_redirect_uri={LOGOUT_TARGET}&state=s3",
            old["id_token"].as_str().unwrap()
        ))
        .await;
    assert_eq!(page.status, 303, "{}", page.body);
    assert_eq!(
        page.location().unwrap(),
        format!("{LOGOUT_TARGET}?state=s3")
    );
}

/// SEC-51: a pre-login cookie with an absurd issue time (far past, far future, the extremes
/// of i64) is no session: a fresh login form, never an error.
#[tokio::test]
async fn sec_51_absurd_pre_login_cookies_are_ignored() {
    let (app, c) = setup().await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for issued in [
        "-9223372036854775808",
        "9223372036854775807",
        "0",
        "99999999999",
        "x",
        "",
    ] {
        let resp = http
            .get(app.url("/authorize"))
            .query(&code_request(&c, &[]))
            .header("cookie", format!("irongate_session=abc.{issued}"))
            .send()
            .await
            .unwrap();
        let page = Browser::read(resp).await;
        assert_eq!(page.status, 200, "{issued}");
        assert!(page.has("<form id=\"login\""), "{issued}");
        assert!(
            Browser::session_cookie(&page).is_some(),
            "{issued}: a fresh cookie"
        );
        let resp = http
            .post(app.url("/login"))
            .header("cookie", format!("irongate_session=abc.{issued}"))
            .form(&[
                ("csrf_token", page.hidden("csrf_token")),
                ("request", page.hidden("request")),
                ("username", "alice@example.com".into()),
                ("password", PASSWORD.into()),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 403, "{issued}");
    }
}

/// SEC-51: a login form shown again late in its pre-login cookie's life comes with a fresh
/// cookie, so an active visitor's form does not expire under them.
#[tokio::test]
async fn sec_51_pre_login_cookie_is_renewed_for_active_visitors() {
    // Ages are whole seconds: past half of 6 s means at least 4 s.
    let (app, c) = setup_with(|s| s.session_idle_timeout = 6).await;
    let browser = Browser::new(&app);
    let first = browser.authorize(&code_request(&c, &[])).await;
    assert!(Browser::session_cookie(&first).is_some());
    let again = browser.authorize(&code_request(&c, &[])).await;
    assert!(Browser::session_cookie(&again).is_none(), "young: kept");
    tokio::time::sleep(std::time::Duration::from_millis(4100)).await;
    let later = browser.authorize(&code_request(&c, &[])).await;
    assert!(
        Browser::session_cookie(&later).is_some(),
        "half gone: renewed"
    );
    let failed = browser.login(&later, "alice@example.com", "wrong").await;
    assert_eq!(failed.status, 401);
    // The form shown again works with the renewed cookie.
    let after = browser.login(&failed, "alice@example.com", PASSWORD).await;
    assert_eq!(after.status, 303, "{}", after.body);
}

/// SEC-47: a cross-site page posting to the logout endpoint arrives without the `SameSite=Lax`
/// cookie; the answer clears no cookie (browsers accept `Set-Cookie` on top-level navigations,
/// so clearing would sign the user out from any site), and the session lives on.
#[tokio::test]
async fn sec_47_cross_site_logout_post_clears_no_cookie() {
    let (app, c) = setup().await;
    let browser = Browser::new(&app);
    tokens(&app, &c, &browser, &[]).await;
    let cross_site = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for body in ["csrf_token=x&request=", "csrf_token=x&request=state%3Ds"] {
        let resp = cross_site
            .post(app.url("/logout"))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("origin", "https://evil.test")
            .body(body)
            .send()
            .await
            .unwrap();
        assert!(resp.status().is_success() || resp.status() == 403, "{body}");
        assert!(resp.headers().get("set-cookie").is_none(), "{body}");
    }
    let page = browser
        .authorize(&code_request(&c, &[("prompt", "none")]))
        .await;
    assert!(page.redirect_params().contains_key("code"));
}

/// SEC-51: a login form left open past the idle timeout is refused (403, nothing signed in);
/// a fresh visit gets a fresh form that works.
#[tokio::test]
async fn sec_51_stale_login_form_is_refused() {
    let (app, c) = setup_with(|s| s.session_idle_timeout = 2).await;
    let browser = Browser::new(&app);
    let page = browser.authorize(&code_request(&c, &[])).await;
    tokio::time::sleep(std::time::Duration::from_millis(3100)).await;
    let late = browser.login(&page, "alice@example.com", PASSWORD).await;
    assert_eq!(late.status, 403);
    assert!(Browser::session_cookie(&late).is_none());
    let page = browser.authorize(&code_request(&c, &[])).await;
    assert!(page.has("<form id=\"login\""));
    let after = browser.login(&page, "alice@example.com", PASSWORD).await;
    assert_eq!(after.status, 303);
}

/// SEC-44: a hint for Alice, then Bob signs in: `login_required`, never a code for Bob, and no
/// endless loop back to the login page.
#[tokio::test]
async fn sec_44_hint_for_another_user_than_the_one_signing_in() {
    let (app, c) = setup().await;
    let alice = Browser::new(&app);
    let hint = tokens(&app, &c, &alice, &[]).await["id_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let browser = Browser::new(&app);
    let page = browser
        .authorize(&code_request(&c, &[("id_token_hint", &hint)]))
        .await;
    let after = browser.login(&page, "bob@example.com", PASSWORD).await;
    assert_eq!(after.status, 303);
    let params = after.redirect_params();
    assert_eq!(params["error"], "login_required");
    assert!(!params.contains_key("code"));
}

/// SEC-45: a consent page left open past `max_age` sends the user back to sign in.
#[tokio::test]
async fn sec_45_consent_after_max_age_asks_to_sign_in_again() {
    let (app, c) = setup().await;
    let browser = Browser::new(&app);
    // Three seconds leave a slow CI machine room to reach the consent page in time.
    let request = code_request(&c, &[("max_age", "3")]);
    let page = browser.authorize(&request).await;
    let after = browser.login(&page, "alice@example.com", PASSWORD).await;
    // The continuation drops max_age (just satisfied); the consent form carries that.
    let consent = browser.follow(&after).await;
    assert!(consent.has("<form id=\"consent\""));
    // A consent form for the original request (with max_age), posted too late.
    let raw = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(&request)
        .finish();
    let stale = browser.authorize(&request).await;
    assert!(stale.has("<form id=\"consent\""), "{}", stale.body);
    assert_eq!(stale.hidden("request"), raw);
    tokio::time::sleep(std::time::Duration::from_millis(4100)).await;
    let late = browser.consent(&stale, "allow").await;
    assert_eq!(late.status, 303);
    assert!(
        late.location().unwrap().contains("/authorize?"),
        "{:?}",
        late.location()
    );
}
