//! The command line, through the real binary: JSON on success; on bad input a one-line message,
//! a non-zero exit, and nothing written.

use crate::helpers::TestEnv;
use irongate::auth::password::{Verified, verify_blocking};
use irongate::auth::secrets::verify_secret;
use irongate::config::Settings;
use irongate::store::{self, Store};

fn store_of(env: &TestEnv) -> Store {
    let settings = Settings::from_sources(None, env.env("http://127.0.0.1:8080")).unwrap();
    Store::connect_single(&settings).expect("connect")
}

fn count(env: &TestEnv, table: &str) -> i64 {
    use diesel::prelude::*;
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    store_of(env)
        .with_conn(|c| {
            Ok(
                diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {table}"))
                    .get_result::<N>(c)?
                    .n,
            )
        })
        .unwrap()
}

fn user(env: &TestEnv, email: &str) -> store::User {
    store_of(env)
        .with_conn(|c| store::find_user_by_email(c, email))
        .unwrap()
        .expect("user exists")
}

#[test]
fn user_create_prints_id_and_email_and_stores_an_argon2id_hash() {
    let env = TestEnv::new();
    let out = env
        .cli(
            &[
                "user",
                "create",
                "--email",
                "Alice@Example.com",
                "--name",
                "Alice",
                "--password-stdin",
            ],
            Some("correct horse\r\n"),
        )
        .json();
    assert_eq!(out["email"], "Alice@Example.com");
    let id = out["id"].as_str().unwrap();
    assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");
    assert_eq!(out.as_object().unwrap().len(), 2, "{{id, email}}: {out}");

    let stored = user(&env, "alice@example.com");
    assert_eq!(stored.id, id);
    assert_eq!(stored.name.as_deref(), Some("Alice"));
    assert!(stored.is_active);
    let hash = stored.password_hash.expect("password set");
    assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
    // Exactly one trailing newline (here \r\n) is removed, nothing else.
    assert_eq!(
        verify_blocking("correct horse", &hash),
        Verified::Match { rehash: None }
    );
}

#[test]
fn password_stdin_keeps_inner_and_leading_whitespace() {
    let env = TestEnv::new();
    env.cli(
        &[
            "user",
            "create",
            "--email",
            "b@example.com",
            "--password-stdin",
        ],
        Some("  spaced pass \n\n"),
    )
    .json();
    let hash = user(&env, "b@example.com").password_hash.unwrap();
    assert_eq!(
        verify_blocking("  spaced pass \n", &hash),
        Verified::Match { rehash: None }
    );
}

#[test]
fn user_without_password_and_with_roles() {
    let env = TestEnv::new();
    let out = env
        .cli(
            &[
                "user",
                "create",
                "--email",
                "fed@example.com",
                "--role",
                "admin",
                "--role",
                "editor",
            ],
            None,
        )
        .json();
    let stored = user(&env, "fed@example.com");
    assert!(stored.password_hash.is_none(), "federation-only user");
    let roles = store_of(&env)
        .with_conn(|c| store::find_user_roles(c, out["id"].as_str().unwrap()))
        .unwrap();
    assert_eq!(roles, ["admin", "editor"]);
}

#[test]
fn user_create_bad_inputs_fail_and_write_nothing() {
    let env = TestEnv::new();
    env.cli(&["user", "create", "--email", "taken@example.com"], None)
        .json();
    let cases: &[(&[&str], Option<&str>, &str)] = &[
        (&["--email", "not-an-email"], None, "invalid email"),
        (&["--email", "a@b@c"], None, "invalid email"),
        (&["--email", "TAKEN@example.COM"], None, "already exists"),
        (
            &["--email", "short@example.com", "--password-stdin"],
            Some("1234567\n"),
            "too short",
        ),
        (
            &["--email", "long@example.com", "--password-stdin"],
            Some(&"x".repeat(129)),
            "too long",
        ),
        // SEC-59: common and guessable passwords are refused.
        (
            &["--email", "common1@example.com", "--password-stdin"],
            Some("password1\n"),
            "too common",
        ),
        (
            &["--email", "common2@example.com", "--password-stdin"],
            Some("123456789"),
            "too common",
        ),
        (
            &["--email", "common3@example.com", "--password-stdin"],
            Some("qwertyuiop"),
            "too common",
        ),
        (
            &["--email", "role@example.com", "--role", "bad role"],
            None,
            "invalid role",
        ),
    ];
    for (args, stdin, needle) in cases {
        let mut full = vec!["user", "create"];
        full.extend_from_slice(args);
        env.cli(&full, *stdin).assert_fails_with(needle);
    }
    assert_eq!(count(&env, "users"), 1);
    assert_eq!(count(&env, "roles"), 0);
}

