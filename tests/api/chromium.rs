//! The code flow in a real browser: headless Chromium, driven through ChromeDriver (WebDriver)
//! with fantoccini, signs in on the login page, approves on the consent page and lands on a
//! relying party's loopback redirect URI served by this test; the code it carries is exchanged
//! at the token endpoint. Then the browser signs out through the confirmation page, and the next
//! authorization request asks it to sign in again. Then strangers push the user past the global
//! ceiling of failed sign-ins: a fresh browser is refused, and Chromium, holding the device
//! cookie its first sign-in earned, signs in (CONTRACT "Sign-in limits", SEC-57).
//!
//! Needs Debian's `chromium` and `chromium-driver` (`/usr/bin/chromium`, `/usr/bin/chromedriver`).
//! Without them the test is skipped with a note, unless `CI` or `IRONGATE_REQUIRE_BROWSER` is set
//! (`.ci/run` sets the latter and installs both), in which case it fails.

use crate::chromium_driver::{
    Driver, browser_installed, click, redirect_target, sign_in_on_page, wait_for, wait_for_url,
};
use crate::helpers::{Browser, CHALLENGE, PASSWORD, TestEnv, VERIFIER, json_of, spawn_app_with};
use fantoccini::Locator;
use std::collections::HashMap;

#[tokio::test]
async fn headless_chromium_signs_in_through_the_pages() {
    if !browser_installed() {
        return;
    }
    // fantoccini's rustls connector builds its TLS configuration with rustls' process-default
    // crypto provider, and this test binary links rustls with both aws-lc-rs and ring (reqwest
    // brings ring), so rustls cannot pick one by itself: name it (rustls is a dev-dependency for
    // this alone). Err means one is installed already.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();

    let app = spawn_app_with(TestEnv::new(), |s| {
        s.login.trusted_proxies = vec!["127.0.0.0/8".parse().unwrap()];
        s.login.limit_per_user_global = 3;
    })
    .await;
    app.create_user("alice@example.com", PASSWORD);
    let (rp_port, requests) = redirect_target().await;
    let redirect = format!("http://127.0.0.1:{rp_port}/cb");
    let rp = app.create_client(&["--redirect-uri", &redirect]);
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
    let authorize = format!("{}/authorize?{query}", app.address);

    let driver = Driver::start().await;
    let chrome = driver.session().await;

    // The login page.
    chrome.goto(&authorize).await.expect("open /authorize");
    wait_for(&chrome, "form#login", 10).await;
    sign_in_on_page(&chrome, "alice@example.com", PASSWORD).await;

    // The consent page.
    wait_for(&chrome, "form#consent", 10).await;
    assert!(
        chrome
            .find(Locator::Css("ul#scopes li[data-scope=openid]"))
            .await
            .is_ok(),
        "the consent page lists the openid scope"
    );
    click(&chrome, "form#consent button[name=decision][value=allow]").await;

    // Back at the relying party, with the code, `state` and `iss`.
    let landed = wait_for_url(&chrome, &redirect, 10).await;
    assert_eq!(landed.path(), "/cb", "{landed}");
    wait_for(&chrome, "#landed", 10).await;
    let seen = requests.lock().unwrap().clone();
    assert!(
        seen.iter().any(|line| line.starts_with("GET /cb?")),
        "the browser itself requested the redirect URI: {seen:?}"
    );
    let params: HashMap<String, String> = landed.query_pairs().into_owned().collect();
    assert_eq!(
        params.get("state").map(String::as_str),
        Some("xyz"),
        "{landed}"
    );
    assert_eq!(params.get("iss"), Some(&app.address), "{landed}");
    let code = params
        .get("code")
        .unwrap_or_else(|| panic!("no code in {landed}"));

    // The code is good at the token endpoint, for the redirect URI the browser went to.
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
    assert!(body["access_token"].is_string(), "{body}");
    assert!(body["id_token"].is_string(), "{body}");

    // Signing out: without an id_token_hint a confirmation page asks first.
    chrome
        .goto(&app.url("/logout"))
        .await
        .expect("open /logout");
    wait_for(&chrome, "form#logout", 10).await;
    click(&chrome, "form#logout button[type=submit]").await;
    wait_for(&chrome, "#logged-out", 10).await;

    // The session ended: the same request asks to sign in again.
    chrome
        .goto(&authorize)
        .await
        .expect("open /authorize again");
    wait_for(&chrome, "form#login", 10).await;
    assert!(
        chrome.find(Locator::Css("form#consent")).await.is_err(),
        "signed out, yet the consent page shows"
    );
    let device = chrome
        .get_named_cookie("irongate_device")
        .await
        .expect("the first sign-in left a device cookie");
    assert_eq!(device.http_only(), Some(true));

    // Strangers on three networks reach alice's global ceiling; a fresh browser is refused.
    let guesser = app.create_client(&["--grant-type", "password"]);
    for network in ["203.0.113.1", "203.0.113.2", "203.0.113.3"] {
        let (status, _, _) = app
            .password_attempt(&guesser, "wrong password", Some(network))
            .await;
        assert_eq!(status, 400);
    }
    let stranger = Browser::new(&app);
    let login = stranger.get(&authorize).await;
    let refused = stranger.login(&login, "alice@example.com", PASSWORD).await;
    assert_eq!(refused.status, 429, "{}", refused.body);

    // Chromium, with its device cookie, signs in and lands at the relying party again.
    sign_in_on_page(&chrome, "alice@example.com", PASSWORD).await;
    let landed = wait_for_url(&chrome, &redirect, 10).await;
    let params: HashMap<String, String> = landed.query_pairs().into_owned().collect();
    assert!(params.contains_key("code"), "{landed}");

    chrome.close().await.expect("end the WebDriver session");
}

