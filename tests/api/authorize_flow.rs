//! The code flow through the login and consent pages (the authorization side of checklist section
//! B): GET and POSTed requests, `response_mode=form_post`, and the codes it issues: random,
//! short-lived, stored as a hash, and revoking what they issued when replayed.

use crate::helpers::{
    Browser, PASSWORD, Page, REDIRECT, TestApp, VERIFIER, assert_no_redirect, code_request,
    json_of, spawn_code_flow_app,
};

/// The code flow end to end through the login and consent pages (SEC-08: `iss` and `state`).
#[tokio::test]
async fn code_flow_through_login_and_consent_pages() {
    let (app, c) = spawn_code_flow_app().await;
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

/// SEC-11: the authorization request works as a form POST.
#[tokio::test]
async fn authorization_request_works_as_a_form_post_sec_11() {
    let (app, c) = spawn_code_flow_app().await;
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

/// `response_mode=form_post`: an auto-submitting form to the redirect URI, no inline script,
/// everything escaped (SEC-54).
#[tokio::test]
async fn form_post_response_mode_is_csp_safe() {
    let (app, c) = spawn_code_flow_app().await;
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

/// SEC-19 through the real flow: a replayed code fails and revokes what the first exchange
/// issued; SEC-17, SEC-18, SEC-21, SEC-22 at the token endpoint with codes from the pages.
#[tokio::test]
async fn sec_19_replayed_code_from_the_flow_revokes_its_tokens() {
    let (app, c) = spawn_code_flow_app().await;
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
    let (app, c) = spawn_code_flow_app().await;
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
        let value = Browser::cookie_value(&cookie);
        // A pre-login cookie: 256 random bits, then the time it was issued.
        let (random, issued) = value.split_once('.').unwrap();
        assert_eq!(random.len(), 43);
        assert!(issued.parse::<i64>().is_ok());
        assert!(cookies.insert(random.to_owned()));
    }
}

/// SEC-23: a code issued at the authorization endpoint lives 60 seconds, stored as a hash.
#[tokio::test]
async fn sec_23_codes_live_sixty_seconds() {
    use diesel::prelude::*;
    use irongate::store::schema::authorization_codes;
    let (app, c) = spawn_code_flow_app().await;
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
                .get_result(conn)?)
        })
        .await
        .unwrap();
    assert_eq!(expires - created, 60);
}
