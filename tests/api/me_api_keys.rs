//! The self-service API keys API, `/api/v1/me/api-keys` (CONTRACT "API keys"): a user's token
//! with the `api_keys` scope manages that user's keys; an API key never can; bad input is an
//! RFC 9457 problem naming the field.

use crate::helpers::{PASSWORD, TestApp, spawn_app};
use serde_json::{Value, json};

/// Alice (role `editor`: posts:read, posts:write) and Bob, and their user tokens with the
/// `api_keys` scope; plus Alice's token without it.
async fn setup() -> (TestApp, String, String, String) {
    let app = spawn_app().await;
    app.env.alice_the_editor();
    app.create_user("bob@example.com", PASSWORD);
    let c = app.create_client(&[
        "--grant-type",
        "password",
        "--scope",
        "api_keys",
        "--scope",
        "openid",
    ]);
    let token = |user: &'static str, scope: &'static str| {
        let (c, app) = (&c, &app);
        async move {
            let (status, _, body) = crate::helpers::json_of(
                app.post_token(
                    Some((&c.id, &c.secret)),
                    &[
                        ("grant_type", "password"),
                        ("username", user),
                        ("password", PASSWORD),
                        ("scope", scope),
                    ],
                )
                .await,
            )
            .await;
            assert_eq!(status, 200, "{body}");
            body["access_token"].as_str().unwrap().to_owned()
        }
    };
    let alice = token("alice@example.com", "api_keys").await;
    let bob = token("bob@example.com", "api_keys").await;
    let narrow = token("alice@example.com", "openid").await;
    (app, alice, bob, narrow)
}

