//! The shared backend: one PostgreSQL database behind several gateway
//! nodes, each with a small pool of connections.
//!
//! Every operation is one transaction, committed before its future
//! resolves; all but a claim are a single statement, so one round trip
//! (a transaction of its own, with no `BEGIN` / `COMMIT` to send). Durability is PostgreSQL's: with `synchronous_commit` on (the
//! default, and [`PgStore::connect`] refuses a database where it is off) a
//! commit returns once its WAL is flushed, and the server already groups
//! the flushes of commits that arrive together
//! (<https://www.postgresql.org/docs/15/wal-async-commit.html>,
//! `commit_delay` in <https://www.postgresql.org/docs/15/wal-configuration.html>),
//! so there is no writer thread here as there is for SQLite.
//!
//! Nodes claim due messages with `SELECT … FOR UPDATE SKIP LOCKED`: a row
//! another node is claiming right now is skipped rather than waited for,
//! so two nodes never get the same message and never queue behind each
//! other (<https://www.postgresql.org/docs/15/sql-select.html#SQL-FOR-UPDATE-SHARE>).
//! A claim is a lease (`lease_owner`, `lease_until`); a node that dies
//! mid-delivery leaves its messages to the others once the lease ends.

use std::sync::LazyLock;
use std::time::Duration;

use deadpool_postgres::{
    GenericClient, Manager, ManagerConfig, Object, Pool, RecyclingMethod, Runtime,
};
use tokio_postgres::types::ToSql;
use tokio_postgres::{NoTls, Row};

use crate::{
    Attempt, Claimed, Correlated, Correlation, CorrelationKey, Direction, Entry, Lease, Millis,
    NewMessage, QueueId, QueueSummary, Schedule, State, Store, StoreError, StoreFuture, after,
    schema, valid_recipients,
};

/// How a [`PgStore`] connects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PgOptions {
    /// Connections this node keeps open at most (default 8). Commits on
    /// one connection are one at a time, so this bounds the node's
    /// concurrent operations; the server's `max_connections` (default 100)
    /// bounds the sum over all nodes.
    pub pool_size: usize,
    /// How long to wait for a new connection to be made, and for a free
    /// one when all are busy, before the operation fails (default 10 s).
    pub connect_timeout: Duration,
}

impl Default for PgOptions {
    fn default() -> Self {
        Self {
            pool_size: 8,
            connect_timeout: Duration::from_secs(10),
        }
    }
}

/// The PostgreSQL store. Cloning shares the pool.
#[derive(Clone)]
pub struct PgStore {
    pool: Pool,
}

impl PgStore {
    /// Connects to the database at `url` (`postgres://user:password@host:port/db`
    /// or `host=… user=… dbname=…`) with [`PgOptions::default`] and brings
    /// its schema to this build's version; returns the store and the
    /// schema version it found (0 for an empty database).
    pub async fn connect(url: &str) -> Result<(Self, i64), StoreError> {
        Self::connect_with(url, PgOptions::default()).await
    }

    /// [`PgStore::connect`] with other options.
    pub async fn connect_with(url: &str, options: PgOptions) -> Result<(Self, i64), StoreError> {
        let config: tokio_postgres::Config = url
            .parse()
            .map_err(|e| StoreError::Database(format!("invalid database address: {e}")))?;
        // Without TLS for now: the database is on loopback or a private
        // network of the nodes. TLS to the database (tokio-postgres-rustls
        // with the gateway's rustls) is left for later.
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                // A connection handed back is reused if it is still open; a
                // test query on every checkout would cost a round trip per
                // operation, and an operation on a connection that broke
                // fails like any database error (the caller defers).
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(options.pool_size.max(1))
            .runtime(Runtime::Tokio1)
            .create_timeout(Some(options.connect_timeout))
            .wait_timeout(Some(options.connect_timeout))
            .build()
            .map_err(|e| StoreError::Database(format!("cannot make the connection pool: {e}")))?;
        let mut client = pool.get().await?;
        refuse_lost_commits(&client).await?;
        let found = schema::postgres::migrate_to(&mut client, schema::CURRENT).await?;
        drop(client);
        Ok((Self { pool }, found))
    }

