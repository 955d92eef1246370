//! The authorization endpoint (checklist section A and the authorization side of B): redirect
//! URI validation that never redirects to an untrusted place, errors sent back with `state`
//! and `iss`, PKCE rules, parameter hygiene, and the whole code flow through the pages.

use crate::helpers::{
    Browser, PASSWORD, Page, REDIRECT, TestApp, VERIFIER, code_request, json_of, spawn_app,
};

async fn setup() -> (TestApp, crate::helpers::Client) {
    let app = spawn_app().await;
    app.create_user("alice@example.com", PASSWORD);
    let c = app.create_client(&[
        "--redirect-uri",
        REDIRECT,
        "--redirect-uri",
        "https://rp.test/cb?x=1",
    ]);
    (app, c)
}

/// An HTML error page and no `Location`: nothing goes to the candidate URI.
fn assert_no_redirect(page: &Page, what: &str) {
    assert_eq!(page.status, 400, "{what}: {}", page.body);
    assert!(page.location().is_none(), "{what} redirected");
    assert!(
        page.header("content-type").starts_with("text/html"),
        "{what}"
    );
}

/// The code flow end to end through the login and consent pages (SEC-08: `iss` and `state`).
#[tokio::test]
async fn code_flow_through_login_and_consent_pages() {
    let (app, c) = setup().await;
    let browser = Browser::new(&app);
    let page = browser.authorize(&code_request(&c, &[])).await;
    assert_eq!(page.status, 200);
    assert!(page.has("<form id=\"login\""));
    assert!(page.has("id=\"username\"") && page.has("id=\"password\""));
    let after = browser.login(&page, "alice@example.com", PASSWORD).await;
    // SEC-11: a credential POST is answered 303, never 307.
    assert_eq!(after.status, 303);
    let consent = browser.follow(&after).await;
    assert!(consent.has("<ul id=\"scopes\">"), "{}", consent.body);
    assert!(consent.has("data-scope=\"openid\"") && consent.has("data-scope=\"email\""));
    let done = browser.consent(&consent, "allow").await;
    assert_eq!(done.status, 303);
    let location = done.location().unwrap();
    assert!(
        location.starts_with("https://rp.test/cb?code="),
        "{location}"
    );
    let params = done.redirect_params();
    assert_eq!(params["state"], "af0ifjsldkj");
    assert_eq!(params["iss"], app.address);
    // SEC-24: 256 random bits, base64url.
    assert_eq!(params["code"].len(), 43);
    let (status, body) = app.exchange_code(&c, &params["code"]).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["id_token"].is_string() && body["refresh_token"].is_string());
    let access = body["access_token"].as_str().unwrap();
    assert_eq!(app.userinfo_status(access).await, 200);

    // Consent is remembered: the next request goes straight back with a code.
    let again = browser.authorize(&code_request(&c, &[])).await;
    assert_eq!(again.status, 302, "{}", again.body);
    assert!(again.redirect_params().contains_key("code"));
}

