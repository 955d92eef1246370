//! API keys presented to irongate (CONTRACT "API keys"): at introspection and at the bearer
//! endpoints, through `Authorization: Bearer` or `X-API-Key`; checksum, expiry, rotation,
//! revocation and the user's current permissions decide.

use crate::helpers::{Client, TestApp, json_of, spawn_app};
use serde_json::{Value, json};

/// Alice with the role `editor` (posts:read, posts:write) and the role `auditor` (users:read)
/// in the organization `acme`; a confidential client for introspection.
pub(crate) async fn setup() -> (TestApp, Client) {
    let app = spawn_app().await;
    let c = app.create_client(&["--grant-type", "password", "--scope", "openid"]);
    app.env.alice_the_editor();
    app.env.alice_audits_acme();
    (app, c)
}

pub(crate) fn create(app: &TestApp, extra: &[&str]) -> Value {
    let mut args = vec![
        "api-key",
        "create",
        "--email",
        "alice@example.com",
        "--name",
        "ci",
    ];
    args.extend_from_slice(extra);
    app.env.cli(&args, None).json()
}

pub(crate) async fn introspect(app: &TestApp, c: &Client, token: &str) -> Value {
    let (status, _, body) = json_of(
        app.post_to("/introspect", Some((&c.id, &c.secret)), &[("token", token)])
            .await,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body
}

pub(crate) fn key(v: &Value) -> String {
    v["key"].as_str().unwrap().to_owned()
}

/// The status and `WWW-Authenticate` of GET /userinfo with these headers.
async fn userinfo(app: &TestApp, headers: &[(&str, &str)]) -> (u16, String) {
    let mut req = app.http.get(format!("{}/userinfo", app.address));
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    let resp = req.send().await.unwrap();
    let challenge = resp
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (resp.status().as_u16(), challenge)
}

/// Introspection of a live key: `token_use: "api_key"`, its id, its user, its scopes and the
/// authorization claims; a changed character, a revoked key → `{"active": false}`.
#[tokio::test]
async fn introspection_describes_a_live_key_and_nothing_else() {
    let (app, c) = setup().await;
    let created = create(&app, &["--scope", "posts:read"]);
    let k = key(&created);
    let answer = introspect(&app, &c, &k).await;
    assert_eq!(answer["active"], true, "{answer}");
    assert_eq!(answer["token_use"], "api_key");
    assert_eq!(answer["api_key_id"], created["id"]);
    assert_eq!(answer["scope"], "posts:read");
    assert_eq!(answer["permissions"], json!(["posts:read"]));
    assert_eq!(answer["roles"], json!(["editor"]));
    assert_eq!(answer["exp"], created["expires_at"]);
    assert!(answer.get("org_id").is_none());

    let mut changed = k.clone().into_bytes();
    changed[10] = if changed[10] == b'a' { b'b' } else { b'a' };
    let changed = String::from_utf8(changed).unwrap();
    assert_eq!(
        introspect(&app, &c, &changed).await,
        json!({"active": false})
    );
    assert_eq!(
        introspect(&app, &c, "igk_short").await,
        json!({"active": false})
    );

    let id = created["id"].as_str().unwrap();
    app.env.cli(&["api-key", "revoke", "--id", id], None).json();
    assert_eq!(introspect(&app, &c, &k).await, json!({"active": false}));
}

/// At each use a key acts with its scopes ∩ its user's permissions now: a demoted user's key
/// loses the scope at once; a disabled user's key stops working.
#[tokio::test]
async fn a_demoted_users_key_loses_the_scope_at_once() {
    let (app, c) = setup().await;
    let k = key(&create(
        &app,
        &["--scope", "posts:read", "--scope", "posts:write"],
    ));
    assert_eq!(
        introspect(&app, &c, &k).await["scope"],
        "posts:read posts:write"
    );
    app.env
        .cli(
            &[
                "user",
                "remove-role",
                "--email",
                "alice@example.com",
                "--role",
                "editor",
            ],
            None,
        )
        .json();
    let answer = introspect(&app, &c, &k).await;
    assert_eq!(answer["active"], true);
    assert_eq!(answer["scope"], "");
    assert!(answer.get("permissions").is_none(), "{answer}");
    app.env
        .cli(&["user", "disable", "--email", "alice@example.com"], None)
        .json();
    assert_eq!(introspect(&app, &c, &k).await, json!({"active": false}));
}

/// A key bound to an organization acts inside it (its roles there count) and only while its
/// user is a member.
#[tokio::test]
async fn an_organization_key_acts_inside_its_organization_only() {
    let (app, c) = setup().await;
    let created = create(&app, &["--scope", "users:read", "--org", "acme"]);
    let answer = introspect(&app, &c, &key(&created)).await;
    assert_eq!(answer["org_id"], created["org_id"]);
    assert_eq!(answer["org_roles"], json!(["auditor"]));
    assert_eq!(answer["scope"], "users:read");
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
    assert_eq!(
        introspect(&app, &c, &key(&created)).await,
        json!({"active": false})
    );
}

/// Rotation without grace kills the old key at once; with a grace both work until it ends,
/// then the old one never again. An expired key is inactive.
#[tokio::test]
async fn rotation_grace_and_expiry() {
    use diesel::prelude::*;
    use irongate::store::schema::api_keys;
    let (app, c) = setup().await;
    let first = create(&app, &[]);
    let id = first["id"].as_str().unwrap().to_owned();
    let rotated = app
        .env
        .cli(&["api-key", "rotate", "--id", &id], None)
        .json();
    assert_eq!(introspect(&app, &c, &key(&first)).await["active"], false);
    assert_eq!(introspect(&app, &c, &key(&rotated)).await["active"], true);

    let graced = app
        .env
        .cli(&["api-key", "rotate", "--id", &id, "--grace", "3600"], None)
        .json();
    assert_eq!(introspect(&app, &c, &key(&rotated)).await["active"], true);
    assert_eq!(introspect(&app, &c, &key(&graced)).await["active"], true);
    // The grace ends (moved into the past), then the key expires.
    let set = |column_past: &'static str| {
        let id = id.clone();
        app.state.store.run(move |conn| {
            let past = irongate::store::unix_now() - 1;
            let target = api_keys::table.find(id);
            match column_past {
                "grace" => diesel::update(target)
                    .set(api_keys::previous_until.eq(Some(past)))
                    .execute(conn),
                _ => diesel::update(target)
                    .set(api_keys::expires_at.eq(past))
                    .execute(conn),
            }?;
            Ok(())
        })
    };
    set("grace").await.unwrap();
    assert_eq!(introspect(&app, &c, &key(&rotated)).await["active"], false);
    assert_eq!(introspect(&app, &c, &key(&graced)).await["active"], true);
    set("expiry").await.unwrap();
    assert_eq!(introspect(&app, &c, &key(&graced)).await["active"], false);
}