/// The organization chooser in a real browser (CONTRACT page hook `form#organization`): a user of
/// two organizations signs in at a `--require-organization` client, clicks one, and the code the
/// relying party receives carries it.
#[tokio::test]
async fn headless_chromium_chooses_an_organization() {
    if !browser_installed() {
        return;
    }
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let app = spawn_app_with(TestEnv::new(), |_| {}).await;
    app.create_user("alice@example.com", PASSWORD);
    let ok = |args: &[&str]| app.env.cli(args, None).json();
    ok(&["org", "create", "--slug", "acme", "--name", "Acme"]);
    let globex = ok(&["org", "create", "--slug", "globex", "--name", "Globex"]);
    for org in ["acme", "globex"] {
        ok(&[
            "org",
            "add-member",
            "--org",
            org,
            "--email",
            "alice@example.com",
        ]);
    }
    let (rp_port, _) = redirect_target().await;
    let redirect = format!("http://127.0.0.1:{rp_port}/cb");
    let rp = app.create_client(&[
        "--redirect-uri",
        &redirect,
        "--skip-consent",
        "--require-organization",
    ]);
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("response_type", "code"),
            ("client_id", rp.id.as_str()),
            ("redirect_uri", redirect.as_str()),
            ("scope", "openid"),
            ("state", "org"),
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
    sign_in_on_page(&chrome, "alice@example.com", PASSWORD).await;
    wait_for(&chrome, "form#organization", 10).await;
    click(
        &chrome,
        "form#organization button[name=organization][value=globex]",
    )
    .await;
    let landed = wait_for_url(&chrome, &redirect, 10).await;
    let params: HashMap<String, String> = landed.query_pairs().into_owned().collect();
    let code = params
        .get("code")
        .unwrap_or_else(|| panic!("no code in {landed}"));
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
    let access = crate::helpers::claims_of(body["access_token"].as_str().unwrap());
    assert_eq!(access["org_id"], globex["id"]);
    chrome.close().await.expect("end the WebDriver session");
}
