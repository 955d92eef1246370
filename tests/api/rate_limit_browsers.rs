//! Sign-in limits for browsers (SEC-57): device cookies that keep the user's own browser
//! working past the ceiling, and bursts that fill the limiter.

use crate::helpers::{Browser, PASSWORD, code_request, spawn_pages_app_with};

/// A browser's device cookie, from the `Set-Cookie` headers of `page`.
fn device_cookie(page: &crate::helpers::Page) -> Option<String> {
    page.headers
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("irongate_device=") || c.starts_with("__Host-irongate_device="))
}

/// Signs in on the login page of a new authorization request (`prompt=login`, so that a signed-in
/// browser is asked again); the login POST's answer.
async fn page_sign_in(
    browser: &Browser,
    c: &crate::helpers::Client,
    email: &str,
    password: &str,
) -> crate::helpers::Page {
    let login = browser
        .authorize(&code_request(c, &[("prompt", "login")]))
        .await;
    assert!(login.has("<form id=\"login\""), "{}", login.body);
    browser.login(&login, email, password).await
}

/// CONTRACT "Sign-in limits" (OWASP device cookies), issue 10: past the username's global
/// ceiling, strangers — on any network, and in a fresh browser on the user's own network — are
/// refused, while the browser where the user signed in before still signs in: its device cookie
/// gives it a counter of its own. That counter holds `login_limit_per_user` failures, so a stolen
/// cookie is no unlimited pass; and a cookie earned by one username does nothing for another.
#[tokio::test]
async fn a_device_cookie_keeps_the_users_browser_working_past_the_ceiling_sec_57() {
    let (app, c) = spawn_pages_app_with(|s| {
        s.login.trusted_proxies = vec!["127.0.0.0/8".parse().unwrap()];
        s.login.limit_per_user_global = 3;
        s.login.limit_per_ip = 100;
    })
    .await;
    app.create_user("bob@example.com", PASSWORD);
    let password_client = app.create_client(&["--grant-type", "password"]);

    // The user signs in once in their browser, which earns its device cookie.
    let users_browser = Browser::new(&app);
    let signed_in = page_sign_in(&users_browser, &c, "alice@example.com", PASSWORD).await;
    assert_eq!(signed_in.status, 303, "{}", signed_in.body);
    let cookie = device_cookie(&signed_in).expect("a device cookie at sign-in");
    let lower = cookie.to_lowercase();
    assert!(lower.contains("httponly"), "{cookie}");
    assert!(lower.contains("samesite=lax"), "{cookie}");
    assert!(lower.contains("max-age="), "{cookie}");
    assert!(lower.contains("path=/"), "{cookie}");
    assert!(!lower.contains("alice"), "names no user: {cookie}");
    users_browser.get("/logout").await;
    let confirm = users_browser.get("/logout").await;
    users_browser
        .post(
            "/logout",
            &[
                ("csrf_token", &confirm.hidden("csrf_token")),
                ("request", &confirm.hidden("request")),
            ],
        )
        .await;

    // Strangers on three networks reach the global ceiling.
    for network in ["203.0.113.1", "203.0.113.2", "203.0.113.3"] {
        let (status, _, _) = app
            .password_attempt(&password_client, "wrong password", Some(network))
            .await;
        assert_eq!(status, 400);
    }
    let (status, _, _) = app
        .password_attempt(&password_client, PASSWORD, Some("198.51.100.9"))
        .await;
    assert_eq!(status, 429, "past the ceiling, strangers are refused");
    let stranger = Browser::new(&app);
    let refused = page_sign_in(&stranger, &c, "alice@example.com", PASSWORD).await;
    assert_eq!(
        refused.status, 429,
        "a fresh browser on the user's network too"
    );
    assert!(device_cookie(&refused).is_none());

    // The user's browser still signs in, and gets a fresh cookie.
    let again = page_sign_in(&users_browser, &c, "alice@example.com", PASSWORD).await;
    assert_eq!(again.status, 303, "{}", again.body);
    assert!(device_cookie(&again).is_some());

    // Alice's cookie does nothing for Bob, once Bob is past his ceiling.
    for network in ["203.0.113.1", "203.0.113.2", "203.0.113.3"] {
        app.http
            .post(app.url("/token"))
            .basic_auth(&password_client.id, Some(&password_client.secret))
            .header("x-forwarded-for", network)
            .form(&[
                ("grant_type", "password"),
                ("username", "bob@example.com"),
                ("password", "wrong password"),
            ])
            .send()
            .await
            .unwrap();
    }
    let bob = page_sign_in(&users_browser, &c, "bob@example.com", PASSWORD).await;
    assert_eq!(bob.status, 429, "{}", bob.body);

    // The device's own counter: five failures, then even this browser waits.
    for _ in 0..5 {
        let page = page_sign_in(&users_browser, &c, "alice@example.com", "wrong password").await;
        assert_eq!(page.status, 401);
    }
    let limited = page_sign_in(&users_browser, &c, "alice@example.com", PASSWORD).await;
    assert_eq!(limited.status, 429);
}

