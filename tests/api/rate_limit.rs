//! Sign-in rate limits on the password grant (SEC-57).

use crate::helpers::{Client, TestApp, TestEnv, json_of, spawn_app, spawn_app_with};
use crate::refresh::{PASSWORD, setup};

/// One password-grant attempt; returns status, `Retry-After` and the error code.
pub async fn attempt(
    app: &TestApp,
    c: &Client,
    password: &str,
    forwarded_for: Option<&str>,
) -> (u16, Option<u64>, Option<String>) {
    let mut req = app
        .http
        .post(app.url("/token"))
        .basic_auth(&c.id, Some(&c.secret))
        .form(&[
            ("grant_type", "password"),
            ("username", "alice@example.com"),
            ("password", password),
        ]);
    if let Some(xff) = forwarded_for {
        req = req.header("x-forwarded-for", xff);
    }
    let (status, headers, body) = json_of(req.send().await.unwrap()).await;
    let retry = headers
        .get("retry-after")
        .map(|v| v.to_str().unwrap().parse().unwrap());
    (status, retry, body["error"].as_str().map(str::to_owned))
}

#[tokio::test]
async fn sec_57_username_failures_are_limited_with_429_and_retry_after() {
    let app = spawn_app().await;
    let (c, _) = setup(&app);
    for _ in 0..5 {
        let (status, _, error) = attempt(&app, &c, "wrong password", None).await;
        assert_eq!((status, error.as_deref()), (400, Some("invalid_grant")));
    }
    // The sixth attempt is refused before the password is looked at, even the right one.
    let (status, retry, error) = attempt(&app, &c, PASSWORD, None).await;
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
    let (c, _) = setup(&app);
    for round in 0..2 {
        for _ in 0..4 {
            assert_eq!(
                attempt(&app, &c, "wrong password", None).await.0,
                400,
                "round {round}"
            );
        }
        assert_eq!(
            attempt(&app, &c, PASSWORD, None).await.0,
            200,
            "round {round}"
        );
    }
}

/// Parallel attempts cannot exceed the limit: a slot is taken before the password is checked.
#[tokio::test]
async fn sec_57_parallel_attempts_never_exceed_the_limit() {
    let app = spawn_app_with(TestEnv::new(), |s| s.login.limit_per_ip = 0).await;
    let (c, _) = setup(&app);
    let results =
        futures_util::future::join_all((0..30).map(|_| attempt(&app, &c, "wrong password", None)))
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
    let (c, _) = setup(&app);
    for i in 0..3 {
        let xff = format!("198.51.100.{i}");
        assert_eq!(attempt(&app, &c, "wrong password", Some(&xff)).await.0, 400);
    }
    let (status, retry, _) = attempt(&app, &c, PASSWORD, Some("198.51.100.77")).await;
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
    let (c, _) = setup(&app);
    for _ in 0..2 {
        assert_eq!(
            attempt(&app, &c, "wrong", Some("198.51.100.1")).await.0,
            400
        );
    }
    assert_eq!(
        attempt(&app, &c, "wrong", Some("198.51.100.1")).await.0,
        429
    );
    // Another client behind the same proxy has its own bucket.
    assert_eq!(
        attempt(&app, &c, PASSWORD, Some("198.51.100.2")).await.0,
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
    let (c, _) = setup(&app);
    for _ in 0..8 {
        assert_eq!(attempt(&app, &c, "wrong password", None).await.0, 400);
    }
    assert_eq!(attempt(&app, &c, PASSWORD, None).await.0, 200);
}
