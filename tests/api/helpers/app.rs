//! zero2prod-style harness: `spawn_app()` runs the real server on 127.0.0.1:0 with a fresh
//! database (SQLite file, or a fresh PostgreSQL database when IRONGATE_TEST_DATABASE_URL is set),
//! a fresh keys directory seeded with one pre-generated key, and a unique Redis prefix when
//! IRONGATE_TEST_REDIS_URL is set.

use super::fixtures::{FIXTURE_KEY, FIXTURE_KEY_FILE, PASSWORD};
use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};
use irongate::startup::Application;
use irongate::state::AppState;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use tempfile::TempDir;

/// What `spawn_app_with` lets a test change before the server starts.
pub use irongate::config::Settings;

/// A database of its own for one test, dropped at the end.
pub struct TestDb {
    pub url: String,
    admin_url: Option<String>,
    name: String,
}

impl TestDb {
    pub fn new(dir: &Path) -> Self {
        match std::env::var("IRONGATE_TEST_DATABASE_URL")
            .ok()
            .filter(|s| !s.is_empty())
        {
            None => TestDb {
                url: format!("sqlite://{}", dir.join("irongate.db").display()),
                admin_url: None,
                name: String::new(),
            },
            Some(base) => {
                let name = format!("irongate_test_{}", uuid::Uuid::new_v4().simple());
                let mut admin = PgConnection::establish(&base).unwrap_or_else(|e| {
                    panic!("IRONGATE_TEST_DATABASE_URL {base} unreachable: {e}")
                });
                admin
                    .batch_execute(&format!("CREATE DATABASE {name}"))
                    .expect("create test database");
                let mut url = url::Url::parse(&base).expect("IRONGATE_TEST_DATABASE_URL is a URL");
                url.set_path(&format!("/{name}"));
                TestDb {
                    url: url.to_string(),
                    admin_url: Some(base),
                    name,
                }
            }
        }
    }

    pub fn is_postgres(&self) -> bool {
        self.admin_url.is_some()
    }

    /// Drops the database while the server may still hold connections (REL-01 tests).
    pub fn drop_now(&self) {
        if let Some(base) = &self.admin_url
            && let Ok(mut admin) = PgConnection::establish(base)
        {
            let _ = admin.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        self.drop_now();
    }
}

/// A fresh working directory: database, keys directory with the fixture key.
pub struct TestEnv {
    pub dir: TempDir,
    pub db: TestDb,
    pub redis_prefix: String,
}

impl TestEnv {
    pub fn new() -> Self {
        Self::with_key(true)
    }

    /// `seed_key = false` leaves the keys directory to be created by irongate itself.
    pub fn with_key(seed_key: bool) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        if seed_key {
            std::fs::create_dir_all(dir.path().join("keys")).unwrap();
            std::fs::write(dir.path().join("keys").join(FIXTURE_KEY_FILE), FIXTURE_KEY).unwrap();
        }
        let db = TestDb::new(dir.path());
        let redis_prefix = format!("irongate-test:{}:", uuid::Uuid::new_v4().simple());
        Self {
            dir,
            db,
            redis_prefix,
        }
    }

    pub fn keys_dir(&self) -> PathBuf {
        self.dir.path().join("keys")
    }

    /// The `IRONGATE_*` variables that point irongate at this environment.
    pub fn env(&self, issuer: &str) -> Vec<(String, String)> {
        let mut vars = vec![
            ("IRONGATE_ISSUER".to_string(), issuer.to_string()),
            ("IRONGATE_DATABASE_URL".to_string(), self.db.url.clone()),
            (
                "IRONGATE_KEYS_DIR".to_string(),
                self.keys_dir().display().to_string(),
            ),
            ("IRONGATE_KEY_POLL_INTERVAL".to_string(), "1".to_string()),
        ];
        if let Ok(redis) = std::env::var("IRONGATE_TEST_REDIS_URL")
            && !redis.is_empty()
        {
            vars.push(("IRONGATE_REDIS_URL".to_string(), redis));
            vars.push((
                "IRONGATE_REDIS_PREFIX".to_string(),
                self.redis_prefix.clone(),
            ));
        }
        vars
    }

    /// `irongate user create --email EMAIL` with the tests' `PASSWORD`; the CLI's JSON.
    pub fn create_user(&self, email: &str) -> serde_json::Value {
        self.cli(
            &["user", "create", "--email", email, "--password-stdin"],
            Some(PASSWORD),
        )
        .json()
    }

    /// Runs the real binary in this environment's directory.
    pub fn cli(&self, args: &[&str], stdin: Option<&str>) -> CliOutput {
        self.cli_with(args, stdin, &[])
    }

    pub fn cli_with(
        &self,
        args: &[&str],
        stdin: Option<&str>,
        extra_env: &[(&str, &str)],
    ) -> CliOutput {
        let mut cmd = irongate_command(self.dir.path());
        cmd.envs(self.env("http://127.0.0.1:8080"))
            .envs(extra_env.iter().copied())
            .args(args);
        run(cmd, stdin)
    }
}

/// The `irongate` binary with a clean `IRONGATE_*` environment, run in `dir`.
pub fn irongate_command(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_irongate"));
    for (key, _) in std::env::vars() {
        if key.starts_with("IRONGATE_") {
            cmd.env_remove(key);
        }
    }
    cmd.current_dir(dir).env("RUST_LOG", "warn");
    cmd
}