    async fn client(&self) -> Result<Object, StoreError> {
        Ok(self.pool.get().await?)
    }
}

/// `synchronous_commit = off` makes COMMIT return before the WAL is on
/// disk: a crash then loses messages the gateway has acknowledged, which
/// breaks the store's contract. `local`, `remote_write`, `on` and
/// `remote_apply` all flush locally first.
async fn refuse_lost_commits(client: &Object) -> Result<(), StoreError> {
    let setting: String = client
        .query_one("SELECT current_setting('synchronous_commit')", &[])
        .await?
        .try_get(0)?;
    if setting == "off" {
        return Err(StoreError::Database(
            "synchronous_commit is off for this database or role: acknowledged messages \
             could be lost in a crash; set it to on"
                .into(),
        ));
    }
    Ok(())
}

const ENTRY_COLUMNS: &str = "id, direction, sender, recipients, message_id, imdn_message_id, \
     dsn_notify, state, created_at, expires_at, next_attempt_at, attempts, last_error, \
     lease_owner, lease_until, octet_length(content)::bigint";

/// The column after [`ENTRY_COLUMNS`].
const AFTER_ENTRY: usize = 16;

fn entry(row: &Row) -> Result<Entry, StoreError> {
    let recipients: String = row.try_get(3)?;
    let attempts: i32 = row.try_get(11)?;
    let lease_owner: Option<String> = row.try_get(13)?;
    let lease_until: Option<Millis> = row.try_get(14)?;
    let size: i64 = row.try_get(15)?;
    Ok(Entry {
        id: row.try_get(0)?,
        direction: Direction::parse(row.try_get(1)?)?,
        sender: row.try_get(2)?,
        recipients: recipients.lines().map(str::to_string).collect(),
        message_id: row.try_get(4)?,
        imdn_message_id: row.try_get(5)?,
        dsn_notify: row.try_get(6)?,
        state: State::parse(row.try_get(7)?)?,
        created_at: row.try_get(8)?,
        expires_at: row.try_get(9)?,
        next_attempt_at: row.try_get(10)?,
        attempts: u32::try_from(attempts).unwrap_or(0),
        last_error: row.try_get(12)?,
        lease: lease_owner
            .zip(lease_until)
            .map(|(owner, until)| Lease { owner, until }),
        size: u64::try_from(size).unwrap_or(0),
    })
}

/// A row of `ENTRY_COLUMNS, content, alternate`.
fn claimed(row: &Row) -> Result<Claimed, StoreError> {
    Ok(Claimed {
        entry: entry(row)?,
        content: row.try_get(AFTER_ENTRY)?,
        alternate: row.try_get(AFTER_ENTRY + 1)?,
    })
}

/// The `count(*)` a statement returned, as rows changed.
fn count(row: &Row) -> Result<u64, StoreError> {
    Ok(u64::try_from(row.try_get::<_, i64>(0)?).unwrap_or(0))
}

fn changed(id: QueueId, rows: u64) -> Result<(), StoreError> {
    if rows == 0 {
        Err(StoreError::NotFound(id))
    } else {
        Ok(())
    }
}

const CORRELATION_COLUMNS: &str = "direction, queue_id, imdn_message_id, message_id, envid, \
     conversation_id, contribution_id, im_sender, im_recipient, mail_from, mail_to, \
     created_at, expires_at, notify, notify_to, im_date, subject";

/// Queues a message (parameters 1 to 13) and returns its id. One
/// statement, so one round trip: the accepting node answers its sender
/// after it.
const INSERT_QUEUE: &str = "INSERT INTO queue (direction, sender, recipients, message_id,
         imdn_message_id, content, alternate, dsn_notify, state, created_at, expires_at,
         next_attempt_at, attempts, lease_owner, lease_until)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'queued', $9, $10, $9, $11, $12, $13)
     RETURNING id";

