//! The SQLite store on real files in a temporary directory: every
//! behaviour of [`crate::conformance`], then what only SQLite has (the
//! group commit's counter, its `user_version`).

use std::time::Duration;

use super::conformance::{self, MINUTE, at, correlation, message};
use super::*;

fn open(dir: &tempfile::TempDir) -> SqliteStore {
    SqliteStore::open(&dir.path().join("store.sqlite"))
        .unwrap()
        .0
}

/// Runs a conformance body on a fresh store in a fresh directory.
macro_rules! conformance {
    ($($name:ident),* $(,)?) => {$(
        #[tokio::test]
        async fn $name() {
            let dir = tempfile::tempdir().unwrap();
            conformance::$name(&open(&dir)).await;
        }
    )*};
}

conformance!(
    a_claim_is_leased_and_a_lost_lease_goes_to_the_next_claimer,
    claims_come_longest_due_first_up_to_the_limit,
    deferred_messages_wait_and_expire,
    hold_release_flush_and_delete,
    the_summary_counts_by_direction_and_state,
    a_refused_message_does_not_spoil_others_enqueued_with_it,
    a_message_leased_at_enqueue_is_attempted_by_its_node_alone,
    correlations_are_found_by_every_id_and_outlive_the_queue_entry,
    a_message_rejected_while_the_sender_waited_is_forgotten,
    given_up_messages_are_told_once_with_their_notice,
    the_directory_is_replaced_whole_and_versioned,
    a_notice_is_sent_once_per_key,
);

#[tokio::test]
async fn a_queued_message_survives_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.sqlite");
    conformance::a_queued_message_survives_reopening(|| {
        std::future::ready(SqliteStore::open(&path))
    })
    .await;
}

#[tokio::test]
async fn concurrent_enqueues_share_commits() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir);
    let before = store.commits();
    let all: Vec<_> = (0..200)
        .map(|n| store.enqueue(message(n), at(0, MINUTE)))
        .collect();
    let ids = futures_join(all).await;
    assert_eq!(ids.len(), 200);
    let commits = store.commits() - before;
    eprintln!("200 messages, {commits} commits");
    assert!(commits < 200, "{commits} commits for 200 messages");
    assert_eq!(store.list(&[State::Queued]).await.unwrap().len(), 200);
}

#[tokio::test]
async fn records_nobody_waits_for_share_a_commit_and_a_waited_job_ends_the_wait() {
    let dir = tempfile::tempdir().unwrap();
    let store = std::sync::Arc::new(open(&dir));
    let before = store.commits();
    // Ten records a millisecond apart: urgent jobs each that far apart
    // would be ten commits; held open, they share one or two.
    let mut later = Vec::new();
    for n in 0..10 {
        let mut record = correlation(n);
        record.message_id = Some(format!("lazy-{n}@example.test"));
        later.push(store.clone().correlate_later(record, 0));
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    // A lookup is waited for: it commits the batch with it, and sees the
    // records written before it.
    let found = store
        .find(CorrelationKey::MessageId("lazy-9@example.test".into()), 0)
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    futures_join(later).await;
    let commits = store.commits() - before;
    assert!(
        commits <= 3,
        "{commits} commits for 10 records and a lookup"
    );
}

/// Awaits every future in order (they were all sent to the writer first).
async fn futures_join<T>(futures: Vec<StoreFuture<'_, T>>) -> Vec<T> {
    let mut out = Vec::new();
    for f in futures {
        out.push(f.await.unwrap());
    }
    out
}

/// SQLite's writer runs each job in a savepoint of its batch, so the job
/// that fails is undone alone wherever it falls in the batch (the three
/// are sent before the writer can take the first, so they usually share
/// one).
#[tokio::test]
async fn a_failed_job_does_not_spoil_its_batch() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir);
    let mut bad = message(9);
    bad.recipients = vec!["x\r\nRCPT TO:<y>".into()];
    let first = store.enqueue(message(1), at(0, MINUTE));
    let refused = store.enqueue(bad, at(0, MINUTE));
    let last = store.enqueue(message(2), at(0, MINUTE));
    assert!(first.await.is_ok());
    assert!(refused.await.is_err());
    assert!(last.await.is_ok());
    assert_eq!(store.list(&[]).await.unwrap().len(), 2);
}

#[test]
fn a_store_from_a_newer_build_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.sqlite");
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.pragma_update(None, "user_version", schema::CURRENT + 1)
        .unwrap();
    drop(conn);
    match SqliteStore::open(&path) {
        Err(StoreError::NewerSchema { found, known }) => {
            assert_eq!((found, known), (schema::CURRENT + 1, schema::CURRENT));
        }
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("opened a store of a newer schema"),
    }
}

#[test]
fn backoff_doubles_from_the_minimum_to_the_maximum() {
    let b = Backoff::default();
    let waits: Vec<Millis> = (1..=6).map(|n| b.next_attempt(n, 0) / 1000).collect();
    assert_eq!(waits, [300, 600, 1200, 2400, 4000, 4000]);
    assert_eq!(b.expiry(0), 5 * 24 * 3600 * 1000);
}

/// A store written by the first schema (as the build before this one made
/// it) opens, keeps its messages, and takes the new columns.
#[tokio::test]
async fn a_store_of_the_previous_schema_is_migrated_with_its_messages() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.sqlite");
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(schema::sqlite::MIGRATIONS[0]).unwrap();
    conn.pragma_update(None, "user_version", 1).unwrap();
    conn.execute(
        "INSERT INTO queue (direction, sender, recipients, message_id, imdn_message_id,
             content, state, created_at, expires_at, next_attempt_at)
         VALUES ('im-to-mail', 'a@x.test', 'b@y.test', 'old@gw', NULL, x'4869', 'queued',
             5, 99999, 5)",
        [],
    )
    .unwrap();
    drop(conn);
    let (store, found) = SqliteStore::open(&path).unwrap();
    assert_eq!(found, 1);
    let claimed = store
        .claim_due("n", 10, Duration::from_secs(5), 10)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].content, b"Hi");
    assert_eq!(claimed[0].alternate, None);
    assert_eq!(claimed[0].entry.message_id, "old@gw");
    let mut m = message(3);
    m.correlation = Some(correlation(3));
    store.enqueue(m, at(20, 99999)).await.unwrap();
    assert_eq!(
        store
            .find(CorrelationKey::Envid("env-3".into()), 30)
            .await
            .unwrap()
            .len(),
        1
    );
}
