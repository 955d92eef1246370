//! API keys on the command line (CONTRACT part 2, "API keys"): the format, the scope rules at
//! creation, rotation and revocation as the stored state shows them.

use crate::helpers::TestEnv;
use serde_json::Value;

fn ok(env: &TestEnv, args: &[&str]) -> Value {
    env.cli(args, None).json()
}

/// A user with the role `editor` (posts:read, posts:write), and an organization `acme` where
/// they hold `auditor` (users:read).
fn setup() -> TestEnv {
    let env = TestEnv::new();
    env.alice_the_editor();
    env.alice_audits_acme();
    env
}

fn is_key(key: &str) -> bool {
    key.len() == 40
        && key.starts_with("igk_")
        && key[4..].bytes().all(|b| b.is_ascii_alphanumeric())
}

/// API keys: create shows the key once in the format secret scanners match; list never shows
/// it; the default lifetime is 90 days.
#[test]
fn create_shows_the_key_once_and_list_never() {
    let env = setup();
    let created = ok(
        &env,
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
    );
    let key = created["key"].as_str().unwrap();
    assert!(is_key(key), "{key}");
    assert_eq!(created["name"], "ci");
    assert_eq!(created["scopes"], serde_json::json!(["posts:read"]));
    assert_eq!(created["org_id"], Value::Null);
    let lifetime =
        created["expires_at"].as_i64().unwrap() - created["created_at"].as_i64().unwrap();
    assert_eq!(lifetime, 90 * 86_400);
    let list = ok(&env, &["api-key", "list", "--email", "alice@example.com"]);
    let listed = &list.as_array().unwrap()[0];
    assert_eq!(listed["id"], created["id"]);
    assert!(listed.get("key").is_none(), "{listed}");
    assert!(
        !list.to_string().contains(key),
        "the key itself is never listed"
    );
    assert!(listed["display"].as_str().unwrap().starts_with(&key[..8]));
    assert_eq!(listed["last_used_at"], Value::Null);
}

/// API keys: scopes must be the user's permissions when the key is made — the error names the
/// missing one; an organization's roles count only for a key bound to it.
#[test]
fn scopes_beyond_the_users_permissions_are_refused_naming_the_scope() {
    let env = setup();
    let base = [
        "api-key",
        "create",
        "--email",
        "alice@example.com",
        "--name",
        "k",
    ];
    let with = |extra: &[&str]| {
        let mut args = base.to_vec();
        args.extend_from_slice(extra);
        env.cli(&args, None)
    };
    with(&["--scope", "users:read"]).assert_fails_with("users:read");
    let bound = with(&[
        "--scope",
        "users:read",
        "--scope",
        "posts:write",
        "--org",
        "acme",
    ])
    .json();
    assert_eq!(
        bound["scopes"],
        serde_json::json!(["posts:write", "users:read"])
    );
    assert!(bound["org_id"].is_string());
    with(&["--scope", "posts:read", "--org", "nowhere"]).assert_fails_with("organization");
    with(&["--expires-in", "0"]).assert_fails_with("expires_in");
    with(&["--expires-in", "31536001"]).assert_fails_with("expires_in");
    let short = with(&["--expires-in", "60"]).json();
    assert_eq!(
        short["expires_at"].as_i64().unwrap() - short["created_at"].as_i64().unwrap(),
        60
    );
    env.cli(
        &[
            "api-key",
            "create",
            "--email",
            "bob@example.com",
            "--name",
            "k",
        ],
        None,
    )
    .assert_fails_with("bob@example.com");
    env.cli(
        &[
            "api-key",
            "create",
            "--email",
            "alice@example.com",
            "--name",
            " ",
        ],
        None,
    )
    .assert_fails_with("name");
}

/// API keys: rotation returns a new key with the same id; a revoked key cannot be rotated;
/// unknown ids and bad graces are refused.
#[test]
fn rotate_and_revoke() {
    let env = setup();
    let created = ok(
        &env,
        &[
            "api-key",
            "create",
            "--email",
            "alice@example.com",
            "--name",
            "k",
        ],
    );
    let id = created["id"].as_str().unwrap();
    let rotated = ok(&env, &["api-key", "rotate", "--id", id, "--grace", "3600"]);
    assert_eq!(rotated["id"], created["id"]);
    assert_ne!(rotated["key"], created["key"]);
    assert!(is_key(rotated["key"].as_str().unwrap()));
    env.cli(
        &["api-key", "rotate", "--id", id, "--grace", "604801"],
        None,
    )
    .assert_fails_with("grace");
    assert_eq!(
        ok(&env, &["api-key", "revoke", "--id", id])["id"],
        created["id"]
    );
    let list = ok(&env, &["api-key", "list", "--email", "alice@example.com"]);
    assert!(list[0]["revoked_at"].is_i64());
    env.cli(&["api-key", "rotate", "--id", id], None)
        .assert_fails_with("revoked");
    env.cli(&["api-key", "revoke", "--id", "no-such-key"], None)
        .assert_fails_with("no API key");
}

/// API keys: `user disable` revokes every key of the user; `user logout-all` does not.
#[test]
fn disable_revokes_keys_and_logout_all_does_not() {
    let env = setup();
    ok(
        &env,
        &[
            "api-key",
            "create",
            "--email",
            "alice@example.com",
            "--name",
            "k",
        ],
    );
    ok(
        &env,
        &["user", "logout-all", "--email", "alice@example.com"],
    );
    let list = ok(&env, &["api-key", "list", "--email", "alice@example.com"]);
    assert_eq!(list[0]["revoked_at"], Value::Null);
    ok(&env, &["user", "disable", "--email", "alice@example.com"]);
    let list = ok(&env, &["api-key", "list", "--email", "alice@example.com"]);
    assert!(list[0]["revoked_at"].is_i64());
}