/// [`INSERT_QUEUE`] and the message's correlation record (parameters 14
/// to 24) in the same statement, hence the same commit. The casts tell
/// the server the parameters' types, which a `SELECT` list does not.
static INSERT_QUEUE_AND_CORRELATION: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH queued AS ({INSERT_QUEUE}),
         linked AS (
             INSERT INTO correlation ({CORRELATION_COLUMNS})
             SELECT $14::text, id, $15::text, $16::text, $17::text, $18::text, $19::text,
                 $20::text, $21::text, $22::text, $23::text, $9, $24::bigint, $25::text,
                 $26::text, $27::text, $28::text
             FROM queued)
         SELECT id FROM queued"
    )
});

fn correlated(row: &Row) -> Result<Correlated, StoreError> {
    Ok(Correlated {
        record: Correlation {
            direction: Direction::parse(row.try_get(0)?)?,
            imdn_message_id: row.try_get(2)?,
            message_id: row.try_get(3)?,
            envid: row.try_get(4)?,
            conversation_id: row.try_get(5)?,
            contribution_id: row.try_get(6)?,
            im_sender: row.try_get(7)?,
            im_recipient: row.try_get(8)?,
            mail_from: row.try_get(9)?,
            mail_to: row.try_get(10)?,
            notify: row.try_get(13)?,
            notify_to: row.try_get(14)?,
            im_date: row.try_get(15)?,
            subject: row.try_get(16)?,
            expires_at: row.try_get(12)?,
        },
        queue_id: row.try_get(1)?,
        created_at: row.try_get(11)?,
    })
}

/// Writes a new message (and its correlation, in the same statement) on
/// `client`: a connection, or a transaction it is part of.
async fn insert_message<C: GenericClient>(
    client: &C,
    message: &NewMessage,
    schedule: &Schedule,
) -> Result<QueueId, StoreError> {
    valid_recipients(&message.recipients)?;
    let (owner, until) = match &schedule.lease {
        Some(lease) => (Some(lease.owner.as_str()), Some(lease.until)),
        None => (None, None),
    };
    // A message leased at once is being attempted: that counts.
    let attempts = i32::from(schedule.lease.is_some());
    let recipients = message.recipients.join("\n");
    let direction = message.direction.as_str();
    let mut params: Vec<&(dyn ToSql + Sync)> = vec![
        &direction,
        &message.sender,
        &recipients,
        &message.message_id,
        &message.imdn_message_id,
        &message.content,
        &message.alternate,
        &message.dsn_notify,
        &schedule.now,
        &schedule.expires_at,
        &attempts,
        &owner,
        &until,
    ];
    let correlation_direction = message.correlation.as_ref().map(|r| r.direction.as_str());
    let sql: &str = match &message.correlation {
        None => INSERT_QUEUE,
        Some(record) => {
            params.extend([
                &correlation_direction as &(dyn ToSql + Sync),
                &record.imdn_message_id,
                &record.message_id,
                &record.envid,
                &record.conversation_id,
                &record.contribution_id,
                &record.im_sender,
                &record.im_recipient,
                &record.mail_from,
                &record.mail_to,
                &record.expires_at,
                &record.notify,
                &record.notify_to,
                &record.im_date,
                &record.subject,
            ]);
            &INSERT_QUEUE_AND_CORRELATION
        }
    };
    let statement = client.prepare_cached(sql).await?;
    Ok(client.query_one(&statement, &params).await?.try_get(0)?)
}

