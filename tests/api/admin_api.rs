//! The admin REST API (CONTRACT "Admin REST API"): who may call it, and the users resource.

use crate::helpers::*;
use reqwest::Method;
use serde_json::json;

/// SEC-63: no credential → 401; a credential without the permission → 403; each with an RFC
/// 6750 challenge. `irongate:read` lists but does not change; an API key holding it lists.
#[tokio::test]
async fn only_holders_of_the_admin_permissions_may_call_it_sec_63() {
    let app = spawn_app().await;
    let none = app.admin("", Method::GET, "/users", None).await;
    assert_eq!(none.status, 401);
    assert!(
        none.challenge().starts_with("Bearer"),
        "{}",
        none.challenge()
    );
    let forged = app.admin("not-a-token", Method::GET, "/users", None).await;
    assert_eq!(forged.status, 401);
    assert!(forged.challenge().contains("invalid_token"));

    // A user token without the permission, and a client token without the scope.
    let (_client, _) = app.password_client_with_alice();
    let plain = app
        .user_token_with("bob@example.com", "posts:read", "posts:read")
        .await;
    let service = app.service_token("posts:read").await;
    for token in [&plain, &service] {
        let refused = app.admin(token, Method::GET, "/users", None).await;
        assert_eq!(refused.status, 403, "{:?}", refused.body);
        assert!(refused.challenge().contains("insufficient_scope"));
        assert!(refused.challenge().contains("irongate:read"));
    }

    let reader = app
        .user_token_with("rita@example.com", "irongate:read", "irongate:read")
        .await;
    let listed = app.admin(&reader, Method::GET, "/users", None).await;
    assert_eq!(listed.status, 200, "{:?}", listed.body);
    assert!(listed.body["items"].as_array().unwrap().len() >= 3);
    let change = app
        .admin(
            &reader,
            Method::POST,
            "/users",
            Some(json!({"email": "x@example.com"})),
        )
        .await;
    assert_eq!(change.status, 403);
    assert!(change.challenge().contains("irongate:admin"));

    let key = app
        .env
        .cli(
            &[
                "api-key",
                "create",
                "--email",
                "rita@example.com",
                "--name",
                "ops",
                "--scope",
                "irongate:read",
            ],
            None,
        )
        .json();
    let key = key["key"].as_str().unwrap();
    let with_key = app.admin(key, Method::GET, "/roles", None).await;
    assert_eq!(with_key.status, 200, "{:?}", with_key.body);
    let admin = app.service_token("irongate:admin").await;
    assert_eq!(
        app.admin(&admin, Method::GET, "/users", None).await.status,
        200
    );
    // Unknown methods on a known path: 405 with Allow.
    let wrong = app.admin(&admin, Method::PUT, "/users", None).await;
    assert_eq!(wrong.status, 405);
    assert_eq!(wrong.headers["allow"], "GET, POST");
}

