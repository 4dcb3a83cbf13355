//! The PostgreSQL store on a real cluster (`interwork_e2e::postgres`):
//! every behaviour of `interwork_store::conformance`, each on a database
//! of its own, then what only a shared database has — several nodes
//! claiming at once, a node dying under its lease, nodes starting at
//! once, upgrades of a database an older build left.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use interwork_e2e::postgres::Postgres;
use interwork_store::conformance::{self, MINUTE, at, correlation, message};
use interwork_store::{
    Attempt, CorrelationKey, Lease, Millis, NewMessage, PgOptions, PgStore, QueueId, Schedule,
    State, Store, StoreError, schema,
};

/// The shared cluster and a fresh database `name` on it.
fn database(name: &str) -> (Arc<Postgres>, String) {
    let cluster = Postgres::shared().expect("a PostgreSQL cluster");
    let url = cluster.create_database(name).expect("a fresh database");
    (cluster, url)
}

async fn connect(url: &str) -> PgStore {
    PgStore::connect(url).await.expect("connected").0
}

/// Runs a conformance body on a fresh database named after it.
macro_rules! conformance {
    ($($name:ident),* $(,)?) => {$(
        #[tokio::test]
        async fn $name() {
            let (_cluster, url) = database(stringify!($name));
            conformance::$name(&connect(&url).await).await;
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
    let (_cluster, url) = database("a_queued_message_survives_reopening");
    conformance::a_queued_message_survives_reopening(|| PgStore::connect(&url)).await;
}

/// Two nodes (two stores, two pools), three claimers each, small claims,
/// 200 messages: each message is claimed by exactly one of them, once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_nodes_claiming_at_once_get_every_message_exactly_once() {
    let (_cluster, url) = database("two_nodes_claiming_at_once");
    let nodes = [connect(&url).await, connect(&url).await];
    let mut enqueues = tokio::task::JoinSet::new();
    for n in 0..200u32 {
        let node = nodes[n as usize % 2].clone();
        enqueues.spawn(async move { node.enqueue(message(n), at(0, 60 * MINUTE)).await });
    }
    let queued: BTreeSet<QueueId> = enqueues
        .join_all()
        .await
        .into_iter()
        .map(|id| id.expect("enqueued"))
        .collect();
    assert_eq!(queued.len(), 200);

    let lease = Duration::from_secs(60);
    let mut claimers = tokio::task::JoinSet::new();
    for (n, node) in nodes.iter().enumerate() {
        for worker in 0..3 {
            let node = node.clone();
            let owner = format!("node-{n}/{worker}");
            // Limits of 3, 4 and 5: claims overlap unevenly.
            let limit = 3 + worker;
            claimers.spawn(async move {
                let mut got = Vec::new();
                loop {
                    let claimed = node
                        .claim_due(&owner, 1_000, lease, limit)
                        .await
                        .expect("claimed");
                    if claimed.is_empty() {
                        return (owner, got);
                    }
                    assert!(claimed.len() <= limit, "{} > {limit}", claimed.len());
                    for c in claimed {
                        assert_eq!(c.entry.attempts, 1, "claimed twice: {}", c.entry.id);
                        assert_eq!(c.entry.lease.as_ref().map(|l| &l.owner), Some(&owner));
                        got.push(c.entry.id);
                    }
                }
            });
        }
    }
    let mut owner_of: BTreeMap<QueueId, String> = BTreeMap::new();
    let mut per_node = [0usize; 2];
    for (owner, ids) in claimers.join_all().await {
        per_node[usize::from(owner.starts_with("node-1"))] += ids.len();
        for id in ids {
            if let Some(first) = owner_of.insert(id, owner.clone()) {
                panic!("{id} claimed by {first} and by {owner}");
            }
        }
    }
    assert_eq!(
        owner_of.keys().copied().collect::<BTreeSet<_>>(),
        queued,
        "every message claimed"
    );
    assert!(
        per_node.iter().all(|&n| n > 0),
        "both nodes claimed: {per_node:?}"
    );
    eprintln!("claims per node: {per_node:?}");
    // The database agrees, and each claimer's reports go through.
    for entry in nodes[0].list(&[]).await.unwrap() {
        let lease = entry.lease.expect("leased");
        assert_eq!(Some(&lease.owner), owner_of.get(&entry.id));
    }
    let mut reports = tokio::task::JoinSet::new();
    for (id, owner) in owner_of {
        let node = nodes[usize::from(owner.starts_with("node-1"))].clone();
        reports.spawn(async move { node.report(id, &owner, Attempt::Delivered, 2_000).await });
    }
    for report in reports.join_all().await {
        report.expect("reported");
    }
    assert!(nodes[1].list(&[]).await.unwrap().is_empty());
}

/// Node A accepts one message (leased to itself at once) and claims
/// another, then dies without reporting. Node B gets each when its lease
/// ends; A, restarted, reports too late and is refused.
#[tokio::test]
async fn a_node_that_dies_under_its_lease_leaves_its_messages_to_another() {
    let (_cluster, url) = database("a_node_that_dies_under_its_lease");
    let a = connect(&url).await;
    let b = connect(&url).await;
    let lease = Duration::from_secs(60);
    let accepted = a
        .enqueue(
            message(1),
            Schedule {
                now: 0,
                expires_at: 60 * MINUTE,
                lease: Some(Lease {
                    owner: "node-a".into(),
                    until: 30_000,
                }),
            },
        )
        .await
        .unwrap();
    let queued = a.enqueue(message(2), at(0, 60 * MINUTE)).await.unwrap();
    let claimed = a.claim_due("node-a", 1_000, lease, 10).await.unwrap();
    assert_eq!(
        claimed.iter().map(|c| c.entry.id).collect::<Vec<_>>(),
        [queued]
    );
    drop(a); // its connections close; it never reports

    assert!(
        b.claim_due("node-b", 29_999, lease, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let first = b.claim_due("node-b", 30_000, lease, 10).await.unwrap();
    assert_eq!(
        first.iter().map(|c| c.entry.id).collect::<Vec<_>>(),
        [accepted]
    );
    assert_eq!(first[0].entry.attempts, 2);
    let second = b.claim_due("node-b", 61_000, lease, 10).await.unwrap();
    assert_eq!(
        second.iter().map(|c| c.entry.id).collect::<Vec<_>>(),
        [queued]
    );
    assert_eq!(second[0].entry.attempts, 2);

    let a = connect(&url).await;
    for id in [accepted, queued] {
        let late = a.report(id, "node-a", Attempt::Delivered, 62_000).await;
        assert!(
            matches!(late, Err(StoreError::NotFound(n)) if n == id),
            "{late:?}"
        );
        b.report(id, "node-b", Attempt::Delivered, 62_000)
            .await
            .unwrap();
    }
    assert!(a.list(&[]).await.unwrap().is_empty());
}

/// A node that reports while another is claiming the same (lease-expired)
/// message waits for that claim and is then refused: it never overwrites
/// the new claimer's lease.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_late_report_racing_a_new_claim_never_undoes_it() {
    let (_cluster, url) = database("a_late_report_racing_a_new_claim");
    let a = connect(&url).await;
    let b = connect(&url).await;
    let lease = Duration::from_secs(1);
    for round in 0..50u32 {
        let now = Millis::from(round) * 10_000;
        let id = a
            .enqueue(message(round), at(now, now + 60 * MINUTE))
            .await
            .unwrap();
        a.claim_due("node-a", now, lease, 1).await.unwrap();
        // node-a's lease ran out at now + 1 s; both act at now + 2 s.
        let later = now + 2_000;
        let (report, claim) = tokio::join!(
            tokio::spawn({
                let a = a.clone();
                async move { a.report(id, "node-a", Attempt::Delivered, later).await }
            }),
            tokio::spawn({
                let b = b.clone();
                async move { b.claim_due("node-b", later, lease, 1).await }
            }),
        );
        let (report, claim) = (report.unwrap(), claim.unwrap().unwrap());
        match (report, claim.len()) {
            // The report first: delivered, nothing left to claim.
            (Ok(()), 0) => assert!(matches!(a.get(id).await, Err(StoreError::NotFound(_)))),
            // The claim first: the report is refused, node-b holds it.
            (Err(StoreError::NotFound(_)), 1) => {
                let entry = a.get(id).await.unwrap().entry;
                assert_eq!(entry.lease.map(|l| l.owner).as_deref(), Some("node-b"));
                b.report(id, "node-b", Attempt::Delivered, later)
                    .await
                    .unwrap();
            }
            (report, n) => panic!("round {round}: report {report:?} with {n} claimed"),
        }
    }
    assert!(a.list(&[]).await.unwrap().is_empty());
}

/// Four nodes start at once on an empty database: all connect, one
/// migrates (found 0), the others wait for it and find the schema current;
/// each step is recorded once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn nodes_starting_at_once_migrate_the_schema_once() {
    let (cluster, url) = database("nodes_starting_at_once");
    let starts: Vec<_> = (0..4)
        .map(|_| {
            let url = url.clone();
            tokio::spawn(async move { PgStore::connect(&url).await })
        })
        .collect();
    let mut found = Vec::new();
    for start in starts {
        let (_, version) = start.await.unwrap().expect("connected");
        found.push(version);
    }
    found.sort();
    let current = schema::CURRENT;
    assert_eq!(found, [0, current, current, current]);
    let versions = cluster
        .sql(
            "nodes_starting_at_once",
            "SELECT string_agg(version::text, ',' ORDER BY version) FROM schema_version",
        )
        .unwrap();
    let expected: Vec<String> = (1..=current).map(|v| v.to_string()).collect();
    assert_eq!(versions, expected.join(","));
}

/// A database left at version 1 (as the build before correlation records
/// made it) is migrated with its messages, which are claimable and take
/// the new columns.
#[tokio::test]
async fn a_database_of_the_first_schema_is_migrated_with_its_messages() {
    let (cluster, url) = database("a_database_of_the_first_schema");
    let (mut client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .expect("connected");
    let driver = tokio::spawn(connection);
    let found = schema::postgres::migrate_to(&mut client, 1)
        .await
        .expect("version 1");
    assert_eq!(found, 0);
    client
        .execute(
            "INSERT INTO queue (direction, sender, recipients, message_id, imdn_message_id,
                 content, state, created_at, expires_at, next_attempt_at)
             VALUES ('im-to-mail', 'a@x.test', 'b@y.test', 'old@gw', NULL, '\\x4869', 'queued',
                 5, 99999, 5)",
            &[],
        )
        .await
        .expect("a version-1 row");
    drop(client);
    driver.await.unwrap().expect("connection closed cleanly");

    let (store, found) = PgStore::connect(&url).await.expect("connected");
    assert_eq!(found, 1);
    let claimed = store
        .claim_due("n", 10, Duration::from_secs(5), 10)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].content, b"Hi");
    assert_eq!(claimed[0].alternate, None);
    assert_eq!(claimed[0].entry.dsn_notify, None);
    assert_eq!(claimed[0].entry.message_id, "old@gw");
    let mut m = message(3);
    m.correlation = Some(correlation(3));
    store.enqueue(m, at(20, 99999)).await.unwrap();
    let found = store
        .find(CorrelationKey::Envid("env-3".into()), 30)
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    let versions = cluster
        .sql(
            "a_database_of_the_first_schema",
            "SELECT string_agg(version::text, ',' ORDER BY version) FROM schema_version",
        )
        .unwrap();
    let expected: Vec<String> = (1..=interwork_store::schema::CURRENT)
        .map(|v| v.to_string())
        .collect();
    assert_eq!(versions, expected.join(","), "one row per step");
}

