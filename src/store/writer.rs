//! Group commit for SQLite: one writer thread runs the write transactions submitted while it was
//! busy together, in one transaction, each inside a savepoint of its own. SQLite lets one
//! connection write at a time anyway; this way the writers do not queue on its lock (a busy
//! handler that sleeps and retries), and the cost of a commit — the WAL frames of the pages the
//! transaction changed, the locks, the thread hand-offs — is shared by every transaction of the
//! batch (pages such as the last leaf of a table are written once for all of them).
//!
//! Each caller is answered only after the batch's commit: a write is persisted before anyone
//! learns it happened. A job that fails is rolled back to its savepoint alone; a failed commit
//! fails every job of its batch (and none of their writes persists).

use super::pool::DbConnection;
use super::{Store, StoreError};
use diesel::RunQueryDsl;
use diesel::connection::{Connection, SimpleConnection};
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sqlite::{Sqlite, SqliteConnection};
use std::sync::mpsc;
use tokio::sync::oneshot;

/// Transaction-control statements that diesel prepares once per connection and keeps:
/// `batch_execute` parses its SQL anew on every call, which cost a one-job batch more
/// instructions than the job's own queries.
macro_rules! control {
    ($($name:ident = $sql:literal;)*) => {$(
        #[derive(Debug, Clone, Copy, QueryId)]
        struct $name;
        impl QueryFragment<Sqlite> for $name {
            fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Sqlite>) -> diesel::QueryResult<()> {
                out.push_sql($sql);
                Ok(())
            }
        }
        impl RunQueryDsl<SqliteConnection> for $name {}
    )*};
}

control! {
    BeginImmediate = "BEGIN IMMEDIATE";
    Commit = "COMMIT";
    Savepoint = "SAVEPOINT job";
    Release = "RELEASE job";
    RollbackTo = "ROLLBACK TO job";
}

/// Runs one of the statements above on a SQLite connection.
fn control<S>(conn: &mut DbConnection, statement: S) -> Result<(), StoreError>
where
    S: QueryFragment<Sqlite> + QueryId + RunQueryDsl<SqliteConnection>,
{
    match conn {
        DbConnection::Sqlite(c) => {
            statement.execute(c)?;
            Ok(())
        }
        DbConnection::Pg(_) => Err(StoreError::Unexpected(anyhow::anyhow!(
            "a SQLite transaction statement on PostgreSQL"
        ))),
    }
}

/// Runs `f` in a transaction that reads and then writes: on SQLite one that holds the write lock
/// from its start (`BEGIN IMMEDIATE`; a deferred transaction that reads, then writes, fails at
/// once with "database is locked" when another connection wrote in between), on PostgreSQL an
/// ordinary one (its writes take row locks).
pub fn write_transaction<T>(
    conn: &mut DbConnection,
    f: impl FnOnce(&mut DbConnection) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    if matches!(conn, DbConnection::Pg(_)) {
        return conn.transaction(f);
    }
    control(conn, BeginImmediate)?;
    match f(conn) {
        Ok(value) => match control(conn, Commit) {
            Ok(()) => Ok(value),
            Err(e) => Err(rolled_back(conn, e)),
        },
        Err(e) => Err(rolled_back(conn, e)),
    }
}

/// Rolls back after `error`; when even that fails the connection is still inside the
/// transaction, and the error becomes `Unexpected` so that the pool drops the connection.
fn rolled_back(conn: &mut DbConnection, error: StoreError) -> StoreError {
    match rollback(conn) {
        Ok(()) => error,
        Err(e) => StoreError::Unexpected(anyhow::anyhow!("{error}; then {e}")),
    }
}

/// Ends the open transaction without keeping anything; an `Unexpected` error when it cannot.
fn rollback(conn: &mut DbConnection) -> Result<(), StoreError> {
    conn.batch_execute("ROLLBACK")
        .map_err(|e| StoreError::Unexpected(anyhow::anyhow!("ROLLBACK failed: {e}")))
}

/// The most transactions one commit carries.
const MAX_BATCH: usize = 64;

/// A submitted transaction: run inside the batch, then told how the commit went.
trait Job: Send {
    /// Runs the transaction's work; false when it failed (its savepoint is then rolled back).
    fn run(&mut self, conn: &mut DbConnection) -> bool;
    /// Answers the caller once the batch is committed (or failed).
    fn finish(self: Box<Self>, committed: Result<(), &StoreError>);
}

