//! The embedded backend: one SQLite file in WAL mode with
//! `synchronous = FULL`, so a commit is on disk when it returns.
//!
//! One writer thread owns the connection. Callers send it jobs; it takes
//! every job waiting when it is free (up to [`MAX_BATCH`]), runs each in a
//! savepoint of one transaction, commits once, and only then answers each
//! caller: many messages, one fsync (group commit), and no caller hears
//! "stored" before the commit that stored it. A batch of only jobs nobody
//! waits for ([`Store::correlate_later`]) waits up to [`LAZY_COMMIT`] for
//! more work before it commits.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use rusqlite::{Connection, OptionalExtension, Row, params};
use tokio::sync::oneshot;

use crate::{
    Attempt, Claimed, Correlated, Correlation, CorrelationKey, Direction, Entry, Lease, Millis,
    NewMessage, QueueId, QueueSummary, Schedule, State, Store, StoreError, StoreFuture, after,
    schema, valid_recipients,
};

/// Jobs committed together at most.
const MAX_BATCH: usize = 512;

/// How long a batch of jobs nobody waits for is held open for more. The
/// correlation records of IMs delivered at once were one fsync each few
/// of them (440 a second at 3,200 IMs a second, issue 11); held 25 ms,
/// they are at most 40 a second, and a job that is waited for ends the
/// wait at once.
const LAZY_COMMIT: Duration = Duration::from_millis(25);

/// What a job leaves to do once the batch's commit is known.
type Reply = Box<dyn FnOnce(Result<(), StoreError>) + Send>;

/// A job: runs on the connection inside the batch's transaction (or is
/// told the transaction could not begin) and returns its reply.
type Job = Box<dyn FnOnce(Result<&Connection, StoreError>) -> Reply + Send>;

/// A job on its way to the writer, and whether a caller waits for its
/// commit.
struct Queued {
    job: Job,
    urgent: bool,
}

/// The SQLite store. Cloning shares the writer.
#[derive(Clone)]
pub struct SqliteStore {
    jobs: mpsc::Sender<Queued>,
    commits: Arc<AtomicU64>,
}

impl SqliteStore {
    /// Opens (creating it if needed) the store at `path` and brings its
    /// schema to this build's version; returns the store and the schema
    /// version it found (0 for a new file).
    pub fn open(path: &Path) -> Result<(Self, i64), StoreError> {
        let mut conn = Connection::open(path)?;
        conn.busy_timeout(Duration::from_secs(5))?;
        let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Database(format!(
                "{} cannot use WAL (journal mode {mode})",
                path.display()
            )));
        }
        conn.pragma_update(None, "synchronous", "FULL")?;
        // The savepoint of each job keeps the pages it changes in a
        // statement journal: in memory, not in a temporary file.
        conn.pragma_update(None, "temp_store", "MEMORY")?;
        let found = schema::sqlite::migrate(&mut conn)?;
        let (jobs, inbox) = mpsc::channel::<Queued>();
        let commits = Arc::new(AtomicU64::new(0));
        let counter = commits.clone();
        std::thread::Builder::new()
            .name("interwork-store".into())
            .spawn(move || writer(conn, inbox, counter))
            .map_err(|e| StoreError::Database(format!("cannot start the store writer: {e}")))?;
        Ok((Self { jobs, commits }, found))
    }

    /// Transactions committed so far (each one fsync of the WAL): with
    /// the messages stored, the fsyncs per message.
    pub fn commits(&self) -> u64 {
        self.commits.load(Ordering::Relaxed)
    }

    /// Runs `work` in the next batch; resolves after its commit.
    fn call<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> StoreFuture<'_, T> {
        self.submit(work, true)
    }

    /// [`SqliteStore::call`]; an `urgent` job ends a lazy batch's wait.
    /// The job is sent at once; the future only waits for its reply.
    fn submit<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
        urgent: bool,
    ) -> StoreFuture<'static, T> {
        let (answer, answered) = oneshot::channel();
        let job: Job = Box::new(move |conn| {
            let result = conn.and_then(|conn| in_savepoint(conn, work));
            Box::new(move |commit: Result<(), StoreError>| {
                let _ = answer.send(commit.and(result));
            })
        });
        let sent = self.jobs.send(Queued { job, urgent }).is_ok();
        Box::pin(async move {
            if !sent {
                return Err(StoreError::Closed);
            }
            answered.await.map_err(|_| StoreError::Closed)?
        })
    }
}

