//! The pages themselves (checklist section G and SEC-13): security headers, cookie attributes, no
//! user enumeration, no session stored for visitors who never sign in, and no session id in URLs.

use crate::helpers::{Browser, PASSWORD, Page, TestApp, code_request, spawn_pages_app_with};

/// SEC-13, SEC-55: the headers every HTML response carries.
fn assert_page_headers(page: &Page, what: &str) {
    let csp = page.header("content-security-policy");
    assert!(csp.contains("frame-ancestors 'none'"), "{what}: {csp}");
    assert!(!csp.contains("unsafe-inline"), "{what}: {csp}");
    assert!(csp.contains("default-src 'none'"), "{what}: {csp}");
    assert_eq!(page.header("x-frame-options"), "DENY", "{what}");
    assert_eq!(page.header("referrer-policy"), "no-referrer", "{what}");
    assert_eq!(page.header("cache-control"), "no-store", "{what}");
    assert_eq!(page.header("x-content-type-options"), "nosniff", "{what}");
    assert_eq!(
        page.header("cross-origin-opener-policy"),
        "same-origin",
        "{what}"
    );
    // SEC-55: no third-party origin anywhere in the page.
    assert!(!page.body.contains("src=\"http"), "{what}");
    assert!(!page.body.contains("href=\"http"), "{what}");
}

/// SEC-13, SEC-55: login, consent, error, logout confirmation, logged-out and form_post pages.
#[tokio::test]
async fn sec_13_sec_55_every_page_carries_the_security_headers() {
    let (app, c) = spawn_pages_app_with(|_| {}).await;
    let browser = Browser::new(&app);
    let login = browser.authorize(&code_request(&c, &[])).await;
    assert_page_headers(&login, "login");
    let after = browser.login(&login, "alice@example.com", PASSWORD).await;
    assert_page_headers(&after, "login redirect");
    let consent = browser.follow(&after).await;
    assert_page_headers(&consent, "consent");
    let error = browser.authorize(&[("client_id", "nope")]).await;
    assert_page_headers(&error, "error");
    let confirm = browser.get("/logout").await;
    assert_page_headers(&confirm, "logout confirmation");
    let logged_out = Browser::new(&app).get("/logout").await;
    assert!(logged_out.has("id=\"logged-out\""));
    assert_page_headers(&logged_out, "logged out");
    let css = browser.get("/assets/irongate.css").await;
    assert_eq!(css.status, 200);
    assert!(css.header("content-type").starts_with("text/css"));
}

/// SEC-49: the session cookie's attributes, over http and over https (`__Host-`, `Secure`).
#[tokio::test]
async fn session_cookie_is_httponly_lax_and_host_prefixed_secure_over_https_sec_49() {
    let (app, c) = spawn_pages_app_with(|_| {}).await;
    let page = Browser::new(&app).authorize(&code_request(&c, &[])).await;
    let cookie = Browser::session_cookie(&page).unwrap();
    assert!(cookie.starts_with("irongate_session="), "{cookie}");
    for attr in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(attr), "{attr} in {cookie}");
    }
    assert!(!cookie.to_ascii_lowercase().contains("domain="));

    let (app, c) = spawn_pages_app_with(|s| s.server.issuer = "https://idp.test".into()).await;
    let page = Browser::new(&app).authorize(&code_request(&c, &[])).await;
    let cookie = Browser::session_cookie(&page).unwrap();
    assert!(cookie.starts_with("__Host-irongate_session="), "{cookie}");
    for attr in ["HttpOnly", "SameSite=Lax", "Path=/", "Secure"] {
        assert!(cookie.contains(attr), "{attr} in {cookie}");
    }
    assert!(!cookie.to_ascii_lowercase().contains("domain="));
    assert!(
        page.header("strict-transport-security")
            .contains("max-age=31536000")
    );
    // No CSRF cookie, no other cookie at all.
    assert_eq!(page.headers.get_all("set-cookie").iter().count(), 1);

    // The signed-in session's cookie and the cookie that clears it at logout: the same
    // attributes (sent by hand: the jar keeps `Secure` cookies off plain http).
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let pre_login = cookie.split(';').next().unwrap().to_owned();
    let resp = http
        .post(app.url("/login"))
        .header("cookie", &pre_login)
        .form(&[
            ("csrf_token", page.hidden("csrf_token")),
            ("request", page.hidden("request")),
            ("username", "alice@example.com".into()),
            ("password", PASSWORD.into()),
        ])
        .send()
        .await
        .unwrap();
    let signed_in = Browser::read(resp).await;
    assert_eq!(signed_in.status, 303, "{}", signed_in.body);
    let session = Browser::session_cookie(&signed_in).unwrap();
    let session_pair = session.split(';').next().unwrap().to_owned();
    let resp = http
        .get(app.url("/logout"))
        .header("cookie", &session_pair)
        .send()
        .await
        .unwrap();
    let confirm = Browser::read(resp).await;
    let resp = http
        .post(app.url("/logout"))
        .header("cookie", &session_pair)
        .form(&[
            ("csrf_token", confirm.hidden("csrf_token")),
            ("request", confirm.hidden("request")),
        ])
        .send()
        .await
        .unwrap();
    let logged_out = Browser::read(resp).await;
    let cleared = Browser::session_cookie(&logged_out).unwrap();
    for cookie in [&session, &cleared] {
        assert!(cookie.starts_with("__Host-irongate_session="), "{cookie}");
        for attr in ["HttpOnly", "SameSite=Lax", "Path=/", "Secure"] {
            assert!(cookie.contains(attr), "{attr} in {cookie}");
        }
        assert!(!cookie.to_ascii_lowercase().contains("domain="));
    }
}

