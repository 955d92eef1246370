//! Configuration through the real binary: bad values stop it at start with one line naming the
//! key; env overrides TOML overrides defaults; a fresh directory serves from its own SQLite file.

use crate::helpers::{TestEnv, eventually, irongate_command, run};
use std::process::{Child, Stdio};

/// A server process, killed when dropped.
pub(crate) struct ServerProcess {
    pub(crate) child: Child,
    pub base: String,
}

/// What a server started by [`start_server`] in `dir` wrote to its log (stderr).
pub(crate) fn server_log(dir: &std::path::Path) -> String {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .find(|e| e.file_name().to_string_lossy().starts_with("server-"))
        .map(|e| std::fs::read_to_string(e.path()).unwrap())
        .expect("the server's log")
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn get_json(url: String) -> serde_json::Value {
    reqwest::get(url).await.unwrap().json().await.unwrap()
}

fn free_listener() -> std::net::TcpListener {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub(crate) async fn start_server(dir: &std::path::Path, env: &[(String, String)]) -> ServerProcess {
    start_server_on(dir, env, free_port()).await
}

async fn start_server_on(
    dir: &std::path::Path,
    env: &[(String, String)],
    port: u16,
) -> ServerProcess {
    let mut cmd = irongate_command(dir);
    cmd.envs(env.iter().cloned())
        .env("IRONGATE_BIND", format!("127.0.0.1:{port}"))
        .arg("serve")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join(format!("server-{port}.log"))).unwrap());
    let server = ServerProcess {
        child: cmd.spawn().expect("spawn serve"),
        base: format!("http://127.0.0.1:{port}"),
    };
    let http = reqwest::Client::new();
    let url = format!("{}/healthz", server.base);
    let up = eventually(60, || {
        let (http, url) = (http.clone(), url.clone());
        async move { http.get(url).send().await.is_ok_and(|r| r.status() == 200) }
    })
    .await;
    let log = std::fs::read_to_string(dir.join(format!("server-{port}.log"))).unwrap_or_default();
    assert!(up, "server on port {port} did not come up: {log}");
    server
}

#[test]
fn each_invalid_value_stops_serve_with_one_line_naming_the_key() {
    let env = TestEnv::new();
    std::fs::write(env.dir.path().join("blocker"), "a file, not a directory").unwrap();
    let blocked = env.dir.path().join("blocker").join("keys");
    let blocked = blocked.to_str().unwrap();
    let cases: &[(&[(&str, &str)], &str)] = &[
        (&[("IRONGATE_ISSUER", "not a url")], "`issuer`"),
        (
            &[("IRONGATE_ISSUER", "https://id.example.com/?tenant=a")],
            "`issuer`",
        ),
        (
            &[("IRONGATE_ISSUER", "https://id.example.com/#top")],
            "`issuer`",
        ),
        (&[("IRONGATE_ISSUER", "HTTPS://id.example.com")], "`issuer`"),
        (
            &[("IRONGATE_DATABASE_URL", "mysql://root@127.0.0.1/irongate")],
            "`database_url`",
        ),
        (
            &[
                ("IRONGATE_CORS_ORIGINS", "*"),
                ("IRONGATE_CORS_ALLOW_CREDENTIALS", "true"),
            ],
            "`cors_origins`",
        ),
        (
            &[("IRONGATE_CORS_ORIGINS", "https://app.example.com/")],
            "`cors_origins`",
        ),
        (&[("IRONGATE_ACCESS_TOKEN_TTL", "0")], "`access_token_ttl`"),
        (
            &[("IRONGATE_REFRESH_TOKEN_TTL", "0")],
            "`refresh_token_ttl`",
        ),
        (&[("IRONGATE_KEYS_DIR", blocked)], "`keys_dir`"),
    ];
    for (vars, key) in cases {
        let out = env.cli_with(&["serve"], None, vars);
        out.assert_fails_with(key);
    }
}