/// One job's changes, undone alone if the job fails (the rest of the batch
/// still commits).
fn in_savepoint<T>(
    conn: &Connection,
    work: impl FnOnce(&Connection) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    // Prepared once: a batch opens hundreds of savepoints.
    conn.prepare_cached("SAVEPOINT job")?.execute([])?;
    match work(conn) {
        Ok(value) => {
            conn.prepare_cached("RELEASE job")?.execute([])?;
            Ok(value)
        }
        Err(e) => {
            conn.execute_batch("ROLLBACK TO job; RELEASE job")?;
            Err(e)
        }
    }
}

fn writer(conn: Connection, inbox: mpsc::Receiver<Queued>, commits: Arc<AtomicU64>) {
    while let Ok(first) = inbox.recv() {
        let mut urgent = first.urgent;
        let mut batch = vec![first.job];
        let lazy_until = Instant::now() + LAZY_COMMIT;
        while batch.len() < MAX_BATCH {
            let next = if urgent {
                inbox.try_recv().ok()
            } else {
                // Nobody waits yet: more work may come to share the fsync.
                inbox
                    .recv_timeout(lazy_until.saturating_duration_since(Instant::now()))
                    .ok()
            };
            let Some(queued) = next else { break };
            urgent |= queued.urgent;
            batch.push(queued.job);
        }
        if let Err(e) = conn
            .prepare_cached("BEGIN IMMEDIATE")
            .and_then(|mut begin| begin.execute([]))
        {
            let failed = || StoreError::Database(format!("cannot begin a transaction: {e}"));
            for job in batch {
                job(Err(failed()))(Err(failed()));
            }
            continue;
        }
        let replies: Vec<Reply> = batch.into_iter().map(|job| job(Ok(&conn))).collect();
        let committed = conn
            .prepare_cached("COMMIT")
            .and_then(|mut commit| commit.execute([]))
            .map(drop)
            .map_err(StoreError::from);
        if committed.is_err() {
            let _ = conn.execute_batch("ROLLBACK");
        } else {
            commits.fetch_add(1, Ordering::Relaxed);
        }
        for reply in replies {
            let outcome = match &committed {
                Ok(()) => Ok(()),
                Err(e) => Err(StoreError::Database(format!("commit failed: {e}"))),
            };
            reply(outcome);
        }
    }
}

const ENTRY_COLUMNS: &str = "id, direction, sender, recipients, message_id, imdn_message_id, \
     dsn_notify, state, created_at, expires_at, next_attempt_at, attempts, last_error, \
     lease_owner, lease_until, length(content)";

/// The column after [`ENTRY_COLUMNS`].
const AFTER_ENTRY: usize = 16;

fn entry(row: &Row<'_>) -> rusqlite::Result<Result<Entry, StoreError>> {
    let direction: String = row.get(1)?;
    let recipients: String = row.get(3)?;
    let state: String = row.get(7)?;
    let attempts: i64 = row.get(11)?;
    let lease_owner: Option<String> = row.get(13)?;
    let lease_until: Option<Millis> = row.get(14)?;
    let size: i64 = row.get(15)?;
    let build = || -> Result<Entry, StoreError> {
        Ok(Entry {
            id: row.get(0)?,
            direction: Direction::parse(&direction)?,
            sender: row.get(2)?,
            recipients: recipients.lines().map(str::to_string).collect(),
            message_id: row.get(4)?,
            imdn_message_id: row.get(5)?,
            dsn_notify: row.get(6)?,
            state: State::parse(&state)?,
            created_at: row.get(8)?,
            expires_at: row.get(9)?,
            next_attempt_at: row.get(10)?,
            attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
            last_error: row.get(12)?,
            lease: lease_owner
                .zip(lease_until)
                .map(|(owner, until)| Lease { owner, until }),
            size: u64::try_from(size).unwrap_or(0),
        })
    };
    Ok(build())
}