/// SEC-56: unknown user and wrong password look the same (status, body, headers).
#[tokio::test]
async fn sec_56_failed_login_does_not_enumerate_users() {
    let (app, c) = spawn_pages_app_with(|_| {}).await;
    let browser = Browser::new(&app);
    let login = browser.authorize(&code_request(&c, &[])).await;
    let unknown = browser
        .login(&login, "nobody@example.com", "wrong password")
        .await;
    let wrong = browser
        .login(&login, "alice@example.com", "wrong password")
        .await;
    assert_eq!(unknown.status, wrong.status);
    assert_eq!(unknown.status, 401);
    let normalize = |p: &Page, email: &str| p.body.replace(email, "EMAIL");
    assert_eq!(
        normalize(&unknown, "nobody@example.com"),
        normalize(&wrong, "alice@example.com")
    );
    assert!(wrong.has("class=\"error\""));
    assert!(wrong.has("The email or password is incorrect."));
    let names = |p: &Page| {
        let mut v: Vec<String> = p.headers.keys().map(|k| k.to_string()).collect();
        v.sort();
        v
    };
    assert_eq!(names(&unknown), names(&wrong));
    // A disabled account answers the same.
    app.env
        .cli(&["user", "disable", "--email", "alice@example.com"], None)
        .json();
    let disabled = browser.login(&login, "alice@example.com", PASSWORD).await;
    assert_eq!(
        normalize(&disabled, "alice@example.com"),
        normalize(&wrong, "alice@example.com")
    );
}

/// The number of stored browser sessions.
async fn stored_sessions(app: &TestApp) -> i64 {
    use diesel::prelude::*;
    use irongate::store::schema::sessions;
    app.state
        .store
        .run(|c| Ok(sessions::table.count().get_result::<i64>(c)?))
        .await
        .unwrap()
}

/// SEC-62: visitors who never sign in make the server store nothing: the pre-login cookie
/// binds the login form's CSRF token by itself. Only a sign-in writes a session.
#[tokio::test]
async fn sec_62_visitors_who_never_sign_in_store_nothing() {
    let (app, c) = spawn_pages_app_with(|_| {}).await;
    let cookieless = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for _ in 0..50 {
        let resp = cookieless
            .get(app.url("/authorize"))
            .query(&code_request(&c, &[]))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        assert!(resp.headers().get("set-cookie").is_some());
    }
    // A browser that fails to sign in, or forges its token, stores nothing either.
    let browser = Browser::new(&app);
    let login = browser.authorize(&code_request(&c, &[])).await;
    let page = browser.login(&login, "alice@example.com", "wrong").await;
    assert_eq!(page.status, 401);
    let page = browser
        .post(
            "/login",
            &[
                ("csrf_token", "AAAA"),
                ("request", &login.hidden("request")),
                ("username", "alice@example.com"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(page.status, 403);
    assert_eq!(stored_sessions(&app).await, 0);
    // The same browser signs in with its pre-login cookie: one session, under a new cookie.
    let login = browser.authorize(&code_request(&c, &[])).await;
    let after = browser.login(&login, "alice@example.com", PASSWORD).await;
    assert_eq!(after.status, 303);
    assert!(Browser::session_cookie(&after).is_some());
    assert_eq!(stored_sessions(&app).await, 1);
}

/// SEC-51: the session identifier never appears in a URL: no `Location` and no page of a
/// whole sign-in, consent and code flow carries the cookie's value.
#[tokio::test]
async fn sec_51_session_id_never_in_urls() {
    let (app, c) = spawn_pages_app_with(|_| {}).await;
    let browser = Browser::new(&app);
    let login = browser.authorize(&code_request(&c, &[])).await;
    let pre_login = Browser::session_cookie(&login).unwrap();
    let after = browser.login(&login, "alice@example.com", PASSWORD).await;
    let session = Browser::session_cookie(&after).unwrap();
    let consent = browser.follow(&after).await;
    let done = browser.consent(&consent, "allow").await;
    for cookie in [pre_login, session] {
        let value = Browser::cookie_value(&cookie);
        let value = value.split('.').next().unwrap().to_owned();
        for page in [&login, &after, &consent, &done] {
            assert!(!page.location().unwrap_or_default().contains(&value));
            assert!(!page.body.contains(&value));
        }
    }
}
