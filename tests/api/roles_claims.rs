//! Roles and permissions in tokens (CONTRACT "Roles, permissions and organizations"): the
//! effective permissions within the delegated scope, and changes reaching the next token.

use crate::helpers::{Client, PASSWORD, TestApp, claims_of, id_claims, json_of, spawn_app};
use serde_json::{Value, json};

/// A password-grant client allowed `scopes`.
fn client(app: &TestApp, scopes: &[&str]) -> Client {
    let mut args = vec!["--grant-type", "password", "--grant-type", "refresh_token"];
    for s in scopes {
        args.extend(["--scope", s]);
    }
    app.create_client(&args)
}

async fn sign_in(app: &TestApp, c: &Client, scope: &str) -> Value {
    app.password_login(c, scope).await
}

/// Builds viewer (posts:read) ← editor (posts:write) ← lead (users:read); alice is a lead.
fn hierarchy(app: &TestApp) {
    let env = &app.env;
    env.cli(
        &["role", "create", "viewer", "--permission", "posts:read"],
        None,
    )
    .json();
    env.cli(
        &[
            "role",
            "create",
            "editor",
            "--permission",
            "posts:write",
            "--inherits",
            "viewer",
        ],
        None,
    )
    .json();
    env.cli(
        &[
            "role",
            "create",
            "lead",
            "--permission",
            "users:read",
            "--inherits",
            "editor",
        ],
        None,
    )
    .json();
    app.create_user("alice@example.com", PASSWORD);
    env.cli(
        &[
            "user",
            "add-role",
            "--email",
            "alice@example.com",
            "--role",
            "lead",
        ],
        None,
    )
    .json();
}

