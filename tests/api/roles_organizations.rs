//! Organizations in tokens (CONTRACT "Choosing the organization"): roles per organization,
//! clients that require one, and refresh keeping, rechecking and switching it.

use crate::helpers::{Client, PASSWORD, TestApp, claims_of, id_claims, json_of, spawn_app};
use serde_json::{Value, json};

/// acme (alice: editor, which inherits viewer) and globex (alice: viewer); initech has no
/// members. The organizations' ids.
fn tenants(app: &TestApp) -> (String, String) {
    let env = &app.env;
    let ok = |args: &[&str]| env.cli(args, None).json();
    ok(&["role", "create", "viewer", "--permission", "posts:read"]);
    ok(&[
        "role",
        "create",
        "editor",
        "--permission",
        "posts:write",
        "--inherits",
        "viewer",
    ]);
    let acme = ok(&["org", "create", "--slug", "acme", "--name", "Acme"]);
    let globex = ok(&["org", "create", "--slug", "globex", "--name", "Globex"]);
    ok(&["org", "create", "--slug", "initech", "--name", "Initech"]);
    app.create_user("alice@example.com", PASSWORD);
    ok(&[
        "org",
        "add-member",
        "--org",
        "acme",
        "--email",
        "alice@example.com",
        "--role",
        "editor",
    ]);
    ok(&[
        "org",
        "add-member",
        "--org",
        "globex",
        "--email",
        "alice@example.com",
        "--role",
        "viewer",
    ]);
    (
        acme["id"].as_str().unwrap().to_owned(),
        globex["id"].as_str().unwrap().to_owned(),
    )
}

fn password_client(app: &TestApp, extra: &[&str]) -> Client {
    let mut args = vec![
        "--grant-type",
        "password",
        "--grant-type",
        "refresh_token",
        "--scope",
        "openid",
        "--scope",
        "roles",
        "--scope",
        "posts:read",
        "--scope",
        "posts:write",
    ];
    args.extend_from_slice(extra);
    app.create_client(&args)
}

async fn grant(app: &TestApp, c: &Client, organization: Option<&str>) -> (u16, Value) {
    let mut form = vec![
        ("grant_type", "password"),
        ("username", "alice@example.com"),
        ("password", PASSWORD),
        ("scope", "openid roles posts:read posts:write"),
    ];
    if let Some(org) = organization {
        form.push(("organization", org));
    }
    let (status, _, body) = json_of(app.post_token(Some((&c.id, &c.secret)), &form).await).await;
    (status, body)
}

/// One user, two organizations, different roles in each: the token names the organization
/// chosen (by slug or id) and the roles there; its permissions join the global and the
/// organization's (within the scope). ID token and userinfo carry `org_id` and, with the
/// `roles` scope, `org_roles`. A non-member or unknown organization → `invalid_grant`.
#[tokio::test]
async fn org_roles_differ_per_organization_and_members_only() {
    let app = spawn_app().await;
    let (acme, globex) = tenants(&app);
    let c = password_client(&app, &[]);

    let (status, body) = grant(&app, &c, Some("acme")).await;
    assert_eq!(status, 200, "{body}");
    let access = claims_of(body["access_token"].as_str().unwrap());
    assert_eq!(access["org_id"], json!(acme));
    assert_eq!(access["org_roles"], json!(["editor", "viewer"]));
    assert_eq!(access["permissions"], json!(["posts:read", "posts:write"]));
    assert!(access.get("roles").is_none(), "no global roles");
    let id = id_claims(&body);
    assert_eq!(id["org_id"], json!(acme));
    assert_eq!(id["org_roles"], json!(["editor", "viewer"]));
    let (_, _, info) = json_of(
        app.http
            .get(app.url("/userinfo"))
            .bearer_auth(body["access_token"].as_str().unwrap())
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(info["org_id"], json!(acme));
    assert_eq!(info["org_roles"], json!(["editor", "viewer"]));

    let (status, body) = grant(&app, &c, Some(&globex)).await;
    assert_eq!(status, 200, "{body}");
    let access = claims_of(body["access_token"].as_str().unwrap());
    assert_eq!(access["org_id"], json!(globex));
    assert_eq!(access["org_roles"], json!(["viewer"]));
    assert_eq!(access["permissions"], json!(["posts:read"]));

    let (status, body) = grant(&app, &c, None).await;
    assert_eq!(status, 200);
    let access = claims_of(body["access_token"].as_str().unwrap());
    assert!(
        access.get("org_id").is_none() && access.get("permissions").is_none(),
        "{access}"
    );

    for org in ["initech", "nowhere"] {
        let (status, body) = grant(&app, &c, Some(org)).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("invalid_grant")),
            "{org}"
        );
    }
}