fn claimed(conn: &Connection, id: QueueId) -> Result<Claimed, StoreError> {
    let found = conn
        .prepare_cached(&format!(
            "SELECT {ENTRY_COLUMNS}, content, alternate FROM queue WHERE id = ?1"
        ))?
        .query_row(params![id], |row| {
            Ok((
                entry(row)?,
                row.get::<_, Vec<u8>>(AFTER_ENTRY)?,
                row.get::<_, Option<Vec<u8>>>(AFTER_ENTRY + 1)?,
            ))
        })
        .optional()?;
    let (entry, content, alternate) = found.ok_or(StoreError::NotFound(id))?;
    Ok(Claimed {
        entry: entry?,
        content,
        alternate,
    })
}

/// Whether a lease starts a delivery attempt (and counts as one).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Attempting {
    Yes,
    No,
}

/// Leases `ids` to `owner` until `until` and reads them back.
fn lease_all(
    conn: &Connection,
    ids: &[QueueId],
    owner: &str,
    until: Millis,
    attempting: Attempting,
) -> Result<Vec<Claimed>, StoreError> {
    let counted = i64::from(attempting == Attempting::Yes);
    let mut all = Vec::with_capacity(ids.len());
    for &id in ids {
        conn.prepare_cached(
            "UPDATE queue SET lease_owner = ?2, lease_until = ?3, attempts = attempts + ?4
             WHERE id = ?1",
        )?
        .execute(params![id, owner, until, counted])?;
        all.push(claimed(conn, id)?);
    }
    Ok(all)
}

fn changed(id: QueueId, rows: usize) -> Result<(), StoreError> {
    if rows == 0 {
        Err(StoreError::NotFound(id))
    } else {
        Ok(())
    }
}

const CORRELATION_COLUMNS: &str = "direction, queue_id, imdn_message_id, message_id, envid, \
     conversation_id, contribution_id, im_sender, im_recipient, mail_from, mail_to, \
     created_at, expires_at, notify, notify_to, im_date, subject";

fn insert_correlation(
    conn: &Connection,
    record: &Correlation,
    queue_id: Option<QueueId>,
    now: Millis,
) -> Result<(), StoreError> {
    conn.prepare_cached(&format!(
        "INSERT INTO correlation ({CORRELATION_COLUMNS})
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)"
    ))?
    .execute(params![
        record.direction.as_str(),
        queue_id,
        record.imdn_message_id,
        record.message_id,
        record.envid,
        record.conversation_id,
        record.contribution_id,
        record.im_sender,
        record.im_recipient,
        record.mail_from,
        record.mail_to,
        now,
        record.expires_at,
        record.notify,
        record.notify_to,
        record.im_date,
        record.subject,
    ])?;
    Ok(())
}

fn correlated(row: &Row<'_>) -> rusqlite::Result<Result<Correlated, StoreError>> {
    let direction: String = row.get(0)?;
    let build = || -> Result<Correlated, StoreError> {
        Ok(Correlated {
            record: Correlation {
                direction: Direction::parse(&direction)?,
                imdn_message_id: row.get(2)?,
                message_id: row.get(3)?,
                envid: row.get(4)?,
                conversation_id: row.get(5)?,
                contribution_id: row.get(6)?,
                im_sender: row.get(7)?,
                im_recipient: row.get(8)?,
                mail_from: row.get(9)?,
                mail_to: row.get(10)?,
                notify: row.get(13)?,
                notify_to: row.get(14)?,
                im_date: row.get(15)?,
                subject: row.get(16)?,
                expires_at: row.get(12)?,
            },
            queue_id: row.get(1)?,
            created_at: row.get(11)?,
        })
    };
    Ok(build())
}

