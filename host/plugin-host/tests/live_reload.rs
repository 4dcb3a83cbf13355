//! Live reload: plugins swapped in and out of the watched directory while a
//! task calls the mapping in a loop. No call may fail, and the new
//! behaviour must show within `BOUND`.

mod common;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use interwork_plugin_host::bindings::Contract;
use interwork_plugin_host::bindings::mapping::Role;
use interwork_plugin_host::{PluginSource, PluginWatch, Plugins, RoleChoice};

/// The bound this test holds the gateway to, from the file landing in the
/// directory to calls seeing the new plugin (the README states it).
const BOUND: Duration = Duration::from_secs(2);

const NUMBER: &str = "sip:+15551234567@im.example.test";
const BY_DEFAULT: &str = "+1-5551234567@im.example.test";
const BY_EXAMPLE: &str = "john.smith@corp.example.test";

struct Caller {
    stop: Arc<AtomicBool>,
    calls: Arc<AtomicU64>,
    handle: thread::JoinHandle<Vec<String>>,
}

/// Calls the mapping in a loop; returns what went wrong, if anything.
fn start_caller(plugins: Arc<Plugins>) -> Caller {
    let stop = Arc::new(AtomicBool::new(false));
    let calls = Arc::new(AtomicU64::new(0));
    let handle = thread::spawn({
        let (stop, calls) = (stop.clone(), calls.clone());
        move || {
            let mut failures = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let set = plugins.current();
                match set
                    .mapping
                    .email_of_im(plugins.engine(), NUMBER, Role::Sender)
                {
                    Ok(m) if m.value == BY_DEFAULT || m.value == BY_EXAMPLE => {}
                    Ok(m) => failures.push(format!("unexpected {}", m.value)),
                    Err(e) => failures.push(e.to_string()),
                }
                calls.fetch_add(1, Ordering::Relaxed);
            }
            failures
        }
    });
    Caller {
        stop,
        calls,
        handle,
    }
}

impl Caller {
    fn finish(self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        let failures = self.handle.join().expect("caller thread");
        assert!(failures.is_empty(), "failed calls: {failures:?}");
        self.calls.load(Ordering::Relaxed)
    }
}

fn current_value(plugins: &Plugins) -> String {
    let set = plugins.current();
    set.mapping
        .email_of_im(plugins.engine(), NUMBER, Role::Sender)
        .map(|m| m.value)
        .unwrap_or_else(|e| e.to_string())
}

/// Waits until the mapping answers `expected`; returns how long it took.
fn wait_for(plugins: &Plugins, expected: &str) -> Duration {
    let started = Instant::now();
    while started.elapsed() < BOUND * 5 {
        if current_value(plugins) == expected {
            return started.elapsed();
        }
        thread::sleep(Duration::from_millis(2));
    }
    panic!(
        "mapping never answered {expected} (still {})",
        current_value(plugins)
    );
}

/// Installs a file the way an installer should: write aside, rename in.
fn install_atomically(from: &Path, dir: &Path, name: &str) {
    let hidden = dir.join(format!(".{name}.partial"));
    std::fs::copy(from, &hidden).unwrap();
    std::fs::rename(&hidden, dir.join(name)).unwrap();
}

fn start(dir: &Path, choice: RoleChoice) -> (Arc<Plugins>, PluginWatch) {
    let engine = common::engine();
    let plugins = Arc::new(
        Plugins::start(engine, common::defaults(), Some(dir.to_path_buf()), choice).unwrap(),
    );
    let watch = PluginWatch::start(plugins.clone(), |_| {}).unwrap();
    (plugins, watch)
}

#[test]
fn swap_in_refuse_and_fall_back_without_a_failed_call() {
    let dir = tempfile::tempdir().unwrap();
    let (plugins, _watch) = start(dir.path(), RoleChoice::default());
    assert_eq!(current_value(&plugins), BY_DEFAULT);
    let caller = start_caller(plugins.clone());

    // 1. The example plugin, renamed into place.
    install_atomically(
        &common::guest("directory_mapping"),
        dir.path(),
        "company.wasm",
    );
    let took = wait_for(&plugins, BY_EXAMPLE);
    eprintln!("rename into place: new mapping served after {took:?}");
    assert!(took < BOUND, "took {took:?}");
    let set = plugins.current();
    assert_eq!(
        set.mapping.id.source,
        PluginSource::File(dir.path().join("company.wasm"))
    );
    assert_eq!(set.conversion.id.name.as_ref(), "default-conversion");

    // 2. A broken version written over it: refused, the checked version
    // keeps serving.
    std::fs::copy(
        common::guest("fixture_trap"),
        dir.path().join("company.wasm"),
    )
    .unwrap();
    let started = Instant::now();
    while plugins.refused().is_empty() {
        assert!(
            started.elapsed() < BOUND,
            "the broken plugin was never checked"
        );
        thread::sleep(Duration::from_millis(5));
    }
    let refused = plugins.refused();
    assert!(refused[0].1.contains("unreachable"), "{refused:?}");
    assert_eq!(current_value(&plugins), BY_EXAMPLE);

    // 3. Removed: the embedded default serves again.
    std::fs::remove_file(dir.path().join("company.wasm")).unwrap();
    let took = wait_for(&plugins, BY_DEFAULT);
    eprintln!("removal: default served again after {took:?}");
    assert!(took < BOUND, "took {took:?}");
    assert!(plugins.refused().is_empty());

    // 4. Copied in place with a plain (non-atomic) copy.
    std::fs::copy(
        common::guest("directory_mapping"),
        dir.path().join("plain.wasm"),
    )
    .unwrap();
    let took = wait_for(&plugins, BY_EXAMPLE);
    eprintln!("plain copy: new mapping served after {took:?}");
    assert!(took < BOUND, "took {took:?}");

    let calls = caller.finish();
    eprintln!("{calls} calls during the swaps, none failed");
    assert!(calls > 100, "the caller hardly ran: {calls} calls");
}

