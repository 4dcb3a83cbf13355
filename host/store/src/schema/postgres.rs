//! The PostgreSQL migrations: the steps of [`super::sqlite`] with the same
//! numbers, in PostgreSQL's types (`BIGINT` Unix-ms times, `BYTEA`
//! content, identity ids). The version is the highest row of the
//! `schema_version` table, one row per step applied.
//!
//! Several nodes share one database and may start at the same moment, so
//! the migration runs in one transaction holding a transaction-level
//! advisory lock: the second node waits for the first to commit, then
//! finds the schema current and does nothing
//! (<https://www.postgresql.org/docs/15/explicit-locking.html#ADVISORY-LOCKS>).
//! DDL is transactional in PostgreSQL, so a failed step leaves the
//! database at the version before it.

use tokio_postgres::{Client, IsolationLevel};

use super::CURRENT;
use crate::StoreError;

/// The migrations, in order: `MIGRATIONS[n]` takes a database from version
/// `n` to `n + 1`. The same steps as the SQLite list, step for step.
pub const MIGRATIONS: &[&str] = &[
    // 1: the queue. Recipients one per line (addresses and URIs have no
    // line breaks; enqueue refuses one that does). Times in Unix ms.
    // `GENERATED ALWAYS`: ids come from the database only, never reused
    // (SQLite's AUTOINCREMENT).
    "CREATE TABLE queue (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        direction TEXT NOT NULL,
        sender TEXT NOT NULL,
        recipients TEXT NOT NULL,
        message_id TEXT NOT NULL,
        imdn_message_id TEXT,
        content BYTEA NOT NULL,
        state TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        expires_at BIGINT NOT NULL,
        next_attempt_at BIGINT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        lease_owner TEXT,
        lease_until BIGINT
    );
    CREATE INDEX queue_due ON queue (state, next_attempt_at);
    CREATE INDEX queue_message_id ON queue (message_id);
    CREATE INDEX queue_imdn_message_id ON queue (imdn_message_id);",
    // 2: what delivery needs beside the content (the 7-bit copy, the DSN
    // asked for) and the correlation records, which outlive the queue
    // entry: ids are looked up there, so the queue keeps only its
    // scheduling index (fewer indexes, cheaper inserts). No foreign key
    // from correlation to queue: a record stays, unlinked, when its
    // message leaves the queue, as in SQLite.
    "ALTER TABLE queue ADD COLUMN alternate BYTEA;
    ALTER TABLE queue ADD COLUMN dsn_notify TEXT;
    DROP INDEX queue_message_id;
    DROP INDEX queue_imdn_message_id;
    CREATE TABLE correlation (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        direction TEXT NOT NULL,
        queue_id BIGINT,
        imdn_message_id TEXT,
        message_id TEXT,
        envid TEXT,
        conversation_id TEXT,
        contribution_id TEXT,
        im_sender TEXT NOT NULL,
        im_recipient TEXT NOT NULL,
        mail_from TEXT NOT NULL,
        mail_to TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        expires_at BIGINT NOT NULL
    );
    CREATE INDEX correlation_imdn_message_id ON correlation (imdn_message_id)
        WHERE imdn_message_id IS NOT NULL;
    CREATE INDEX correlation_message_id ON correlation (message_id)
        WHERE message_id IS NOT NULL;
    CREATE INDEX correlation_envid ON correlation (envid) WHERE envid IS NOT NULL;
    CREATE INDEX correlation_conversation_id ON correlation (conversation_id)
        WHERE conversation_id IS NOT NULL;
    CREATE INDEX correlation_contribution_id ON correlation (contribution_id)
        WHERE contribution_id IS NOT NULL;
    CREATE INDEX correlation_queue_id ON correlation (queue_id) WHERE queue_id IS NOT NULL;
    CREATE INDEX correlation_expires_at ON correlation (expires_at);",
    // 3: the directory of provisioned addresses (SPEC S2), shared by the
    // nodes of one store: IM URI ↔ e-mail address, one to one, both
    // normalised by the gateway; a version the nodes poll to reload it
    // when someone replaced it.
    "CREATE TABLE directory (
        im TEXT PRIMARY KEY,
        email TEXT NOT NULL UNIQUE
    );
    CREATE TABLE directory_version (version BIGINT NOT NULL);
    INSERT INTO directory_version (version) VALUES (0);",
    // 4: notifications (issue 10): what the original's sender asked for,
    // where an MDN goes, and the notices already sent, so that one is
    // sent at most once (RFC 8098 §2.1) whichever node is asked.
    "ALTER TABLE correlation ADD COLUMN notify TEXT;
    ALTER TABLE correlation ADD COLUMN notify_to TEXT;
    ALTER TABLE correlation ADD COLUMN im_date TEXT;
    ALTER TABLE correlation ADD COLUMN subject TEXT;
    CREATE TABLE notice (
        key TEXT PRIMARY KEY,
        expires_at BIGINT NOT NULL
    );
    CREATE INDEX notice_expires_at ON notice (expires_at);",
];

/// The key of the advisory lock the migration holds: "interwk1" in
/// ASCII. Advisory locks are per database, so stores in other databases
/// of the same server do not wait for each other.
const MIGRATION_LOCK: i64 = 0x696e_7465_7277_6b31;

/// Brings the database to version `target` (at most [`CURRENT`]) and
/// returns the version it found; refuses a database of a newer build.
///
/// [`crate::PgStore::connect`] always migrates to [`CURRENT`]; a lower
/// target leaves a database as an older build would have, for tests of
/// upgrades.
pub async fn migrate_to(client: &mut Client, target: i64) -> Result<i64, StoreError> {
    // READ COMMITTED whatever the database's default: each statement after
    // the lock must see what the node that held it before committed
    // (a REPEATABLE READ snapshot taken at the lock would not).
    let tx = client
        .build_transaction()
        .isolation_level(IsolationLevel::ReadCommitted)
        .start()
        .await?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_version (
            version BIGINT PRIMARY KEY,
            applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
        )",
    )
    .await?;
    let found: i64 = tx
        .query_one("SELECT coalesce(max(version), 0) FROM schema_version", &[])
        .await?
        .try_get(0)?;
    if found > CURRENT {
        return Err(StoreError::NewerSchema {
            found,
            known: CURRENT,
        });
    }
    let target = usize::try_from(target.min(CURRENT)).unwrap_or(0);
    let from = usize::try_from(found).unwrap_or(0);
    for (index, step) in MIGRATIONS.iter().enumerate().take(target).skip(from) {
        tx.batch_execute(step).await?;
        let version = index as i64 + 1;
        tx.execute(
            "INSERT INTO schema_version (version) VALUES ($1)",
            &[&version],
        )
        .await?;
    }
    tx.commit().await?;
    Ok(found)
}