#[tokio::test]
async fn a_database_of_a_newer_build_is_refused() {
    let (cluster, url) = database("a_database_of_a_newer_build");
    drop(connect(&url).await);
    let newer = schema::CURRENT + 1;
    cluster
        .sql(
            "a_database_of_a_newer_build",
            &format!("INSERT INTO schema_version (version) VALUES ({newer})"),
        )
        .unwrap();
    match PgStore::connect(&url).await {
        Err(StoreError::NewerSchema { found, known }) => {
            assert_eq!((found, known), (newer, schema::CURRENT));
        }
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("connected to a database of a newer schema"),
    }
}

/// With `synchronous_commit = off` a commit may be lost after the store
/// said "stored": the store refuses such a database.
#[tokio::test]
async fn a_database_that_could_lose_commits_is_refused() {
    let (cluster, url) = database("a_database_that_could_lose_commits");
    cluster
        .sql(
            "postgres",
            "ALTER DATABASE a_database_that_could_lose_commits SET synchronous_commit = off",
        )
        .unwrap();
    match PgStore::connect(&url).await {
        Err(StoreError::Database(e)) => assert!(e.contains("synchronous_commit"), "{e}"),
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("connected with synchronous_commit off"),
    }
    let tables = cluster
        .sql(
            "a_database_that_could_lose_commits",
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'",
        )
        .unwrap();
    assert_eq!(tables, "0", "refused before migrating");
}