pub struct CliOutput {
    pub status: std::process::ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl CliOutput {
    pub fn json(&self) -> serde_json::Value {
        assert!(
            self.status.success(),
            "command failed ({}): {}",
            self.status,
            self.stderr
        );
        serde_json::from_str(self.stdout.trim())
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", self.stdout))
    }

    /// Asserts a failure with a one-line message on stderr that contains `needle`.
    pub fn assert_fails_with(&self, needle: &str) {
        assert!(
            !self.status.success(),
            "expected failure, got success: {}",
            self.stdout
        );
        let err = self.stderr.trim();
        assert!(
            err.contains(needle),
            "stderr should mention {needle:?}: {err}"
        );
        assert_eq!(err.lines().count(), 1, "one-line message expected: {err}");
        assert!(
            !err.contains("panicked") && !err.contains("backtrace"),
            "{err}"
        );
        assert!(
            self.stdout.trim().is_empty(),
            "nothing on stdout on failure: {}",
            self.stdout
        );
    }
}

pub fn run(mut cmd: Command, stdin: Option<&str>) -> CliOutput {
    use std::io::Write;
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn irongate");
    let mut pipe = child.stdin.take().unwrap();
    if let Some(input) = stdin {
        pipe.write_all(input.as_bytes()).unwrap();
    }
    drop(pipe);
    let Output {
        status,
        stdout,
        stderr,
    } = child.wait_with_output().unwrap();
    CliOutput {
        status,
        stdout: String::from_utf8_lossy(&stdout).into(),
        stderr: String::from_utf8_lossy(&stderr).into(),
    }
}

/// The real server, in process, on a random port.
pub struct TestApp {
    pub address: String,
    pub http: reqwest::Client,
    pub state: AppState,
    /// Shared by every node started on it (`second_node`).
    pub env: std::sync::Arc<TestEnv>,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(TestEnv::new(), |_| {}).await
}

pub async fn spawn_app_with(env: TestEnv, customize: impl FnOnce(&mut Settings)) -> TestApp {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().unwrap().port();
    spawn_app_at(
        listener,
        &format!("http://127.0.0.1:{port}"),
        env,
        customize,
    )
    .await
}

/// The server on `listener`, its issuer `address` (an address the listener answers at).
pub async fn spawn_app_at(
    listener: std::net::TcpListener,
    address: &str,
    env: TestEnv,
    customize: impl FnOnce(&mut Settings),
) -> TestApp {
    let address = address.to_owned();
    let mut settings = Settings::from_sources(None, env.env(&address)).expect("test settings");
    customize(&mut settings);
    let app = Application::build_with_listener(settings, listener)
        .await
        .expect("build app");
    let state = app.state().clone();
    tokio::spawn(app.run_until_stopped());
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .build()
        .unwrap();
    TestApp {
        address,
        http,
        state,
        env: std::sync::Arc::new(env),
    }
}

impl TestApp {
    /// Another node on this one's database, Redis prefix and keys directory.
    pub async fn second_node(&self) -> TestApp {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let address = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
        // The same issuer: tokens of either node are the other's.
        let mut settings =
            Settings::from_sources(None, self.env.env(&self.address)).expect("test settings");
        settings.server.bind = address.trim_start_matches("http://").to_owned();
        let node = Application::build_with_listener(settings, listener)
            .await
            .expect("build the second node");
        let state = node.state().clone();
        tokio::spawn(node.run_until_stopped());
        TestApp {
            address,
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .cookie_store(true)
                .build()
                .unwrap(),
            state,
            env: self.env.clone(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn get_json(&self, path: &str) -> serde_json::Value {
        let resp = self.http.get(self.url(path)).send().await.expect("request");
        assert_eq!(resp.status(), 200, "GET {path}");
        resp.json().await.expect("JSON body")
    }

    pub async fn discovery(&self) -> serde_json::Value {
        self.get_json("/.well-known/openid-configuration").await
    }

    pub async fn jwks(&self) -> serde_json::Value {
        let uri = self.discovery().await["jwks_uri"]
            .as_str()
            .unwrap()
            .to_owned();
        let resp = self.http.get(uri).send().await.unwrap();
        assert_eq!(resp.status(), 200);
        resp.json().await.unwrap()
    }
}

/// Polls `check` every 100 ms until it holds or `secs` pass.
pub async fn eventually<F, Fut>(secs: u64, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    while std::time::Instant::now() < deadline {
        if check().await {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    false
}

/// What the server has logged at WARN and above in this test binary since the first call (a
/// global subscriber, installed then). Tests look for their own client id in it.
pub fn warnings_logged() -> String {
    use std::sync::{Arc, Mutex, OnceLock};
    #[derive(Clone)]
    struct Capture(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Capture {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    static LOGS: OnceLock<Capture> = OnceLock::new();
    let capture = LOGS.get_or_init(|| {
        let capture = Capture(Arc::default());
        let writer = capture.clone();
        tracing_subscriber::fmt()
            .with_env_filter("warn")
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .try_init()
            .expect("no other global subscriber in the test binary");
        capture
    });
    let bytes = capture.0.lock().unwrap_or_else(|e| e.into_inner());
    String::from_utf8_lossy(&bytes).into_owned()
}
