//! The behaviour every backend must show, as test bodies that take a
//! store: `src/tests.rs` runs each on a fresh SQLite file,
//! `tests/tests/store_postgres.rs` (in the e2e crate, with the feature
//! `conformance`) on a fresh PostgreSQL database. Each one expects an empty
//! store and panics, like a test, on the first difference.
//!
//! Times are explicit Unix-ms values (the store's clock is the caller's),
//! so the same steps give the same answers on every backend.

use std::future::Future;
use std::time::Duration;

use crate::{
    Attempt, Correlation, CorrelationKey, Direction, Lease, Millis, NewMessage, QueueSummary,
    Schedule, State, Store, StoreError,
};

/// A minute in the store's milliseconds.
pub const MINUTE: Millis = 60_000;

/// A short IM-to-mail message numbered `n`: recipient `bob{n}@…`,
/// Message-ID `m{n}@gw.example.test`, imdn.Message-ID `imdn-{n}`.
pub fn message(n: u32) -> NewMessage {
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
pub fn at(now: Millis, expires_at: Millis) -> Schedule {
    Schedule {
        now,
        expires_at,
        lease: None,
    }
}

/// The correlation record of [`message`]`(n)`, kept 30 days; every
/// message shares the Conversation-ID `conv-1`.
pub fn correlation(n: u32) -> Correlation {
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
        notify: Some("positive-delivery, display".into()),
        notify_to: None,
        im_date: Some("2026-12-03T08:00:00Z".into()),
        subject: Some(format!("Subject {n}")),
        expires_at: 30 * 24 * 60 * MINUTE,
    }
}

/// A message queued before the store is closed is there, unchanged, when
/// it is opened again; `open` opens the same (initially empty) store each
/// time and returns the schema version it found.
pub async fn a_queued_message_survives_reopening<S, F>(open: impl Fn() -> F)
where
    S: Store,
    F: Future<Output = Result<(S, i64), StoreError>>,
{
    let (store, found) = open().await.expect("opened");
    assert_eq!(found, 0, "an empty store");
    let id = store
        .enqueue(message(1), at(1_000, 1_000 + MINUTE))
        .await
        .unwrap();
    drop(store);
    let (store, found) = open().await.expect("opened again");
    assert_eq!(found, crate::schema::CURRENT);
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

/// Under a lease nobody else gets the message; after it, the next claimer
/// does, and the first claimer's late report is refused.
pub async fn a_claim_is_leased_and_a_lost_lease_goes_to_the_next_claimer(store: &dyn Store) {
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

/// Claims take the longest-due messages first, at most `limit` at a
/// time, and count an attempt on each.
pub async fn claims_come_longest_due_first_up_to_the_limit(store: &dyn Store) {
    let lease = Duration::from_secs(60);
    // Accepted in the order 1, 2, 3, 4 but due 3 (at 0), 4 (at 5), then 1
    // and 2 (both at 10).
    let one = store
        .enqueue(message(1), at(10, 60 * MINUTE))
        .await
        .unwrap();
    let two = store
        .enqueue(message(2), at(10, 60 * MINUTE))
        .await
        .unwrap();
    let three = store.enqueue(message(3), at(0, 60 * MINUTE)).await.unwrap();
    let four = store.enqueue(message(4), at(5, 60 * MINUTE)).await.unwrap();
    let first = store.claim_due("n", 5, lease, 1).await.unwrap();
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].entry.id, three, "due at 0, the longest due");
    let first = store.claim_due("n", 5, lease, 1).await.unwrap();
    assert_eq!(first[0].entry.id, four);
    let retry = Attempt::Deferred {
        retry_at: 20,
        error: "451".into(),
    };
    store.report(four, "n", retry, 6).await.unwrap();
    let claimed = store.claim_due("n", 30, lease, 10).await.unwrap();
    let ids: Vec<_> = claimed.iter().map(|c| c.entry.id).collect();
    assert_eq!(ids, [one, two, four], "by due time, then by id");
    assert!(claimed.iter().all(|c| {
        c.entry
            .lease
            .as_ref()
            .is_some_and(|l| l.owner == "n" && l.until == 30 + 60_000)
    }));
    assert_eq!(
        claimed.iter().map(|c| c.entry.attempts).collect::<Vec<_>>(),
        [1, 1, 2]
    );
    assert!(store.claim_due("n", 30, lease, 0).await.unwrap().is_empty());
}