#[test]
fn the_newest_of_two_plugins_serves_unless_one_is_pinned() {
    let dir = tempfile::tempdir().unwrap();
    let example = common::guest("directory_mapping");
    std::fs::copy(&example, dir.path().join("b.wasm")).unwrap();
    // Status-change times have nanoseconds, but a coarse clock may give
    // two copies in a row the same one.
    thread::sleep(Duration::from_millis(20));
    std::fs::copy(&example, dir.path().join("a.wasm")).unwrap();
    let engine = common::engine();
    let plugins = Plugins::start(
        engine.clone(),
        common::defaults(),
        Some(dir.path().to_path_buf()),
        RoleChoice::default(),
    )
    .unwrap();
    // a.wasm was dropped in last: it serves, though it sorts first.
    assert_eq!(
        plugins.current().mapping.id.source,
        PluginSource::File(dir.path().join("a.wasm"))
    );
    // Dropped in again (renamed over itself: a new status-change time),
    // b.wasm is the newest and takes over on the next reload.
    thread::sleep(Duration::from_millis(20));
    std::fs::rename(dir.path().join("b.wasm"), dir.path().join("b2.wasm")).unwrap();
    std::fs::rename(dir.path().join("b2.wasm"), dir.path().join("b.wasm")).unwrap();
    let report = plugins.reload();
    assert_eq!(
        plugins.current().mapping.id.source,
        PluginSource::File(dir.path().join("b.wasm")),
        "{report:?}"
    );
    // plugins.mapping pins one, whichever is newer.
    let choice = RoleChoice {
        mapping: Some("a.wasm".into()),
        conversion: None,
    };
    let plugins = Plugins::start(
        engine,
        common::defaults(),
        Some(dir.path().to_path_buf()),
        choice,
    )
    .unwrap();
    assert_eq!(
        plugins.current().mapping.id.source,
        PluginSource::File(dir.path().join("a.wasm"))
    );
    assert_eq!(current_value(&plugins), BY_EXAMPLE);
}

#[test]
fn a_wrong_world_component_is_refused_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (plugins, _watch) = start(dir.path(), RoleChoice::default());
    let before = plugins.current();
    install_atomically(
        &common::guest("fixture_wrong_world"),
        dir.path(),
        "greeter.wasm",
    );
    let started = Instant::now();
    while plugins.refused().is_empty() {
        assert!(started.elapsed() < BOUND, "never checked");
        thread::sleep(Duration::from_millis(5));
    }
    assert!(plugins.refused()[0].1.contains("exports neither"));
    let after = plugins.current();
    assert!(Arc::ptr_eq(&before.mapping, &after.mapping));
    assert!(Arc::ptr_eq(&before.conversion, &after.conversion));
}

/// Waits until the mapping is served by a plugin of `contract`.
fn wait_for_contract(plugins: &Plugins, contract: Contract) -> Duration {
    let started = Instant::now();
    while plugins.current().mapping.contract() != contract {
        assert!(started.elapsed() < BOUND * 5, "{contract} never served");
        thread::sleep(Duration::from_millis(2));
    }
    started.elapsed()
}

#[test]
fn a_swap_from_contract_0_1_0_to_0_2_0_fails_no_call() {
    let dir = tempfile::tempdir().unwrap();
    let (plugins, _watch) = start(dir.path(), RoleChoice::default());
    let caller = start_caller(plugins.clone());
    // The operator's plugin as built today, for 0.1.0 ...
    install_atomically(
        &common::guest("fixture_contract_0_1_0"),
        dir.path(),
        "company.wasm",
    );
    let took = wait_for_contract(&plugins, Contract::V0_1_0);
    assert_eq!(current_value(&plugins), BY_EXAMPLE);
    eprintln!("0.1.0 plugin served after {took:?}");
    // ... replaced by the same source built for 0.2.0, under the same name.
    install_atomically(
        &common::guest("directory_mapping"),
        dir.path(),
        "company.wasm",
    );
    let took = wait_for_contract(&plugins, Contract::V0_2_0);
    assert_eq!(current_value(&plugins), BY_EXAMPLE);
    eprintln!("0.2.0 plugin served after {took:?}");
    assert!(took < BOUND, "took {took:?}");
    let calls = caller.finish();
    eprintln!("{calls} calls across the swap, none failed");
    assert!(calls > 100, "the caller hardly ran: {calls} calls");
}
