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
