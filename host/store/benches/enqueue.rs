//! What the spool costs per message: durable enqueues into the SQLite store
//! on a real file, one at a time (one commit, one fsync each) and 64 at
//! once (the writer groups them into one commit). The budget: the
//! spool must not cut the IM → mail pager rate below 1,800 messages/s.

use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use interwork_store::{Direction, NewMessage, Schedule, SqliteStore, Store};

fn message(n: u64) -> NewMessage {
    NewMessage {
        direction: Direction::ImToMail,
        sender: "alice@im.example.test".into(),
        recipients: vec!["bob@mail.example.test".into()],
        message_id: format!("{n}@gw.example.test"),
        imdn_message_id: Some(format!("imdn-{n}")),
        // About the size of a short IM made into a mail.
        content: vec![b'x'; 1024],
        alternate: None,
        dsn_notify: None,
        correlation: None,
    }
}

fn schedule() -> Schedule {
    Schedule {
        now: 0,
        expires_at: i64::MAX,
        lease: None,
    }
}

fn enqueue(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let (store, _) = SqliteStore::open(&dir.path().join("bench.sqlite")).expect("store");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let mut n = 0u64;
    let mut group = c.benchmark_group("store_enqueue");
    group.measurement_time(Duration::from_secs(5));
    group.throughput(Throughput::Elements(1));
    group.bench_function("one_at_a_time", |b| {
        b.iter(|| {
            n += 1;
            runtime
                .block_on(store.enqueue(message(n), schedule()))
                .expect("enqueued")
        })
    });
    group.throughput(Throughput::Elements(64));
    group.bench_function("64_concurrent", |b| {
        b.iter(|| {
            let pending: Vec<_> = (0..64)
                .map(|_| {
                    n += 1;
                    store.enqueue(message(n), schedule())
                })
                .collect();
            runtime.block_on(async {
                for p in pending {
                    p.await.expect("enqueued");
                }
            })
        })
    });
    group.finish();
    let commits = store.commits();
    eprintln!("{n} messages stored in {commits} commits");
}

criterion_group!(benches, enqueue);
criterion_main!(benches);
