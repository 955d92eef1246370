//! Roles, permissions and organizations on the command line (CONTRACT part 2, "Roles,
//! permissions and organizations"): the graph's rules, and every bad input refused with one line
//! and nothing written.

use crate::helpers::TestEnv;
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
    env.create_user("alice@example.com");
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
    let user = env.create_user("alice@example.com");

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