/// A deferred message waits for its retry time and expires when the retry
/// would be past its lifetime; one never attempted expires at the first
/// claim after its lifetime.
pub async fn deferred_messages_wait_and_expire(store: &dyn Store) {
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
    let expired = store.list(&[State::Expired]).await.unwrap();
    assert_eq!(expired.len(), 2);
    assert_eq!(
        expired[1].last_error.as_deref(),
        Some("expired in the queue")
    );
    assert_eq!(expired[1].lease, None);
}

/// The queue tools: hold, release, flush, delete, and a listing filtered by
/// state.
pub async fn hold_release_flush_and_delete(store: &dyn Store) {
    let lease = Duration::from_secs(60);
    let a = store.enqueue(message(1), at(0, 60 * MINUTE)).await.unwrap();
    let b = store.enqueue(message(2), at(0, 60 * MINUTE)).await.unwrap();
    store.set_hold(a, true, 0).await.unwrap();
    let claimed = store.claim_due("n", 0, lease, 10).await.unwrap();
    assert_eq!(claimed.len(), 1, "the held one is not attempted");
    assert_eq!(claimed[0].entry.id, b);
    let listed = store.list(&[State::Held, State::Failed]).await.unwrap();
    assert_eq!(listed.iter().map(|e| e.id).collect::<Vec<_>>(), [a]);
    let defer = Attempt::Deferred {
        retry_at: 30 * MINUTE,
        error: "421".into(),
    };
    store.report(b, "n", defer, 0).await.unwrap();
    assert_eq!(store.flush(Some(a), MINUTE).await.unwrap(), 0, "held");
    assert_eq!(store.flush(None, MINUTE).await.unwrap(), 1);
    assert_eq!(
        store.claim_due("n", MINUTE, lease, 10).await.unwrap().len(),
        1
    );
    // Held while node n attempts it: n's report finds nothing to report on.
    store.set_hold(b, true, MINUTE).await.unwrap();
    let late = store.report(b, "n", Attempt::Delivered, MINUTE).await;
    assert!(matches!(late, Err(StoreError::NotFound(_))), "{late:?}");
    store.set_hold(b, false, MINUTE).await.unwrap();
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
    assert!(matches!(store.get(a).await, Err(StoreError::NotFound(_))));
    let left = store.list(&[]).await.unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!((left[0].id, left[0].state), (b, State::Queued));
}

/// The summary counts each direction's messages by state, with the
/// oldest's time: what `interwork status` and the metrics show.
pub async fn the_summary_counts_by_direction_and_state(store: &dyn Store) {
    assert_eq!(store.summary().await.unwrap(), []);
    let a = store.enqueue(message(1), at(5, 60 * MINUTE)).await.unwrap();
    store.enqueue(message(2), at(7, 60 * MINUTE)).await.unwrap();
    let mail = NewMessage {
        direction: Direction::MailToIm,
        ..message(3)
    };
    store.enqueue(mail, at(9, 60 * MINUTE)).await.unwrap();
    store.set_hold(a, true, 10).await.unwrap();
    let summary = store.summary().await.unwrap();
    let row = |direction, state, count, oldest_created_at| QueueSummary {
        direction,
        state,
        count,
        oldest_created_at,
    };
    let mut expected = vec![
        row(Direction::ImToMail, State::Held, 1, 5),
        row(Direction::ImToMail, State::Queued, 1, 7),
        row(Direction::MailToIm, State::Queued, 1, 9),
    ];
    let mut got = summary.clone();
    let key = |s: &QueueSummary| (s.direction.as_str(), s.state.as_str());
    got.sort_by_key(key);
    expected.sort_by_key(key);
    assert_eq!(got, expected);
}

