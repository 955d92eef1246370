//! REL-01 / REL-02: a node whose PostgreSQL goes away answers clean 503s, and serves again by
//! itself within seconds of the database coming back. The test runs a PostgreSQL cluster of its
//! own on a spare port (so the shared test server is never stopped), when the suite runs on
//! PostgreSQL as root with the server binaries installed (always in `.ci/run`).

use crate::helpers::{TestEnv, spawn_app_with};
use irongate::config::DatabaseKind;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// A PostgreSQL cluster in a temporary directory, run as the `postgres` user.
struct Cluster {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
}

impl Cluster {
    fn create() -> Option<Self> {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .filter_map(|e| Some(e.ok()?.path().join("bin")))
            .find(|b| b.join("initdb").exists())?;
        let dir = tempfile::tempdir().ok()?;
        let owned = Command::new("chown")
            .args(["-R", "postgres"])
            .arg(dir.path())
            .status()
            .ok()?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .ok()?
            .local_addr()
            .ok()?
            .port();
        let cluster = Cluster { dir, bin, port };
        let initdb = cluster.bin.join("initdb");
        let data = cluster.data();
        let created = owned.success()
            && cluster.as_postgres(&initdb, &["-D", &data, "-A", "trust", "-U", "postgres"]);
        created.then_some(cluster)
    }