/// A forged, foreign or tampered device cookie is simply no device cookie: past the ceiling
/// it is refused like any stranger, never a 500.
#[tokio::test]
async fn a_forged_device_cookie_earns_nothing_sec_57() {
    let (app, c) = spawn_pages_app_with(|s| {
        s.login.limit_per_user_global = 1;
        s.login.limit_per_ip = 100;
    })
    .await;
    let browser = Browser::new(&app);
    let failed = page_sign_in(&browser, &c, "alice@example.com", "wrong password").await;
    assert_eq!(failed.status, 401);
    for forged in ["", "x", "AAAA", &"A".repeat(75), &"A".repeat(4000), "a=b;c"] {
        let browser = Browser::new(&app);
        let login = browser.authorize(&code_request(&c, &[])).await;
        let session = Browser::session_cookie(&login).expect("a pre-login cookie");
        let session = Browser::cookie_value(&session);
        let status = browser
            .http
            .post(format!("{}/login", browser.base))
            .header(
                "cookie",
                format!("irongate_session={session}; irongate_device={forged}"),
            )
            .form(&[
                ("csrf_token", login.hidden("csrf_token").as_str()),
                ("request", login.hidden("request").as_str()),
                ("username", "alice@example.com"),
                ("password", PASSWORD),
            ])
            .send()
            .await
            .unwrap()
            .status()
            .as_u16();
        assert_eq!(status, 429, "{forged:?}");
    }
}

