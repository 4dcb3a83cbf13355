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
        alternate: None,
        dsn_notify: None,
        correlation: None,
    }
}

/// Due at `now`, given up at `expires_at`, claimed by nobody yet.
fn at(now: Millis, expires_at: Millis) -> Schedule {
    Schedule {
        now,
        expires_at,
        lease: None,
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
        .enqueue(message(1), at(1_000, 1_000 + MINUTE))
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
        .map(|n| store.enqueue(message(n), at(0, MINUTE)))
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
    let id = store.enqueue(message(1), at(0, 60 * MINUTE)).await.unwrap();
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
    assert!(
        store.list(&[]).await.unwrap().is_empty(),
        "delivered: out of the queue"
    );
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
    let id = store.enqueue(message(1), at(0, 10 * MINUTE)).await.unwrap();
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
    store.enqueue(message(2), at(0, MINUTE)).await.unwrap();
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
    let a = store.enqueue(message(1), at(0, 60 * MINUTE)).await.unwrap();
    let b = store.enqueue(message(2), at(0, 60 * MINUTE)).await.unwrap();
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
    let good = store.enqueue(message(1), at(0, MINUTE));
    let refused = store.enqueue(bad, at(0, MINUTE));
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

fn correlation(n: u32) -> Correlation {
    Correlation {
        direction: Direction::ImToMail,
        imdn_message_id: Some(format!("imdn-{n}")),
        message_id: Some(format!("m{n}@gw.example.test")),
        envid: Some(format!("env-{n}")),
        conversation_id: Some("conv-1".into()),
        contribution_id: Some(format!("contrib-{n}")),
        im_sender: "sip:alice@im.example.test".into(),
        im_recipient: format!("sip:bob{n}@mail.example.test"),
        mail_from: "alice@im.example.test".into(),
        mail_to: format!("bob{n}@mail.example.test"),
        expires_at: 30 * 24 * 60 * MINUTE,
    }
}

#[tokio::test]
async fn a_message_leased_at_enqueue_is_attempted_by_its_node_alone() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir);
    let mut m = message(1);
    m.alternate = Some(b"Subject: 1\r\n\r\n7-bit\r\n".to_vec());
    m.dsn_notify = Some("SUCCESS,FAILURE".into());
    let lease = Lease {
        owner: "node-a".into(),
        until: 20_000,
    };
    let id = store
        .enqueue(
            m.clone(),
            Schedule {
                now: 0,
                expires_at: 60 * MINUTE,
                lease: Some(lease.clone()),
            },
        )
        .await
        .unwrap();
    let entry = &store.list(&[]).await.unwrap()[0];
    assert_eq!(entry.attempts, 1, "the first attempt is under way");
    assert_eq!(entry.lease.as_ref(), Some(&lease));
    assert_eq!(entry.dsn_notify.as_deref(), Some("SUCCESS,FAILURE"));
    let lease_time = Duration::from_secs(60);
    assert!(
        store
            .claim_due("node-b", 10_000, lease_time, 10)
            .await
            .unwrap()
            .is_empty(),
        "leased to node-a"
    );
    // node-a's first attempt was deferred: the next claim (of anyone) after
    // the retry time gets both forms of the content.
    let retry = Attempt::Deferred {
        retry_at: 15_000,
        error: "451 4.7.1 try later".into(),
    };
    store.report(id, "node-a", retry, 12_000).await.unwrap();
    let again = store
        .claim_due("node-b", 15_000, lease_time, 10)
        .await
        .unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].entry.attempts, 2);
    assert_eq!(again[0].alternate, m.alternate);
    let shown = store.get(id).await.unwrap();
    assert_eq!(shown.content, m.content);
    assert_eq!(
        shown.entry.lease.map(|l| l.owner).as_deref(),
        Some("node-b")
    );
}

#[tokio::test]
async fn correlations_are_found_by_every_id_and_outlive_the_queue_entry() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir);
    let mut m = message(1);
    m.correlation = Some(correlation(1));
    let id = store
        .enqueue(
            m,
            Schedule {
                now: 1_000,
                expires_at: 60 * MINUTE,
                lease: Some(Lease {
                    owner: "n".into(),
                    until: MINUTE,
                }),
            },
        )
        .await
        .unwrap();
    let mut other = correlation(2);
    other.direction = Direction::MailToIm;
    store.correlate(other.clone(), 2_000).await.unwrap();
    for key in [
        CorrelationKey::ImdnMessageId("imdn-1".into()),
        CorrelationKey::MessageId("m1@gw.example.test".into()),
        CorrelationKey::Envid("env-1".into()),
        CorrelationKey::ContributionId("contrib-1".into()),
    ] {
        let found = store.find(key.clone(), 3_000).await.unwrap();
        assert_eq!(found.len(), 1, "{key:?}");
        assert_eq!(found[0].record, correlation(1));
        assert_eq!((found[0].queue_id, found[0].created_at), (Some(id), 1_000));
    }
    let conversation = store
        .find(CorrelationKey::ConversationId("conv-1".into()), 3_000)
        .await
        .unwrap();
    assert_eq!(conversation.len(), 2, "both messages of the conversation");
    assert_eq!(conversation[0].record, other, "newest first");
    assert_eq!(conversation[0].queue_id, None);
    // Delivered: the queue entry goes, the correlation stays.
    store
        .report(id, "n", Attempt::Delivered, 4_000)
        .await
        .unwrap();
    assert!(store.list(&[]).await.unwrap().is_empty());
    let found = store
        .find(CorrelationKey::ImdnMessageId("imdn-1".into()), 5_000)
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].queue_id, None);
    // Past their expiry they are not found, and purged.
    let later = correlation(1).expires_at;
    assert!(
        store
            .find(CorrelationKey::ConversationId("conv-1".into()), later)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(store.purge(later).await.unwrap(), 2);
}

#[tokio::test]
async fn a_message_rejected_while_the_sender_waited_is_forgotten() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir);
    let mut m = message(1);
    m.correlation = Some(correlation(1));
    let id = store
        .enqueue(
            m,
            Schedule {
                now: 0,
                expires_at: MINUTE,
                lease: Some(Lease {
                    owner: "n".into(),
                    until: MINUTE,
                }),
            },
        )
        .await
        .unwrap();
    store.report(id, "n", Attempt::Rejected, 10).await.unwrap();
    assert!(store.list(&[]).await.unwrap().is_empty());
    assert!(
        store
            .find(CorrelationKey::ImdnMessageId("imdn-1".into()), 20)
            .await
            .unwrap()
            .is_empty()
    );
    // A permanent failure after the sender was told "accepted" is kept.
    let id = store.enqueue(message(2), at(0, MINUTE)).await.unwrap();
    store
        .claim_due("n", 0, Duration::from_secs(5), 1)
        .await
        .unwrap();
    let failed = Attempt::Failed {
        error: "550 5.1.1 no such user".into(),
    };
    store.report(id, "n", failed, 10).await.unwrap();
    let kept = store.list(&[State::Failed]).await.unwrap();
    assert_eq!(kept.len(), 1);
    assert_eq!(
        kept[0].last_error.as_deref(),
        Some("550 5.1.1 no such user")
    );
}

/// A store written by the first schema (as the build before this one made
/// it) opens, keeps its messages, and takes the new columns.
#[tokio::test]
async fn a_store_of_the_previous_schema_is_migrated_with_its_messages() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.sqlite");
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(schema::MIGRATIONS[0]).unwrap();
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
