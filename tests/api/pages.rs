//! The pages themselves (checklist section G and SEC-12/SEC-13): cookie attributes, security
//! headers, CSRF, XSS probes, no enumeration, sign-in limits on the login page, bad input.

use crate::helpers::{
    Browser, PASSWORD, Page, REDIRECT, TestApp, TestEnv, code_request, spawn_app, spawn_app_with,
};

const XSS: &str = "\"><svg onload=alert(1)>";

async fn setup_with(
    customize: impl FnOnce(&mut irongate::config::Settings),
) -> (TestApp, crate::helpers::Client) {
    let app = spawn_app_with(TestEnv::new(), customize).await;
    app.create_user("alice@example.com", PASSWORD);
    let c = app.create_client(&["--redirect-uri", REDIRECT]);
    (app, c)
}

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
    let (app, c) = setup_with(|_| {}).await;
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
async fn sec_49_session_cookie_attributes() {
    let (app, c) = setup_with(|_| {}).await;
    let page = Browser::new(&app).authorize(&code_request(&c, &[])).await;
    let cookie = Browser::session_cookie(&page).unwrap();
    assert!(cookie.starts_with("irongate_session="), "{cookie}");
    for attr in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(attr), "{attr} in {cookie}");
    }
    assert!(!cookie.to_ascii_lowercase().contains("domain="));

    let (app, c) = setup_with(|s| s.issuer = "https://idp.test".into()).await;
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

