//! Browser sessions (checklist section F, SEC-50 and SEC-51 of section G): a new session id at
//! sign-in, idle and absolute timeouts, pre-login cookies that are renewed, stale or absurd, and
//! "log out everywhere" and disabling a user ending browser sessions.

use crate::helpers::{
    Browser, PASSWORD, code_request, error_of, spawn_session_app, spawn_session_app_with,
};

/// SEC-50: signing in issues a new session id; the pre-login one no longer works.
#[tokio::test]
async fn sec_50_new_session_id_at_sign_in() {
    let (app, c) = spawn_session_app().await;
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
async fn idle_and_absolute_timeouts_end_the_session_sec_51() {
    // Timeouts of a few seconds leave a slow CI machine room to finish the sign-in itself.
    let (app, c) = spawn_session_app_with(|s| s.sessions.idle_timeout = 2).await;
    let browser = Browser::new(&app);
    app.sign_in_tokens(&c, &browser, &[]).await;
    tokio::time::sleep(std::time::Duration::from_millis(3100)).await;
    let page = browser
        .authorize(&code_request(&c, &[("prompt", "none")]))
        .await;
    assert_eq!(error_of(&page), "login_required");

    let (app, c) = spawn_session_app_with(|s| s.sessions.lifetime = 3).await;
    let browser = Browser::new(&app);
    app.sign_in_tokens(&c, &browser, &[]).await;
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

/// SEC-51: a pre-login cookie with an absurd issue time (far past, far future, the extremes
/// of i64) is no session: a fresh login form, never an error.
#[tokio::test]
async fn sec_51_absurd_pre_login_cookies_are_ignored() {
    let (app, c) = spawn_session_app().await;
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
    let (app, c) = spawn_session_app_with(|s| s.sessions.idle_timeout = 6).await;
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

/// SEC-51: a login form left open past the idle timeout is refused (403, nothing signed in);
/// a fresh visit gets a fresh form that works.
#[tokio::test]
async fn sec_51_stale_login_form_is_refused() {
    let (app, c) = spawn_session_app_with(|s| s.sessions.idle_timeout = 2).await;
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

/// "Log out everywhere" and disabling the user end browser sessions too.
#[tokio::test]
async fn logout_all_and_disable_end_browser_sessions() {
    let (app, c) = spawn_session_app().await;
    let browser = Browser::new(&app);
    app.sign_in_tokens(&c, &browser, &[]).await;
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

    app.sign_in_tokens(&c, &browser, &[]).await;
    app.env
        .cli(&["user", "disable", "--email", "alice@example.com"], None)
        .json();
    let page = browser
        .authorize(&code_request(&c, &[("prompt", "none")]))
        .await;
    assert_eq!(error_of(&page), "login_required");
}

/// CONTRACT "Hardening" (a code outlived its session): a code issued before the session ended —
/// by `user logout-all` or by RP-initiated logout — no longer redeems; its tokens would have
/// carried the new security stamp and been fully valid.
#[tokio::test]
async fn codes_die_with_the_session_they_were_issued_in() {
    let (app, c) = spawn_session_app().await;
    let signed_in_code = |browser: Browser| {
        let params = code_request(&c, &[]);
        async move {
            let page = browser
                .sign_in_and_approve(&params, "alice@example.com")
                .await;
            (browser, page.redirect_params()["code"].clone())
        }
    };

    let (_, code) = signed_in_code(Browser::new(&app)).await;
    app.env
        .cli(
            &["user", "logout-all", "--email", "alice@example.com"],
            None,
        )
        .json();
    let (status, body) = app.exchange_code(&c, &code).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );

    let (browser, code) = signed_in_code(Browser::new(&app)).await;
    let confirm = browser.get(&format!("/logout?client_id={}", c.id)).await;
    let done = browser
        .post(
            "/logout",
            &[
                ("csrf_token", &confirm.hidden("csrf_token")),
                ("request", &confirm.hidden("request")),
            ],
        )
        .await;
    assert!(done.has("logged-out"), "{}", done.body);
    let (status, body) = app.exchange_code(&c, &code).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );

    // A code from a session that is still alive redeems.
    let (_, code) = signed_in_code(Browser::new(&app)).await;
    let (status, body) = app.exchange_code(&c, &code).await;
    assert_eq!(status, 200, "{body}");
}
