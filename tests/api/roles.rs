//! Roles, permissions and organizations on the command line (CONTRACT part 2, "Roles,
//! permissions and organizations"): the graph's rules, and every bad input refused with one line
//! and nothing written.

use crate::helpers::{PASSWORD, TestEnv};
use serde_json::{Value, json};

fn ok(env: &TestEnv, args: &[&str]) -> Value {
    env.cli(args, None).json()
}

/// The `role list` entry for `name`.
fn listed(env: &TestEnv, name: &str) -> Value {
    let list = ok(env, &["role", "list"]);
    list.as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == name)
        .cloned()
        .unwrap_or(Value::Null)
}

/// A three-level hierarchy: viewer ← editor ← admin. A grand-child's permissions reach the top;
/// `role update` replaces only the sets it is given; `role delete` of the middle role removes it
/// from its child, whose effective permissions shrink.
#[test]
fn roles_inherit_transitively_and_update_and_delete_cleanly() {
    let env = TestEnv::new();
    let viewer = ok(
        &env,
        &["role", "create", "viewer", "--permission", "posts:read"],
    );
    assert_eq!(
        viewer,
        json!({"name": "viewer", "permissions": ["posts:read"], "inherits": []})
    );
    ok(
        &env,
        &[
            "role",
            "create",
            "editor",
            "--permission",
            "posts:write",
            "--inherits",
            "viewer",
        ],
    );
    let admin = ok(
        &env,
        &[
            "role",
            "create",
            "admin",
            "--permission",
            "irongate:admin",
            "--inherits",
            "editor",
        ],
    );
    assert_eq!(admin["inherits"], json!(["editor"]));
    assert_eq!(
        listed(&env, "admin")["effective_permissions"],
        json!(["irongate:admin", "posts:read", "posts:write"])
    );

    // Only the permissions change; the parents stay.
    let updated = ok(
        &env,
        &[
            "role",
            "update",
            "editor",
            "--permission",
            "posts:write",
            "--permission",
            "users:read",
        ],
    );
    assert_eq!(updated["permissions"], json!(["posts:write", "users:read"]));
    assert_eq!(updated["inherits"], json!(["viewer"]));
    // `--permission ''` empties the set.
    let emptied = ok(&env, &["role", "update", "viewer", "--permission", ""]);
    assert_eq!(emptied["permissions"], json!([]));

    assert_eq!(
        ok(&env, &["role", "delete", "editor"]),
        json!({"name": "editor"})
    );
    let admin = listed(&env, "admin");
    assert_eq!(admin["inherits"], json!([]));
    assert_eq!(admin["effective_permissions"], json!(["irongate:admin"]));
    assert_eq!(listed(&env, "editor"), Value::Null);
}

/// A cycle, through `role update` or onto itself, is refused with a message naming it, and the
/// graph stays as it was.
#[test]
fn a_role_cycle_is_refused_and_nothing_changes() {
    let env = TestEnv::new();
    ok(&env, &["role", "create", "a", "--permission", "posts:read"]);
    ok(&env, &["role", "create", "b", "--inherits", "a"]);
    ok(&env, &["role", "create", "c", "--inherits", "b"]);
    let before = ok(&env, &["role", "list"]);
    env.cli(&["role", "update", "a", "--inherits", "c"], None)
        .assert_fails_with("role cycle: a inherits c inherits b inherits a");
    env.cli(&["role", "update", "b", "--inherits", "b"], None)
        .assert_fails_with("role cycle");
    assert_eq!(ok(&env, &["role", "list"]), before);
}