/// SEC-01, SEC-02, SEC-05: exact matching; every near miss and every dangerous scheme is an error
/// page without `Location`.
#[tokio::test]
async fn sec_01_sec_02_near_miss_redirect_uris_never_redirect() {
    let (app, c) = setup().await;
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
    let (app, c) = setup().await;
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

/// SEC-07, SEC-08, SEC-09, SEC-15, SEC-16: once the redirect URI is trusted, errors go back to
/// it with `error`, `state` and `iss`; never a token in the front channel; request objects
/// refused without any fetch.
#[tokio::test]
async fn sec_07_errors_after_validation_are_redirected_with_state_and_iss() {
    let (app, c) = setup().await;
    let p = app.create_client(&["--public", "--redirect-uri", REDIRECT]);
    let browser = Browser::new(&app);
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (
            code_request(&c, &[("response_type", "")]),
            "invalid_request",
        ),
        (
            code_request(&c, &[("response_type", "token")]),
            "unsupported_response_type",
        ),
        (
            code_request(&c, &[("response_type", "id_token token")]),
            "unsupported_response_type",
        ),
        (
            code_request(&c, &[("scope", "openid nope")]),
            "invalid_scope",
        ),
        (
            code_request(&c, &[("scope", "openid admin")]),
            "invalid_scope",
        ),
        (code_request(&c, &[("scope", "")]), "invalid_scope"),
        (
            code_request(&c, &[("code_challenge_method", "plain")]),
            "invalid_request",
        ),
        (
            code_request(&c, &[("code_challenge_method", "")]),
            "invalid_request",
        ),
        (
            code_request(&c, &[("code_challenge", "short")]),
            "invalid_request",
        ),
        (
            code_request(&c, &[("code_challenge", "")]),
            "invalid_request",
        ),
        (
            code_request(&p, &[("code_challenge", ""), ("code_challenge_method", "")]),
            "invalid_request",
        ),
        (
            code_request(&c, &[("prompt", "none login")]),
            "invalid_request",
        ),
        (code_request(&c, &[("prompt", "bogus")]), "invalid_request"),
        (code_request(&c, &[("max_age", "-1")]), "invalid_request"),
        (
            code_request(&c, &[("response_mode", "fragment")]),
            "invalid_request",
        ),
        (
            code_request(
                &c,
                &[("request_uri", "http://169.254.169.254/latest/meta-data/")],
            ),
            "request_uri_not_supported",
        ),
        (
            code_request(&c, &[("request", "eyJhbGciOiJub25lIn0.e30.")]),
            "request_not_supported",
        ),
    ];
    for (params, expected) in cases {
        let page = browser.authorize(&params).await;
        assert_eq!(page.status, 302, "{params:?}: {}", page.body);
        let location = page.location().unwrap();
        assert!(location.starts_with("https://rp.test/cb?"), "{location}");
        assert!(!location.contains("access_token"), "{location}");
        let got = page.redirect_params();
        assert_eq!(got["error"], expected, "{params:?}");
        assert_eq!(got["state"], "af0ifjsldkj");
        assert_eq!(got["iss"], app.address);
        assert!(!got.contains_key("code"));
    }
    // A prompt=none request with an unregistered URI is still an error page (SEC-07).
    let page = browser
        .authorize(&code_request(
            &c,
            &[("prompt", "none"), ("redirect_uri", "https://evil.test/cb")],
        ))
        .await;
    assert_no_redirect(&page, "prompt=none with a bad redirect_uri");
    // A client not registered for the code flow.
    let m2m = app.create_client(&[
        "--redirect-uri",
        REDIRECT,
        "--grant-type",
        "client_credentials",
    ]);
    let got = browser
        .authorize(&code_request(&m2m, &[]))
        .await
        .redirect_params();
    assert_eq!(got["error"], "unauthorized_client");
}

/// SEC-10: unknown parameters are ignored, order does not matter, repeats are refused, a long
/// state comes back byte for byte.
#[tokio::test]
async fn sec_10_parameter_hygiene() {
    let (app, c) = setup().await;
    let browser = Browser::new(&app);
    let long_state = "s".repeat(2048);
    let mut params = code_request(
        &c,
        &[
            ("extra", "foobar"),
            ("scope", "email openid"),
            ("state", &long_state),
        ],
    );
    params.reverse();
    let page = browser
        .sign_in_and_approve(&params, "alice@example.com")
        .await;
    let got = page.redirect_params();
    assert!(got.contains_key("code"), "{got:?}");
    assert_eq!(got["state"], long_state);

    let mut params = code_request(&c, &[]);
    params.push(("scope", "email"));
    let got = browser.authorize(&params).await.redirect_params();
    assert_eq!(got["error"], "invalid_request");
    // Over the limit: refused, not truncated, never a 500.
    let huge = "s".repeat(5000);
    let page = browser
        .authorize(&code_request(&c, &[("state", &huge)]))
        .await;
    assert_eq!(page.redirect_params()["error"], "invalid_request");
}