impl Store for PgStore {
    fn enqueue(&self, message: NewMessage, schedule: Schedule) -> StoreFuture<'_, QueueId> {
        Box::pin(async move {
            let client = self.client().await?;
            insert_message(&client, &message, &schedule).await
        })
    }

    fn claim_due(
        &self,
        owner: &str,
        now: Millis,
        lease: Duration,
        limit: usize,
    ) -> StoreFuture<'_, Vec<Claimed>> {
        let owner = owner.to_string();
        Box::pin(async move {
            let limit = i64::try_from(limit).unwrap_or(i64::MAX);
            let until = after(now, lease);
            let mut client = self.client().await?;
            let tx = client.transaction().await?;
            // Past its lifetime and not being attempted: expired, for the
            // notifications to report. Rows another node has locked are
            // left to it (or to the next claim): no waiting, and no
            // deadlock between two nodes expiring the same rows.
            let expire = tx
                .prepare_cached(
                    "WITH gone AS MATERIALIZED (
                         SELECT id FROM queue
                         WHERE state = 'queued' AND expires_at <= $1
                             AND (lease_until IS NULL OR lease_until <= $1)
                         FOR UPDATE SKIP LOCKED)
                     UPDATE queue SET state = 'expired', lease_owner = NULL, lease_until = NULL,
                         last_error = coalesce(last_error, 'expired in the queue')
                     WHERE id IN (SELECT id FROM gone)",
                )
                .await?;
            tx.execute(&expire, &[&now]).await?;
            // MATERIALIZED: the locking subquery runs once, so LIMIT holds
            // (a subquery the planner rescans could lock and return more).
            let claim = tx
                .prepare_cached(&format!(
                    "WITH due AS MATERIALIZED (
                         SELECT id FROM queue
                         WHERE state = 'queued' AND next_attempt_at <= $1
                             AND (lease_until IS NULL OR lease_until <= $1)
                         ORDER BY next_attempt_at, id LIMIT $2
                         FOR UPDATE SKIP LOCKED)
                     UPDATE queue SET lease_owner = $3, lease_until = $4, attempts = attempts + 1
                     WHERE id IN (SELECT id FROM due)
                     RETURNING {ENTRY_COLUMNS}, content, alternate"
                ))
                .await?;
            let rows = tx.query(&claim, &[&now, &limit, &owner, &until]).await?;
            tx.commit().await?;
            let mut all = rows.iter().map(claimed).collect::<Result<Vec<_>, _>>()?;
            // RETURNING has no order; SQLite's claims come longest due first.
            all.sort_by_key(|c| (c.entry.next_attempt_at, c.entry.id));
            Ok(all)
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
        Box::pin(async move {
            // Each outcome is one statement that changes the row only while
            // it is still queued under `owner`'s lease. If another node is
            // claiming it at this moment, the statement waits for that claim
            // to commit and then tests its WHERE again on the new row
            // (READ COMMITTED,
            // <https://www.postgresql.org/docs/15/transaction-iso.html#XACT-READ-COMMITTED>):
            // the owner is the new claimer by then, nothing changes, and
            // the report is refused.
            let client = self.client().await?;
            let rows = match attempt {
                // Out of the queue; its correlation stays, naming the id.
                Attempt::Delivered => {
                    let delivered = client
                        .prepare_cached(
                            "WITH gone AS (
                                 DELETE FROM queue
                                 WHERE id = $1 AND state = 'queued' AND lease_owner = $2
                                 RETURNING id)
                             SELECT count(*) FROM gone",
                        )
                        .await?;
                    count(&client.query_one(&delivered, &[&id, &owner]).await?)?
                }
                // Forgotten with its correlation, as if never accepted.
                Attempt::Rejected => {
                    let rejected = client
                        .prepare_cached(
                            "WITH gone AS (
                                 DELETE FROM queue
                                 WHERE id = $1 AND state = 'queued' AND lease_owner = $2
                                 RETURNING id),
                             forgotten AS (
                                 DELETE FROM correlation
                                 WHERE queue_id IN (SELECT id FROM gone))
                             SELECT count(*) FROM gone",
                        )
                        .await?;
                    count(&client.query_one(&rejected, &[&id, &owner]).await?)?
                }
                Attempt::Failed { error } => {
                    let failed = client
                        .prepare_cached(
                            "UPDATE queue SET state = 'failed', last_error = $3,
                                 lease_owner = NULL, lease_until = NULL
                             WHERE id = $1 AND state = 'queued' AND lease_owner = $2",
                        )
                        .await?;
                    client.execute(&failed, &[&id, &owner, &error]).await?
                }
                // Due again at `retry_at`, or expired when that is past
                // the message's lifetime.
                Attempt::Deferred { retry_at, error } => {
                    let deferred = client
                        .prepare_cached(
                            "UPDATE queue SET
                                 state = CASE WHEN $3 >= expires_at
                                     THEN 'expired' ELSE 'queued' END,
                                 next_attempt_at = CASE WHEN $3 >= expires_at
                                     THEN next_attempt_at ELSE $3 END,
                                 last_error = $4, lease_owner = NULL, lease_until = NULL
                             WHERE id = $1 AND state = 'queued' AND lease_owner = $2",
                        )
                        .await?;
                    client
                        .execute(&deferred, &[&id, &owner, &retry_at, &error])
                        .await?
                }
            };
            changed(id, rows)
        })
    }

    fn list(&self, states: &[State]) -> StoreFuture<'_, Vec<Entry>> {
        let states: Vec<&'static str> = states.iter().map(|s| s.as_str()).collect();
        Box::pin(async move {
            let client = self.client().await?;
            let rows = if states.is_empty() {
                let all = client
                    .prepare_cached(&format!(
                        "SELECT {ENTRY_COLUMNS} FROM queue ORDER BY created_at, id"
                    ))
                    .await?;
                client.query(&all, &[]).await?
            } else {
                let some = client
                    .prepare_cached(&format!(
                        "SELECT {ENTRY_COLUMNS} FROM queue WHERE state = ANY($1)
                         ORDER BY created_at, id"
                    ))
                    .await?;
                client.query(&some, &[&states]).await?
            };
            rows.iter().map(entry).collect()
        })
    }

    fn summary(&self) -> StoreFuture<'_, Vec<QueueSummary>> {
        Box::pin(async move {
            let client = self.client().await?;
            let grouped = client
                .prepare_cached(
                    "SELECT direction, state, COUNT(*), MIN(created_at) FROM queue
                     GROUP BY direction, state ORDER BY direction, state",
                )
                .await?;
            let rows = client.query(&grouped, &[]).await?;
            rows.iter()
                .map(|row| {
                    Ok(QueueSummary {
                        direction: Direction::parse(row.get::<_, &str>(0))?,
                        state: State::parse(row.get::<_, &str>(1))?,
                        count: row.get::<_, i64>(2).max(0) as u64,
                        oldest_created_at: row.get::<_, i64>(3),
                    })
                })
                .collect()
        })
    }

    fn get(&self, id: QueueId) -> StoreFuture<'_, Claimed> {
        Box::pin(async move {
            let client = self.client().await?;
            let one = client
                .prepare_cached(&format!(
                    "SELECT {ENTRY_COLUMNS}, content, alternate FROM queue WHERE id = $1"
                ))
                .await?;
            match client.query_opt(&one, &[&id]).await? {
                Some(row) => claimed(&row),
                None => Err(StoreError::NotFound(id)),
            }
        })
    }

    fn set_hold(&self, id: QueueId, hold: bool, now: Millis) -> StoreFuture<'_, ()> {
        Box::pin(async move {
            let client = self.client().await?;
            let rows = if hold {
                client
                    .execute(
                        "UPDATE queue SET state = 'held', lease_owner = NULL, lease_until = NULL
                         WHERE id = $1 AND state = 'queued'",
                        &[&id],
                    )
                    .await?
            } else {
                client
                    .execute(
                        "UPDATE queue SET state = 'queued', next_attempt_at = $2
                         WHERE id = $1 AND state = 'held'",
                        &[&id, &now],
                    )
                    .await?
            };
            changed(id, rows)
        })
    }

    fn flush(&self, id: Option<QueueId>, now: Millis) -> StoreFuture<'_, u64> {
        Box::pin(async move {
            let client = self.client().await?;
            let rows = client
                .execute(
                    "UPDATE queue SET next_attempt_at = $1
                     WHERE state = 'queued' AND next_attempt_at > $1
                         AND ($2::bigint IS NULL OR id = $2)",
                    &[&now, &id],
                )
                .await?;
            Ok(rows)
        })
    }

    fn delete(&self, id: QueueId) -> StoreFuture<'_, ()> {
        Box::pin(async move {
            let client = self.client().await?;
            let delete = client
                .prepare_cached(
                    "WITH gone AS (DELETE FROM queue WHERE id = $1 RETURNING id),
                     unlinked AS (
                         UPDATE correlation SET queue_id = NULL
                         WHERE queue_id IN (SELECT id FROM gone))
                     SELECT count(*) FROM gone",
                )
                .await?;
            let rows = count(&client.query_one(&delete, &[&id]).await?)?;
            changed(id, rows)
        })
    }

    fn correlate(&self, record: Correlation, now: Millis) -> StoreFuture<'_, ()> {
        Box::pin(async move {
            let client = self.client().await?;
            // Of no queued message: a queued message's record is written
            // with it (INSERT_QUEUE_AND_CORRELATION).
            let insert = client
                .prepare_cached(&format!(
                    "INSERT INTO correlation ({CORRELATION_COLUMNS})
                     VALUES ($1, NULL, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)"
                ))
                .await?;
            client
                .execute(
                    &insert,
                    &[
                        &record.direction.as_str(),
                        &record.imdn_message_id,
                        &record.message_id,
                        &record.envid,
                        &record.conversation_id,
                        &record.contribution_id,
                        &record.im_sender,
                        &record.im_recipient,
                        &record.mail_from,
                        &record.mail_to,
                        &now,
                        &record.expires_at,
                        &record.notify,
                        &record.notify_to,
                        &record.im_date,
                        &record.subject,
                    ],
                )
                .await?;
            Ok(())
        })
    }

    fn find(&self, key: CorrelationKey, now: Millis) -> StoreFuture<'_, Vec<Correlated>> {
        Box::pin(async move {
            let (column, value) = key.column_and_value();
            let client = self.client().await?;
            let by_key = client
                .prepare_cached(&format!(
                    "SELECT {CORRELATION_COLUMNS} FROM correlation
                     WHERE {column} = $1 AND expires_at > $2
                     ORDER BY created_at DESC, id DESC"
                ))
                .await?;
            let rows = client.query(&by_key, &[&value, &now]).await?;
            rows.iter().map(correlated).collect()
        })
    }

    fn first_notice(&self, key: String, expires_at: Millis) -> StoreFuture<'_, bool> {
        Box::pin(async move {
            let client = self.client().await?;
            let note = client
                .prepare_cached(
                    "INSERT INTO notice (key, expires_at) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                )
                .await?;
            Ok(client.execute(&note, &[&key, &expires_at]).await? == 1)
        })
    }

    fn purge(&self, now: Millis) -> StoreFuture<'_, u64> {
        Box::pin(async move {
            let client = self.client().await?;
            let notices = client
                .execute("DELETE FROM notice WHERE expires_at <= $1", &[&now])
                .await?;
            let rows = notices
                + client
                    .execute(
                        // Kept while its message is still in the queue (failed or
                        // expired, waiting for its notice).
                        "DELETE FROM correlation WHERE expires_at <= $1
                     AND (queue_id IS NULL OR queue_id NOT IN (SELECT id FROM queue))",
                        &[&now],
                    )
                    .await?;
            Ok(rows)
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
        Box::pin(async move {
            let limit = i64::try_from(limit).unwrap_or(i64::MAX);
            let until = after(now, lease);
            let client = self.client().await?;
            // As claim_due: rows another node is telling about are skipped.
            let claim = client
                .prepare_cached(&format!(
                    "WITH gone AS MATERIALIZED (
                         SELECT id FROM queue
                         WHERE state IN ('failed', 'expired') AND direction = $1
                             AND (lease_until IS NULL OR lease_until <= $2)
                         ORDER BY id LIMIT $3
                         FOR UPDATE SKIP LOCKED)
                     UPDATE queue SET lease_owner = $4, lease_until = $5
                     WHERE id IN (SELECT id FROM gone)
                     RETURNING {ENTRY_COLUMNS}, content, alternate"
                ))
                .await?;
            let direction = direction.as_str();
            let rows = client
                .query(&claim, &[&direction, &now, &limit, &owner, &until])
                .await?;
            let mut all = rows.iter().map(claimed).collect::<Result<Vec<_>, _>>()?;
            all.sort_by_key(|c| c.entry.id);
            Ok(all)
        })
    }

    fn notified(
        &self,
        id: QueueId,
        owner: &str,
        notice: Option<(NewMessage, Schedule)>,
    ) -> StoreFuture<'_, Option<QueueId>> {
        let owner = owner.to_string();
        Box::pin(async move {
            let mut client = self.client().await?;
            let tx = client.transaction().await?;
            let remove = tx
                .prepare_cached(
                    "WITH gone AS (
                         DELETE FROM queue
                         WHERE id = $1 AND state IN ('failed', 'expired') AND lease_owner = $2
                         RETURNING id),
                     unlinked AS (
                         UPDATE correlation SET queue_id = NULL
                         WHERE queue_id IN (SELECT id FROM gone))
                     SELECT count(*) FROM gone",
                )
                .await?;
            changed(id, count(&tx.query_one(&remove, &[&id, &owner]).await?)?)?;
            let notice_id = match &notice {
                Some((message, schedule)) => Some(insert_message(&tx, message, schedule).await?),
                None => None,
            };
            tx.commit().await?;
            Ok(notice_id)
        })
    }

    fn directory(&self) -> StoreFuture<'_, (i64, Vec<(String, String)>)> {
        Box::pin(async move {
            let mut client = self.client().await?;
            // One snapshot: the version goes with the pairs read.
            let tx = client
                .build_transaction()
                .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()
                .await?;
            let version = tx
                .query_one("SELECT version FROM directory_version", &[])
                .await?
                .try_get(0)?;
            let pairs = tx
                .query("SELECT im, email FROM directory ORDER BY im", &[])
                .await?
                .iter()
                .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
                .collect::<Result<_, StoreError>>()?;
            tx.commit().await?;
            Ok((version, pairs))
        })
    }

    fn directory_version(&self) -> StoreFuture<'_, i64> {
        Box::pin(async move {
            let client = self.client().await?;
            let statement = client
                .prepare_cached("SELECT version FROM directory_version")
                .await?;
            Ok(client.query_one(&statement, &[]).await?.try_get(0)?)
        })
    }

    fn replace_directory(&self, pairs: Vec<(String, String)>) -> StoreFuture<'_, i64> {
        Box::pin(async move {
            let mut client = self.client().await?;
            let tx = client.transaction().await?;
            // The version row first: two replacements at once run one
            // after the other.
            let version = tx
                .query_one(
                    "UPDATE directory_version SET version = version + 1 RETURNING version",
                    &[],
                )
                .await?
                .try_get(0)?;
            tx.execute("DELETE FROM directory", &[]).await?;
            let (ims, emails): (Vec<String>, Vec<String>) = pairs.into_iter().unzip();
            tx.execute(
                "INSERT INTO directory (im, email) SELECT * FROM unnest($1::text[], $2::text[])",
                &[&ims, &emails],
            )
            .await?;
            tx.commit().await?;
            Ok(version)
        })
    }
}
