use super::StoreError;
use super::writer::Writer;
use crate::config::{DatabaseKind, Settings};
use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sqlite::SqliteConnection;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use std::sync::Arc;
use std::time::Duration;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");
/// Serialises concurrent `migrate` runs of several nodes on one PostgreSQL (REL-09).
const MIGRATION_LOCK_ID: i64 = 0x6972_6f6e_6761_7465; // "irongate"

/// One connection type over both backends, chosen at run time by `database_url`.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Pg(PgConnection),
    Sqlite(SqliteConnection),
}

/// Opens connections of the backend the URL scheme names: never by trial.
#[derive(Debug, Clone)]
struct Manager {
    url: String,
    kind: DatabaseKind,
}

impl Manager {
    fn open(&self) -> Result<DbConnection, diesel::r2d2::Error> {
        use diesel::r2d2::Error;
        match self.kind {
            DatabaseKind::Postgres => PgConnection::establish(&self.url)
                .map(DbConnection::Pg)
                .map_err(Error::ConnectionError),
            DatabaseKind::Sqlite => {
                open_sqlite(&existing_only(self.sqlite_path())).map(DbConnection::Sqlite)
            }
        }
    }

    fn sqlite_path(&self) -> &str {
        self.url.trim_start_matches("sqlite://")
    }

    /// The identity of the SQLite file a new connection opened (None for other backends and
    /// for in-memory or URI databases).
    fn file_identity(&self) -> Option<FileIdentity> {
        let path = self.sqlite_path();
        if self.kind != DatabaseKind::Sqlite || path.starts_with(':') || path.starts_with("file:") {
            return None;
        }
        FileIdentity::of(path)
    }
}

/// A plain SQLite path as a URI that opens the file only if it exists (`mode=rw`): the file is
/// created once, at start (`create_private`), and a file that vanished later must not come back
/// as an empty database without tables — requests then get 503 until it is restored.
fn existing_only(path: &str) -> String {
    if path.starts_with(':') || path.starts_with("file:") {
        return path.to_owned();
    }
    let escaped = path
        .replace('%', "%25")
        .replace('?', "%3f")
        .replace('#', "%23");
    // An absolute path gets an empty authority (`file:///…`): `file://var/…` would name a host.
    if escaped.starts_with('/') {
        format!("file://{escaped}?mode=rw")
    } else {
        format!("file:{escaped}?mode=rw")
    }
}

/// Which file a path named when a connection opened it. A connection keeps using the file it
/// opened even after the path is removed or replaced (a restore from backup, a file moved
/// away): such a connection is dropped at its next checkout, so requests fail cleanly (503)
/// while the file is gone and use the restored file as soon as it is back (REL-02).
struct FileIdentity {
    path: std::path::PathBuf,
    dev: u64,
    ino: u64,
}

impl FileIdentity {
    fn of(path: &str) -> Option<Self> {
        use std::os::unix::fs::MetadataExt;
        let meta = std::fs::metadata(path).ok()?;
        Some(Self {
            path: path.into(),
            dev: meta.dev(),
            ino: meta.ino(),
        })
    }

    /// Whether the path still names the same file (one `stat`, about a microsecond).
    fn unchanged(&self) -> bool {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata(&self.path).is_ok_and(|m| m.dev() == self.dev && m.ino() == self.ino)
    }
}

/// How long opening an SQLite connection waits out another process's lock (REL-09).
const SQLITE_LOCK_WAIT: Duration = Duration::from_secs(15);

/// Opens an SQLite connection in WAL mode. Switching a fresh file to WAL takes an exclusive
/// lock that SQLite reports as busy at once, without its busy handler, while another process
/// is doing the same (two nodes started together): such attempts are retried until
/// `SQLITE_LOCK_WAIT` has passed.
fn open_sqlite(path: &str) -> Result<SqliteConnection, diesel::r2d2::Error> {
    use diesel::r2d2::Error;
    let deadline = std::time::Instant::now() + SQLITE_LOCK_WAIT;
    loop {
        let mut conn = SqliteConnection::establish(path).map_err(Error::ConnectionError)?;
        let configured = conn.batch_execute(
            "PRAGMA busy_timeout = 15000; PRAGMA journal_mode = WAL; \
             PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL; PRAGMA wal_autocheckpoint = 10000;",
        );
        match configured {
            Ok(()) => return Ok(conn),
            Err(e) if sqlite_locked(&e) && std::time::Instant::now() < deadline => {
                drop(conn);
                std::thread::sleep(Duration::from_millis(25));
            }
            Err(e) => return Err(Error::QueryError(e)),
        }
    }
}

/// Creates the database file readable by its owner only (it holds password hashes and session
/// secrets); SQLite gives its `-wal` and `-shm` files the same mode. An existing file is left as
/// it is, with a warning when others may read it.
fn create_private(path: &str) {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    if path.starts_with(':') || path.starts_with("file:") {
        return;
    }
    let created = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path);
    match created {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let mode = std::fs::metadata(path).map_or(0, |m| m.permissions().mode());
            if mode & 0o077 != 0 {
                tracing::warn!(
                    path,
                    mode = format!("{:o}", mode & 0o777),
                    "the database file may be read by other users; chmod 600 it"
                );
            }
        }
        // SQLite reports the real problem (a missing directory, no permission) when it opens it.
        Err(_) => {}
    }
}