#[test]
fn a_failed_command_does_not_even_create_the_database() {
    let env = TestEnv::new();
    if env.db.is_postgres() {
        return; // the database exists beforehand there; the SQLite case is the one at stake
    }
    env.cli(&["user", "create", "--email", "nope"], None)
        .assert_fails_with("invalid email");
    env.cli(&["user", "disable", "--email", "ghost@example.com"], None)
        .assert_fails_with("no user");
    env.cli(
        &[
            "client",
            "create",
            "--name",
            "x",
            "--redirect-uri",
            "javascript:alert(1)",
        ],
        None,
    )
    .assert_fails_with("redirect URI");
    assert!(!env.dir.path().join("irongate.db").exists());
}

#[test]
fn disable_and_logout_all_change_the_security_stamp() {
    let env = TestEnv::new();
    let created = env
        .cli(&["user", "create", "--email", "carol@example.com"], None)
        .json();
    let before = user(&env, "carol@example.com").security_stamp;

    let out = env
        .cli(
            &["user", "logout-all", "--email", "CAROL@example.com"],
            None,
        )
        .json();
    assert_eq!(
        out,
        serde_json::json!({"id": created["id"], "email": "carol@example.com"})
    );
    let after_logout = user(&env, "carol@example.com");
    assert_ne!(after_logout.security_stamp, before);
    assert!(after_logout.is_active);

    env.cli(&["user", "disable", "--email", "carol@example.com"], None)
        .json();
    let disabled = user(&env, "carol@example.com");
    assert!(!disabled.is_active);
    assert_ne!(disabled.security_stamp, after_logout.security_stamp);

    env.cli(&["user", "disable", "--email", "ghost@example.com"], None)
        .assert_fails_with("no user");
    env.cli(
        &["user", "logout-all", "--email", "ghost@example.com"],
        None,
    )
    .assert_fails_with("no user");
}

#[test]
fn client_create_defaults_and_secret_shown_once() {
    let env = TestEnv::new();
    let out = env
        .cli(
            &[
                "client",
                "create",
                "--name",
                "Web app",
                "--redirect-uri",
                "https://rp.test/cb",
            ],
            None,
        )
        .json();
    let id = out["client_id"].as_str().unwrap();
    let secret = out["client_secret"].as_str().unwrap();
    assert_eq!(secret.len(), 43, "256-bit secret, base64url");
    assert_eq!(
        out["grant_types"],
        serde_json::json!(["authorization_code", "refresh_token"])
    );
    assert_eq!(
        out["scopes"],
        serde_json::json!(["email", "offline_access", "openid", "profile"])
    );
    assert_eq!(out["public"], false);

    let stored = store_of(&env)
        .with_conn(|c| store::find_client(c, id))
        .unwrap()
        .unwrap();
    let hash = stored.secret_hash.unwrap();
    assert!(verify_secret(secret, &hash));
    assert!(!hash.contains(secret), "only a hash is stored");
    assert_eq!(stored.redirect_uris, ["https://rp.test/cb"]);
}

#[test]
fn client_create_every_flag() {
    let env = TestEnv::new();
    let out = env
        .cli(
            &[
                "client",
                "create",
                "--name",
                "SPA",
                "--public",
                "--redirect-uri",
                "http://127.0.0.1/cb",
                "--redirect-uri",
                "https://app.test/cb",
                "--post-logout-redirect-uri",
                "https://app.test/bye",
                "--grant-type",
                "authorization_code",
                "--scope",
                "openid",
                "--scope",
                "posts:read",
                "--skip-consent",
            ],
            None,
        )
        .json();
    assert!(
        out.get("client_secret").is_none(),
        "public clients get no secret"
    );
    assert_eq!(out["public"], true);
    assert_eq!(out["skip_consent"], true);
    assert_eq!(
        out["grant_types"],
        serde_json::json!(["authorization_code"])
    );
    assert_eq!(out["scopes"], serde_json::json!(["openid", "posts:read"]));
    let stored = store_of(&env)
        .with_conn(|c| store::find_client(c, out["client_id"].as_str().unwrap()))
        .unwrap()
        .unwrap();
    assert!(stored.is_public && stored.skip_consent && stored.secret_hash.is_none());
    assert_eq!(
        stored.redirect_uris,
        ["http://127.0.0.1/cb", "https://app.test/cb"]
    );
    assert_eq!(stored.post_logout_redirect_uris, ["https://app.test/bye"]);

    let m2m = env
        .cli(
            &[
                "client",
                "create",
                "--name",
                "svc",
                "--grant-type",
                "client_credentials",
                "--scope",
                "admin",
            ],
            None,
        )
        .json();
    assert_eq!(
        m2m["grant_types"],
        serde_json::json!(["client_credentials"])
    );
}

