//! The SQLite migrations. The version is SQLite's `user_version`; every
//! step runs in the opening transaction, so a store is at one version or
//! the next, never between.

use rusqlite::Connection;

use super::CURRENT;
use crate::StoreError;

/// The migrations, in order: `MIGRATIONS[n]` takes a store from version
/// `n` to `n + 1`. The same steps as [`super::postgres::MIGRATIONS`].
pub(crate) const MIGRATIONS: &[&str] = &[
    // 1: the queue. Recipients one per line (addresses and URIs have no
    // line breaks; enqueue refuses one that does). Times in Unix ms.
    "CREATE TABLE queue (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        direction TEXT NOT NULL,
        sender TEXT NOT NULL,
        recipients TEXT NOT NULL,
        message_id TEXT NOT NULL,
        imdn_message_id TEXT,
        content BLOB NOT NULL,
        state TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        next_attempt_at INTEGER NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        lease_owner TEXT,
        lease_until INTEGER
    );
    CREATE INDEX queue_due ON queue (state, next_attempt_at);
    CREATE INDEX queue_message_id ON queue (message_id);
    CREATE INDEX queue_imdn_message_id ON queue (imdn_message_id);",
    // 2: what delivery needs beside the content (the 7-bit copy, the DSN
    // asked for) and the correlation records, which outlive the queue
    // entry: ids are looked up there, so the queue keeps only its
    // scheduling index (fewer indexes, cheaper inserts).
    "ALTER TABLE queue ADD COLUMN alternate BLOB;
    ALTER TABLE queue ADD COLUMN dsn_notify TEXT;
    DROP INDEX queue_message_id;
    DROP INDEX queue_imdn_message_id;
    CREATE TABLE correlation (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        direction TEXT NOT NULL,
        queue_id INTEGER,
        imdn_message_id TEXT,
        message_id TEXT,
        envid TEXT,
        conversation_id TEXT,
        contribution_id TEXT,
        im_sender TEXT NOT NULL,
        im_recipient TEXT NOT NULL,
        mail_from TEXT NOT NULL,
        mail_to TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
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
    CREATE TABLE directory_version (version INTEGER NOT NULL);
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
        expires_at INTEGER NOT NULL
    );
    CREATE INDEX notice_expires_at ON notice (expires_at);",
];

/// Brings the store to [`CURRENT`]; refuses a store from a newer build.
/// Returns the version it found.
pub(crate) fn migrate(conn: &mut Connection) -> Result<i64, StoreError> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let found: i64 = tx.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    if found > CURRENT {
        return Err(StoreError::NewerSchema {
            found,
            known: CURRENT,
        });
    }
    for (index, step) in MIGRATIONS.iter().enumerate().skip(found.max(0) as usize) {
        tx.execute_batch(step)?;
        tx.pragma_update(None, "user_version", index as i64 + 1)?;
    }
    tx.commit()?;
    Ok(found)
}