struct Pending<T, F> {
    work: Option<F>,
    result: Option<Result<T, StoreError>>,
    reply: oneshot::Sender<Result<T, StoreError>>,
}

impl<T, F> Job for Pending<T, F>
where
    T: Send,
    F: FnOnce(&mut DbConnection) -> Result<T, StoreError> + Send,
{
    fn run(&mut self, conn: &mut DbConnection) -> bool {
        let result = match self.work.take() {
            Some(work) => work(conn),
            None => Err(StoreError::Unexpected(anyhow::anyhow!("a write ran twice"))),
        };
        let ok = result.is_ok();
        self.result = Some(result);
        ok
    }

    fn finish(self: Box<Self>, committed: Result<(), &StoreError>) {
        let answer = match (committed, self.result) {
            (Ok(()), Some(result)) => result,
            (Ok(()), None) => Err(StoreError::Unexpected(anyhow::anyhow!(
                "a write was not run"
            ))),
            (Err(e), _) => Err(shared(e)),
        };
        // The caller may have gone away (its request was cancelled): the write stands.
        let _ = self.reply.send(answer);
    }
}

/// The same failure, for each caller of a batch.
fn shared(e: &StoreError) -> StoreError {
    match e {
        StoreError::Unavailable(m) => StoreError::Unavailable(m.clone()),
        StoreError::NotFound => StoreError::NotFound,
        StoreError::Conflict(what) => StoreError::Conflict(what),
        StoreError::Unexpected(e) => StoreError::Unexpected(anyhow::anyhow!("{e:#}")),
    }
}

/// The handle the store keeps: submitting is a channel send.
#[derive(Debug)]
pub(super) struct Writer {
    jobs: mpsc::Sender<Box<dyn Job>>,
}

impl Writer {
    /// Starts the writer thread of `store` (which must not itself have a writer).
    pub(super) fn start(store: Store) -> std::io::Result<Self> {
        let (jobs, queue) = mpsc::channel::<Box<dyn Job>>();
        std::thread::Builder::new()
            .name("irongate-writer".into())
            .spawn(move || run(&store, &queue))?;
        Ok(Self { jobs })
    }

    /// Runs `work` in the next batch; answers once it is committed.
    pub(super) async fn write<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T, StoreError> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let span = tracing::Span::current();
        let job = Pending {
            work: Some(move |c: &mut DbConnection| span.in_scope(|| work(c))),
            result: None,
            reply,
        };
        self.jobs
            .send(Box::new(job))
            .map_err(|_| StoreError::Unexpected(anyhow::anyhow!("the database writer stopped")))?;
        answer
            .await
            .map_err(|_| StoreError::Unexpected(anyhow::anyhow!("the database writer stopped")))?
    }
}

/// The writer thread: waits for a job, takes every job already queued (up to `MAX_BATCH`), and
/// runs them in one transaction. Ends when the store is dropped.
fn run(store: &Store, queue: &mpsc::Receiver<Box<dyn Job>>) {
    while let Ok(first) = queue.recv() {
        let mut batch = vec![first];
        // Once, when the queue runs empty, the thread gives its core away before committing:
        // where the request handlers share a core with it (a server pinned to one core), they
        // queue the writes they are about to submit, and one commit carries them all (batches
        // of 14 instead of 7 at 32 connections; refresh 6 % faster). With a core to spare, the
        // yield returns at once.
        let mut yielded = false;
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) if !yielded => {
                    yielded = true;
                    std::thread::yield_now();
                }
                Err(_) => break,
            }
        }
        let committed = store.with_conn(|conn| commit_batch(conn, &mut batch));
        for job in batch {
            job.finish(committed.as_ref().map(|_| ()));
        }
    }
}