/// `--require-organization`: the only membership is taken; several need `organization`
/// (`invalid_request`, the password grant has no page); none → `invalid_grant`.
#[tokio::test]
async fn a_client_that_requires_an_organization() {
    let app = spawn_app().await;
    let (acme, _) = tenants(&app);
    let c = password_client(&app, &["--require-organization"]);
    let (status, body) = grant(&app, &c, None).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_request")),
        "{body}"
    );
    let (status, body) = grant(&app, &c, Some("acme")).await;
    assert_eq!(status, 200, "{body}");

    app.env
        .cli(
            &[
                "org",
                "remove-member",
                "--org",
                "globex",
                "--email",
                "alice@example.com",
            ],
            None,
        )
        .json();
    let (status, body) = grant(&app, &c, None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        claims_of(body["access_token"].as_str().unwrap())["org_id"],
        json!(acme)
    );

    app.env
        .cli(
            &[
                "org",
                "remove-member",
                "--org",
                "acme",
                "--email",
                "alice@example.com",
            ],
            None,
        )
        .json();
    let (status, body) = grant(&app, &c, None).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );
}

/// The refresh-token family keeps its organization and re-checks the membership (removed →
/// `invalid_grant`); a first-party client may switch with `organization`, a third-party one
/// may not.
#[tokio::test]
async fn refresh_keeps_rechecks_and_switches_the_organization() {
    let app = spawn_app().await;
    let (acme, globex) = tenants(&app);
    let first_party = password_client(&app, &["--skip-consent"]);
    let (_, body) = grant(&app, &first_party, Some("acme")).await;
    let (status, refreshed) = app
        .refresh(&first_party, body["refresh_token"].as_str().unwrap(), None)
        .await;
    assert_eq!(status, 200, "{refreshed}");
    assert_eq!(
        claims_of(refreshed["access_token"].as_str().unwrap())["org_id"],
        json!(acme)
    );

    let (status, _, switched) = json_of(
        app.post_token(
            Some((&first_party.id, &first_party.secret)),
            &[
                ("grant_type", "refresh_token"),
                (
                    "refresh_token",
                    refreshed["refresh_token"].as_str().unwrap(),
                ),
                ("organization", "globex"),
            ],
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{switched}");
    let access = claims_of(switched["access_token"].as_str().unwrap());
    assert_eq!(access["org_id"], json!(globex));
    assert_eq!(access["org_roles"], json!(["viewer"]));

    let third_party = password_client(&app, &[]);
    let (_, body) = grant(&app, &third_party, Some("acme")).await;
    let (status, _, refused) = json_of(
        app.post_token(
            Some((&third_party.id, &third_party.secret)),
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", body["refresh_token"].as_str().unwrap()),
                ("organization", "globex"),
            ],
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, refused["error"].as_str()),
        (400, Some("invalid_request"))
    );

    // Removed from acme: the family's next refresh fails.
    app.env
        .cli(
            &[
                "org",
                "remove-member",
                "--org",
                "acme",
                "--email",
                "alice@example.com",
            ],
            None,
        )
        .json();
    let (status, body) = app
        .refresh(&third_party, body["refresh_token"].as_str().unwrap(), None)
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );
}
