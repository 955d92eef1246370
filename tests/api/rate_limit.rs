//! Sign-in rate limits on the password grant (SEC-57).

use crate::helpers::{PASSWORD, TestEnv, spawn_app, spawn_app_with};

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
    let app = spawn_app_with(TestEnv::new(), |s| s.login_limit_per_ip = 0).await;
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
        s.login_limit_per_ip = 3;
        s.login_limit_per_user = 0;
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
        s.login_limit_per_ip = 2;
        s.login_limit_per_user = 0;
        s.trusted_proxies = vec!["127.0.0.0/8".parse().unwrap()];
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
        s.login_limit_per_ip = 0;
        s.login_limit_per_user = 0;
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