fn commit_batch(conn: &mut DbConnection, batch: &mut [Box<dyn Job>]) -> Result<(), StoreError> {
    control(conn, BeginImmediate)?;
    // A batch of one needs no savepoint: when its job fails, the whole transaction is rolled
    // back, and the job's own error reaches its caller.
    let alone = batch.len() == 1;
    let committed = (|| -> Result<bool, StoreError> {
        for job in batch.iter_mut() {
            if !alone {
                control(conn, Savepoint)?;
            }
            // A job that panics fails alone (its savepoint is rolled back, its caller told); the
            // writer thread goes on serving the others.
            let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job.run(conn)))
                .unwrap_or_else(|_| {
                    tracing::error!("a database write panicked; rolled back alone");
                    false
                });
            match (ran, alone) {
                (true, true) => {}
                (true, false) => control(conn, Release)?,
                (false, true) => return Ok(false),
                (false, false) => {
                    control(conn, RollbackTo)?;
                    control(conn, Release)?;
                }
            }
        }
        control(conn, Commit)?;
        Ok(true)
    })();
    match committed {
        Ok(true) => Ok(()),
        // The lone job failed: its caller gets its own error once this is rolled back.
        Ok(false) => rollback(conn),
        Err(e) => Err(rolled_back(conn, e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Settings;
    use crate::store::schema::role_graph_version;
    use diesel::prelude::*;

    fn store(dir: &std::path::Path) -> Store {
        let url = format!("sqlite://{}", dir.join("w.db").display());
        let settings =
            Settings::from_sources(None, [("IRONGATE_DATABASE_URL".to_owned(), url)]).unwrap();
        let store = Store::connect(&settings).unwrap();
        store.run_migrations().unwrap();
        store
    }

    fn version(store: &Store) -> i64 {
        store
            .with_conn(|c| {
                Ok(role_graph_version::table
                    .find(1)
                    .select(role_graph_version::version)
                    .get_result::<i64>(c)?)
            })
            .unwrap()
    }

    /// Many writes submitted at once share commits; one that fails is rolled back alone, the
    /// others persist, and every caller gets its own answer.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failed_write_is_rolled_back_alone() {
        let dir = tempfile::tempdir().unwrap();
        let store = store(dir.path());
        let writes = (0..200).map(|i| {
            let store = store.clone();
            async move {
                store
                    .write(move |c| {
                        bump(c)?;
                        if i % 10 == 0 {
                            return Err(StoreError::Conflict("test"));
                        }
                        Ok(i)
                    })
                    .await
            }
        });
        let results = futures_util::future::join_all(writes).await;
        for (i, r) in results.iter().enumerate() {
            match r {
                Ok(v) => assert_eq!(*v, i),
                Err(StoreError::Conflict(_)) => assert_eq!(i % 10, 0),
                Err(e) => panic!("{e}"),
            }
        }
        assert_eq!(
            version(&store),
            180,
            "the 20 failed writes left nothing behind"
        );
    }

    /// A write submitted alone (a batch of one, which runs without a savepoint) that fails
    /// leaves nothing behind and gets its own error; the next one commits.
    #[tokio::test]
    async fn a_lone_failed_write_leaves_nothing_and_gets_its_own_error() {
        let dir = tempfile::tempdir().unwrap();
        let store = store(dir.path());
        let failed = store
            .write(|c| {
                bump(c)?;
                Err::<(), _>(StoreError::Conflict("lone"))
            })
            .await;
        assert!(
            matches!(failed, Err(StoreError::Conflict("lone"))),
            "{failed:?}"
        );
        assert_eq!(version(&store), 0);
        store.write(bump).await.unwrap();
        assert_eq!(version(&store), 1);
    }

    /// A write that panics fails alone; the writer goes on serving later writes.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_panicking_write_fails_alone_and_the_writer_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        let store = store(dir.path());
        let panicking = store.write(move |c| {
            bump(c)?;
            if version_in(c) > 0 {
                panic!("a job that panics");
            }
            Ok(())
        });
        assert!(panicking.await.is_err());
        for _ in 0..3 {
            store.write(bump).await.unwrap();
        }
        assert_eq!(
            version(&store),
            3,
            "the panicked write left nothing; later ones ran"
        );
    }

    /// The test's write: one more on the role graph's version.
    fn bump(c: &mut DbConnection) -> Result<(), StoreError> {
        diesel::update(role_graph_version::table.find(1))
            .set(role_graph_version::version.eq(role_graph_version::version + 1))
            .execute(c)?;
        Ok(())
    }

    fn version_in(c: &mut DbConnection) -> i64 {
        role_graph_version::table
            .find(1)
            .select(role_graph_version::version)
            .get_result::<i64>(c)
            .unwrap()
    }
}
