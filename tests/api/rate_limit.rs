//! Sign-in rate limits (SEC-57) on the password grant and on the login page.

use crate::helpers::{
    Browser, PASSWORD, TestEnv, code_request, spawn_app, spawn_app_with, spawn_pages_app_with,
};

#[tokio::test]
async fn sec_57_username_failures_are_limited_with_429_and_retry_after() {
    let app = spawn_app().await;
    let (c, _) = app.password_client_with_alice();
    for _ in 0..5 {
        let (status, _, error) = app.password_attempt(&c, "wrong password", None).await;
        assert_eq!((status, error.as_deref()), (400, Some("invalid_grant")));
    }
    // The sixth attempt is refused before the password is looked at, even the right one.
    let (status, retry, error) = app.password_attempt(&c, PASSWORD, None).await;
    assert_eq!(
        (status, error.as_deref()),
        (429, Some("temporarily_unavailable"))
    );
    let retry = retry.expect("Retry-After");
    assert!((1..=900).contains(&retry), "{retry}");
}

#[tokio::test]
async fn sec_57_a_success_resets_the_username_counter() {
    let app = spawn_app().await;
    let (c, _) = app.password_client_with_alice();
    for round in 0..2 {
        for _ in 0..4 {
            assert_eq!(
                app.password_attempt(&c, "wrong password", None).await.0,
                400,
                "round {round}"
            );
        }
        assert_eq!(
            app.password_attempt(&c, PASSWORD, None).await.0,
            200,
            "round {round}"
        );
    }
}

/// Parallel attempts cannot exceed the limit: a slot is taken before the password is checked.
#[tokio::test]
async fn sec_57_parallel_attempts_never_exceed_the_limit() {
    let app = spawn_app_with(TestEnv::new(), |s| s.login.limit_per_ip = 0).await;
    let (c, _) = app.password_client_with_alice();
    let results = futures_util::future::join_all(
        (0..30).map(|_| app.password_attempt(&c, "wrong password", None)),
    )
    .await;
    let verified = results.iter().filter(|r| r.0 == 400).count();
    let limited = results.iter().filter(|r| r.0 == 429).count();
    assert_eq!((verified, limited), (5, 25), "{results:?}");
}

#[tokio::test]
async fn sec_57_per_ip_limit_ignores_forwarded_for_from_untrusted_peers() {
    let app = spawn_app_with(TestEnv::new(), |s| {
        s.login.limit_per_ip = 3;
        s.login.limit_per_user = 0;
    })
    .await;
    let (c, _) = app.password_client_with_alice();
    for i in 0..3 {
        let xff = format!("198.51.100.{i}");
        assert_eq!(
            app.password_attempt(&c, "wrong password", Some(&xff))
                .await
                .0,
            400
        );
    }
    let (status, retry, _) = app
        .password_attempt(&c, PASSWORD, Some("198.51.100.77"))
        .await;
    assert_eq!(
        status, 429,
        "a made-up X-Forwarded-For does not reset the bucket"
    );
    assert!(retry.is_some());
}

#[tokio::test]
async fn per_ip_limit_believes_trusted_proxies() {
    let app = spawn_app_with(TestEnv::new(), |s| {
        s.login.limit_per_ip = 2;
        s.login.limit_per_user = 0;
        s.login.trusted_proxies = vec!["127.0.0.0/8".parse().unwrap()];
    })
    .await;
    let (c, _) = app.password_client_with_alice();
    for _ in 0..2 {
        assert_eq!(
            app.password_attempt(&c, "wrong", Some("198.51.100.1"))
                .await
                .0,
            400
        );
    }
    assert_eq!(
        app.password_attempt(&c, "wrong", Some("198.51.100.1"))
            .await
            .0,
        429
    );
    // Another client behind the same proxy has its own bucket.
    assert_eq!(
        app.password_attempt(&c, PASSWORD, Some("198.51.100.2"))
            .await
            .0,
        200
    );
}