/// SEC-52: login and consent POSTs without the session's token, with a wrong one, or from
/// another cookie jar are 403 and change nothing; GET on them is 405.
#[tokio::test]
async fn sec_52_csrf_on_login_consent_and_logout() {
    let (app, c) = setup_with(|_| {}).await;
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
    // State-changing addresses refuse GET.
    for path in ["/login", "/consent"] {
        let page = browser.get(path).await;
        assert_eq!(page.status, 405, "{path}");
    }
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

/// SEC-56: unknown user and wrong password look the same (status, body, headers).
#[tokio::test]
async fn sec_56_failed_login_does_not_enumerate_users() {
    let (app, c) = setup_with(|_| {}).await;
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

/// SEC-57: the login page shares the password grant's limits: 429, `Retry-After`, `.error`
/// saying to wait; a refused attempt never reaches the password check.
#[tokio::test]
async fn sec_57_login_page_is_rate_limited() {
    let (app, c) = setup_with(|s| {
        s.login_limit_per_user = 3;
        s.login_limit_per_ip = 100;
    })
    .await;
    let browser = Browser::new(&app);
    let login = browser.authorize(&code_request(&c, &[])).await;
    for _ in 0..3 {
        let page = browser
            .login(&login, "alice@example.com", "wrong password")
            .await;
        assert_eq!(page.status, 401);
    }
    let limited = browser.login(&login, "alice@example.com", PASSWORD).await;
    assert_eq!(limited.status, 429);
    assert!(limited.header("retry-after").parse::<u64>().unwrap() > 0);
    assert!(limited.has("class=\"error\""));
    assert!(limited.has("Wait"), "{}", limited.body);
    assert!(limited.has("<form id=\"login\""));
}

/// SEC-57: the login page's limits hold under a parallel burst (no more attempts reach the
/// password check than the limit allows) and cannot be dodged with `X-Forwarded-For` from an
/// untrusted peer.
#[tokio::test]
async fn sec_57_login_page_limits_hold_under_bursts_and_spoofed_forwarding() {
    let (app, c) = setup_with(|s| {
        s.login_limit_per_user = 0;
        s.login_limit_per_ip = 5;
    })
    .await;
    let browser = Browser::new(&app);
    let login = browser.authorize(&code_request(&c, &[])).await;
    let form = [
        ("csrf_token", login.hidden("csrf_token")),
        ("request", login.hidden("request")),
        ("username", "alice@example.com".to_owned()),
        ("password", "wrong password".to_owned()),
    ];
    let attempt = |n: usize| {
        let browser = &browser;
        let form = &form;
        async move {
            let resp = browser
                .http
                .post(format!("{}/login", browser.base))
                .header("x-forwarded-for", format!("203.0.113.{n}"))
                .form(form)
                .send()
                .await
                .unwrap();
            resp.status().as_u16()
        }
    };
    let statuses = futures_util::future::join_all((0..20).map(attempt)).await;
    assert_eq!(
        statuses.iter().filter(|s| **s == 401).count(),
        5,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 429).count(),
        15,
        "{statuses:?}"
    );
    // Even the right password waits now, whatever the forwarding header says.
    let page = browser.login(&login, "alice@example.com", PASSWORD).await;
    assert_eq!(page.status, 429);
}

/// SEC-61, SEC-62, SEC-63: malformed input is a 4xx page, never a 500; bodies are bounded; no
/// admin surface on the public listener.
#[tokio::test]
async fn sec_61_sec_62_sec_63_bad_input_and_no_admin_surface() {
    let (app, c) = setup_with(|_| {}).await;
    let browser = Browser::new(&app);
    for query in [
        "client_id=%FF%FE&redirect_uri=%00",
        "client_id=%00",
        "%%%%",
        "client_id&redirect_uri",
    ] {
        let page = browser.get(&format!("/authorize?{query}")).await;
        assert_eq!(page.status, 400, "{query}");
        assert!(!page.body.contains("panicked") && !page.body.contains("diesel"));
    }
    let big = "a".repeat(1024 * 1024);
    let resp = browser
        .http
        .post(app.url("/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("username={big}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 413);
    // Request heads are bounded (32 KiB of headers; actix-web itself stops at 128 KiB) → 431.
    let resp = browser
        .http
        .get(app.url("/healthz"))
        .header("X-Big", "a".repeat(200 * 1024))
        .send()
        .await;
    if let Ok(resp) = resp {
        assert_eq!(resp.status(), 431);
    }
    // Passwords longer than any stored one are refused without hashing, like a wrong one.
    let login = browser.authorize(&code_request(&c, &[])).await;
    let long = "p".repeat(4000);
    let page = browser.login(&login, "alice@example.com", &long).await;
    assert_eq!(page.status, 401);
    let page = browser
        .post("/consent", &[("csrf_token", "x"), ("request", "%ZZ")])
        .await;
    assert_eq!(page.status, 403);
    let resp = browser
        .http
        .post(app.url("/login"))
        .json(&serde_json::json!({"username": "a"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    // A NUL byte in a client id is an unknown client at the token endpoint too (PostgreSQL
    // would refuse it as an error).
    let resp = app
        .post_token(
            None,
            &[("grant_type", "client_credentials"), ("client_id", "a\0b")],
        )
        .await;
    assert_eq!(resp.status(), 401);
    for path in ["/admin", "/admin/users", "/clients", "/keys", "/metrics"] {
        assert_eq!(browser.get(path).await.status, 404, "{path}");
    }
    // No default accounts.
    for (user, password) in [
        ("admin", "admin"),
        ("root", "root"),
        ("admin@localhost", "admin"),
    ] {
        let login = browser.authorize(&code_request(&c, &[])).await;
        let page = browser.login(&login, user, password).await;
        assert_eq!(page.status, 401, "{user}");
        assert!(Browser::session_cookie(&page).is_none(), "{user}");
    }
    // A well-formed request still works afterwards.
    let page = browser.authorize(&code_request(&c, &[])).await;
    assert_eq!(page.status, 200);
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
    let (app, c) = setup_with(|_| {}).await;
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
    let (app, c) = setup_with(|_| {}).await;
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

/// SEC-61: every answer carries a correlation id (`X-Request-Id`, fresh per request) and error
/// pages quote it, so a report can be matched with the log. SEC-62: request headers over 32 KiB
/// in all are refused with 431 (a 64 KB header), ordinary large ones are not.
#[tokio::test]
async fn sec_61_sec_62_correlation_id_and_header_bound() {
    let (app, _c) = setup_with(|_| {}).await;
    let http = reqwest::Client::new();
    let mut ids = std::collections::HashSet::new();
    for path in [
        "/healthz",
        "/.well-known/openid-configuration",
        "/authorize",
        "/nowhere",
    ] {
        let resp = http.get(app.url(path)).send().await.unwrap();
        let id = resp.headers()["x-request-id"].to_str().unwrap().to_owned();
        assert_eq!(id.len(), 12, "{path}");
        assert!(ids.insert(id.clone()), "{path}: fresh per request");
        if path == "/authorize" {
            assert_eq!(resp.status(), 400);
            let body = resp.text().await.unwrap();
            assert!(body.contains(&format!("<code>{id}</code>")), "{body}");
        }
    }
    // A token endpoint error carries it too.
    let resp = app.post_token(None, &[("grant_type", "nonsense")]).await;
    assert!(resp.headers().contains_key("x-request-id"));

    let resp = http
        .get(app.url("/healthz"))
        .header("X-Big", "a".repeat(64 * 1024))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 431);
    assert!(resp.headers().contains_key("x-request-id"));
    let resp = http
        .get(app.url("/healthz"))
        .header("Cookie", format!("other={}", "a".repeat(16 * 1024)))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}

/// SEC-54: an error answered through `form_post` (no session, `prompt=none`) carries `state`
/// escaped in the form; a repeated parameter named by an attacker is not echoed raw either.
#[tokio::test]
async fn sec_54_form_post_errors_and_parameter_names_are_escaped() {
    let (app, c) = setup_with(|_| {}).await;
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

/// SEC-61, SEC-62: a 1 MB query string and a 10 MB body are refused with a 4xx, never a 500.
#[tokio::test]
async fn sec_61_sec_62_huge_query_and_body_are_refused() {
    let (app, c) = setup_with(|_| {}).await;
    let http = reqwest::Client::new();
    let huge = "a".repeat(1024 * 1024);
    let resp = http
        .get(app.url(&format!("/authorize?client_id={}&state={huge}", c.id)))
        .send()
        .await;
    if let Ok(resp) = resp {
        let status = resp.status().as_u16();
        assert!((400..500).contains(&status), "{status}");
    }
    for path in ["/token", "/login", "/consent", "/logout", "/authorize"] {
        // The server may answer 413 and close before the whole body is sent: then the client
        // sees the connection end, which is as good.
        let resp = http
            .post(app.url(path))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(vec![b'a'; 10 * 1024 * 1024])
            .send()
            .await;
        if let Ok(resp) = resp {
            assert_eq!(resp.status(), 413, "{path}");
        }
    }
    // Still serving.
    let resp = http.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
}

/// SEC-51: the session identifier never appears in a URL: no `Location` and no page of a
/// whole sign-in, consent and code flow carries the cookie's value.
#[tokio::test]
async fn sec_51_session_id_never_in_urls() {
    let (app, c) = setup_with(|_| {}).await;
    let browser = Browser::new(&app);
    let login = browser.authorize(&code_request(&c, &[])).await;
    let pre_login = Browser::session_cookie(&login).unwrap();
    let after = browser.login(&login, "alice@example.com", PASSWORD).await;
    let session = Browser::session_cookie(&after).unwrap();
    let consent = browser.follow(&after).await;
    let done = browser.consent(&consent, "allow").await;
    for cookie in [pre_login, session] {
        let value = cookie
            .split(';')
            .next()
            .unwrap()
            .split_once('=')
            .unwrap()
            .1
            .split('.')
            .next()
            .unwrap()
            .to_owned();
        for page in [&login, &after, &consent, &done] {
            assert!(!page.location().unwrap_or_default().contains(&value));
            assert!(!page.body.contains(&value));
        }
    }
}