fn sqlite_locked(e: &diesel::result::Error) -> bool {
    matches!(e, diesel::result::Error::DatabaseError(_, info) if super::sqlite_busy(info.message()))
}

/// A pooled connection, and whether it failed in a way that says it is dead (the server went
/// away, restarted, or the link broke): the pool then drops it instead of handing it out again,
/// so a database that comes back is used again at once (REL-02). Testing every checkout would
/// cost a round trip per query; this costs nothing until a query fails.
pub struct Conn {
    inner: DbConnection,
    broken: bool,
    /// The SQLite file this connection opened.
    file: Option<FileIdentity>,
}

impl r2d2::ManageConnection for Manager {
    type Connection = Conn;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<Conn, Self::Error> {
        // The file is looked at before and after opening: a connection is tagged only with the
        // file it certainly opened (one replaced in between is not trusted).
        let before = self.file_identity();
        let inner = self.open()?;
        let file = self.file_identity();
        if let (Some(a), Some(b)) = (&before, &file)
            && (a.dev, a.ino) != (b.dev, b.ino)
        {
            return Err(diesel::r2d2::Error::ConnectionError(
                diesel::ConnectionError::BadConnection(
                    "the database file was replaced while it was opened".into(),
                ),
            ));
        }
        Ok(Conn {
            inner,
            broken: false,
            file,
        })
    }

    /// At every checkout: an SQLite connection whose file was removed or replaced is not handed
    /// out (a `stat`); PostgreSQL connections are not tested here (a round trip per query):
    /// one that fails is marked broken and dropped instead.
    fn is_valid(&self, conn: &mut Conn) -> Result<(), Self::Error> {
        match &conn.file {
            Some(file) if !file.unchanged() => Err(diesel::r2d2::Error::ConnectionError(
                diesel::ConnectionError::BadConnection(
                    "the database file was removed or replaced".into(),
                ),
            )),
            _ => Ok(()),
        }
    }

    fn has_broken(&self, conn: &mut Conn) -> bool {
        // Also what diesel's own manager checks: a thread that panicked mid-query, or a
        // connection left inside a transaction, is never handed out again.
        conn.broken
            || std::thread::panicking()
            || diesel::r2d2::R2D2Connection::is_broken(&mut conn.inner)
    }
}

/// Logs the pool's failures to open connections once every 10 s with a count: a database that
/// is down must not write a line per attempt (the pool retries in the background).
#[derive(Debug)]
struct ThrottledErrors;

impl r2d2::HandleError<diesel::r2d2::Error> for ThrottledErrors {
    fn handle_error(&self, error: diesel::r2d2::Error) {
        static CONNECT: crate::telemetry::Throttle =
            crate::telemetry::Throttle::new(Duration::from_secs(10));
        if let Some(suppressed) = CONNECT.admit() {
            let error = error.to_string();
            let error = error.split_whitespace().collect::<Vec<_>>().join(" ");
            tracing::error!(
                %error,
                suppressed,
                "cannot open a database connection"
            );
        }
    }
}

/// The connection pool. Cheap to clone; every query runs on the blocking thread pool.
#[derive(Clone)]
pub struct Store {
    pool: r2d2::Pool<Manager>,
    kind: DatabaseKind,
    /// The group-commit writer (SQLite, in the server).
    writer: Option<Arc<Writer>>,
}

impl Store {
    /// Connects a pool for the server (failing with a clear message when the database cannot
    /// be reached). On SQLite, `write` transactions go through one writer thread.
    pub fn connect(settings: &Settings) -> Result<Self, StoreError> {
        let max_size = match settings.database.kind {
            DatabaseKind::Sqlite => 8,
            DatabaseKind::Postgres => 16,
        };
        let mut store = Self::connect_with(settings, max_size)?;
        if store.kind == DatabaseKind::Sqlite {
            let writer = Writer::start(store.clone())
                .map_err(|e| StoreError::Unexpected(anyhow::anyhow!("starting the writer: {e}")))?;
            store.writer = Some(Arc::new(writer));
        }
        Ok(store)
    }

    /// Runs `f` as one transaction that reads, then writes (`write_transaction`). On SQLite in
    /// the server, through the writer thread, committed together with the other writes
    /// submitted meanwhile (group commit, `store::writer`); elsewhere on the blocking pool.
    pub async fn write<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T, StoreError> + Send + 'static,
    {
        match &self.writer {
            Some(writer) => writer.write(f).await,
            None => {
                self.run(move |c| super::writer::write_transaction(c, f))
                    .await
            }
        }
    }