/// Issue 10, finding 1 (high), SEC-57: a burst from many addresses with made-up usernames fills
/// the limiter's table (lowered to 100 counters here; 100,000 by default) with counters at their
/// limit — 120 addresses, IPv4 and IPv6 /64s of one /48, three attempts each — and then the real
/// user, from a fresh address, signs in on the password grant and on the login page. Before,
/// a full table refused every key it had not seen: everyone got 429. In process, and in Redis
/// when `IRONGATE_TEST_REDIS_URL` is set.
#[tokio::test]
async fn a_burst_that_fills_the_limiter_never_locks_the_real_user_out_sec_57() {
    let (app, c) = spawn_pages_app_with(|s| {
        s.login.trusted_proxies = vec!["127.0.0.0/8".parse().unwrap()];
        s.login.limit_table_size = 100;
        s.login.limit_per_ip = 2;
        s.login.limit_per_user = 1;
        s.login.limit_per_user_global = 1;
    })
    .await;
    let password_client = app.create_client(&["--grant-type", "password"]);
    let attempt = |address: String, username: String| {
        let app = &app;
        let password_client = &password_client;
        async move {
            app.http
                .post(app.url("/token"))
                .basic_auth(&password_client.id, Some(&password_client.secret))
                .header("x-forwarded-for", address)
                .form(&[
                    ("grant_type", "password"),
                    ("username", username.as_str()),
                    ("password", "wrong password"),
                ])
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    let addresses: Vec<String> = (0..120)
        .map(|i| {
            if i % 2 == 0 {
                format!("10.{}.{}.7", i / 250, i % 250)
            } else {
                format!("2001:db8:1:{i:x}::1")
            }
        })
        .collect();
    let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
    for round in 0..3 {
        let batch = addresses
            .iter()
            .enumerate()
            .map(|(i, a)| attempt(a.clone(), format!("made-up-{round}-{i}@burst.test")));
        for status in futures_util::future::join_all(batch).await {
            *statuses.entry(status).or_default() += 1;
        }
    }
    assert_eq!(statuses.values().sum::<usize>(), 360);
    assert!(
        statuses.get(&400).copied().unwrap_or(0) >= 100,
        "the burst was counted: {statuses:?}"
    );
    assert!(
        statuses.get(&429).copied().unwrap_or(0) > 0,
        "and limited: {statuses:?}"
    );

    let (status, _, error) = app
        .password_attempt(&password_client, PASSWORD, Some("198.51.100.200"))
        .await;
    assert_eq!(
        status, 200,
        "the real user on the password grant: {error:?}"
    );
    let browser = Browser::new(&app);
    let page = page_sign_in(&browser, &c, "alice@example.com", PASSWORD).await;
    assert_eq!(
        page.status, 303,
        "the real user on the login page: {}",
        page.body
    );
    // And the limiter still limits: a new address's second try for the same username waits
    // (no new key, so nothing is evicted in between; a full table forgets single attempts
    // first, by design).
    let fresh = "192.0.2.77".to_string();
    assert_eq!(attempt(fresh.clone(), "late@burst.test".into()).await, 400);
    assert_eq!(attempt(fresh, "late@burst.test".into()).await, 429);
}

/// A device cookie is tied to the user's security stamp: after "log out everywhere" (or a
/// password change, or a disable) the cookies of every browser stop exempting it, so a cookie
/// taken by someone who once knew the password is worth nothing after the user recovers. With
/// `login_limit_per_user = 0` the device's counter takes the global ceiling's limit (a cookie
/// never means no limit).
#[tokio::test]
async fn a_device_cookie_dies_with_the_security_stamp_sec_57() {
    let (app, c) = spawn_pages_app_with(|s| {
        s.login.trusted_proxies = vec!["127.0.0.0/8".parse().unwrap()];
        s.login.limit_per_user = 0;
        s.login.limit_per_user_global = 2;
        s.login.limit_per_ip = 100;
    })
    .await;
    let password_client = app.create_client(&["--grant-type", "password"]);
    let browser = Browser::new(&app);
    let signed_in = page_sign_in(&browser, &c, "alice@example.com", PASSWORD).await;
    assert_eq!(signed_in.status, 303);
    for network in ["203.0.113.1", "203.0.113.2"] {
        let (status, _, _) = app
            .password_attempt(&password_client, "wrong password", Some(network))
            .await;
        assert_eq!(status, 400);
    }
    // The device's own counter holds two failures (the global limit), then waits.
    for _ in 0..2 {
        let page = page_sign_in(&browser, &c, "alice@example.com", "wrong password").await;
        assert_eq!(page.status, 401);
    }
    let page = page_sign_in(&browser, &c, "alice@example.com", PASSWORD).await;
    assert_eq!(page.status, 429, "per_user = 0 is no unlimited pass");

    let fresh = Browser::new(&app);
    let signed_in = page_sign_in(&fresh, &c, "alice@example.com", PASSWORD).await;
    assert_eq!(signed_in.status, 429, "past the ceiling without a cookie");

    // A browser that earned a cookie before the ceiling, then the stamp changes.
    let (app, c) = spawn_pages_app_with(|s| {
        s.login.trusted_proxies = vec!["127.0.0.0/8".parse().unwrap()];
        s.login.limit_per_user_global = 2;
        s.login.limit_per_ip = 100;
    })
    .await;
    let password_client = app.create_client(&["--grant-type", "password"]);
    let browser = Browser::new(&app);
    assert_eq!(
        page_sign_in(&browser, &c, "alice@example.com", PASSWORD)
            .await
            .status,
        303
    );
    for network in ["203.0.113.1", "203.0.113.2"] {
        app.password_attempt(&password_client, "wrong password", Some(network))
            .await;
    }
    app.env
        .cli(
            &["user", "logout-all", "--email", "alice@example.com"],
            None,
        )
        .json();
    let page = page_sign_in(&browser, &c, "alice@example.com", PASSWORD).await;
    assert_eq!(page.status, 429, "the old stamp's cookie no longer exempts");
}