#[tokio::test]
async fn a_limit_of_zero_turns_it_off() {
    let app = spawn_app_with(TestEnv::new(), |s| {
        s.login.limit_per_ip = 0;
        s.login.limit_per_user = 0;
    })
    .await;
    let (c, _) = app.password_client_with_alice();
    for _ in 0..8 {
        assert_eq!(
            app.password_attempt(&c, "wrong password", None).await.0,
            400
        );
    }
    assert_eq!(app.password_attempt(&c, PASSWORD, None).await.0, 200);
}

/// SEC-57: the login page shares the password grant's limits: 429, `Retry-After`, `.error`
/// saying to wait; a refused attempt never reaches the password check.
#[tokio::test]
async fn sec_57_login_page_is_rate_limited() {
    let (app, c) = spawn_pages_app_with(|s| {
        s.login.limit_per_user = 3;
        s.login.limit_per_ip = 100;
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
    let (app, c) = spawn_pages_app_with(|s| {
        s.login.limit_per_user = 0;
        s.login.limit_per_ip = 5;
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

/// CONTRACT "Hardening": a password over 128 characters is never valid, and is refused before it
/// counts against a username — 25 of them from one address leave the user's limit (5) and the
/// address's limit (20) untouched, and the right password still signs in.
#[tokio::test]
async fn oversized_passwords_do_not_count_against_the_username_sec_57() {
    let app = spawn_app().await;
    let (c, _) = app.password_client_with_alice();
    let oversized = "x".repeat(129);
    for _ in 0..25 {
        let (status, _, error) = app.password_attempt(&c, &oversized, None).await;
        assert_eq!((status, error.as_deref()), (400, Some("invalid_grant")));
    }
    let (status, _, error) = app.password_attempt(&c, PASSWORD, None).await;
    assert_eq!(status, 200, "{error:?}");
}

/// Issue 10, finding 2: five wrong passwords for a user from one network lock that network out,
/// not the user — the right password from another network still signs in.
#[tokio::test]
async fn username_failures_count_per_client_network_sec_57() {
    let app = spawn_app_with(TestEnv::new(), |s| {
        s.login.trusted_proxies = vec!["127.0.0.0/8".parse().unwrap()];
    })
    .await;
    let (c, _) = app.password_client_with_alice();
    for _ in 0..5 {
        let (status, _, _) = app
            .password_attempt(&c, "wrong password", Some("203.0.113.1"))
            .await;
        assert_eq!(status, 400);
    }
    let (status, retry, _) = app
        .password_attempt(&c, PASSWORD, Some("203.0.113.1"))
        .await;
    assert_eq!(status, 429, "the attacker's network is limited");
    assert!(retry.is_some());
    let (status, _, error) = app
        .password_attempt(&c, PASSWORD, Some("198.51.100.7"))
        .await;
    assert_eq!(status, 200, "the user, elsewhere, is not: {error:?}");
}

/// CONTRACT: `login_limit_per_user_global` counts a username's failures from everywhere; past
/// it the username is refused from any network (to a browser without a device cookie; see
/// `a_device_cookie_keeps_the_users_browser_working_past_the_ceiling_sec_57`).
#[tokio::test]
async fn username_failures_from_everywhere_have_a_ceiling_sec_57() {
    let app = spawn_app_with(TestEnv::new(), |s| {
        s.login.trusted_proxies = vec!["127.0.0.0/8".parse().unwrap()];
        s.login.limit_per_user_global = 3;
    })
    .await;
    let (c, _) = app.password_client_with_alice();
    for network in ["203.0.113.1", "203.0.113.2"] {
        let (status, _, _) = app
            .password_attempt(&c, "wrong password", Some(network))
            .await;
        assert_eq!(status, 400);
    }
    // The real user's success is not a failure, and gives the guessers no fresh allowance.
    let (status, _, _) = app
        .password_attempt(&c, PASSWORD, Some("198.51.100.1"))
        .await;
    assert_eq!(status, 200);
    let (status, _, _) = app
        .password_attempt(&c, "wrong password", Some("203.0.113.3"))
        .await;
    assert_eq!(status, 400);
    let (status, _, _) = app
        .password_attempt(&c, PASSWORD, Some("198.51.100.7"))
        .await;
    assert_eq!(status, 429);
}

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
