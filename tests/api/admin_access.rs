//! The admin REST API counts what the caller holds now, and odd ids, cursors and repeats are
//! clean answers.

use crate::helpers::*;
use reqwest::Method;
use serde_json::json;

/// The admin API counts what the caller may do now: a role held only inside an organization
/// never reaches it, a permission taken away counts at once, a deleted client's token stops.
#[tokio::test]
async fn only_current_global_permissions_count() {
    let app = spawn_app().await;
    let admin = app.service_token("irongate:admin").await;
    // Olga holds irongate:admin only inside acme, and signs in there.
    app.env
        .cli(
            &[
                "role",
                "create",
                "org-admin",
                "--permission",
                "irongate:admin",
            ],
            None,
        )
        .json();
    app.env
        .cli(&["org", "create", "--slug", "acme", "--name", "Acme"], None)
        .json();
    app.create_user("olga@example.com", PASSWORD);
    app.env
        .cli(
            &[
                "org",
                "add-member",
                "--org",
                "acme",
                "--email",
                "olga@example.com",
                "--role",
                "org-admin",
            ],
            None,
        )
        .json();
    let client = app.create_client(&["--grant-type", "password", "--scope", "irongate:admin"]);
    let (status, _, body) = json_of(
        app.post_token(
            Some((&client.id, &client.secret)),
            &[
                ("grant_type", "password"),
                ("username", "olga@example.com"),
                ("password", PASSWORD),
                ("scope", "irongate:admin"),
                ("organization", "acme"),
            ],
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let olga = body["access_token"].as_str().unwrap();
    let refused = app.admin(olga, Method::GET, "/users", None).await;
    assert_eq!(
        refused.status, 403,
        "an organization role is not a global one"
    );

    // A global admin whose role is taken away: the very next call is refused.
    let root = app
        .user_token_with("root@example.com", "irongate:admin", "irongate:admin")
        .await;
    assert_eq!(
        app.admin(&root, Method::GET, "/users", None).await.status,
        200
    );
    let root_id = app.user_by_email("root@example.com").await.unwrap().id;
    let emptied = app
        .admin(
            &admin,
            Method::PUT,
            &format!("/users/{root_id}/roles"),
            Some(json!({"roles": []})),
        )
        .await;
    assert_eq!(emptied.status, 200);
    assert_eq!(
        app.admin(&root, Method::GET, "/users", None).await.status,
        403
    );

    // A client deleted: its token stops at once.
    let doomed = app.create_client(&[
        "--grant-type",
        "client_credentials",
        "--scope",
        "irongate:admin",
    ]);
    let (_, _, body) = json_of(
        app.post_token(
            Some((&doomed.id, &doomed.secret)),
            &[
                ("grant_type", "client_credentials"),
                ("scope", "irongate:admin"),
            ],
        )
        .await,
    )
    .await;
    let token = body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(
        app.admin(&token, Method::GET, "/users", None).await.status,
        200
    );
    let gone = app
        .admin(
            &admin,
            Method::DELETE,
            &format!("/clients/{}", doomed.id),
            None,
        )
        .await;
    assert_eq!(gone.status, 200);
    let after = app.admin(&token, Method::GET, "/users", None).await;
    assert_eq!(after.status, 401);
    assert!(after.challenge().contains("invalid_token"));
}

/// Inputs that would reach the database as NUL bytes, repeated roles, and paging over a short
/// list: 404, 400 or a clean answer, never a 500.
#[tokio::test]
async fn odd_ids_cursors_and_repeats_are_clean_answers() {
    let app = spawn_app().await;
    let admin = app.service_token("irongate:admin").await;
    for path in [
        "/users/%00",
        "/clients/%00",
        "/organizations/%00",
        "/roles/%00",
        "/users/%00/api-keys",
    ] {
        assert_eq!(
            app.admin(&admin, Method::GET, path, None).await.status,
            404,
            "{path}"
        );
    }
    for path in ["/users?after=AA", "/clients?after=AA", "/roles?after=AA"] {
        assert_eq!(
            app.admin(&admin, Method::GET, path, None).await.status,
            400,
            "{path}"
        );
    }
    let alice = app.env.alice_the_editor();
    let twice = app
        .admin(
            &admin,
            Method::PUT,
            &format!("/users/{alice}/roles"),
            Some(json!({"roles": ["editor", "editor"]})),
        )
        .await;
    assert_eq!(
        (twice.status, twice.body["roles"].clone()),
        (200, json!(["editor"]))
    );
    let made = app
        .admin(
            &admin,
            Method::POST,
            "/users",
            Some(json!({"email": "rep@example.com", "roles": ["staff", "staff"]})),
        )
        .await;
    assert_eq!(made.status, 201, "{:?}", made.body);
    for slug in ["one", "two", "three"] {
        app.env
            .cli(&["org", "create", "--slug", slug, "--name", slug], None)
            .json();
        app.env
            .cli(
                &[
                    "org",
                    "add-member",
                    "--org",
                    slug,
                    "--email",
                    "alice@example.com",
                ],
                None,
            )
            .json();
    }
    let mut seen = Vec::new();
    let mut path = format!("/users/{alice}/memberships?limit=1");
    loop {
        let page = app.admin(&admin, Method::GET, &path, None).await;
        seen.extend(
            page.body["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m["slug"].clone()),
        );
        match page.body["next"].as_str() {
            Some(next) => path = format!("/users/{alice}/memberships?limit=1&after={next}"),
            None => break,
        }
    }
    seen.sort_by_key(|s| s.to_string());
    assert_eq!(seen, [json!("one"), json!("three"), json!("two")]);
}