/// Bearer endpoints take a key through `Authorization: Bearer` or `X-API-Key`: a live key is
/// accepted (userinfo then wants `openid`, which a key never has: 403 insufficient_scope); a
/// revoked or malformed one is `invalid_token`; both headers at once are refused.
#[tokio::test]
async fn bearer_endpoints_accept_keys_by_either_header() {
    let (app, _) = setup().await;
    let created = create(&app, &["--scope", "posts:read"]);
    let k = key(&created);
    let bearer = format!("Bearer {k}");
    for headers in [
        [("Authorization", bearer.as_str())],
        [("X-API-Key", k.as_str())],
    ] {
        let (status, challenge) = userinfo(&app, &headers).await;
        assert_eq!(status, 403, "{headers:?}");
        assert!(challenge.contains("insufficient_scope"), "{challenge}");
    }
    let (status, _) = userinfo(&app, &[("Authorization", &bearer), ("X-API-Key", &k)]).await;
    assert_eq!(status, 400);
    let (status, challenge) = userinfo(&app, &[("X-API-Key", "not-a-key")]).await;
    assert_eq!(status, 401);
    assert!(challenge.contains("invalid_token"), "{challenge}");
    // An API key is no first-party application's token: it cannot log the user out everywhere.
    let resp = app
        .http
        .post(format!("{}/logout-all", app.address))
        .header("X-API-Key", &k)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 403);

    let id = created["id"].as_str().unwrap();
    app.env.cli(&["api-key", "revoke", "--id", id], None).json();
    for headers in [
        [("Authorization", bearer.as_str())],
        [("X-API-Key", k.as_str())],
    ] {
        let (status, challenge) = userinfo(&app, &headers).await;
        assert_eq!(status, 401, "{headers:?}");
        assert!(challenge.contains("invalid_token"), "{challenge}");
    }
}