#[tokio::test]
async fn a_database_that_is_not_there_is_a_database_error() {
    let cluster = Postgres::shared().expect("a PostgreSQL cluster");
    let options = PgOptions {
        connect_timeout: Duration::from_secs(5),
        ..PgOptions::default()
    };
    let started = Instant::now();
    match PgStore::connect_with(&cluster.url("no_such_database"), options).await {
        Err(StoreError::Database(e)) => {
            assert!(e.contains("no_such_database"), "{e}");
            assert!(e.contains("3D000"), "SQLSTATE invalid_catalog_name: {e}");
        }
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("connected to a database that does not exist"),
    }
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(matches!(
        PgStore::connect("postgres://127.0.0.1:not-a-port/db").await,
        Err(StoreError::Database(_))
    ));
}

/// The spool's cost with PostgreSQL: durable enqueues (fsync on) of 1 KiB
/// messages, one at a time and 64 at once, and the WAL syncs they took
/// (`pg_stat_wal`, read after the store's connections closed: a backend
/// reports its counts when it goes idle for a while or exits).
/// `cargo test -p interwork-e2e --test store_postgres -- --ignored --nocapture enqueue_rate`
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement, not a check"]
async fn enqueue_rate() {
    let cluster = Postgres::shared().expect("a PostgreSQL cluster");
    let wal_syncs = || -> u64 {
        cluster
            .sql("postgres", "SELECT wal_sync FROM pg_stat_wal")
            .unwrap()
            .parse()
            .unwrap()
    };
    let one = |n: u64| NewMessage {
        content: vec![b'x'; 1024],
        ..message(u32::try_from(n).unwrap())
    };
    for pool_size in [8, 64] {
        let url = cluster
            .create_database(&format!("enqueue_rate_{pool_size}"))
            .unwrap();
        let options = PgOptions {
            pool_size,
            ..PgOptions::default()
        };
        for concurrent in [1u64, 64] {
            let (store, _) = PgStore::connect_with(&url, options.clone()).await.unwrap();
            let before = wal_syncs();
            let rounds = if concurrent == 1 { 2_000 } else { 100 };
            let first = store.list(&[]).await.unwrap().len() as u64;
            let started = Instant::now();
            for round in 0..rounds {
                let mut batch = tokio::task::JoinSet::new();
                for n in 0..concurrent {
                    let store = store.clone();
                    let m = one(first + round * concurrent + n);
                    batch.spawn(async move { store.enqueue(m, at(0, i64::MAX)).await });
                }
                for stored in batch.join_all().await {
                    stored.unwrap();
                }
            }
            let took = started.elapsed();
            let total = rounds * concurrent;
            assert_eq!(
                store.list(&[State::Queued]).await.unwrap().len() as u64,
                first + total
            );
            drop(store);
            tokio::time::sleep(Duration::from_millis(500)).await;
            let syncs = wal_syncs() - before;
            eprintln!(
                "pool {pool_size}, {concurrent} at a time: {total} in {took:.2?}: \
                 {:.0} µs per round, {:.0}/s, {syncs} WAL syncs",
                took.as_micros() as f64 / rounds as f64,
                total as f64 / took.as_secs_f64(),
            );
        }
    }
}