/// A message the store refuses (a recipient with a line break) fails
/// alone: one enqueued at the same moment is stored.
pub async fn a_refused_message_does_not_spoil_others_enqueued_with_it(store: &dyn Store) {
    let mut bad = message(9);
    bad.recipients = vec!["x\r\nRCPT TO:<y>".into()];
    // Both asked for before either is awaited: SQLite's writer takes them
    // into one batch, PostgreSQL runs them on two connections at once.
    let good = store.enqueue(message(1), at(0, MINUTE));
    let refused = store.enqueue(bad, at(0, MINUTE));
    let (good, refused) = tokio::join!(good, refused);
    assert!(good.is_ok(), "{good:?}");
    assert!(
        matches!(refused, Err(StoreError::Database(_))),
        "{refused:?}"
    );
    let left = store.list(&[]).await.unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].message_id, "m1@gw.example.test");
}

/// A message leased at enqueue (the accepting node attempts it while the
/// sender waits) is that node's until the lease ends or it reports; both
/// forms of the content and the DSN request are kept.
pub async fn a_message_leased_at_enqueue_is_attempted_by_its_node_alone(store: &dyn Store) {
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

/// Correlation records are found by each of their ids, newest first,
/// stay (unlinked) when their message is delivered, and go at expiry.
pub async fn correlations_are_found_by_every_id_and_outlive_the_queue_entry(store: &dyn Store) {
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
    other.notify = Some("SUCCESS,FAILURE".into());
    other.notify_to = Some("carol@mail.example.test".into());
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
    assert_eq!(found[0].queue_id, Some(id), "the id it was queued under");
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
    assert_eq!(store.purge(later).await.unwrap(), 0);
}

/// A notice is sent once per key, however often and by however many
/// callers it is asked for, until it expires (then it is purged).
pub async fn a_notice_is_sent_once_per_key(store: &dyn Store) {
    assert!(store.first_notice("mdn:m1".into(), MINUTE).await.unwrap());
    assert!(!store.first_notice("mdn:m1".into(), MINUTE).await.unwrap());
    assert!(store.first_notice("dsn:m1".into(), MINUTE).await.unwrap());
    let ask = || store.first_notice("mdn:m2".into(), MINUTE);
    let (a, b, c, d) = tokio::join!(ask(), ask(), ask(), ask());
    let firsts = [a, b, c, d]
        .into_iter()
        .filter(|first| *first.as_ref().unwrap());
    assert_eq!(firsts.count(), 1, "one of four concurrent callers sends it");
    assert_eq!(store.purge(MINUTE).await.unwrap(), 3);
    assert!(
        store
            .first_notice("mdn:m1".into(), 2 * MINUTE)
            .await
            .unwrap()
    );
}

/// A message refused for good while its sender still waited is forgotten
/// with its correlation (the sender hears the refusal); one refused after
/// the sender was told "accepted" is kept as failed.
pub async fn a_message_rejected_while_the_sender_waited_is_forgotten(store: &dyn Store) {
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
    assert_eq!(kept[0].lease, None);
}

/// Given-up messages (failed, expired) are claimed per direction under a
/// lease, and leave the store in the commit that queues their notice.
pub async fn given_up_messages_are_told_once_with_their_notice(store: &dyn Store) {
    let lease = Duration::from_secs(60);
    let mut from_mail = message(1);
    from_mail.direction = Direction::MailToIm;
    from_mail.correlation = Some(correlation(1));
    let failed = store.enqueue(from_mail, at(0, 60 * MINUTE)).await.unwrap();
    let other_way = store.enqueue(message(2), at(0, 60 * MINUTE)).await.unwrap();
    let expiring = {
        let mut m = message(3);
        m.direction = Direction::MailToIm;
        store.enqueue(m, at(0, MINUTE)).await.unwrap()
    };
    let claimed = store.claim_due("a", 0, lease, 10).await.unwrap();
    assert_eq!(claimed.len(), 3);
    for id in [failed, other_way] {
        let refused = Attempt::Failed {
            error: "550 5.1.1 no such user".into(),
        };
        store.report(id, "a", refused, 1_000).await.unwrap();
    }
    let defer = Attempt::Deferred {
        retry_at: 30_000,
        error: "451 4.4.1 offline".into(),
    };
    store.report(expiring, "a", defer, 1_000).await.unwrap();
    // Nothing is given up while still queued; past its lifetime it is.
    assert!(
        store
            .claim_due("a", 2 * MINUTE, lease, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let given_up = store
        .claim_given_up(Direction::MailToIm, "a", 2 * MINUTE, lease, 10)
        .await
        .unwrap();
    let ids: Vec<_> = given_up
        .iter()
        .map(|c| (c.entry.id, c.entry.state))
        .collect();
    assert_eq!(ids, [(failed, State::Failed), (expiring, State::Expired)]);
    assert_eq!(
        given_up[0].entry.last_error.as_deref(),
        Some("550 5.1.1 no such user")
    );
    // Under a's lease nobody else claims them; the other direction is apart.
    assert!(
        store
            .claim_given_up(Direction::MailToIm, "b", 2 * MINUTE, lease, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let other = store
        .claim_given_up(Direction::ImToMail, "b", 2 * MINUTE, lease, 10)
        .await
        .unwrap();
    assert_eq!(other.len(), 1);
    assert_eq!(other[0].entry.id, other_way);
    // Only the lease holder may settle; the notice comes in the same commit.
    assert!(matches!(
        store.notified(failed, "b", None).await,
        Err(StoreError::NotFound(_))
    ));
    let mut dsn = message(4);
    dsn.sender = String::new();
    dsn.recipients = vec!["carol@mail.example.test".into()];
    let notice = store
        .notified(failed, "a", Some((dsn, at(2 * MINUTE, 60 * MINUTE))))
        .await
        .unwrap()
        .expect("the notice's id");
    assert_eq!(store.notified(expiring, "a", None).await.unwrap(), None);
    assert!(matches!(
        store.notified(failed, "a", None).await,
        Err(StoreError::NotFound(_))
    ));
    let left: Vec<_> = store
        .list(&[])
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.id, e.state, e.sender))
        .collect();
    assert_eq!(
        left,
        [
            (
                other_way,
                State::Failed,
                "alice@im.example.test".to_string()
            ),
            (notice, State::Queued, String::new()),
        ]
    );
    // The correlation of the told one stays, unlinked.
    let found = store
        .find(CorrelationKey::ImdnMessageId("imdn-1".into()), 3 * MINUTE)
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].queue_id, None);
    // The notice is due like any message.
    let due = store.claim_due("a", 2 * MINUTE, lease, 10).await.unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].entry.id, notice);
}

