//! CORS (SEC-14): none on the authorization endpoint and the pages; on the API endpoints, only for
//! the configured origins.

use crate::helpers::{REDIRECT, code_request, spawn_app};

/// SEC-14: no CORS on the authorization endpoint or the pages, even for an allowed origin.
#[tokio::test]
async fn sec_14_no_cors_on_the_authorization_endpoint() {
    let app = crate::helpers::spawn_app_with(crate::helpers::TestEnv::new(), |s| {
        s.cors.origins = vec!["https://spa.test".into()];
    })
    .await;
    let c = app.create_client(&["--redirect-uri", REDIRECT]);
    for origin in ["https://spa.test", "https://evil.test"] {
        let resp = app
            .http
            .get(app.url("/authorize"))
            .query(&code_request(&c, &[]))
            .header("Origin", origin)
            .send()
            .await
            .unwrap();
        assert!(resp.headers().get("access-control-allow-origin").is_none());
        let resp = app
            .http
            .request(reqwest::Method::OPTIONS, app.url("/authorize"))
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "POST")
            .send()
            .await
            .unwrap();
        assert!(resp.headers().get("access-control-allow-origin").is_none());
    }
}

/// SEC-14: the API endpoints answer allowed origins (preflight included) and never echo an
/// unknown one; with `cors_allow_credentials` the exact origin comes back with credentials.
#[tokio::test]
async fn api_endpoints_answer_cors_only_for_allowed_origins_sec_14() {
    let app = crate::helpers::spawn_app_with(crate::helpers::TestEnv::new(), |s| {
        s.cors.origins = vec!["https://spa.test".into()];
        s.cors.allow_credentials = true;
    })
    .await;
    for path in [
        "/token",
        "/userinfo",
        "/introspect",
        "/revoke",
        "/.well-known/jwks.json",
        "/.well-known/openid-configuration",
    ] {
        let preflight = app
            .http
            .request(reqwest::Method::OPTIONS, app.url(path))
            .header("Origin", "https://spa.test")
            .header("Access-Control-Request-Method", "POST")
            .header("Access-Control-Request-Headers", "authorization")
            .send()
            .await
            .unwrap();
        let h = preflight.headers();
        assert_eq!(
            h["access-control-allow-origin"], "https://spa.test",
            "{path}"
        );
        assert_eq!(h["access-control-allow-credentials"], "true", "{path}");
        let evil = app
            .http
            .get(app.url(path))
            .header("Origin", "https://evil.test")
            .send()
            .await
            .unwrap();
        assert!(
            evil.headers().get("access-control-allow-origin").is_none(),
            "{path}"
        );
    }
    let ok = app
        .http
        .get(app.url("/.well-known/jwks.json"))
        .header("Origin", "https://spa.test")
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(
        ok.headers()["access-control-allow-origin"],
        "https://spa.test"
    );
    // Without cors_origins there is no CORS at all.
    let plain = spawn_app().await;
    let resp = plain
        .http
        .get(plain.url("/.well-known/jwks.json"))
        .header("Origin", "https://spa.test")
        .send()
        .await
        .unwrap();
    assert!(resp.headers().get("access-control-allow-origin").is_none());
}