/// SEC-11: the authorization request works as a form POST.
#[tokio::test]
async fn sec_11_post_authorization_request() {
    let (app, c) = setup().await;
    let browser = Browser::new(&app);
    let posted = browser.post("/authorize", &code_request(&c, &[])).await;
    // Continued as a top-level GET, which carries the SameSite=Lax session cookie.
    assert_eq!(posted.status, 303);
    let location = posted.location().unwrap();
    assert!(
        location.starts_with(&format!("{}/authorize?", app.address)),
        "{location}"
    );
    let page = browser.get(&location).await;
    assert!(page.has("<form id=\"login\""));
    let after = browser.login(&page, "alice@example.com", PASSWORD).await;
    assert_eq!(after.status, 303);
    let consent = browser.follow(&after).await;
    let done = browser.consent(&consent, "allow").await;
    assert_eq!(done.status, 303);
    assert!(done.redirect_params().contains_key("code"));
    // Signed in: a POSTed prompt=none request is silent (the session survives the POST).
    let posted = browser
        .post("/authorize", &code_request(&c, &[("prompt", "none")]))
        .await;
    let page = browser.get(&posted.location().unwrap()).await;
    assert!(page.redirect_params().contains_key("code"), "{}", page.body);
    // Errors in a POSTed request are answered at once.
    let posted = browser
        .post(
            "/authorize",
            &code_request(&c, &[("response_type", "token")]),
        )
        .await;
    assert_eq!(
        posted.redirect_params()["error"],
        "unsupported_response_type"
    );
    // Not a form: an error page, not a redirect.
    let resp = browser
        .http
        .post(format!("{}/authorize", app.address))
        .json(&serde_json::json!({"client_id": c.id}))
        .send()
        .await
        .unwrap();
    let page = Browser::read(resp).await;
    assert_no_redirect(&page, "JSON body");
}