/// The shared directory is replaced whole, in one commit, and its version
/// rises with each replacement; a replacement that breaks one-to-one is
/// refused and changes nothing.
pub async fn the_directory_is_replaced_whole_and_versioned(store: &dyn Store) {
    assert_eq!(store.directory().await.unwrap(), (0, Vec::new()));
    assert_eq!(store.directory_version().await.unwrap(), 0);
    let pairs = vec![
        (
            "sip:bob@im.example.test".to_string(),
            "bob@gw.example.test".to_string(),
        ),
        (
            "sip:alice@im.example.test".to_string(),
            "alice@gw.example.test".to_string(),
        ),
    ];
    assert_eq!(store.replace_directory(pairs.clone()).await.unwrap(), 1);
    let (version, read) = store.directory().await.unwrap();
    assert_eq!(version, 1);
    let mut sorted = pairs.clone();
    sorted.sort();
    assert_eq!(read, sorted, "ordered by IM URI");
    let clash = vec![
        (
            "sip:carol@im.example.test".to_string(),
            "x@gw.example.test".to_string(),
        ),
        (
            "sip:dave@im.example.test".to_string(),
            "x@gw.example.test".to_string(),
        ),
    ];
    assert!(store.replace_directory(clash).await.is_err());
    assert_eq!(store.directory().await.unwrap(), (1, sorted));
    let one = vec![(
        "sip:erin@im.example.test".to_string(),
        "erin@gw.example.test".to_string(),
    )];
    assert_eq!(store.replace_directory(one.clone()).await.unwrap(), 2);
    assert_eq!(store.directory().await.unwrap(), (2, one));
    assert_eq!(store.directory_version().await.unwrap(), 2);
}
