//! Cross-site attacks on the pages (SEC-52, SEC-54): CSRF tokens bound to the session, POSTs from
//! another origin refused, and XSS probes in every reflected parameter escaped.

use crate::helpers::{
    Browser, PASSWORD, Page, REDIRECT, code_request, spawn_app, spawn_pages_app_with,
};

const XSS: &str = "\"><svg onload=alert(1)>";

/// SEC-52: login and consent POSTs without the session's token, with a wrong one, or from
/// another cookie jar are 403 and change nothing; GET on them is 405.
#[tokio::test]
async fn login_and_consent_posts_need_the_sessions_csrf_token_sec_52() {
    let (app, c) = spawn_pages_app_with(|_| {}).await;
    let browser = Browser::new(&app);
    let login = browser.authorize(&code_request(&c, &[])).await;
    let request = login.hidden("request");
    let token = login.hidden("csrf_token");
    for (csrf, who) in [("", "none"), ("AAAA", "wrong"), ("!!", "garbage")] {
        let page = browser
            .post(
                "/login",
                &[
                    ("csrf_token", csrf),
                    ("request", &request),
                    ("username", "alice@example.com"),
                    ("password", PASSWORD),
                ],
            )
            .await;
        assert_eq!(page.status, 403, "{who}");
        assert!(
            Browser::session_cookie(&page).is_none(),
            "{who}: no session created"
        );
    }
    // The right token from another browser (no session there, or a different one).
    let other = Browser::new(&app);
    other.authorize(&code_request(&c, &[])).await;
    let page = other
        .post(
            "/login",
            &[
                ("csrf_token", &token),
                ("request", &request),
                ("username", "alice@example.com"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(page.status, 403);
    // The right token with another request.
    let page = browser
        .post(
            "/login",
            &[
                ("csrf_token", &token),
                ("request", &format!("{request}&prompt=none")),
                ("username", "alice@example.com"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(page.status, 403);

    // Consent: signed in, then the approval without its token, and from another jar.
    let after = browser.login(&login, "alice@example.com", PASSWORD).await;
    let consent = browser.follow(&after).await;
    let consent_request = consent.hidden("request");
    for b in [&browser, &other] {
        let page = b
            .post(
                "/consent",
                &[("request", &consent_request), ("decision", "allow")],
            )
            .await;
        assert_eq!(page.status, 403);
        assert!(page.location().is_none());
    }
    let page = other
        .post(
            "/consent",
            &[
                ("csrf_token", &consent.hidden("csrf_token")),
                ("request", &consent_request),
                ("decision", "allow"),
            ],
        )
        .await;
    assert_eq!(page.status, 403);
    // Still no consent recorded: prompt=none asks for it.
    let page = browser
        .authorize(&code_request(&c, &[("prompt", "none")]))
        .await;
    assert_eq!(page.redirect_params()["error"], "consent_required");
    // State-changing addresses refuse GET; GET /login only shows the account login page (or,
    // signed in, goes on to the account page) and changes nothing.
    let page = browser.get("/consent").await;
    assert_eq!(page.status, 405);
    let page = browser.get("/login").await;
    assert_eq!(page.status, 302);
    assert!(page.location().unwrap().ends_with("/account/password"));
}

/// POSTs `form` to `path` from `browser`'s cookie jar with an `Origin` header.
async fn post_from(browser: &Browser, origin: &str, path: &str, form: &[(&str, &str)]) -> Page {
    Browser::read(
        browser
            .http
            .post(format!("{}{path}", browser.base))
            .header("origin", origin)
            .form(form)
            .send()
            .await
            .unwrap(),
    )
    .await
}

/// SEC-52: a login, consent or logout POST whose `Origin` is another site is 403 and changes
/// nothing, even with the right cookie and token; irongate's own origin and `null` (what
/// browsers send from pages with `Referrer-Policy: no-referrer`) are accepted.
#[tokio::test]
async fn sec_52_posts_from_another_origin_are_refused() {
    let (app, c) = spawn_pages_app_with(|_| {}).await;
    let browser = Browser::new(&app);
    let login = browser.authorize(&code_request(&c, &[])).await;
    let login_form = [
        ("csrf_token", login.hidden("csrf_token")),
        ("request", login.hidden("request")),
        ("username", "alice@example.com".to_owned()),
        ("password", PASSWORD.to_owned()),
    ];
    let login_form: Vec<(&str, &str)> = login_form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    for evil in ["https://evil.test", "http://127.0.0.1", "null-ish"] {
        let page = post_from(&browser, evil, "/login", &login_form).await;
        assert_eq!(page.status, 403, "{evil}");
        assert!(Browser::session_cookie(&page).is_none(), "{evil}");
    }
    // From irongate's own origin: signed in.
    let own = app.address.trim_end_matches('/').to_owned();
    let after = post_from(&browser, &own, "/login", &login_form).await;
    assert_eq!(after.status, 303, "{}", after.body);
    let consent = browser.follow(&after).await;
    let consent_form = [
        ("csrf_token", consent.hidden("csrf_token")),
        ("request", consent.hidden("request")),
        ("decision", "allow".to_owned()),
    ];
    let consent_form: Vec<(&str, &str)> =
        consent_form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let page = post_from(&browser, "https://evil.test", "/consent", &consent_form).await;
    assert_eq!(page.status, 403);
    assert!(page.location().is_none(), "no code");
    let page = browser
        .authorize(&code_request(&c, &[("prompt", "none")]))
        .await;
    assert_eq!(page.redirect_params()["error"], "consent_required");
    // `Sec-Fetch-Site: cross-site` (sent whatever the referrer policy): refused too.
    let page = Browser::read(
        browser
            .http
            .post(format!("{}/consent", browser.base))
            .header("sec-fetch-site", "cross-site")
            .header("origin", "null")
            .form(&consent_form)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(page.status, 403);
    // `Origin: null` with the right token: the approval goes through.
    let page = post_from(&browser, "null", "/consent", &consent_form).await;
    assert_eq!(page.status, 303, "{}", page.body);
    assert!(page.redirect_params().contains_key("code"));
    // The logout confirmation from another site: refused, still signed in.
    let confirm = browser.get("/logout").await;
    let logout_form = [
        ("csrf_token", confirm.hidden("csrf_token")),
        ("request", confirm.hidden("request")),
    ];
    let logout_form: Vec<(&str, &str)> =
        logout_form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let page = post_from(&browser, "https://evil.test", "/logout", &logout_form).await;
    assert_eq!(page.status, 403);
    let page = browser
        .authorize(&code_request(&c, &[("prompt", "none")]))
        .await;
    assert!(page.redirect_params().contains_key("code"));
}

/// SEC-54: XSS probes in every reflected parameter come back escaped only.
#[tokio::test]
async fn sec_54_xss_probes_are_escaped() {
    let app = spawn_app().await;
    app.create_user("alice@example.com", PASSWORD);
    let out = app.env.cli(
        &[
            "client",
            "create",
            "--name",
            XSS,
            "--redirect-uri",
            REDIRECT,
        ],
        None,
    );
    let c = crate::helpers::Client {
        id: out.json()["client_id"].as_str().unwrap().to_owned(),
        secret: out.json()["client_secret"].as_str().unwrap().to_owned(),
    };
    let browser = Browser::new(&app);
    let login = browser
        .authorize(&code_request(
            &c,
            &[
                ("login_hint", XSS),
                ("ui_locales", XSS),
                ("state", XSS),
                ("nonce", XSS),
            ],
        ))
        .await;
    assert_eq!(login.status, 200);
    assert!(!login.body.contains(XSS), "{}", login.body);
    assert!(!login.body.contains("<svg"));
    // The failed login shows the username again, escaped.
    let failed = browser.login(&login, XSS, "wrong password!").await;
    assert!(failed.has("class=\"error\""));
    assert!(!failed.body.contains("<svg"));
    let after = browser.login(&login, "alice@example.com", PASSWORD).await;
    let consent = browser.follow(&after).await;
    assert!(consent.has("data-scope=\"openid\""));
    assert!(!consent.body.contains("<svg"), "{}", consent.body);
    // Error pages never reflect input unescaped.
    for params in [
        vec![("client_id", XSS)],
        vec![("client_id", c.id.as_str()), ("redirect_uri", XSS)],
    ] {
        let page = browser.authorize(&params).await;
        assert_eq!(page.status, 400);
        assert!(!page.body.contains("<svg"));
    }
    let page = browser
        .get(&format!(
            "/logout?client_id={}&state=%22%3E%3Csvg%20onload%3Dalert(1)%3E",
            c.id
        ))
        .await;
    assert!(!page.body.contains("<svg"), "{}", page.body);
}

/// SEC-54: an error answered through `form_post` (no session, `prompt=none`) carries `state`
/// escaped in the form; a repeated parameter named by an attacker is not echoed raw either.
#[tokio::test]
async fn sec_54_form_post_errors_and_parameter_names_are_escaped() {
    let (app, c) = spawn_pages_app_with(|_| {}).await;
    let browser = Browser::new(&app);
    let page = browser
        .authorize(&code_request(
            &c,
            &[
                ("response_mode", "form_post"),
                ("prompt", "none"),
                ("state", XSS),
            ],
        ))
        .await;
    assert_eq!(page.status, 200);
    assert!(page.has("login_required"), "{}", page.body);
    assert!(!page.body.contains("<svg"), "{}", page.body);
    assert!(!page.body.contains("<script>"), "no inline script");
    let query = format!(
        "/authorize?client_id={}&{probe}=1&{probe}=2",
        c.id,
        probe = "%22%3E%3Csvg%20onload%3Dalert(1)%3E"
    );
    let page = browser.get(&query).await;
    assert!(page.status < 500);
    assert!(!page.body.contains("<svg"), "{}", page.body);
}
