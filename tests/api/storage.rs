//! Storage on both backends: migrations, round-trips, readiness.

use crate::helpers::{TestEnv, spawn_app, spawn_app_with};
use irongate::config::Settings;
use irongate::domain::GrantType;
use irongate::store::{self, NewClient, NewUser, Store, StoreError};

fn store_of(env: &TestEnv) -> Store {
    Store::connect_single(&Settings::from_sources(None, env.env("http://127.0.0.1:8080")).unwrap())
        .unwrap()
}

fn names(dir: &str) -> Vec<String> {
    let mut names: Vec<String> =
        std::fs::read_dir(format!("{}/migrations/{dir}", env!("CARGO_MANIFEST_DIR")))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
    names.sort();
    names
}

#[test]
fn both_backends_have_the_same_migration_names() {
    let sqlite = names("sqlite");
    assert!(!sqlite.is_empty());
    assert_eq!(sqlite, names("postgres"));
    for name in &sqlite {
        for file in ["up.sql", "down.sql"] {
            for backend in ["sqlite", "postgres"] {
                let path = format!(
                    "{}/migrations/{backend}/{name}/{file}",
                    env!("CARGO_MANIFEST_DIR")
                );
                assert!(std::path::Path::new(&path).exists(), "{path}");
            }
        }
    }
}

#[test]
fn migrations_apply_on_a_fresh_database_and_are_idempotent() {
    let env = TestEnv::new();
    let store = store_of(&env);
    assert_eq!(store.run_migrations().unwrap(), names("sqlite").len());
    assert_eq!(store.run_migrations().unwrap(), 0);
    let out = env.cli(&["migrate"], None);
    assert!(out.status.success(), "{}", out.stderr);
}

fn new_user(email: &str) -> NewUser {
    NewUser {
        id: uuid::Uuid::new_v4().to_string(),
        email: email.to_owned(),
        email_normalized: email.to_lowercase(),
        name: Some("Zoë".into()),
        password_hash: Some("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into()),
        email_verified: true,
        security_stamp: "stamp-1".into(),
    }
}

#[test]
fn users_round_trip_and_are_unique_in_any_case() {
    let env = TestEnv::new();
    let store = store_of(&env);
    store.run_migrations().unwrap();
    let new = new_user("Zoe@Example.com");
    store
        .with_conn(|c| store::insert_user(c, &new, &["admin".into()]))
        .unwrap();

    let found = store
        .with_conn(|c| store::find_user_by_email(c, "zoe@example.com"))
        .unwrap()
        .unwrap();
    assert_eq!(
        (found.id.as_str(), found.email.as_str()),
        (new.id.as_str(), "Zoe@Example.com")
    );
    assert_eq!(found.name.as_deref(), Some("Zoë"));
    assert_eq!(found.password_hash, new.password_hash);
    assert!(found.is_active && found.email_verified);
    assert_eq!(found.security_stamp, "stamp-1");
    assert_eq!(found.created_at, found.updated_at);
    let by_id = store
        .with_conn(|c| store::find_user_by_id(c, &new.id))
        .unwrap()
        .unwrap();
    assert_eq!(by_id.email, found.email);

    let dup = store.with_conn(|c| store::insert_user(c, &new_user("ZOE@example.COM"), &[]));
    assert!(matches!(dup, Err(StoreError::Conflict(_))), "{dup:?}");

    store
        .with_conn(|c| store::set_user_active(c, &new.id, false, "stamp-2"))
        .unwrap();
    let old_hash = new.password_hash.clone().unwrap_or_default();
    // A rehash applies only over the hash that was verified (a raced change is never undone).
    store
        .with_conn(|c| store::update_password_hash(c, &new.id, "$argon2id$other", "$argon2id$x"))
        .unwrap();
    store
        .with_conn(|c| store::update_password_hash(c, &new.id, &old_hash, "$argon2id$new"))
        .unwrap();
    let changed = store
        .with_conn(|c| store::find_user_by_id(c, &new.id))
        .unwrap()
        .unwrap();
    assert!(!changed.is_active);
    assert_eq!(changed.security_stamp, "stamp-2");
    assert_eq!(changed.password_hash.as_deref(), Some("$argon2id$new"));
    assert!(matches!(
        store.with_conn(|c| store::set_security_stamp(c, "missing", "x")),
        Err(StoreError::NotFound)
    ));
}

#[test]
fn clients_round_trip() {
    let env = TestEnv::new();
    let store = store_of(&env);
    store.run_migrations().unwrap();
    let new = NewClient {
        id: "client-1".into(),
        name: "App".into(),
        secret_hash: Some("hash".into()),
        is_public: false,
        redirect_uris: vec!["https://rp.test/cb".into(), "https://rp.test/cb?x=1".into()],
        post_logout_redirect_uris: vec!["https://rp.test/bye".into()],
        grant_types: vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
        allowed_scopes: vec!["openid".into(), "users:read".into()],
        skip_consent: true,
        require_organization: false,
    };
    store.with_conn(|c| store::insert_client(c, &new)).unwrap();
    let found = store
        .with_conn(|c| store::find_client(c, "client-1"))
        .unwrap()
        .unwrap();
    assert_eq!(found.name, "App");
    assert_eq!(found.secret_hash.as_deref(), Some("hash"));
    assert_eq!(found.redirect_uris, new.redirect_uris);
    assert_eq!(
        found.post_logout_redirect_uris,
        new.post_logout_redirect_uris
    );
    assert_eq!(found.grant_types, new.grant_types);
    assert_eq!(found.allowed_scopes, new.allowed_scopes);
    assert!(found.skip_consent && !found.is_public);
    assert!(
        store
            .with_conn(|c| store::find_client(c, "nope"))
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn health_and_readiness() {
    let app = spawn_app().await;
    let health = app.http.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let ready = app.http.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    assert_eq!(ready.headers()["cache-control"], "no-store");
}

/// REL-01: readiness reflects the database; liveness does not.
#[tokio::test]
async fn rel_01_readyz_answers_503_when_the_database_is_gone() {
    let env = TestEnv::new();
    if !env.db.is_postgres() {
        return; // an open SQLite file cannot be taken away from a running process
    }
    let app = spawn_app_with(env, |_| {}).await;
    assert_eq!(
        app.http
            .get(app.url("/readyz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    app.env.db.drop_now();
    let ready = app.http.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 503);
    let body: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(body["status"], "unavailable");
    assert_eq!(
        app.http
            .get(app.url("/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

/// The SQLite database holds password hashes and session secrets: the server creates it, and
/// SQLite its `-wal` and `-shm` files, readable by their owner only (issue 10, finding 7; keys
/// are 0600 too).
#[tokio::test]
async fn the_database_files_the_server_creates_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let app = spawn_app().await;
    if app.env.db.is_postgres() {
        return;
    }
    // A request that writes, so that the write-ahead log exists.
    app.create_user("frank@example.com", crate::helpers::PASSWORD);
    assert_eq!(
        app.post_token(None, &[("grant_type", "password")])
            .await
            .status(),
        401
    );
    for name in ["irongate.db", "irongate.db-wal", "irongate.db-shm"] {
        let path = app.env.dir.path().join(name);
        let mode = std::fs::metadata(&path)
            .unwrap_or_else(|e| panic!("{name}: {e}"))
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{name}: {:o}", mode & 0o777);
    }
}