#[test]
fn client_create_bad_inputs_fail_and_write_nothing_sec_05() {
    let env = TestEnv::new();
    let ok = ["--redirect-uri", "https://rp.test/cb"];
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["--redirect-uri", "/relative/cb"], "redirect URI"),
        (
            vec!["--redirect-uri", "https://rp.test/cb#frag"],
            "fragment",
        ),
        (vec!["--redirect-uri", "javascript:alert(1)"], "scheme"),
        (vec!["--redirect-uri", "JaVaScRiPt:alert(1)"], "scheme"),
        (vec!["--redirect-uri", "data:text/html,x"], "scheme"),
        (vec!["--redirect-uri", "vbscript:x"], "scheme"),
        (vec!["--redirect-uri", "http://rp.test/cb"], "loopback"),
        (
            vec!["--redirect-uri", "https://user@rp.test/cb"],
            "userinfo",
        ),
        (vec![], "--redirect-uri"),
        (vec!["--grant-type", "implicit"], "unknown grant type"),
        (
            [&ok[..], &["--scope", "superpowers"]].concat(),
            "unknown scope",
        ),
        (
            vec!["--public", "--grant-type", "client_credentials"],
            "public client",
        ),
        (
            vec!["--public", "--grant-type", "password"],
            "public client",
        ),
        (
            [
                &ok[..],
                &["--post-logout-redirect-uri", "https://rp.test/x#y"],
            ]
            .concat(),
            "fragment",
        ),
    ];
    for (args, needle) in cases {
        let mut full = vec!["client", "create", "--name", "bad"];
        full.extend_from_slice(&args);
        env.cli(&full, None).assert_fails_with(needle);
    }
    env.cli(&["user", "create", "--email", "x@example.com"], None)
        .json();
    assert_eq!(count(&env, "clients"), 0);
}

#[test]
fn keys_list_and_rotate() {
    let env = TestEnv::new();
    let listed = env.cli(&["keys", "list"], None).json();
    let keys = listed.as_array().unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0]["active"], true);
    assert!(keys[0]["created_at"].as_str().unwrap().ends_with('Z'));
    let old_kid = keys[0]["kid"].as_str().unwrap().to_owned();

    let rotated = env.cli(&["keys", "rotate"], None).json();
    let new_kid = rotated["kid"].as_str().unwrap();
    assert_eq!(rotated.as_object().unwrap().len(), 1);
    let listed = env.cli(&["keys", "list"], None).json();
    let kids: Vec<(&str, bool)> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|k| (k["kid"].as_str().unwrap(), k["active"].as_bool().unwrap()))
        .collect();
    assert_eq!(kids, [(new_kid, true), (old_kid.as_str(), false)]);
}

#[test]
fn every_command_has_help() {
    let env = TestEnv::new();
    for args in [
        vec!["--help"],
        vec!["serve", "--help"],
        vec!["migrate", "--help"],
        vec!["user", "create", "--help"],
        vec!["user", "disable", "--help"],
        vec!["user", "logout-all", "--help"],
        vec!["user", "set-password", "--help"],
        vec!["client", "create", "--help"],
        vec!["keys", "list", "--help"],
        vec!["keys", "rotate", "--help"],
    ] {
        let out = env.cli(&args, None);
        assert!(out.status.success(), "{args:?}: {}", out.stderr);
        assert!(out.stdout.contains("Usage:"), "{args:?}");
    }
    let out = env.cli(&["client", "create", "--help"], None).stdout;
    for flag in [
        "--redirect-uri",
        "--post-logout-redirect-uri",
        "--public",
        "--grant-type",
        "--scope",
        "--skip-consent",
    ] {
        assert!(out.contains(flag), "{flag}");
    }
    let bad = env.cli(&["user", "frobnicate"], None);
    assert!(!bad.status.success());
}
