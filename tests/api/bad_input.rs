//! Malformed and oversized input (SEC-61, SEC-62, SEC-63): a 4xx, never a 500; bounded heads and
//! bodies; a correlation id on every answer; no admin surface on the public listener.

use crate::helpers::{Browser, code_request, spawn_pages_app_with};

/// SEC-61, SEC-62, SEC-63: malformed input is a 4xx page, never a 500; bodies are bounded; no
/// admin surface on the public listener.
#[tokio::test]
async fn malformed_input_is_a_4xx_and_there_is_no_admin_surface_sec_61_sec_62_sec_63() {
    let (app, c) = spawn_pages_app_with(|_| {}).await;
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

/// SEC-61: every answer carries a correlation id (`X-Request-Id`, fresh per request) and error
/// pages quote it, so a report can be matched with the log. SEC-62: request headers over 32 KiB
/// in all are refused with 431 (a 64 KB header), ordinary large ones are not.
#[tokio::test]
async fn every_answer_has_a_correlation_id_and_oversized_heads_get_431_sec_61_sec_62() {
    let (app, _c) = spawn_pages_app_with(|_| {}).await;
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

/// SEC-61, SEC-62: a 1 MB query string and a 10 MB body are refused with a 4xx, never a 500.
#[tokio::test]
async fn sec_61_sec_62_huge_query_and_body_are_refused() {
    let (app, c) = spawn_pages_app_with(|_| {}).await;
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