    /// A single-connection pool for short-lived commands. With one connection the pool never
    /// opens another in the background, so none is half-open when the process exits (libpq's
    /// OpenSSL use in a pool thread racing OpenSSL's exit handlers crashes the process).
    pub fn connect_single(settings: &Settings) -> Result<Self, StoreError> {
        Self::connect_with(settings, 1)
    }

    fn connect_with(settings: &Settings, max_size: u32) -> Result<Self, StoreError> {
        let manager = Manager {
            url: settings.database.url.clone(),
            kind: settings.database.kind,
        };
        if manager.kind == DatabaseKind::Sqlite {
            create_private(manager.url.trim_start_matches("sqlite://"));
        }
        // One direct connection first: r2d2 reports only a timeout, this says why.
        manager
            .open()
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        let pool = r2d2::Pool::builder()
            .max_size(max_size)
            .min_idle(Some(1))
            .connection_timeout(Duration::from_secs(5))
            .test_on_check_out(true)
            .error_handler(Box::new(ThrottledErrors))
            .build(manager)
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        Ok(Self {
            pool,
            kind: settings.database.kind,
            writer: None,
        })
    }

    pub fn kind(&self) -> DatabaseKind {
        self.kind
    }

    /// Runs every pending migration of this backend, safely when several nodes start at once.
    pub fn run_migrations(&self) -> Result<usize, StoreError> {
        self.with_conn(|conn| match conn {
            DbConnection::Sqlite(c) => c
                .exclusive_transaction(|c| run(c, SQLITE_MIGRATIONS).map_err(MigrationFailed))
                .map_err(|MigrationFailed(e)| e),
            DbConnection::Pg(c) => {
                diesel::sql_query(format!("SELECT pg_advisory_lock({MIGRATION_LOCK_ID})"))
                    .execute(c)?;
                let result = run(c, POSTGRES_MIGRATIONS);
                diesel::sql_query(format!("SELECT pg_advisory_unlock({MIGRATION_LOCK_ID})"))
                    .execute(c)?;
                result
            }
        })
    }

    /// Runs `f` with a pooled connection on the current thread (CLI and start-up only).
    pub fn with_conn<T>(
        &self,
        f: impl FnOnce(&mut DbConnection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let conn = self
            .pool
            .get()
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        Self::with_pooled(conn, f)
    }

    fn with_pooled<T>(
        mut conn: r2d2::PooledConnection<Manager>,
        f: impl FnOnce(&mut DbConnection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let result = f(&mut conn.inner);
        // A connection that could not reach the database, or failed unexpectedly, is not
        // trusted again: the pool opens a fresh one instead.
        // SQLite's "busy" is contention, not a dead connection: that one stays.
        conn.broken = match &result {
            Err(StoreError::Unavailable(detail)) => !super::sqlite_busy(detail),
            Err(StoreError::Unexpected(_)) => true,
            _ => false,
        };
        result
    }

    /// Runs a short read (a lookup by key). On SQLite, on the calling thread when a pooled
    /// connection is free at once: in WAL mode a read never waits for a writer, and a lookup
    /// costs less than the two thread hand-offs of the blocking pool (a fifth of
    /// introspection's CPU). Otherwise — no free connection, or PostgreSQL, whose round trip
    /// must not block the event loop — on the blocking pool.
    pub async fn read<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T, StoreError> + Send + 'static,
    {
        if self.kind == DatabaseKind::Sqlite
            && let Some(conn) = self.pool.try_get()
        {
            return Self::with_pooled(conn, f);
        }
        self.run(f).await
    }

    /// Runs `f` with a pooled connection on tokio's blocking pool, off the async executor.
    pub async fn run<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T, StoreError> + Send + 'static,
    {
        let store = self.clone();
        // The caller's span (the request id) follows the work onto the blocking thread.
        let span = tracing::Span::current();
        tokio::task::spawn_blocking(move || span.in_scope(|| store.with_conn(f)))
            .await
            .map_err(|e| StoreError::Unexpected(anyhow::anyhow!("database task failed: {e}")))?
    }

    /// The pool's connections and how many of them are idle (for the metrics).
    pub fn pool_state(&self) -> (u32, u32) {
        let state = self.pool.state();
        (state.connections, state.idle_connections)
    }

    /// Whether the database answers (for `/readyz`).
    pub async fn ping(&self) -> bool {
        self.run(|c| c.batch_execute("SELECT 1").map_err(StoreError::from))
            .await
            .is_ok()
    }
}

/// Carries a `StoreError` through diesel's transaction, whose error type must come from diesel.
struct MigrationFailed(StoreError);

impl From<diesel::result::Error> for MigrationFailed {
    fn from(e: diesel::result::Error) -> Self {
        MigrationFailed(e.into())
    }
}

fn run<DB: diesel::backend::Backend>(
    conn: &mut impl MigrationHarness<DB>,
    migrations: EmbeddedMigrations,
) -> Result<usize, StoreError> {
    conn.run_pending_migrations(migrations)
        .map(|applied| applied.len())
        .map_err(|e| StoreError::Unexpected(anyhow::anyhow!("migration failed: {e}")))
}