/// A key whose checksum fails is refused before any lookup: with the database gone, a
/// well-formed key gets 503 (the lookup was tried) and a key with one character changed still
/// gets 401 at once (none was).
#[tokio::test]
async fn a_bad_checksum_is_refused_without_a_lookup() {
    if std::env::var("IRONGATE_TEST_DATABASE_URL").is_ok() {
        return; // the database is taken away as a file: SQLite only
    }
    let (app, _) = setup().await;
    let k = key(&create(&app, &["--scope", "posts:read"]));
    let mut changed = k.clone().into_bytes();
    let last = changed.len() - 1;
    changed[last] = if changed[last] == b'0' { b'1' } else { b'0' };
    let changed = String::from_utf8(changed).unwrap();
    let file = app.env.dir.path().join("irongate.db");
    let away = app.env.dir.path().join("irongate.db.away");
    std::fs::rename(&file, &away).unwrap();
    let started = std::time::Instant::now();
    assert_eq!(userinfo(&app, &[("X-API-Key", &changed)]).await.0, 401);
    assert!(started.elapsed() < std::time::Duration::from_secs(1));
    assert_eq!(userinfo(&app, &[("X-API-Key", &k)]).await.0, 503);
    std::fs::rename(&away, &file).unwrap();
}

/// 32 parallel uses of one key all succeed, and its `last_used_at` is recorded (off the
/// requests' path, at most once per 5 minutes).
#[tokio::test]
async fn parallel_uses_all_succeed_and_record_the_last_use() {
    let (app, c) = setup().await;
    let k = key(&create(&app, &["--scope", "posts:read"]));
    let uses = (0..32).map(|_| introspect(&app, &c, &k));
    for answer in futures_util::future::join_all(uses).await {
        assert_eq!(answer["active"], true);
    }
    let mut last_used = Value::Null;
    for _ in 0..50 {
        let list = app
            .env
            .cli(&["api-key", "list", "--email", "alice@example.com"], None)
            .json();
        last_used = list[0]["last_used_at"].clone();
        if last_used.is_i64() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(last_used.is_i64(), "last_used_at was recorded");
    // Later uses within 5 minutes write nothing: the recorded time stays.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    for answer in futures_util::future::join_all((0..32).map(|_| introspect(&app, &c, &k))).await {
        assert_eq!(answer["active"], true);
    }
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let list = app
        .env
        .cli(&["api-key", "list", "--email", "alice@example.com"], None)
        .json();
    assert_eq!(list[0]["last_used_at"], last_used, "no write per use");
}

/// A key revoked through one node (the self-service API of node A) is refused by another on
/// the same database (and Redis) at once: every use reads the key's state.
#[tokio::test]
async fn a_revocation_is_seen_by_a_second_node_at_once() {
    let (app, c) = setup().await;
    let other = app.second_node().await.address;
    let created = create(&app, &["--scope", "posts:read"]);
    let k = key(&created);
    let at_other = |token: String| {
        let (http, other) = (app.http.clone(), other.clone());
        let (id, secret) = (c.id.clone(), c.secret.clone());
        async move {
            let resp = http
                .post(format!("{other}/introspect"))
                .basic_auth(id, Some(secret))
                .form(&[("token", token)])
                .send()
                .await
                .unwrap();
            resp.json::<Value>().await.unwrap()["active"].clone()
        }
    };
    assert_eq!(at_other(k.clone()).await, true);
    let owner = app.create_client(&["--grant-type", "password", "--scope", "api_keys"]);
    let token = app.password_login(&owner, "api_keys").await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let id = created["id"].as_str().unwrap();
    let resp = app
        .http
        .delete(format!("{}/api/v1/me/api-keys/{id}", app.address))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 204);
    assert_eq!(at_other(k).await, false);
}