/// Writes a new message (and its correlation) in the open transaction.
fn insert_message(
    conn: &Connection,
    message: &NewMessage,
    schedule: &Schedule,
) -> Result<QueueId, StoreError> {
    valid_recipients(&message.recipients)?;
    let (owner, until) = match &schedule.lease {
        Some(lease) => (Some(lease.owner.as_str()), Some(lease.until)),
        None => (None, None),
    };
    conn.prepare_cached(
        "INSERT INTO queue (direction, sender, recipients, message_id, imdn_message_id,
             content, alternate, dsn_notify, state, created_at, expires_at,
             next_attempt_at, attempts, lease_owner, lease_until)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'queued', ?9, ?10, ?9, ?11, ?12, ?13)",
    )?
    .execute(params![
        message.direction.as_str(),
        message.sender,
        message.recipients.join("\n"),
        message.message_id,
        message.imdn_message_id,
        message.content,
        message.alternate,
        message.dsn_notify,
        schedule.now,
        schedule.expires_at,
        // A message leased at once is being attempted: that counts.
        i64::from(schedule.lease.is_some()),
        owner,
        until,
    ])?;
    let id = conn.last_insert_rowid();
    if let Some(record) = &message.correlation {
        insert_correlation(conn, record, Some(id), schedule.now)?;
    }
    Ok(id)
}