/// A grand-child role's permissions reach the token; `roles` lists the effective roles;
/// permissions are only those also granted as scopes (the delegation rule: the same user
/// through a client delegated `posts:read` alone never carries `posts:write`); the ID token
/// and userinfo carry `roles` with the `roles` scope; introspection answers the claims.
#[tokio::test]
async fn effective_permissions_reach_tokens_within_the_delegated_scope() {
    let app = spawn_app().await;
    hierarchy(&app);
    let full = client(
        &app,
        &["openid", "roles", "posts:read", "posts:write", "users:read"],
    );
    let body = sign_in(
        &app,
        &full,
        "openid roles posts:read posts:write users:read",
    )
    .await;
    let access = claims_of(body["access_token"].as_str().unwrap());
    assert_eq!(access["roles"], json!(["editor", "lead", "viewer"]));
    assert_eq!(
        access["permissions"],
        json!(["posts:read", "posts:write", "users:read"])
    );
    assert!(access.get("org_id").is_none());
    let id = id_claims(&body);
    assert_eq!(id["roles"], json!(["editor", "lead", "viewer"]));

    let narrow = client(&app, &["openid", "posts:read"]);
    let body = sign_in(&app, &narrow, "openid posts:read").await;
    let access = claims_of(body["access_token"].as_str().unwrap());
    assert_eq!(
        access["permissions"],
        json!(["posts:read"]),
        "delegation rule"
    );
    assert_eq!(access["roles"], json!(["editor", "lead", "viewer"]));
    assert!(id_claims(&body).get("roles").is_none(), "no roles scope");

    // Userinfo answers like the ID token.
    let body = sign_in(&app, &full, "openid roles posts:read").await;
    let token = body["access_token"].as_str().unwrap();
    let (status, _, info) = json_of(
        app.http
            .get(app.url("/userinfo"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(info["roles"], json!(["editor", "lead", "viewer"]));

    // Introspection answers the authorization claims.
    let (status, _, intro) = json_of(
        app.post_to(
            "/introspect",
            Some((&full.id, &full.secret)),
            &[("token", token)],
        )
        .await,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(intro["roles"], json!(["editor", "lead", "viewer"]));
    assert_eq!(intro["permissions"], json!(["posts:read"]));

    // A client_credentials token carries no roles.
    let service = app.create_client(&[
        "--grant-type",
        "client_credentials",
        "--scope",
        "posts:read",
    ]);
    let cc = claims_of(&app.client_token(&service).await);
    assert!(
        cc.get("roles").is_none() && cc.get("permissions").is_none(),
        "{cc}"
    );
}

/// A change of roles reaches tokens at the next refresh: deleting the middle role takes its
/// permissions (and its parent's, reached only through it) away.
#[tokio::test]
async fn deleting_a_middle_role_takes_its_permissions_at_the_next_refresh() {
    let app = spawn_app().await;
    hierarchy(&app);
    let c = client(&app, &["posts:read", "posts:write", "users:read"]);
    let body = sign_in(&app, &c, "posts:read posts:write users:read").await;
    app.env.cli(&["role", "delete", "editor"], None).json();
    let (status, refreshed) = app
        .refresh(&c, body["refresh_token"].as_str().unwrap(), None)
        .await;
    assert_eq!(status, 200, "{refreshed}");
    let access = claims_of(refreshed["access_token"].as_str().unwrap());
    assert_eq!(access["roles"], json!(["lead"]));
    assert_eq!(access["permissions"], json!(["users:read"]));
}

/// The server keeps the role graph in memory; every change made elsewhere (here: the
/// command line, another process) reaches the next token: a role created by `user create
/// --role`, a parent added by `role update`.
#[tokio::test]
async fn role_changes_from_elsewhere_reach_the_next_token() {
    let app = spawn_app().await;
    hierarchy(&app);
    let c = client(&app, &["posts:read", "posts:write", "users:read"]);
    sign_in(&app, &c, "posts:read").await;
    app.env
        .cli(
            &["role", "create", "auditor", "--permission", "users:read"],
            None,
        )
        .json();
    app.env
        .cli(&["role", "update", "viewer", "--inherits", "auditor"], None)
        .json();
    let body = sign_in(&app, &c, "posts:read users:read").await;
    let access = claims_of(body["access_token"].as_str().unwrap());
    assert_eq!(
        access["roles"],
        json!(["auditor", "editor", "lead", "viewer"])
    );
    app.env
        .cli(
            &[
                "user",
                "create",
                "--email",
                "bob@example.com",
                "--role",
                "fresh",
                "--password-stdin",
            ],
            Some(PASSWORD),
        )
        .json();
    let (status, _, body) = json_of(
        app.post_token(
            Some((&c.id, &c.secret)),
            &[
                ("grant_type", "password"),
                ("username", "bob@example.com"),
                ("password", PASSWORD),
                ("scope", "posts:read"),
            ],
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let access = claims_of(body["access_token"].as_str().unwrap());
    assert_eq!(access["roles"], json!(["fresh"]));
}

/// A user with 200 roles in a ten-deep hierarchy still gets a token, with every role (no
/// truncation, no 500).
#[tokio::test]
async fn two_hundred_roles_fit_in_a_token() {
    use irongate::store;
    use std::collections::BTreeSet;
    let app = spawn_app().await;
    let user = app.create_user("alice@example.com", PASSWORD);
    let read: BTreeSet<String> = ["posts:read".to_string()].into();
    app.state
        .store
        .run(move |c| {
            let mut parent: Vec<String> = vec![];
            for depth in 0..10 {
                let name = format!("level-{depth}");
                store::create_role(c, &name, &read, &parent)?.unwrap();
                parent = vec![name];
            }
            store::change_user_role(c, &user, "level-9", None, true)?.unwrap();
            for i in 0..190 {
                let name = format!("r-{i:03}");
                store::create_role(c, &name, &BTreeSet::new(), &[])?.unwrap();
                store::change_user_role(c, &user, &name, None, true)?.unwrap();
            }
            Ok(())
        })
        .await
        .unwrap();
    let c = client(&app, &["posts:read"]);
    let body = sign_in(&app, &c, "posts:read").await;
    let access = claims_of(body["access_token"].as_str().unwrap());
    assert_eq!(access["roles"].as_array().unwrap().len(), 200);
    assert_eq!(access["permissions"], json!(["posts:read"]));
}