    fn data(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    fn as_postgres(&self, program: &Path, args: &[&str]) -> bool {
        Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(program)
            .args(args)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    fn start(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("log").display().to_string();
        let pg_ctl = self.bin.join("pg_ctl");
        let args = [
            "-D",
            &self.data(),
            "-o",
            &options,
            "-l",
            &log,
            "-w",
            "start",
        ];
        assert!(self.as_postgres(&pg_ctl, &args), "the test cluster starts");
    }

    fn stop(&self) {
        let pg_ctl = self.bin.join("pg_ctl");
        assert!(self.as_postgres(&pg_ctl, &["-D", &self.data(), "-m", "fast", "-w", "stop"]));
    }

    fn url(&self) -> String {
        format!(
            "postgres://postgres@127.0.0.1:{}/postgres?sslmode=disable",
            self.port
        )
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let pg_ctl = self.bin.join("pg_ctl");
        self.as_postgres(&pg_ctl, &["-D", &self.data(), "-m", "immediate", "stop"]);
    }
}

/// A request that needs the database: a client lookup (401 when the database answers).
async fn client_lookup(http: &reqwest::Client, base: &str) -> u16 {
    let sent = http
        .post(format!("{base}/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "nobody"),
        ])
        .timeout(Duration::from_secs(10))
        .send()
        .await;
    sent.map_or(0, |r| r.status().as_u16())
}

async fn ready(http: &reqwest::Client, base: &str) -> u16 {
    let sent = http
        .get(format!("{base}/readyz"))
        .timeout(Duration::from_secs(10))
        .send()
        .await;
    sent.map_or(0, |r| r.status().as_u16())
}

/// REL-02: the database stops under load (clean 503s, `/readyz` 503), starts again, and the
/// node answers 200 again within ten seconds, with no restart of its own.
#[tokio::test]
async fn a_node_serves_again_within_seconds_of_its_database_coming_back_rel_02() {
    if std::env::var("IRONGATE_TEST_DATABASE_URL").is_err() {
        return; // the PostgreSQL run covers it
    }
    let Some(cluster) = Cluster::create() else {
        assert!(
            std::env::var("CI").is_err(),
            "CI runs as root with PostgreSQL installed: the test cluster must start"
        );
        return;
    };
    cluster.start();
    let url = cluster.url();
    let app = spawn_app_with(TestEnv::new(), |s| {
        s.database.url = url;
        s.database.kind = DatabaseKind::Postgres;
    })
    .await;
    let (http, base) = (app.http.clone(), app.address.clone());
    for _ in 0..20 {
        assert_eq!(client_lookup(&http, &base).await, 401);
    }
    assert_eq!(ready(&http, &base).await, 200);

    cluster.stop();
    for _ in 0..2 {
        assert_eq!(
            client_lookup(&http, &base).await,
            503,
            "clean 503 while down"
        );
    }
    assert_eq!(ready(&http, &base).await, 503);
    // A page answers with the HTML error page, not JSON and not a 500.
    let page = http
        .get(format!(
            "{base}/authorize?response_type=code&client_id=someone&redirect_uri=https://rp.test/cb"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 503);
    let content_type = page.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(content_type.starts_with("text/html"), "{content_type}");
    assert!(
        page.text()
            .await
            .unwrap()
            .contains("temporarily unavailable")
    );

    cluster.start();
    let back = Instant::now();
    let mut statuses = (0, 0);
    while back.elapsed() < Duration::from_secs(10) {
        statuses = (client_lookup(&http, &base).await, ready(&http, &base).await);
        if statuses == (401, 200) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        statuses,
        (401, 200),
        "served again within 10 s of the restart"
    );
    for _ in 0..20 {
        assert_eq!(
            client_lookup(&http, &base).await,
            401,
            "every pooled connection works"
        );
    }
}

/// REL-02 on SQLite: the database file vanishes (moved away, as by a careless restore) — clean
/// 503s and `/readyz` 503, no empty database made in its place — and once it is back the node
/// serves again within seconds, from the same data. A write lock held by another process only
/// delays a write (SQLite's busy timeout), and reads go on meanwhile (WAL).
#[tokio::test]
async fn a_node_survives_its_sqlite_file_vanishing_and_being_locked_rel_02() {
    if std::env::var("IRONGATE_TEST_DATABASE_URL").is_ok() {
        return; // SQLite only
    }
    let app = crate::helpers::spawn_app().await;
    let (c, _) = app.password_client_with_alice();
    let (http, base) = (app.http.clone(), app.address.clone());
    let file = app.env.dir.path().join("irongate.db");
    let away = app.env.dir.path().join("irongate.db.away");
    for _ in 0..5 {
        assert_eq!(client_lookup(&http, &base).await, 401);
    }

    std::fs::rename(&file, &away).unwrap();
    assert_eq!(
        client_lookup(&http, &base).await,
        503,
        "clean 503 while gone"
    );
    assert_eq!(ready(&http, &base).await, 503);
    assert!(!file.exists(), "no empty database was made in its place");

    std::fs::rename(&away, &file).unwrap();
    let back = Instant::now();
    let mut statuses = (0, 0);
    while back.elapsed() < Duration::from_secs(10) {
        statuses = (client_lookup(&http, &base).await, ready(&http, &base).await);
        if statuses == (401, 200) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(statuses, (401, 200), "served again within 10 s");
    assert_eq!(
        app.password_attempt(&c, crate::helpers::PASSWORD, None)
            .await
            .0,
        200,
        "with the same data"
    );

    // Another process holds the write lock for 1.5 s: reads go on, a write waits and succeeds.
    let path = file.display().to_string();
    let (locked_tx, locked_rx) = tokio::sync::oneshot::channel();
    let holder = std::thread::spawn(move || {
        use diesel::Connection;
        use diesel::connection::SimpleConnection;
        let mut conn = diesel::SqliteConnection::establish(&path).unwrap();
        conn.batch_execute("BEGIN IMMEDIATE").unwrap();
        locked_tx.send(()).unwrap();
        std::thread::sleep(Duration::from_millis(1500));
        conn.batch_execute("COMMIT").unwrap();
    });
    locked_rx.await.unwrap();
    let started = Instant::now();
    assert_eq!(ready(&http, &base).await, 200, "reads go on");
    assert_eq!(
        app.password_attempt(&c, crate::helpers::PASSWORD, None)
            .await
            .0,
        200,
        "the write waited for the lock"
    );
    assert!(started.elapsed() >= Duration::from_millis(1000));
    holder.join().unwrap();
}
