//! A real OpenID provider upstream: a second irongate plays "Google", with its own users and a
//! client registered for the first one's callback. The first irongate federates to it; its
//! relying party is the scripted browser here, and headless Chromium below. The upstream lives
//! at `localhost`, the first at `127.0.0.1`: two hosts, so their cookies stay apart in one
//! browser as they would in the world.

use crate::chromium_driver::{
    Driver, browser_installed, click, redirect_target, sign_in_on_page, wait_for, wait_for_url,
};
use crate::helpers::*;
use std::collections::HashMap;

/// The upstream irongate (with Bob, whose email it has verified), and the first one federating
/// to it with a relying party registered for `rp_redirect`.
async fn two_irongates(rp_redirect: &str) -> (TestApp, TestApp, Client) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let upstream = spawn_app_at(
        listener,
        &format!("http://localhost:{port}"),
        TestEnv::new(),
        |_| {},
    )
    .await;
    upstream
        .env
        .cli(
            &[
                "user",
                "create",
                "--email",
                "bob@upstream.test",
                "--name",
                "Bob Upstream",
                "--email-verified",
                "--password-stdin",
            ],
            Some(PASSWORD),
        )
        .json();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let callback = format!("{address}/login/google/callback");
    let at_upstream = upstream.create_client(&[
        "--redirect-uri",
        &callback,
        "--scope",
        "openid",
        "--scope",
        "email",
        "--scope",
        "profile",
    ]);
    let issuer = upstream.address.clone();
    let app = spawn_app_at(listener, &address, TestEnv::new(), move |s| {
        s.google = Some(irongate::config::GoogleSettings {
            client_id: at_upstream.id,
            client_secret: at_upstream.secret,
            issuer,
            allowed_domains: Vec::new(),
        });
    })
    .await;
    let rp = app.create_client(&["--redirect-uri", rp_redirect]);
    (upstream, app, rp)
}

/// The whole flow over HTTP: the relying party's request → irongate's login page →
/// `a#login-google` → the upstream irongate's own login and consent pages → back → consent →
/// code → tokens for a new user with the upstream's verified email.
#[tokio::test]
async fn a_second_irongate_serves_as_the_upstream_provider() {
    let (upstream, app, rp) = two_irongates(REDIRECT).await;
    let browser = Browser::new(&app);
    let page = browser.authorize(&code_request(&rp, &[])).await;
    let start = browser.click_google(&page).await;
    assert_eq!(start.status, 302, "{}", start.body);
    let to_upstream = start.location().unwrap();
    assert!(
        to_upstream.starts_with(&upstream.url("/authorize?")),
        "{to_upstream}"
    );
    let login = browser.get(&to_upstream).await;
    assert!(login.has("<form id=\"login\""), "{}", login.body);
    let signed_in = browser
        .post(
            &upstream.url("/login"),
            &[
                ("csrf_token", &login.hidden("csrf_token")),
                ("request", &login.hidden("request")),
                ("username", "bob@upstream.test"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(signed_in.status, 303, "{}", signed_in.body);
    let consent = browser.get(&signed_in.location().unwrap()).await;
    assert!(consent.has("<form id=\"consent\""), "{}", consent.body);
    let approved = browser
        .post(
            &upstream.url("/consent"),
            &[
                ("csrf_token", &consent.hidden("csrf_token")),
                ("request", &consent.hidden("request")),
                ("decision", "allow"),
            ],
        )
        .await;
    let callback = approved.location().unwrap();
    assert!(
        callback.starts_with(&app.url("/login/google/callback?")),
        "{callback}"
    );
    let back = browser.get(&callback).await;
    assert_eq!(back.status, 302, "{}", back.body);
    let consent = browser.follow(&back).await;
    let done = browser.consent(&consent, "allow").await;
    let tokens = app.code_tokens(&rp, &done).await;
    let claims = app
        .verified_claims(tokens["id_token"].as_str().unwrap(), &rp.id)
        .await;
    let bob = app
        .user_by_email("bob@upstream.test")
        .await
        .expect("Bob, made here");
    assert_eq!(claims["sub"], bob.id.as_str());
    assert_eq!(bob.name.as_deref(), Some("Bob Upstream"));
    assert!(bob.email_verified && bob.password_hash.is_none());
    let bob_upstream = upstream.user_by_email("bob@upstream.test").await.unwrap();
    assert_eq!(
        app.linked_user(&upstream.address, &bob_upstream.id)
            .await
            .as_deref(),
        Some(bob.id.as_str())
    );
}

/// The same in headless Chromium: relying party → irongate's login page → `a#login-google` →
/// the upstream's own login page → its consent → back → consent → the relying party with a code
/// that is good at the token endpoint.
#[tokio::test]
async fn headless_chromium_signs_in_through_the_upstream_irongate() {
    if !browser_installed() {
        return;
    }
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let (rp_port, _requests) = redirect_target().await;
    let redirect = format!("http://127.0.0.1:{rp_port}/cb");
    let (upstream, app, rp) = two_irongates(&redirect).await;
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("response_type", "code"),
            ("client_id", rp.id.as_str()),
            ("redirect_uri", redirect.as_str()),
            ("scope", "openid email"),
            ("state", "xyz"),
            ("nonce", "n1"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ])
        .finish();
    let driver = Driver::start().await;
    let chrome = driver.session().await;
    chrome
        .goto(&format!("{}/authorize?{query}", app.address))
        .await
        .expect("open /authorize");
    wait_for(&chrome, "form#login", 10).await;
    click(&chrome, "a#login-google").await;

    // The upstream's own login page.
    wait_for_url(&chrome, &upstream.url("/authorize"), 10).await;
    wait_for(&chrome, "form#login", 10).await;
    sign_in_on_page(&chrome, "bob@upstream.test", PASSWORD).await;
    wait_for(&chrome, "form#consent", 10).await;
    click(&chrome, "form#consent button[name=decision][value=allow]").await;

    // Back at the first irongate: its consent page, then the relying party.
    wait_for_url(&chrome, &app.url("/authorize"), 10).await;
    wait_for(&chrome, "form#consent", 10).await;
    click(&chrome, "form#consent button[name=decision][value=allow]").await;
    let landed = wait_for_url(&chrome, &redirect, 10).await;
    let params: HashMap<String, String> = landed.query_pairs().into_owned().collect();
    assert_eq!(params.get("state").map(String::as_str), Some("xyz"));
    let code = params.get("code").expect("a code").clone();
    let (status, _, body) = json_of(
        app.post_token(
            Some((&rp.id, &rp.secret)),
            &[
                ("grant_type", "authorization_code"),
                ("code", code.as_str()),
                ("redirect_uri", redirect.as_str()),
                ("code_verifier", VERIFIER),
            ],
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let claims = app
        .verified_claims(body["id_token"].as_str().unwrap(), &rp.id)
        .await;
    assert_eq!(claims["email"], "bob@upstream.test");
    chrome.close().await.expect("end the WebDriver session");
}