/// Bad input: one line, a non-zero exit, nothing written.
#[test]
fn bad_role_and_organization_input_is_refused_with_one_line() {
    let env = TestEnv::new();
    ok(
        &env,
        &["role", "create", "viewer", "--permission", "posts:read"],
    );
    env.cli(&["role", "create", "x", "--permission", "nope:read"], None)
        .assert_fails_with("unknown permission \"nope:read\"");
    env.cli(&["role", "create", "x", "--permission", "openid"], None)
        .assert_fails_with("unknown permission");
    env.cli(&["role", "create", "x", "--inherits", "ghost"], None)
        .assert_fails_with("no role named ghost");
    env.cli(&["role", "create", "viewer"], None)
        .assert_fails_with("role viewer already exists");
    env.cli(&["role", "create", "bad name!"], None)
        .assert_fails_with("invalid role");
    env.cli(
        &["role", "update", "ghost", "--permission", "posts:read"],
        None,
    )
    .assert_fails_with("no role named ghost");
    env.cli(&["role", "delete", "ghost"], None)
        .assert_fails_with("no role named ghost");
    let roles = ok(&env, &["role", "list"]);
    assert_eq!(roles.as_array().unwrap().len(), 1, "{roles}");

    for slug in [
        "A",
        "x",
        "Upper",
        "has space",
        &"a".repeat(64),
        "under_score",
    ] {
        env.cli(&["org", "create", "--slug", slug, "--name", "N"], None)
            .assert_fails_with("invalid slug");
    }
    ok(&env, &["org", "create", "--slug", "acme", "--name", "Acme"]);
    env.cli(
        &["org", "create", "--slug", "acme", "--name", "Other"],
        None,
    )
    .assert_fails_with("already exists");
    env.cli(
        &[
            "user",
            "create",
            "--email",
            "alice@example.com",
            "--password-stdin",
        ],
        Some(PASSWORD),
    )
    .json();
    env.cli(
        &[
            "user",
            "add-role",
            "--email",
            "alice@example.com",
            "--role",
            "viewer",
            "--org",
            "acme",
        ],
        None,
    )
    .assert_fails_with("not a member");
    env.cli(
        &[
            "org",
            "add-member",
            "--org",
            "acme",
            "--email",
            "alice@example.com",
            "--role",
            "ghost",
        ],
        None,
    )
    .assert_fails_with("no role named ghost");
    env.cli(
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
    .assert_fails_with("not a member");
    env.cli(
        &[
            "org",
            "add-member",
            "--org",
            "nowhere",
            "--email",
            "alice@example.com",
        ],
        None,
    )
    .assert_fails_with("no organization nowhere");
    env.cli(
        &[
            "user",
            "add-role",
            "--email",
            "ghost@example.com",
            "--role",
            "viewer",
        ],
        None,
    )
    .assert_fails_with("no user");
    let orgs = ok(&env, &["org", "list"]);
    assert_eq!(orgs[0]["members"], 0, "nothing was written: {orgs}");
}

/// Organizations: create, members with roles of their own (by id or slug), list with member
/// counts, a role given and taken away inside one, membership ended.
#[test]
fn organizations_hold_members_with_roles_of_their_own() {
    let env = TestEnv::new();
    ok(
        &env,
        &["role", "create", "viewer", "--permission", "posts:read"],
    );
    ok(
        &env,
        &["role", "create", "editor", "--permission", "posts:write"],
    );
    let acme = ok(
        &env,
        &["org", "create", "--slug", "acme", "--name", "Acme Inc."],
    );
    assert_eq!(acme["slug"], "acme");
    assert_eq!(acme["name"], "Acme Inc.");
    let acme_id = acme["id"].as_str().unwrap().to_owned();
    let user = env
        .cli(
            &[
                "user",
                "create",
                "--email",
                "alice@example.com",
                "--password-stdin",
            ],
            Some(PASSWORD),
        )
        .json();

    let member = ok(
        &env,
        &[
            "org",
            "add-member",
            "--org",
            "acme",
            "--email",
            "ALICE@example.com",
            "--role",
            "viewer",
        ],
    );
    assert_eq!(
        member,
        json!({"org_id": acme_id, "user_id": user["id"], "roles": ["viewer"]})
    );
    let changed = ok(
        &env,
        &[
            "user",
            "add-role",
            "--email",
            "alice@example.com",
            "--role",
            "editor",
            "--org",
            &acme_id,
        ],
    );
    assert_eq!(changed["id"], user["id"]);
    // Adding again changes nothing; the member's roles there are both.
    let again = ok(
        &env,
        &[
            "org",
            "add-member",
            "--org",
            "acme",
            "--email",
            "alice@example.com",
            "--role",
            "editor",
        ],
    );
    assert_eq!(again["roles"], json!(["editor", "viewer"]));
    ok(
        &env,
        &[
            "user",
            "remove-role",
            "--email",
            "alice@example.com",
            "--role",
            "viewer",
            "--org",
            "acme",
        ],
    );
    ok(
        &env,
        &[
            "user",
            "add-role",
            "--email",
            "alice@example.com",
            "--role",
            "viewer",
        ],
    );
    let orgs = ok(&env, &["org", "list"]);
    assert_eq!(
        orgs,
        json!([{"id": acme_id, "slug": "acme", "name": "Acme Inc.", "members": 1}])
    );
    let removed = ok(
        &env,
        &[
            "org",
            "remove-member",
            "--org",
            "acme",
            "--email",
            "alice@example.com",
        ],
    );
    assert_eq!(removed, json!({"org_id": acme_id, "user_id": user["id"]}));
    assert_eq!(ok(&env, &["org", "list"])[0]["members"], 0);
    // Deleting a role takes it from every user and membership in one statement.
    assert_eq!(
        ok(&env, &["role", "delete", "viewer"]),
        json!({"name": "viewer"})
    );
}

mod claims {
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
}

mod organizations {
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
        let (status, _, body) =
            json_of(app.post_token(Some((&c.id, &c.secret)), &form).await).await;
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
}

mod chooser {
    use crate::helpers::{
        Browser, PASSWORD, REDIRECT, TestApp, claims_of, code_request, spawn_app,
    };
    use serde_json::json;

    /// acme and globex, alice a member of both; a code-flow client that requires an
    /// organization. The organizations' ids and the client.
    fn setup(app: &TestApp, extra: &[&str]) -> (String, String, crate::helpers::Client) {
        let ok = |args: &[&str]| app.env.cli(args, None).json();
        ok(&["role", "create", "viewer", "--permission", "posts:read"]);
        let acme = ok(&["org", "create", "--slug", "acme", "--name", "Acme"]);
        let globex = ok(&["org", "create", "--slug", "globex", "--name", "Globex"]);
        ok(&["org", "create", "--slug", "initech", "--name", "Initech"]);
        app.create_user("alice@example.com", PASSWORD);
        app.create_user("bob@example.com", PASSWORD);
        ok(&[
            "org",
            "add-member",
            "--org",
            "acme",
            "--email",
            "alice@example.com",
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
        let mut args = vec![
            "--redirect-uri",
            REDIRECT,
            "--scope",
            "openid",
            "--scope",
            "email",
            "--scope",
            "roles",
            "--scope",
            "posts:read",
            "--require-organization",
        ];
        args.extend_from_slice(extra);
        let c = app.create_client(&args);
        (
            acme["id"].as_str().unwrap().to_owned(),
            globex["id"].as_str().unwrap().to_owned(),
            c,
        )
    }

    /// CONTRACT page hook `form#organization`: after the sign-in, a user with several
    /// memberships chooses (one button per membership, a CSRF token); the code and its tokens
    /// carry the choice. A forged choice is refused (403) and changes nothing.
    #[tokio::test]
    async fn the_chooser_page_binds_the_organization_to_the_code() {
        let app = spawn_app().await;
        let (_, globex, c) = setup(&app, &[]);
        let browser = Browser::new(&app);
        let params = code_request(&c, &[("scope", "openid roles posts:read")]);
        let login = browser.authorize(&params).await;
        let signed_in = browser.login(&login, "alice@example.com", PASSWORD).await;
        assert_eq!(signed_in.status, 303);
        let chooser = browser.follow(&signed_in).await;
        assert_eq!(chooser.status, 200, "{}", chooser.body);
        assert!(chooser.has("<form id=\"organization\""), "{}", chooser.body);
        assert!(chooser.has("name=\"organization\" value=\"acme\""));
        assert!(chooser.has("name=\"organization\" value=\"globex\""));
        assert!(!chooser.has("initech"), "only the user's organizations");
        assert_eq!(
            chooser.header("x-frame-options"),
            "DENY",
            "the same page headers as every page"
        );

        let forged = browser
            .post(
                "/organization",
                &[
                    ("csrf_token", "forged"),
                    ("request", &chooser.hidden("request")),
                    ("organization", "globex"),
                ],
            )
            .await;
        assert_eq!(forged.status, 403);

        let chosen = browser
            .post(
                "/organization",
                &[
                    ("csrf_token", &chooser.hidden("csrf_token")),
                    ("request", &chooser.hidden("request")),
                    ("organization", "globex"),
                ],
            )
            .await;
        assert_eq!(chosen.status, 303, "{}", chosen.body);
        let consent = browser.follow(&chosen).await;
        assert!(
            consent.has("id=\"consent-organization\">Globex<"),
            "the consent page names the organization: {}",
            consent.body
        );
        // The approval is bound to the request it carries, organization included: the same
        // token with the organization changed is refused and changes nothing.
        let request = consent.hidden("request");
        assert!(request.contains("organization=globex"), "{request}");
        let swapped = browser
            .post(
                "/consent",
                &[
                    ("csrf_token", &consent.hidden("csrf_token")),
                    (
                        "request",
                        &request.replace("organization=globex", "organization=acme"),
                    ),
                    ("decision", "allow"),
                ],
            )
            .await;
        assert_eq!(swapped.status, 403);
        let done = browser.consent(&consent, "allow").await;
        let tokens = app.code_tokens(&c, &done).await;
        let access = claims_of(tokens["access_token"].as_str().unwrap());
        assert_eq!(access["org_id"], json!(globex));
        assert_eq!(access["org_roles"], json!(["viewer"]));
        assert_eq!(access["permissions"], json!(["posts:read"]));
        let id = crate::helpers::id_claims(&tokens);
        assert_eq!(id["org_id"], json!(globex));

        // With `prompt=none` and a choice to make: interaction_required.
        let silent = browser
            .authorize(&code_request(&c, &[("prompt", "none")]))
            .await;
        assert_eq!(silent.redirect_params()["error"], "interaction_required");
    }

    /// `organization` at the authorization endpoint: a member goes straight on; a non-member (or
    /// a user with no membership at a client that requires one) is sent back `access_denied`
    /// with `state` and `iss`; one membership skips the chooser.
    #[tokio::test]
    async fn organization_at_the_authorization_endpoint_is_members_only() {
        let app = spawn_app().await;
        let (acme, _, c) = setup(&app, &["--skip-consent"]);
        let browser = Browser::new(&app);
        let page = browser
            .sign_in_and_approve(
                &code_request(&c, &[("organization", "acme")]),
                "alice@example.com",
            )
            .await;
        let tokens = app.code_tokens(&c, &page).await;
        assert_eq!(
            claims_of(tokens["access_token"].as_str().unwrap())["org_id"],
            json!(acme)
        );

        let denied = browser
            .authorize(&code_request(&c, &[("organization", "initech")]))
            .await;
        let params = denied.redirect_params();
        assert_eq!(params["error"], "access_denied");
        assert_eq!(params["state"], "af0ifjsldkj");
        assert_eq!(params["iss"], app.address);

        // Bob is a member of nothing.
        let bob = Browser::new(&app);
        let denied = bob
            .sign_in_and_approve(&code_request(&c, &[]), "bob@example.com")
            .await;
        assert_eq!(denied.redirect_params()["error"], "access_denied");

        // One membership: no chooser.
        app.env
            .cli(
                &[
                    "org",
                    "add-member",
                    "--org",
                    "acme",
                    "--email",
                    "bob@example.com",
                ],
                None,
            )
            .json();
        let bob = Browser::new(&app);
        let page = bob
            .sign_in_and_approve(&code_request(&c, &[]), "bob@example.com")
            .await;
        let code = page.redirect_params()["code"].clone();
        let (status, tokens) = app.exchange_code(&c, &code).await;
        assert_eq!(status, 200, "{tokens}");
        assert_eq!(
            claims_of(tokens["access_token"].as_str().unwrap())["org_id"],
            json!(acme)
        );
    }
}