#[tokio::test]
async fn users_are_created_listed_read_changed_and_deleted() {
    let app = spawn_app().await;
    let admin = app.service_token("irongate:admin").await;
    let made = app
        .admin(
            &admin,
            Method::POST,
            "/users",
            Some(json!({"email": "Carol@Example.com", "name": "Carol", "password": PASSWORD, "roles": ["staff"]})),
        )
        .await;
    assert_eq!(made.status, 201, "{:?}", made.body);
    let carol = made.body["id"].as_str().unwrap().to_owned();
    assert_eq!(made.body["email"], "Carol@Example.com");
    for i in 0..3 {
        let email = format!("user{i}@example.com");
        let r = app
            .admin(
                &admin,
                Method::POST,
                "/users",
                Some(json!({"email": email})),
            )
            .await;
        assert_eq!(r.status, 201);
    }

    // Filter by email (in any letter case), then pages of two.
    let found = app
        .admin(&admin, Method::GET, "/users?email=carol@example.com", None)
        .await;
    assert_eq!(found.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(found.body["items"][0]["id"], carol.as_str());
    assert!(found.body["items"][0].get("password_hash").is_none());
    let mut seen = Vec::new();
    let mut path = "/users?limit=2".to_owned();
    loop {
        let page = app.admin(&admin, Method::GET, &path, None).await;
        assert_eq!(page.status, 200);
        let items = page.body["items"].as_array().unwrap();
        assert!(items.len() <= 2);
        seen.extend(items.iter().map(|u| u["id"].as_str().unwrap().to_owned()));
        match page.body["next"].as_str() {
            Some(next) => path = format!("/users?limit=2&after={next}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), 4);
    let mut sorted = seen.clone();
    sorted.sort();
    assert_eq!(seen, sorted);

    let got = app
        .admin(&admin, Method::GET, &format!("/users/{carol}"), None)
        .await;
    assert_eq!(
        (got.status, got.body["name"].as_str()),
        (200, Some("Carol"))
    );
    assert_eq!(got.body["active"], true);
    let renamed = app
        .admin(
            &admin,
            Method::PATCH,
            &format!("/users/{carol}"),
            Some(json!({"name": "Caroline", "active": false})),
        )
        .await;
    assert_eq!(renamed.status, 200, "{:?}", renamed.body);
    assert_eq!(
        (
            renamed.body["name"].as_str(),
            renamed.body["active"].as_bool()
        ),
        (Some("Caroline"), Some(false))
    );
    let (client, _) = app.password_client_with_alice();
    let sign_in = || {
        let (app, id, secret) = (&app, client.id.clone(), client.secret.clone());
        async move {
            let form = [
                ("grant_type", "password"),
                ("username", "carol@example.com"),
                ("password", PASSWORD),
                ("scope", "openid"),
            ];
            app.token_status(&id, &secret, &form).await
        }
    };
    assert_eq!(sign_in().await, 400, "a disabled user cannot sign in");
    let enabled = app
        .admin(
            &admin,
            Method::PATCH,
            &format!("/users/{carol}"),
            Some(json!({"name": "Carol", "active": true})),
        )
        .await;
    assert_eq!(
        (
            enabled.body["name"].as_str(),
            enabled.body["active"].as_bool()
        ),
        (Some("Carol"), Some(true)),
        "the name and the state change together"
    );
    assert_eq!(sign_in().await, 200);
    let named = app
        .admin(
            &admin,
            Method::PATCH,
            &format!("/users/{carol}"),
            Some(json!({"name": ""})),
        )
        .await;
    assert_eq!(
        (
            named.status,
            named.body["name"].clone(),
            named.body["active"].clone()
        ),
        (200, serde_json::Value::Null, json!(true)),
        "an empty name clears it and leaves the state alone"
    );

    let roles = app
        .admin(
            &admin,
            Method::PUT,
            &format!("/users/{carol}/roles"),
            Some(json!({"roles": []})),
        )
        .await;
    assert_eq!(
        (roles.status, roles.body["roles"].clone()),
        (200, json!([]))
    );
    let out = app
        .admin(
            &admin,
            Method::POST,
            &format!("/users/{carol}/logout-all"),
            None,
        )
        .await;
    assert_eq!(
        (out.status, out.body["id"].as_str()),
        (200, Some(carol.as_str()))
    );
    let off = app
        .admin(
            &admin,
            Method::POST,
            &format!("/users/{carol}/disable"),
            None,
        )
        .await;
    assert_eq!(off.status, 200);
    assert_eq!(sign_in().await, 400);
    let memberships = app
        .admin(
            &admin,
            Method::GET,
            &format!("/users/{carol}/memberships"),
            None,
        )
        .await;
    assert_eq!(memberships.body, json!({"items": [], "next": null}));
    let gone = app
        .admin(&admin, Method::DELETE, &format!("/users/{carol}"), None)
        .await;
    assert_eq!(gone.status, 200);
    for (method, path) in [
        (Method::GET, format!("/users/{carol}")),
        (Method::DELETE, format!("/users/{carol}")),
        (Method::POST, format!("/users/{carol}/disable")),
        (Method::GET, format!("/users/{carol}/api-keys")),
    ] {
        let missing = app.admin(&admin, method, &path, None).await;
        assert_eq!(missing.status, 404, "{path}: {:?}", missing.body);
        assert_eq!(missing.content_type(), "application/problem+json");
        assert_eq!(missing.body["status"], 404);
    }
}

/// Bad input → 400 naming the member; a duplicate email → 409; each as problem details.
#[tokio::test]
async fn bad_user_input_is_refused_naming_the_member() {
    let app = spawn_app().await;
    let admin = app.service_token("irongate:admin").await;
    app.create_user("alice@example.com", PASSWORD);
    let cases = [
        (json!({"email": "not an email"}), 400, "email"),
        (
            json!({"email": "a@example.com", "password": "short"}),
            400,
            "password",
        ),
        (
            json!({"email": "a@example.com", "roles": ["bad role!"]}),
            400,
            "role",
        ),
        (
            json!({"email": "a@example.com", "nickname": "x"}),
            400,
            "nickname",
        ),
        (json!({"name": "no email"}), 400, "email"),
        (json!({"email": 42}), 400, "email"),
        (json!({"email": "ALICE@example.com"}), 409, ""),
    ];
    for (body, status, field) in cases {
        let r = app
            .admin(&admin, Method::POST, "/users", Some(body.clone()))
            .await;
        assert_eq!(r.status, status, "{body}: {:?}", r.body);
        assert_eq!(r.content_type(), "application/problem+json", "{body}");
        if !field.is_empty() {
            assert_eq!(r.body["field"], field, "{body}: {:?}", r.body);
        }
    }
    let raw = app
        .http
        .post(app.url("/admin/v1/users"))
        .bearer_auth(&admin)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), 400);
    for path in [
        "/users?limit=0",
        "/users?limit=500",
        "/users?after=%%%",
        "/users?email=nope",
    ] {
        let r = app.admin(&admin, Method::GET, path, None).await;
        assert_eq!(r.status, 400, "{path}: {:?}", r.body);
    }
    let patch = app
        .admin(
            &admin,
            Method::PATCH,
            "/users/whoever",
            Some(json!({"active": "yes"})),
        )
        .await;
    assert_eq!(
        (patch.status, patch.body["field"].as_str()),
        (400, Some("active"))
    );
    let roles = app
        .admin(
            &admin,
            Method::PUT,
            "/users/whoever/roles",
            Some(json!({"roles": ["x"]})),
        )
        .await;
    assert_eq!(roles.status, 404);
}

/// A user's API keys: listed (never the key), revoked; another user's key is not found.
#[tokio::test]
async fn a_users_api_keys_are_listed_and_revoked() {
    let app = spawn_app().await;
    let admin = app.service_token("irongate:admin").await;
    let alice = app.env.alice_the_editor();
    let made = app
        .env
        .cli(
            &[
                "api-key",
                "create",
                "--email",
                "alice@example.com",
                "--name",
                "ci",
                "--scope",
                "posts:read",
            ],
            None,
        )
        .json();
    let (key_id, key) = (made["id"].as_str().unwrap(), made["key"].as_str().unwrap());
    let listed = app
        .admin(
            &admin,
            Method::GET,
            &format!("/users/{alice}/api-keys"),
            None,
        )
        .await;
    assert_eq!(listed.status, 200);
    assert_eq!(listed.body["items"][0]["id"], key_id);
    assert!(!listed.body.to_string().contains(key));
    let bob = app.create_user("bob@example.com", PASSWORD);
    let other = app
        .admin(
            &admin,
            Method::DELETE,
            &format!("/users/{bob}/api-keys/{key_id}"),
            None,
        )
        .await;
    assert_eq!(other.status, 404);
    let revoked = app
        .admin(
            &admin,
            Method::DELETE,
            &format!("/users/{alice}/api-keys/{key_id}"),
            None,
        )
        .await;
    assert_eq!(revoked.status, 204);
    let used = app.admin(key, Method::GET, "/users", None).await;
    assert_eq!(used.status, 401);
}