/// SEC-19 through the real flow: a replayed code fails and revokes what the first exchange
/// issued; SEC-17, SEC-18, SEC-21, SEC-22 at the token endpoint with codes from the pages.
#[tokio::test]
async fn sec_19_replayed_code_from_the_flow_revokes_its_tokens() {
    let (app, c) = setup().await;
    let browser = Browser::new(&app);
    let code_of = |page: Page| page.redirect_params()["code"].clone();
    let code = code_of(
        browser
            .sign_in_and_approve(&code_request(&c, &[]), "alice@example.com")
            .await,
    );
    let (status, first) = app.exchange_code(&c, &code).await;
    assert_eq!(status, 200);
    let (status, again) = app.exchange_code(&c, &code).await;
    assert_eq!(
        (status, again["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let access = first["access_token"].as_str().unwrap();
    assert_eq!(app.userinfo_status(access).await, 401);
    let (status, body) = app
        .refresh(&c, first["refresh_token"].as_str().unwrap(), None)
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );

    // Wrong verifier (SEC-17).
    let code = code_of(browser.authorize(&code_request(&c, &[])).await);
    let wrong = "x".repeat(43);
    let (status, body) = redeem(&app, &c, &code, REDIRECT, Some(&wrong)).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    // Downgrade: issued without a challenge, redeemed with a verifier (SEC-18).
    let code = code_of(
        browser
            .authorize(&code_request(
                &c,
                &[("code_challenge", ""), ("code_challenge_method", "")],
            ))
            .await,
    );
    let (status, body) = redeem(&app, &c, &code, REDIRECT, Some(VERIFIER)).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    // Another redirect_uri than the request's (SEC-22).
    let code = code_of(browser.authorize(&code_request(&c, &[])).await);
    let (status, body) = redeem(&app, &c, &code, "https://rp.test/cb?x=1", Some(VERIFIER)).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    // Another client (SEC-21).
    let other = app.create_client(&["--redirect-uri", REDIRECT]);
    let code = code_of(browser.authorize(&code_request(&c, &[])).await);
    let (status, body) = redeem(&app, &other, &code, REDIRECT, Some(VERIFIER)).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
}

async fn redeem(
    app: &TestApp,
    c: &crate::helpers::Client,
    code: &str,
    redirect_uri: &str,
    verifier: Option<&str>,
) -> (u16, serde_json::Value) {
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", redirect_uri),
    ];
    if let Some(v) = verifier {
        form.push(("code_verifier", v));
    }
    let (status, _, body) = json_of(app.post_token(Some((&c.id, &c.secret)), &form).await).await;
    (status, body)
}

/// SEC-24: codes (1 000) and session cookies are unique, 256-bit, base64url.
#[tokio::test]
async fn sec_24_codes_and_session_ids_are_random() {
    let (app, c) = setup().await;
    let browser = Browser::new(&app);
    browser
        .sign_in_and_approve(&code_request(&c, &[]), "alice@example.com")
        .await;
    let mut seen = std::collections::HashSet::new();
    // 1 000 codes, 50 requests at a time.
    let request = code_request(&c, &[]);
    let mut codes = Vec::new();
    for _ in 0..20 {
        let pages =
            futures_util::future::join_all((0..50).map(|_| browser.authorize(&request))).await;
        codes.extend(pages.iter().map(|p| p.redirect_params()["code"].clone()));
    }
    for code in codes {
        assert_eq!(code.len(), 43);
        assert!(
            code.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        assert!(seen.insert(code));
    }
    let mut cookies = std::collections::HashSet::new();
    for _ in 0..20 {
        let page = Browser::new(&app).authorize(&code_request(&c, &[])).await;
        let cookie = Browser::session_cookie(&page).unwrap();
        let value = cookie
            .split(';')
            .next()
            .unwrap()
            .split_once('=')
            .unwrap()
            .1
            .to_owned();
        // A pre-login cookie: 256 random bits, then the time it was issued.
        let (random, issued) = value.split_once('.').unwrap();
        assert_eq!(random.len(), 43);
        assert!(issued.parse::<i64>().is_ok());
        assert!(cookies.insert(random.to_owned()));
    }
}

/// `response_mode=form_post`: an auto-submitting form to the redirect URI, no inline script,
/// everything escaped (SEC-54).
#[tokio::test]
async fn form_post_response_mode_is_csp_safe() {
    let (app, c) = setup().await;
    let browser = Browser::new(&app);
    let probe = "\"><svg onload=alert(1)>";
    let page = browser
        .sign_in_and_approve(
            &code_request(&c, &[("response_mode", "form_post"), ("state", probe)]),
            "alice@example.com",
        )
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.has("action=\"https://rp.test/cb\""), "{}", page.body);
    assert!(page.has("<script src=\"assets/form_post.js\"></script>"));
    assert!(!page.body.contains(probe));
    assert_eq!(page.hidden("state"), probe);
    assert_eq!(page.hidden("iss"), app.address);
    assert_eq!(page.hidden("code").len(), 43);
    let csp = page.header("content-security-policy");
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    assert!(csp.contains("frame-ancestors 'none'"));
    let script = browser.get("/assets/form_post.js").await;
    assert_eq!(script.status, 200);
    assert!(script.header("content-type").starts_with("text/javascript"));
}

/// SEC-14: no CORS on the authorization endpoint or the pages, even for an allowed origin.
#[tokio::test]
async fn sec_14_no_cors_on_the_authorization_endpoint() {
    let app = crate::helpers::spawn_app_with(crate::helpers::TestEnv::new(), |s| {
        s.cors_origins = vec!["https://spa.test".into()];
    })
    .await;
    let c = app.create_client(&["--redirect-uri", REDIRECT]);
    for origin in ["https://spa.test", "https://evil.test"] {
        let resp = app
            .http
            .get(app.url("/authorize"))
            .query(&code_request(&c, &[]))
            .header("Origin", origin)
            .send()
            .await
            .unwrap();
        assert!(resp.headers().get("access-control-allow-origin").is_none());
        let resp = app
            .http
            .request(reqwest::Method::OPTIONS, app.url("/authorize"))
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "POST")
            .send()
            .await
            .unwrap();
        assert!(resp.headers().get("access-control-allow-origin").is_none());
    }
}

