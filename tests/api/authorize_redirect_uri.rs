//! Redirect URI validation at the authorization endpoint (checklist section A): exact matching,
//! loopback redirects that differ in their port alone, and the client and redirect URI checked
//! before anything is sent back, so nothing ever goes to an untrusted place.

use crate::helpers::{
    Browser, PASSWORD, REDIRECT, VERIFIER, assert_no_redirect, code_request, json_of, spawn_app,
    spawn_code_flow_app,
};

/// SEC-01, SEC-02, SEC-05: exact matching; every near miss and every dangerous scheme is an error
/// page without `Location`.
#[tokio::test]
async fn sec_01_sec_02_near_miss_redirect_uris_never_redirect() {
    let (app, c) = spawn_code_flow_app().await;
    let browser = Browser::new(&app);
    for bad in [
        "https://evil.test/cb",
        "HTTPS://RP.TEST/cb",
        "https://RP.test/cb",
        "https://rp.test/CB",
        "https://rp.test/cb/",
        "https://rp.test/cb/../x",
        "https://rp.test/cb/..;/x",
        "https://rp.test/cb%252f..",
        "https://rp.test/cb?x=2",
        "https://rp.test/cb?x=1&y=2",
        "https://rp.test/cb#f",
        "https://rp.test:443/cb",
        "https://rp.test:8443/cb",
        "https://rp.test/c",
        "https://rp.test.evil.test/cb",
        "https://rp.test@evil.test/cb",
        "https://a@b@evil.test/cb",
        "https://user:pw@rp.test/cb",
        "//evil.test/cb",
        "https:evil.test",
        "http://rp.test/cb",
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        "data:text/html,x",
        "vbscript:x",
    ] {
        let page = browser
            .authorize(&code_request(&c, &[("redirect_uri", bad)]))
            .await;
        assert_no_redirect(&page, bad);
    }
    // Registered with a query: that exact URI works, and the code is appended to its query.
    let page = browser
        .sign_in_and_approve(
            &code_request(&c, &[("redirect_uri", "https://rp.test/cb?x=1")]),
            "alice@example.com",
        )
        .await;
    let location = page.location().unwrap();
    assert!(
        location.starts_with("https://rp.test/cb?x=1&code="),
        "{location}"
    );
}

/// SEC-03: a loopback redirect may differ from the registered one in its port alone.
#[tokio::test]
async fn sec_03_loopback_redirect_differs_only_in_port() {
    let app = spawn_app().await;
    app.create_user("alice@example.com", PASSWORD);
    let p = app.create_client(&[
        "--public",
        "--redirect-uri",
        "http://127.0.0.1/cb",
        "--redirect-uri",
        "https://app.test/cb",
    ]);
    let browser = Browser::new(&app);
    for bad in [
        "http://127.0.0.1:53121/cb2",
        "http://127.0.0.1/cb?x=1",
        "http://127.0.0.2/cb",
        "http://localhost.evil.test/cb",
        "http://localhost/cb",
        "http://[::1]/cb",
    ] {
        let page = browser
            .authorize(&code_request(&p, &[("redirect_uri", bad)]))
            .await;
        assert_no_redirect(&page, bad);
    }
    let page = browser
        .sign_in_and_approve(
            &code_request(&p, &[("redirect_uri", "http://127.0.0.1:53121/cb")]),
            "alice@example.com",
        )
        .await;
    let location = page.location().unwrap();
    assert!(
        location.starts_with("http://127.0.0.1:53121/cb?code="),
        "{location}"
    );
    // The token request repeats the port-specific URI; a public client with the verifier.
    let code = page.redirect_params()["code"].clone();
    let (status, _, body) = json_of(
        app.post_token(
            None,
            &[
                ("grant_type", "authorization_code"),
                ("client_id", &p.id),
                ("code", &code),
                ("redirect_uri", "http://127.0.0.1:53121/cb"),
                ("code_verifier", VERIFIER),
            ],
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{body}");
}

/// SEC-04, SEC-06: `redirect_uri` is required with several registered; unknown or missing
/// clients never redirect. With exactly one registered, it may be omitted.
#[tokio::test]
async fn sec_04_sec_06_client_and_redirect_uri_checked_first() {
    let (app, c) = spawn_code_flow_app().await;
    let browser = Browser::new(&app);
    let page = browser
        .authorize(&code_request(&c, &[("redirect_uri", "")]))
        .await;
    assert_no_redirect(&page, "missing redirect_uri with two registered");
    let page = browser
        .authorize(&[
            ("client_id", "nope"),
            ("redirect_uri", REDIRECT),
            ("response_type", "code"),
            ("scope", "openid"),
        ])
        .await;
    assert_no_redirect(&page, "unknown client");
    let page = browser
        .authorize(&[("redirect_uri", REDIRECT), ("response_type", "code")])
        .await;
    assert_no_redirect(&page, "no client_id");
    // Repeated client_id or redirect_uri: nothing can be trusted.
    let mut params = code_request(&c, &[]);
    params.push(("redirect_uri", "https://evil.test/cb"));
    assert_no_redirect(&browser.authorize(&params).await, "two redirect_uri");

    let single = app.create_client(&["--redirect-uri", REDIRECT]);
    // OpenID Connect requires redirect_uri even then (OIDC Core §3.1.2.1).
    let page = browser
        .authorize(&code_request(&single, &[("redirect_uri", "")]))
        .await;
    assert_no_redirect(&page, "OpenID request without redirect_uri");
    // A plain OAuth request may omit it when exactly one is registered.
    let page = browser
        .sign_in_and_approve(
            &code_request(&single, &[("redirect_uri", ""), ("scope", "email")]),
            "alice@example.com",
        )
        .await;
    let code = page.redirect_params()["code"].clone();
    // The request named no redirect_uri, so the token request need not either.
    let (status, _, body) = json_of(
        app.post_token(
            Some((&single.id, &single.secret)),
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("code_verifier", VERIFIER),
            ],
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{body}");
}
