//! Metrics (CONTRACT "Operations"): `metrics_bind` starts a second listener with Prometheus text
//! at `/metrics`: requests by route pattern, method and status, tokens by grant, sign-ins by
//! method and result, the database and its pool — never a user or a client as a label.

use crate::helpers::{TestEnv, json_of, spawn_app_with};

#[tokio::test]
async fn a_second_listener_serves_prometheus_text_without_identifiers() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let bind = format!("127.0.0.1:{port}");
    let app = spawn_app_with(TestEnv::new(), |s| {
        s.server.metrics_bind = Some(bind.clone())
    })
    .await;
    let (c, user) = app.password_client_with_alice();
    let service = app.create_client(&[
        "--grant-type",
        "client_credentials",
        "--scope",
        "users:read",
    ]);
    assert!(app.client_token(&service).await.starts_with("eyJ"));
    let (status, _, _) = json_of(
        app.post_token(
            Some((&c.id, &c.secret)),
            &[
                ("grant_type", "password"),
                ("username", "alice@example.com"),
                ("password", "wrong password!"),
            ],
        )
        .await,
    )
    .await;
    assert_eq!(status, 400);
    let revoke_path = format!("{}/api/v1/me/api-keys/some-id", app.address);
    assert_eq!(
        app.http.delete(revoke_path).send().await.unwrap().status(),
        401
    );

    let scrape = reqwest::get(format!("http://{bind}/metrics"))
        .await
        .unwrap();
    assert_eq!(scrape.status(), 200);
    assert!(
        scrape.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = scrape.text().await.unwrap();
    for expected in [
        "irongate_http_requests_total{",
        "route=\"/token\"",
        "route=\"/api/v1/me/api-keys/{id}\"",
        "irongate_http_request_duration_seconds_bucket{",
        "irongate_tokens_issued_total{grant=\"client_credentials\"}",
        // Every RS256 signature is timed (the client_credentials token above made one).
        "irongate_token_signing_seconds_count",
        "irongate_token_signing_seconds_sum",
        "irongate_sign_ins_total{method=\"password_grant\",result=\"failure\"}",
        "irongate_database_up 1",
        "irongate_database_pool_connections",
    ] {
        assert!(text.contains(expected), "{expected} missing from:\n{text}");
    }
    for identifier in [
        c.id.as_str(),
        service.id.as_str(),
        user.as_str(),
        "alice@example.com",
        "some-id",
    ] {
        assert!(!text.contains(identifier), "{identifier} is in the metrics");
    }
    // The application listener does not serve the metrics.
    let main = app
        .http
        .get(format!("{}/metrics", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(main.status(), 404);
}