/// SEC-14: the API endpoints answer allowed origins (preflight included) and never echo an
/// unknown one; with `cors_allow_credentials` the exact origin comes back with credentials.
#[tokio::test]
async fn sec_14_cors_on_the_api_endpoints_per_allowlist() {
    let app = crate::helpers::spawn_app_with(crate::helpers::TestEnv::new(), |s| {
        s.cors_origins = vec!["https://spa.test".into()];
        s.cors_allow_credentials = true;
    })
    .await;
    for path in [
        "/token",
        "/userinfo",
        "/introspect",
        "/revoke",
        "/.well-known/jwks.json",
        "/.well-known/openid-configuration",
    ] {
        let preflight = app
            .http
            .request(reqwest::Method::OPTIONS, app.url(path))
            .header("Origin", "https://spa.test")
            .header("Access-Control-Request-Method", "POST")
            .header("Access-Control-Request-Headers", "authorization")
            .send()
            .await
            .unwrap();
        let h = preflight.headers();
        assert_eq!(
            h["access-control-allow-origin"], "https://spa.test",
            "{path}"
        );
        assert_eq!(h["access-control-allow-credentials"], "true", "{path}");
        let evil = app
            .http
            .get(app.url(path))
            .header("Origin", "https://evil.test")
            .send()
            .await
            .unwrap();
        assert!(
            evil.headers().get("access-control-allow-origin").is_none(),
            "{path}"
        );
    }
    let ok = app
        .http
        .get(app.url("/.well-known/jwks.json"))
        .header("Origin", "https://spa.test")
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(
        ok.headers()["access-control-allow-origin"],
        "https://spa.test"
    );
    // Without cors_origins there is no CORS at all.
    let plain = spawn_app().await;
    let resp = plain
        .http
        .get(plain.url("/.well-known/jwks.json"))
        .header("Origin", "https://spa.test")
        .send()
        .await
        .unwrap();
    assert!(resp.headers().get("access-control-allow-origin").is_none());
}

/// PostgreSQL refuses NUL bytes: a nonce with control characters is `invalid_request` on both
/// backends; `error_description` never carries characters RFC 6749 §4.1.2.1 forbids.
#[tokio::test]
async fn sec_61_control_characters_and_error_description_charset() {
    let (app, c) = setup().await;
    let browser = Browser::new(&app);
    let page = browser
        .sign_in_and_approve(&code_request(&c, &[("nonce", "a\0b")]), "alice@example.com")
        .await;
    assert_eq!(page.redirect_params()["error"], "invalid_request");
    let page = browser
        .authorize(&code_request(&c, &[("scope", "openid \u{e9}\"x")]))
        .await;
    let params = page.redirect_params();
    assert_eq!(params["error"], "invalid_scope");
    assert!(
        params["error_description"]
            .chars()
            .all(|ch| matches!(ch, '\x20'..='\x21' | '\x23'..='\x5B' | '\x5D'..='\x7E')),
        "{}",
        params["error_description"]
    );
}

/// SEC-15: `request_uri` is refused without any outbound fetch: a canary listener on this
/// machine sees no connection.
#[tokio::test]
async fn sec_15_request_uri_is_never_fetched() {
    let (app, c) = setup().await;
    let canary = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    canary.set_nonblocking(true).unwrap();
    let target = format!("http://{}/request.jwt", canary.local_addr().unwrap());
    let browser = Browser::new(&app);
    for param in ["request_uri", "request"] {
        let value = if param == "request" {
            "eyJhbGciOiJub25lIn0.eyJyZWRpcmVjdF91cmkiOiJodHRwczovL2V2aWwudGVzdC8ifQ."
        } else {
            target.as_str()
        };
        let page = browser
            .authorize(&code_request(&c, &[(param, value)]))
            .await;
        assert_eq!(
            page.redirect_params()["error"],
            format!("{param}_not_supported")
        );
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(
        canary.accept().is_err(),
        "irongate connected to the request_uri"
    );
}

/// SEC-23: a code issued at the authorization endpoint lives 60 seconds, stored as a hash.
#[tokio::test]
async fn sec_23_codes_live_sixty_seconds() {
    use diesel::prelude::*;
    use irongate::store::schema::authorization_codes;
    let (app, c) = setup().await;
    let page = Browser::new(&app)
        .sign_in_and_approve(&code_request(&c, &[]), "alice@example.com")
        .await;
    let code = page.redirect_params()["code"].clone();
    let hash = irongate::auth::secrets::hash_secret(&code);
    let (created, expires): (i64, i64) = app
        .state
        .store
        .run(move |conn| {
            Ok(authorization_codes::table
                .find(hash)
                .select((
                    authorization_codes::created_at,
                    authorization_codes::expires_at,
                ))
                .first(conn)?)
        })
        .await
        .unwrap();
    assert_eq!(expires - created, 60);
}