#[test]
fn a_missing_config_file_and_unknown_keys_are_refused() {
    let env = TestEnv::new();
    env.cli(&["--config", "nope.toml", "keys", "list"], None)
        .assert_fails_with("nope.toml");
    std::fs::write(
        env.dir.path().join("typo.toml"),
        "isuer = \"https://x.test\"\n",
    )
    .unwrap();
    env.cli(&["--config", "typo.toml", "keys", "list"], None)
        .assert_fails_with("`isuer`");
}

#[tokio::test]
async fn env_overrides_toml_overrides_defaults_in_the_running_server() {
    let env = TestEnv::new();
    std::fs::write(
        env.dir.path().join("irongate.toml"),
        "issuer = \"https://from-file.example\"\nscopes = [\"reports:read\"]\naccess_token_ttl = 120\n",
    )
    .unwrap();
    let mut vars = env.env("https://from-env.example");
    vars.retain(|(k, _)| k != "IRONGATE_REDIS_URL" && k != "IRONGATE_REDIS_PREFIX");
    let server = start_server(env.dir.path(), &vars).await;
    let doc: serde_json::Value =
        get_json(format!("{}/.well-known/openid-configuration", server.base)).await;
    assert_eq!(
        doc["issuer"], "https://from-env.example",
        "env beats the file"
    );
    assert_eq!(
        doc["scopes_supported"],
        serde_json::json!([
            "openid",
            "profile",
            "email",
            "offline_access",
            "roles",
            "api_keys",
            "reports:read"
        ]),
        "the file beats the defaults"
    );
    assert_eq!(
        doc["jwks_uri"],
        "https://from-env.example/.well-known/jwks.json"
    );
}

#[tokio::test]
async fn a_fresh_directory_serves_from_an_sqlite_database_it_created() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_server(dir.path(), &[]).await;
    let doc: serde_json::Value =
        get_json(format!("{}/.well-known/openid-configuration", server.base)).await;
    assert_eq!(doc["issuer"], "http://127.0.0.1:8080");
    assert!(
        dir.path().join("irongate.db").exists(),
        "embedded database created"
    );
    let keys: Vec<_> = std::fs::read_dir(dir.path().join("keys"))
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".pem"))
        .collect();
    assert_eq!(keys.len(), 1, "one key generated on first start");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        keys[0].metadata().unwrap().permissions().mode() & 0o777,
        0o600
    );
    let jwks: serde_json::Value = get_json(format!("{}/.well-known/jwks.json", server.base)).await;
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 1);
}

/// REL-09: two nodes started at once on an empty keys dir and an empty database agree on one
/// active key and one migrated schema.
#[tokio::test]
async fn rel_09_two_servers_started_at_once_share_one_key_and_one_schema() {
    let env = TestEnv::with_key(false);
    let vars = env.env("http://127.0.0.1:8080");
    // Two distinct ports, held together so the kernel cannot hand out the same one twice.
    let held = [free_listener(), free_listener()];
    let ports = held.each_ref().map(|l| l.local_addr().unwrap().port());
    drop(held);
    let (a, b) = tokio::join!(
        start_server_on(env.dir.path(), &vars, ports[0]),
        start_server_on(env.dir.path(), &vars, ports[1])
    );
    let key_files = std::fs::read_dir(env.keys_dir())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".pem"))
        .count();
    assert_eq!(key_files, 1, "exactly one key generated");
    let ja: serde_json::Value = get_json(format!("{}/.well-known/jwks.json", a.base)).await;
    let jb: serde_json::Value = get_json(format!("{}/.well-known/jwks.json", b.base)).await;
    assert_eq!(ja, jb);
    let out = run(
        {
            let mut cmd = irongate_command(env.dir.path());
            cmd.envs(vars.clone())
                .arg("migrate")
                .env("RUST_LOG", "info");
            cmd
        },
        None,
    );
    assert!(out.status.success(), "{}", out.stderr);
    assert!(
        out.stderr.contains("applied=0"),
        "schema already complete: {}",
        out.stderr
    );
}
