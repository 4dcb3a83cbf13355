//! The SQLite store on real files in a temporary directory.

use std::time::Duration;

use super::*;

const MINUTE: Millis = 60_000;

fn message(n: u32) -> NewMessage {
    NewMessage {
        direction: Direction::ImToMail,
        sender: "alice@im.example.test".into(),
        recipients: vec![format!("bob{n}@mail.example.test")],
        message_id: format!("m{n}@gw.example.test"),
        imdn_message_id: Some(format!("imdn-{n}")),
        content: format!("Subject: {n}\r\n\r\nhello\r\n").into_bytes(),
    }
}

fn open(dir: &tempfile::TempDir) -> SqliteStore {
    SqliteStore::open(&dir.path().join("store.sqlite"))
        .unwrap()
        .0
}

#[tokio::test]
async fn a_queued_message_survives_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let (store, found) = SqliteStore::open(&dir.path().join("store.sqlite")).unwrap();
    assert_eq!(found, 0, "a new file");
    let id = store
        .enqueue(message(1), 1_000, 1_000 + MINUTE)
        .await
        .unwrap();
    drop(store);
    let (store, found) = SqliteStore::open(&dir.path().join("store.sqlite")).unwrap();
    assert_eq!(found, schema::CURRENT);
    let entries = store.list(&[]).await.unwrap();
    assert_eq!(entries.len(), 1);
    let e = &entries[0];
    assert_eq!(e.id, id);
    assert_eq!(e.state, State::Queued);
    assert_eq!(e.recipients, ["bob1@mail.example.test"]);
    assert_eq!(e.imdn_message_id.as_deref(), Some("imdn-1"));
    assert_eq!(
        (e.created_at, e.next_attempt_at, e.attempts),
        (1_000, 1_000, 0)
    );
    assert_eq!(e.size, message(1).content.len() as u64);
}

#[tokio::test]
async fn concurrent_enqueues_share_commits() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir);
    let before = store.commits();
    let all: Vec<_> = (0..200)
        .map(|n| store.enqueue(message(n), 0, MINUTE))
        .collect();
    let ids = futures_join(all).await;
    assert_eq!(ids.len(), 200);
    let commits = store.commits() - before;
    eprintln!("200 messages, {commits} commits");
    assert!(commits < 200, "{commits} commits for 200 messages");
    assert_eq!(store.list(&[State::Queued]).await.unwrap().len(), 200);
}

/// Awaits every future in order (they were all sent to the writer first).
async fn futures_join<T>(futures: Vec<StoreFuture<'_, T>>) -> Vec<T> {
    let mut out = Vec::new();
    for f in futures {
        out.push(f.await.unwrap());
    }
    out
}

#[tokio::test]
async fn a_claim_is_leased_and_a_lost_lease_goes_to_the_next_claimer() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir);
    let id = store.enqueue(message(1), 0, 60 * MINUTE).await.unwrap();
    let lease = Duration::from_secs(60);
    let a = store.claim_due("node-a", 0, lease, 10).await.unwrap();
    assert_eq!(a.len(), 1);
    assert_eq!(a[0].entry.attempts, 1);
    assert_eq!(a[0].content, message(1).content);
    // Under node-a's lease nobody else gets it.
    assert!(
        store
            .claim_due("node-b", 30_000, lease, 10)
            .await
            .unwrap()
            .is_empty()
    );
    // node-a dies; after the lease node-b takes it, and node-a's late
    // report is refused.
    let b = store.claim_due("node-b", 61_000, lease, 10).await.unwrap();
    assert_eq!(b.len(), 1);
    assert_eq!(b[0].entry.attempts, 2);
    let late = store.report(id, "node-a", Attempt::Delivered, 62_000).await;
    assert!(matches!(late, Err(StoreError::NotFound(_))), "{late:?}");
    store
        .report(id, "node-b", Attempt::Delivered, 62_000)
        .await
        .unwrap();
    let entries = store.list(&[State::Delivered]).await.unwrap();
    assert_eq!(entries.len(), 1);
    assert!(
        store
            .claim_due("node-a", 999_000, lease, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn deferred_messages_wait_and_expire() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir);
    let lease = Duration::from_secs(60);
    let id = store.enqueue(message(1), 0, 10 * MINUTE).await.unwrap();
    store.claim_due("n", 0, lease, 10).await.unwrap();
    let retry = Attempt::Deferred {
        retry_at: 5 * MINUTE,
        error: "451 4.7.1 greylisted".into(),
    };
    store.report(id, "n", retry, 1_000).await.unwrap();
    assert!(
        store
            .claim_due("n", 4 * MINUTE, lease, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let again = store.claim_due("n", 5 * MINUTE, lease, 10).await.unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(
        again[0].entry.last_error.as_deref(),
        Some("451 4.7.1 greylisted")
    );
    // A retry past the lifetime expires the message.
    let late = Attempt::Deferred {
        retry_at: 11 * MINUTE,
        error: "451 again".into(),
    };
    store.report(id, "n", late, 5 * MINUTE).await.unwrap();
    let expired = store.list(&[State::Expired]).await.unwrap();
    assert_eq!(expired.len(), 1);
    assert_eq!(expired[0].last_error.as_deref(), Some("451 again"));
    // Never attempted but past its lifetime: expired at the next claim.
    store.enqueue(message(2), 0, MINUTE).await.unwrap();
    assert!(
        store
            .claim_due("n", 2 * MINUTE, lease, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(store.list(&[State::Expired]).await.unwrap().len(), 2);
}

#[tokio::test]
async fn hold_release_flush_and_delete() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir);
    let lease = Duration::from_secs(60);
    let a = store.enqueue(message(1), 0, 60 * MINUTE).await.unwrap();
    let b = store.enqueue(message(2), 0, 60 * MINUTE).await.unwrap();
    store.set_hold(a, true, 0).await.unwrap();
    let claimed = store.claim_due("n", 0, lease, 10).await.unwrap();
    assert_eq!(claimed.len(), 1, "the held one is not attempted");
    assert_eq!(claimed[0].entry.id, b);
    let defer = Attempt::Deferred {
        retry_at: 30 * MINUTE,
        error: "421".into(),
    };
    store.report(b, "n", defer, 0).await.unwrap();
    assert_eq!(store.flush(None, MINUTE).await.unwrap(), 1);
    assert_eq!(
        store.claim_due("n", MINUTE, lease, 10).await.unwrap().len(),
        1
    );
    store.set_hold(a, false, 2 * MINUTE).await.unwrap();
    assert!(matches!(
        store.set_hold(a, false, 2 * MINUTE).await,
        Err(StoreError::NotFound(_))
    ));
    store.delete(a).await.unwrap();
    assert!(matches!(
        store.delete(a).await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(store.list(&[]).await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_failed_job_does_not_spoil_its_batch() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir);
    let mut bad = message(9);
    bad.recipients = vec!["x\r\nRCPT TO:<y>".into()];
    let good = store.enqueue(message(1), 0, MINUTE);
    let refused = store.enqueue(bad, 0, MINUTE);
    assert!(good.await.is_ok());
    assert!(refused.await.is_err());
    assert_eq!(store.list(&[]).await.unwrap().len(), 1);
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