/// Sends a request with a bearer credential (or `X-API-Key` for a key) and a JSON body.
async fn call(
    app: &TestApp,
    method: &str,
    path: &str,
    credential: &str,
    body: Option<&str>,
) -> (u16, reqwest::header::HeaderMap, Value) {
    let url = format!("{}{path}", app.address);
    let mut req = app.http.request(method.parse().unwrap(), url);
    if credential.starts_with("igk_") {
        req = req.header("X-API-Key", credential);
    } else if !credential.is_empty() {
        req = req.bearer_auth(credential);
    }
    if let Some(body) = body {
        req = req
            .header("Content-Type", "application/json")
            .body(body.to_owned());
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let text = resp.text().await.unwrap();
    (
        status,
        headers,
        serde_json::from_str(&text).unwrap_or(Value::Null),
    )
}

const KEYS: &str = "/api/v1/me/api-keys";

/// Create (201, the key once, no-store), list (never the key), rotate (a new key), revoke (204,
/// then the key is dead).
#[tokio::test]
async fn a_user_manages_their_own_keys() {
    let (app, alice, _, _) = setup().await;
    let (status, headers, created) = call(
        &app,
        "POST",
        KEYS,
        &alice,
        Some(r#"{"name": "ci", "scopes": ["posts:read"], "expires_in": 3600}"#),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(headers["cache-control"], "no-store");
    let key = created["key"].as_str().unwrap().to_owned();
    assert!(key.starts_with("igk_") && key.len() == 40);
    assert_eq!(created["scopes"], json!(["posts:read"]));
    assert_eq!(
        created["expires_at"].as_i64().unwrap() - created["created_at"].as_i64().unwrap(),
        3600
    );
    for field in ["id", "name", "display", "org_id", "created_at"] {
        assert!(created.get(field).is_some(), "{field}");
    }

    let (status, _, list) = call(&app, "GET", KEYS, &alice, None).await;
    assert_eq!(status, 200);
    assert_eq!(list[0]["id"], created["id"]);
    assert!(!list.to_string().contains(&key), "the key is never listed");

    let id = created["id"].as_str().unwrap();
    let (status, _, rotated) =
        call(&app, "POST", &format!("{KEYS}/{id}/rotate"), &alice, None).await;
    assert_eq!(status, 200, "{rotated}");
    assert_ne!(rotated["key"], created["key"]);
    let (status, _, _) = call(&app, "DELETE", &format!("{KEYS}/{id}"), &alice, None).await;
    assert_eq!(status, 204);
    let (status, _, list) = call(&app, "GET", KEYS, &alice, None).await;
    assert_eq!(status, 200);
    assert!(list[0]["revoked_at"].is_i64());
    let (status, _, _) = call(
        &app,
        "GET",
        "/userinfo",
        rotated["key"].as_str().unwrap(),
        None,
    )
    .await;
    assert_eq!(status, 401, "a revoked key is refused");
}

/// An API key cannot create, rotate or list keys; a token without the `api_keys` scope is
/// refused; another user's key id is not found.
#[tokio::test]
async fn only_the_owners_token_with_the_scope_may_manage_keys() {
    let (app, alice, bob, narrow) = setup().await;
    let (_, _, created) = call(
        &app,
        "POST",
        KEYS,
        &alice,
        Some(r#"{"name": "ci", "scopes": ["posts:read"]}"#),
    )
    .await;
    let key = created["key"].as_str().unwrap().to_owned();
    let id = created["id"].as_str().unwrap().to_owned();
    let body = r#"{"name": "x"}"#;
    let rotate = format!("{KEYS}/{id}/rotate");
    for (method, path, body) in [
        ("GET", KEYS, None),
        ("POST", KEYS, Some(body)),
        ("POST", rotate.as_str(), None),
    ] {
        let (status, _, _) = call(&app, method, path, &key, body).await;
        assert_eq!(status, 403, "{method} {path} with an API key");
        let (status, headers, _) = call(&app, method, path, &narrow, body).await;
        assert_eq!(status, 403, "{method} {path} without the scope");
        assert!(
            headers["www-authenticate"]
                .to_str()
                .unwrap()
                .contains("insufficient_scope")
        );
    }
    for (method, path) in [("POST", rotate.clone()), ("DELETE", format!("{KEYS}/{id}"))] {
        let (status, headers, problem) = call(&app, method, &path, &bob, None).await;
        assert_eq!(status, 404, "{method} {path}: {problem}");
        assert_eq!(headers["content-type"], "application/problem+json");
    }
    let (status, _, list) = call(&app, "GET", KEYS, &bob, None).await;
    assert_eq!((status, list), (200, json!([])));
    let (status, _, _) = call(&app, "GET", KEYS, "", None).await;
    assert_eq!(status, 401);
}

/// Bad input → 400 `application/problem+json` naming the field.
#[tokio::test]
async fn bad_input_is_a_problem_naming_the_field() {
    let (app, alice, _, _) = setup().await;
    let cases = [
        ("{not json", "body"),
        (r#"{"scopes": ["posts:read"]}"#, "name"),
        (r#"{"name": "k", "scopes": ["users:write"]}"#, "scopes"),
        (r#"{"name": "k", "scopes": "posts:read"}"#, "scopes"),
        (r#"{"name": "k", "expires_in": 31536001}"#, "expires_in"),
        (r#"{"name": "k", "expires_in": -5}"#, "expires_in"),
        (
            r#"{"name": "k", "organization": "nowhere"}"#,
            "organization",
        ),
        (r#"{"name": "k", "colour": "red"}"#, "colour"),
        (r#"{"name": ""}"#, "name"),
    ];
    for (body, field) in cases {
        let (status, headers, problem) = call(&app, "POST", KEYS, &alice, Some(body)).await;
        assert_eq!(status, 400, "{body}: {problem}");
        assert_eq!(
            headers["content-type"], "application/problem+json",
            "{body}"
        );
        assert_eq!(problem["field"], field, "{body}: {problem}");
        assert_eq!(problem["status"], 400);
    }
    let (_, _, created) = call(&app, "POST", KEYS, &alice, Some(r#"{"name": "k"}"#)).await;
    let rotate = format!("{KEYS}/{}/rotate", created["id"].as_str().unwrap());
    let (status, _, problem) =
        call(&app, "POST", &rotate, &alice, Some(r#"{"grace": 604801}"#)).await;
    assert_eq!((status, problem["field"].as_str()), (400, Some("grace")));
    let (status, headers, _) = call(&app, "PUT", KEYS, &alice, None).await;
    assert_eq!(status, 405);
    assert_eq!(headers["allow"], "GET, POST");
}