impl Store for SqliteStore {
    fn enqueue(&self, message: NewMessage, schedule: Schedule) -> StoreFuture<'_, QueueId> {
        self.call(move |conn| insert_message(conn, &message, &schedule))
    }

    fn claim_due(
        &self,
        owner: &str,
        now: Millis,
        lease: Duration,
        limit: usize,
    ) -> StoreFuture<'_, Vec<Claimed>> {
        let owner = owner.to_string();
        self.call(move |conn| {
            // Past its lifetime and not being attempted: expired, for the
            // notifications to report.
            conn.prepare_cached(
                "UPDATE queue SET state = 'expired', lease_owner = NULL, lease_until = NULL,
                     last_error = coalesce(last_error, 'expired in the queue')
                 WHERE state = 'queued' AND expires_at <= ?1
                     AND (lease_until IS NULL OR lease_until <= ?1)",
            )?
            .execute(params![now])?;
            let ids: Vec<QueueId> = conn
                .prepare_cached(
                    "SELECT id FROM queue
                     WHERE state = 'queued' AND next_attempt_at <= ?1
                         AND (lease_until IS NULL OR lease_until <= ?1)
                     ORDER BY next_attempt_at, id LIMIT ?2",
                )?
                .query_map(params![now, limit as i64], |row| row.get(0))?
                .collect::<Result<_, _>>()?;
            lease_all(conn, &ids, &owner, after(now, lease), Attempting::Yes)
        })
    }

    fn report(
        &self,
        id: QueueId,
        owner: &str,
        attempt: Attempt,
        _now: Millis,
    ) -> StoreFuture<'_, ()> {
        let owner = owner.to_string();
        self.call(move |conn| {
            let expires_at: Option<Millis> = conn
                .prepare_cached(
                    "SELECT expires_at FROM queue
                     WHERE id = ?1 AND state = 'queued' AND lease_owner = ?2",
                )?
                .query_row(params![id, owner], |row| row.get(0))
                .optional()?;
            let Some(expires_at) = expires_at else {
                return Err(StoreError::NotFound(id));
            };
            let (state, next, error) = match attempt {
                Attempt::Delivered => {
                    // Out of the queue; its correlation stays, still naming
                    // the id (the common path: one statement, no index of
                    // the correlation table touched).
                    conn.prepare_cached("DELETE FROM queue WHERE id = ?1")?
                        .execute(params![id])?;
                    return Ok(());
                }
                Attempt::Rejected => {
                    conn.prepare_cached("DELETE FROM queue WHERE id = ?1")?
                        .execute(params![id])?;
                    conn.prepare_cached("DELETE FROM correlation WHERE queue_id = ?1")?
                        .execute(params![id])?;
                    return Ok(());
                }
                Attempt::Failed { error } => (State::Failed, None, Some(error)),
                Attempt::Deferred { retry_at, error } if retry_at >= expires_at => {
                    (State::Expired, None, Some(error))
                }
                Attempt::Deferred { retry_at, error } => {
                    (State::Queued, Some(retry_at), Some(error))
                }
            };
            let rows = conn
                .prepare_cached(
                    "UPDATE queue SET state = ?2, next_attempt_at = coalesce(?3, next_attempt_at),
                         last_error = ?4, lease_owner = NULL, lease_until = NULL
                     WHERE id = ?1",
                )?
                .execute(params![id, state.as_str(), next, error])?;
            changed(id, rows)
        })
    }

    fn list(&self, states: &[State]) -> StoreFuture<'_, Vec<Entry>> {
        let states: Vec<&'static str> = states.iter().map(|s| s.as_str()).collect();
        self.call(move |conn| {
            let filter = if states.is_empty() {
                String::new()
            } else {
                format!("WHERE state IN ({})", vec!["?"; states.len()].join(", "))
            };
            let mut statement = conn.prepare(&format!(
                "SELECT {ENTRY_COLUMNS} FROM queue {filter} ORDER BY created_at, id"
            ))?;
            let rows = statement.query_map(rusqlite::params_from_iter(&states), entry)?;
            let mut entries = Vec::new();
            for row in rows {
                entries.push(row??);
            }
            Ok(entries)
        })
    }

    fn get(&self, id: QueueId) -> StoreFuture<'_, Claimed> {
        self.call(move |conn| claimed(conn, id))
    }

    fn summary(&self) -> StoreFuture<'_, Vec<QueueSummary>> {
        self.call(move |conn| {
            let mut statement = conn.prepare_cached(
                "SELECT direction, state, COUNT(*), MIN(created_at) FROM queue
                 GROUP BY direction, state ORDER BY direction, state",
            )?;
            let rows = statement.query_map([], |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, i64>(2)?,
                    row.get::<_, i64>(3)?,
                ))
            })?;
            let mut summary = Vec::new();
            for row in rows {
                let (direction, state, count, oldest) = row?;
                summary.push(QueueSummary {
                    direction: Direction::parse(&direction)?,
                    state: State::parse(&state)?,
                    count: count.max(0) as u64,
                    oldest_created_at: oldest,
                });
            }
            Ok(summary)
        })
    }

    fn set_hold(&self, id: QueueId, hold: bool, now: Millis) -> StoreFuture<'_, ()> {
        self.call(move |conn| {
            let rows = if hold {
                conn.execute(
                    "UPDATE queue SET state = 'held', lease_owner = NULL, lease_until = NULL
                     WHERE id = ?1 AND state = 'queued'",
                    params![id],
                )?
            } else {
                conn.execute(
                    "UPDATE queue SET state = 'queued', next_attempt_at = ?2
                     WHERE id = ?1 AND state = 'held'",
                    params![id, now],
                )?
            };
            changed(id, rows)
        })
    }

    fn flush(&self, id: Option<QueueId>, now: Millis) -> StoreFuture<'_, u64> {
        self.call(move |conn| {
            let rows = conn.execute(
                "UPDATE queue SET next_attempt_at = ?1
                 WHERE state = 'queued' AND next_attempt_at > ?1 AND (?2 IS NULL OR id = ?2)",
                params![now, id],
            )?;
            Ok(rows as u64)
        })
    }

    fn delete(&self, id: QueueId) -> StoreFuture<'_, ()> {
        self.call(move |conn| {
            let rows = conn.execute("DELETE FROM queue WHERE id = ?1", params![id])?;
            conn.execute(
                "UPDATE correlation SET queue_id = NULL WHERE queue_id = ?1",
                params![id],
            )?;
            changed(id, rows)
        })
    }

    fn correlate(&self, record: Correlation, now: Millis) -> StoreFuture<'_, ()> {
        self.call(move |conn| insert_correlation(conn, &record, None, now))
    }

    fn correlate_later(
        self: Arc<Self>,
        record: Correlation,
        now: Millis,
    ) -> StoreFuture<'static, ()> {
        self.submit(
            move |conn| insert_correlation(conn, &record, None, now),
            false,
        )
    }

    fn find(&self, key: CorrelationKey, now: Millis) -> StoreFuture<'_, Vec<Correlated>> {
        self.call(move |conn| {
            let (column, value) = key.column_and_value();
            let mut statement = conn.prepare_cached(&format!(
                "SELECT {CORRELATION_COLUMNS} FROM correlation
                 WHERE {column} = ?1 AND expires_at > ?2 ORDER BY created_at DESC, id DESC"
            ))?;
            let rows = statement.query_map(params![value, now], correlated)?;
            let mut found = Vec::new();
            for row in rows {
                found.push(row??);
            }
            Ok(found)
        })
    }

    fn first_notice(&self, key: String, expires_at: Millis) -> StoreFuture<'_, bool> {
        self.call(move |conn| {
            let rows = conn
                .prepare_cached(
                    "INSERT INTO notice (key, expires_at) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
                )?
                .execute(params![key, expires_at])?;
            Ok(rows == 1)
        })
    }

    fn purge(&self, now: Millis) -> StoreFuture<'_, u64> {
        self.call(move |conn| {
            let notices =
                conn.execute("DELETE FROM notice WHERE expires_at <= ?1", params![now])?;
            let rows = notices
                + conn.execute(
                    // Kept while its message is still in the queue (failed or
                    // expired, waiting for its notice).
                    "DELETE FROM correlation WHERE expires_at <= ?1
                     AND (queue_id IS NULL OR queue_id NOT IN (SELECT id FROM queue))",
                    params![now],
                )?;
            Ok(rows as u64)
        })
    }

    fn claim_given_up(
        &self,
        direction: Direction,
        owner: &str,
        now: Millis,
        lease: Duration,
        limit: usize,
    ) -> StoreFuture<'_, Vec<Claimed>> {
        let owner = owner.to_string();
        self.call(move |conn| {
            let ids: Vec<QueueId> = conn
                .prepare_cached(
                    "SELECT id FROM queue
                     WHERE state IN ('failed', 'expired') AND direction = ?1
                         AND (lease_until IS NULL OR lease_until <= ?2)
                     ORDER BY id LIMIT ?3",
                )?
                .query_map(params![direction.as_str(), now, limit as i64], |row| {
                    row.get(0)
                })?
                .collect::<Result<_, _>>()?;
            lease_all(conn, &ids, &owner, after(now, lease), Attempting::No)
        })
    }

    fn notified(
        &self,
        id: QueueId,
        owner: &str,
        notice: Option<(NewMessage, Schedule)>,
    ) -> StoreFuture<'_, Option<QueueId>> {
        let owner = owner.to_string();
        self.call(move |conn| {
            let rows = conn
                .prepare_cached(
                    "DELETE FROM queue
                     WHERE id = ?1 AND state IN ('failed', 'expired') AND lease_owner = ?2",
                )?
                .execute(params![id, owner])?;
            changed(id, rows)?;
            conn.prepare_cached("UPDATE correlation SET queue_id = NULL WHERE queue_id = ?1")?
                .execute(params![id])?;
            notice
                .map(|(message, schedule)| insert_message(conn, &message, &schedule))
                .transpose()
        })
    }

    fn directory(&self) -> StoreFuture<'_, (i64, Vec<(String, String)>)> {
        self.call(|conn| {
            let version =
                conn.query_row("SELECT version FROM directory_version", [], |r| r.get(0))?;
            let pairs = conn
                .prepare_cached("SELECT im, email FROM directory ORDER BY im")?
                .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
                .collect::<Result<_, _>>()?;
            Ok((version, pairs))
        })
    }

    fn directory_version(&self) -> StoreFuture<'_, i64> {
        self.call(|conn| {
            Ok(conn.query_row("SELECT version FROM directory_version", [], |r| r.get(0))?)
        })
    }

    fn replace_directory(&self, pairs: Vec<(String, String)>) -> StoreFuture<'_, i64> {
        self.call(move |conn| {
            conn.execute("DELETE FROM directory", [])?;
            let mut insert =
                conn.prepare_cached("INSERT INTO directory (im, email) VALUES (?1, ?2)")?;
            for (im, email) in &pairs {
                insert.execute(params![im, email])?;
            }
            conn.execute("UPDATE directory_version SET version = version + 1", [])?;
            Ok(conn.query_row("SELECT version FROM directory_version", [], |r| r.get(0))?)
        })
    }
}
